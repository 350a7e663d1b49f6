package server_test

import (
	"testing"
	"time"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/server"
)

var tightAddrLimit = accounts.LimitPolicy{MaxFailures: 3, Window: 15 * time.Minute, BaseLock: 5 * time.Minute, MaxLock: time.Hour}

func failLogin(e *env, base, user, xff string) response {
	return e.doHTTP(base, req{method: "POST", path: "/api/v1/auth/login",
		body: `{"username":"` + user + `","password":"wrong password!"}`, header: map[string]string{"X-Forwarded-For": xff}})
}

// TestClientAddressBehindProxy: behind a trusted proxy the login limit
// counts the address the proxy saw, however the client fills the left of
// X-Forwarded-For.
func TestClientAddressBehindProxy(t *testing.T) {
	e := newEnv(t, func(a *accounts.Config, c *server.Config, _ *server.Deps) {
		a.AddrLimit = tightAddrLimit
		c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
	})
	base := e.listen()
	// One attacker at 203.0.113.7 invents a new left-most address each time,
	// behind two proxies (10.1.2.3, then the loopback peer).
	for _, spoof := range []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"} {
		wantProblem(t, failLogin(e, base, "user"+spoof, spoof+", 203.0.113.7, 10.1.2.3"), 401, "login-failed")
	}
	wantProblem(t, failLogin(e, base, "a-edu", "9.9.9.9, 203.0.113.7, 10.1.2.3"), 429, "rate-limited")
	// Another client behind the same proxies is not affected.
	r := e.doHTTP(base, req{method: "POST", path: "/api/v1/auth/login",
		body: `{"username":"a-edu","password":"` + fixturePassword + `"}`, header: map[string]string{"X-Forwarded-For": "198.51.100.9, 10.1.2.3"}})
	if r.status != 200 {
		t.Fatalf("other client: %d %s", r.status, r.body)
	}
}

// TestClientAddressWithoutProxy: with no trusted proxy, X-Forwarded-For is
// ignored and the peer address counts.
func TestClientAddressWithoutProxy(t *testing.T) {
	e := newEnv(t, func(a *accounts.Config, _ *server.Config, _ *server.Deps) { a.AddrLimit = tightAddrLimit })
	base := e.listen()
	for _, spoof := range []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"} {
		wantProblem(t, failLogin(e, base, "user"+spoof, spoof), 401, "login-failed")
	}
	wantProblem(t, failLogin(e, base, "a-edu", "198.51.100.9"), 429, "rate-limited")
}

func TestBadTrustedProxy(t *testing.T) {
	e := newEnv(t)
	_, err := server.New(server.Config{TrustedProxies: []string{"not-an-ip"}}, server.Deps{
		Accounts: e.acc, Catalog: mustCatalog(t), Logger: discardLogger(), Metrics: newRegistry(),
	})
	if err == nil {
		t.Fatal("bad trusted proxy accepted")
	}
}
