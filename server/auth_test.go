package server_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/server"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	t.Run("password", func(t *testing.T) {
		s := e.login("a-edu", fixturePassword)
		if s["tokenType"] != "Bearer" || s["accessToken"] == "" || s["refreshToken"] == "" {
			t.Fatalf("session: %v", s)
		}
		if s["expiresIn"].(float64) <= 0 || s["refreshExpiresIn"].(float64) <= s["expiresIn"].(float64) {
			t.Fatalf("lifetimes: %v", s)
		}
		u := s["user"].(map[string]any)
		if u["role"] != "educator" || u["orgId"] != e.orgA.ID {
			t.Fatalf("user: %v", u)
		}
		if _, leaked := u["secret_hash"]; leaked {
			t.Fatal("secret hash in response")
		}
	})
	t.Run("PIN, username in another case and with spaces", func(t *testing.T) {
		s := e.login("  A-Learner ", fixturePIN)
		if s["user"].(map[string]any)["credential"] != "pin" {
			t.Fatalf("session: %v", s)
		}
	})
	t.Run("no-store", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "a-edu", "password": fixturePassword}})
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", r.header.Get("Cache-Control"))
		}
	})
	failures := []struct {
		name, user, secret string
	}{
		{"wrong password", "a-edu", "wrong password!"},
		{"unknown user", "nobody-here", fixturePassword},
		{"PIN of another user", "b-learner", "1357"},
	}
	var bodies []map[string]any
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": f.user, "password": f.secret}})
			p := wantProblem(t, r, 401, "login-failed")
			delete(p, "requestId")
			bodies = append(bodies, p)
		})
	}
	// Unknown and known usernames must be indistinguishable.
	for _, b := range bodies[1:] {
		if b["detail"] != bodies[0]["detail"] || b["title"] != bodies[0]["title"] {
			t.Fatalf("failure answers differ: %v vs %v", b, bodies[0])
		}
	}
	t.Run("missing fields", func(t *testing.T) {
		p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{}}), 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"username:required", "password:required"}) {
			t.Fatalf("field errors %v", got)
		}
	})
	t.Run("disabled account", func(t *testing.T) {
		disabled := true
		if _, err := e.acc.UpdateUser(t.Context(), e.root, e.trainerA.ID, accounts.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "a-trainer", "password": fixturePassword}})
		wantProblem(t, r, 401, "login-failed")
	})
}

func loginStatus(e *env, user, secret string, header map[string]string) response {
	return e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": user, "password": secret}, header: header})
}

func TestLockoutPerUsername(t *testing.T) {
	e := newEnv(t)
	for i := range accounts.DefaultUserLimit.MaxFailures {
		if r := loginStatus(e, "a-learner", "0000", nil); r.status != 401 {
			t.Fatalf("failure %d: %d", i+1, r.status)
		}
	}
	// Locked: even the right PIN is refused, with Retry-After.
	r := loginStatus(e, "a-learner", fixturePIN, nil)
	wantProblem(t, r, 429, "rate-limited")
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > int(accounts.DefaultUserLimit.BaseLock.Seconds())+1 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Another user from the same address is not affected.
	if r := loginStatus(e, "a-edu", fixturePassword, nil); r.status != 200 {
		t.Fatalf("other user: %d", r.status)
	}
	// The lock ends; the right PIN works and clears the count.
	e.clock.Advance(accounts.DefaultUserLimit.BaseLock + time.Second)
	if r := loginStatus(e, "a-learner", fixturePIN, nil); r.status != 200 {
		t.Fatalf("after lock: %d %s", r.status, r.body)
	}
	// The success reset the count: a new failure is the first again.
	if r := loginStatus(e, "a-learner", "0000", nil); r.status != 401 {
		t.Fatalf("after reset: %d", r.status)
	}
}

func TestLockoutBackoff(t *testing.T) {
	e := newEnv(t)
	lockFor := func() int {
		for range accounts.DefaultUserLimit.MaxFailures {
			loginStatus(e, "a-edu", "wrong password!", nil)
		}
		r := loginStatus(e, "a-edu", "wrong password!", nil)
		wantProblem(t, r, 429, "rate-limited")
		n, _ := strconv.Atoi(r.header.Get("Retry-After"))
		return n
	}
	first := lockFor()
	e.clock.Advance(time.Duration(first+1) * time.Second)
	second := lockFor()
	if second < 2*first-2 {
		t.Fatalf("second lock %ds, want about twice the first (%ds)", second, first)
	}
}

func TestLockoutUnknownUsername(t *testing.T) {
	e := newEnv(t)
	for range accounts.DefaultUserLimit.MaxFailures {
		loginStatus(e, "ghost", "whatever1", nil)
	}
	// Locking works the same for names that do not exist: no enumeration.
	wantProblem(t, loginStatus(e, "ghost", "whatever1", nil), 429, "rate-limited")
}

func TestLockoutPerAddress(t *testing.T) {
	limit := accounts.LimitPolicy{MaxFailures: 8, Window: 15 * time.Minute, BaseLock: 5 * time.Minute, MaxLock: time.Hour}
	e := newEnv(t, func(a *accounts.Config, _ *server.Config, _ *server.Deps) { a.AddrLimit = limit })
	// Spraying many usernames from one address (each below the per-user limit).
	for i := range limit.MaxFailures {
		r := loginStatus(e, "user"+strconv.Itoa(i), "guess-"+strconv.Itoa(i), nil)
		if r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	wantProblem(t, loginStatus(e, "a-edu", fixturePassword, nil), 429, "rate-limited")
	e.clock.Advance(limit.BaseLock + time.Second)
	if r := loginStatus(e, "a-edu", fixturePassword, nil); r.status != 200 {
		t.Fatalf("after address lock: %d", r.status)
	}
}

// TestLockoutSharedAcrossInstances: two servers on one database share the
// limiter state, as instances behind a load balancer do.
func TestLockoutSharedAcrossInstances(t *testing.T) {
	e := newEnv(t)
	other, err := accounts.NewService(t.Context(), e.db.Accounts(), accounts.NewHasher(fastHash), mustIssuer(t, e), testKey, accounts.DefaultConfig, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range accounts.DefaultUserLimit.MaxFailures {
		svc := e.acc
		if i%2 == 1 {
			svc = other
		}
		_, _ = svc.Login(t.Context(), "a-edu", "wrong password!", "192.0.2.1")
	}
	_, err = other.Login(t.Context(), "a-edu", fixturePassword, "192.0.2.1")
	if err == nil {
		t.Fatal("second instance let a locked user in")
	}
	wantProblem(t, loginStatus(e, "a-edu", fixturePassword, nil), 429, "rate-limited")
}

func mustIssuer(t *testing.T, e *env) *accounts.TokenIssuer {
	ti, err := accounts.NewTokenIssuer(testKey, 15*time.Minute, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return ti
}

// sign makes a token with arbitrary claims and method, for forgery tests.
func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessTokens(t *testing.T) {
	e := newEnv(t)
	good := e.token("a-edu")
	if r := e.do(req{method: "GET", path: "/api/v1/me", token: good}); r.status != 200 || r.json(t)["username"] != "a-edu" {
		t.Fatalf("me: %d %s", r.status, r.body)
	}
	now := e.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": accounts.Issuer, "aud": []string{accounts.Audience}, "sub": e.eduA.ID, "role": "educator", "org": e.orgA.ID,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		}
		mod(c)
		return c
	}
	noneToken := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"pathways","aud":["pathways-api"],"sub":"` + e.eduA.ID + `","role":"admin","exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`))
		return h + "." + p + "."
	}
	bad := map[string]string{
		"forged signature": sign(t, jwt.SigningMethodHS256, []byte("another-key-0123456789abcdef-0123456789"), claims(func(jwt.MapClaims) {})),
		"alg none":         noneToken(),
		"alg HS512":        sign(t, jwt.SigningMethodHS512, testKey, claims(func(jwt.MapClaims) {})),
		"wrong audience":   sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} })),
		"wrong issuer":     sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"no expiry":        sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"expired":          sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"not yet valid":    sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"unknown role":     sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["role"] = "superuser" })),
		"no subject":       sign(t, jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"garbage":          "not.a.token",
		"tampered payload": good[:len(good)/2] + "x" + good[len(good)/2+1:],
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/me", token: tok})
			wantProblem(t, r, 401, "unauthenticated")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate header")
			}
		})
	}
	for name, h := range map[string]string{"no header": "", "basic": "Basic YTpi", "bearer without token": "Bearer "} {
		t.Run(name, func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": h}})
			wantProblem(t, r, 401, "unauthenticated")
		})
	}
	t.Run("expires with time", func(t *testing.T) {
		e.clock.Advance(16 * time.Minute)
		wantProblem(t, e.do(req{method: "GET", path: "/api/v1/me", token: good}), 401, "unauthenticated")
	})
}

func refresh(e *env, token string) response {
	return e.do(req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]string{"refreshToken": token}})
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	s0 := e.login("a-learner", fixturePIN)
	rt0 := s0["refreshToken"].(string)

	r1 := refresh(e, rt0)
	if r1.status != 200 {
		t.Fatalf("refresh: %d %s", r1.status, r1.body)
	}
	s1 := r1.json(t)
	rt1 := s1["refreshToken"].(string)
	if rt1 == rt0 {
		t.Fatal("refresh token not rotated")
	}
	if r := e.do(req{method: "GET", path: "/api/v1/me", token: s1["accessToken"].(string)}); r.status != 200 {
		t.Fatalf("new access token: %d", r.status)
	}

	// A retry of the same refresh (lost response) within the grace period
	// gets the same successor: the client does not lose its session.
	retry := refresh(e, rt0)
	if retry.status != 200 || retry.json(t)["refreshToken"] != rt1 {
		t.Fatalf("retry: %d %s", retry.status, retry.body)
	}

	// Once the successor is used, presenting the old token again is theft:
	// the whole family is revoked.
	r2 := refresh(e, rt1)
	if r2.status != 200 {
		t.Fatalf("second refresh: %d", r2.status)
	}
	rt2 := r2.json(t)["refreshToken"].(string)
	wantProblem(t, refresh(e, rt0), 401, "unauthenticated")
	wantProblem(t, refresh(e, rt2), 401, "unauthenticated")
}

func TestRefreshReuseAfterGrace(t *testing.T) {
	e := newEnv(t)
	rt0 := e.login("a-edu", fixturePassword)["refreshToken"].(string)
	rt1 := refresh(e, rt0).json(t)["refreshToken"].(string)
	e.clock.Advance(accounts.DefaultConfig.RetryGrace + time.Second)
	wantProblem(t, refresh(e, rt0), 401, "unauthenticated")
	// The legitimate holder's token died with the family.
	wantProblem(t, refresh(e, rt1), 401, "unauthenticated")
}

func TestRefreshFailures(t *testing.T) {
	e := newEnv(t)
	rt := e.login("a-edu", fixturePassword)["refreshToken"].(string)
	cases := map[string]string{
		"unknown":   rt[:len(rt)-4] + "AAAA",
		"malformed": "abc",
		"no family": "." + rt,
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) { wantProblem(t, refresh(e, tok), 401, "unauthenticated") })
	}
	t.Run("missing", func(t *testing.T) {
		p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]string{}}), 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"refreshToken:required"}) {
			t.Fatal(got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(accounts.DefaultConfig.RefreshTTL + time.Minute)
		wantProblem(t, refresh(e, rt), 401, "unauthenticated")
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	rt := e.login("a-edu", fixturePassword)["refreshToken"].(string)
	logout := func(tok string) response {
		return e.do(req{method: "POST", path: "/api/v1/auth/logout", body: map[string]string{"refreshToken": tok}})
	}
	if r := logout(rt); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := logout(rt); r.status != http.StatusNoContent {
		t.Fatalf("second logout: %d", r.status)
	}
	wantProblem(t, refresh(e, rt), 401, "unauthenticated")
	if r := logout("abc"); r.status != http.StatusNoContent {
		t.Fatalf("logout with a malformed token: %d (want 204: there is no such session)", r.status)
	}
}

func TestSessionsEndOnAccountChange(t *testing.T) {
	e := newEnv(t)
	learnerSession := e.login("a-learner", fixturePIN)
	rtLearner := learnerSession["refreshToken"].(string)
	trainerSession := e.login("a-trainer", fixturePassword)
	rtTrainer := trainerSession["refreshToken"].(string)
	eduToken := e.token("a-edu")

	// The educator resets the learner's PIN: old sessions end, the new PIN works.
	r := e.do(req{method: "PUT", path: "/api/v1/users/" + e.learnerA.ID + "/credential", token: eduToken, body: map[string]string{"pin": "4826"}})
	if r.status != http.StatusNoContent {
		t.Fatalf("reset PIN: %d %s", r.status, r.body)
	}
	wantProblem(t, refresh(e, rtLearner), 401, "unauthenticated")
	// The access token issued before the change stops working at once.
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/me", token: learnerSession["accessToken"].(string)}), 401, "unauthenticated")
	e.login("a-learner", "4826")

	// An admin disables the trainer: the trainer's refresh fails.
	adminToken := e.token("a-admin")
	r = e.do(req{method: "PATCH", path: "/api/v1/users/" + e.trainerA.ID, token: adminToken, body: map[string]any{"disabled": true}})
	if r.status != 200 || r.json(t)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	wantProblem(t, refresh(e, rtTrainer), 401, "unauthenticated")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/organisations", token: trainerSession["accessToken"].(string)}), 401, "unauthenticated")
}

// TestDisableSeenByOtherInstance: an instance that did not disable the
// user refuses its access token once its status cache expires.
func TestDisableSeenByOtherInstance(t *testing.T) {
	e := newEnv(t)
	other := newEnvOn(t, e)
	tok := e.token("a-trainer")
	if r := other.do(req{method: "GET", path: "/api/v1/me", token: tok}); r.status != 200 {
		t.Fatalf("before: %d", r.status)
	}
	disabled := true
	if _, err := e.acc.UpdateUser(t.Context(), e.root, e.trainerA.ID, accounts.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(accounts.StatusTTL*6/5 + time.Second) // past the TTL and its jitter
	wantProblem(t, other.do(req{method: "GET", path: "/api/v1/organisations", token: tok}), 401, "unauthenticated")
}

func TestOversizedLoginsCount(t *testing.T) {
	e := newEnv(t)
	padded := "a-edu" + strings.Repeat(" ", 200) // normalises to a-edu, but too long to hash
	for range accounts.DefaultUserLimit.MaxFailures {
		wantProblem(t, loginStatus(e, padded, "x", nil), 401, "login-failed")
	}
	wantProblem(t, loginStatus(e, "a-edu", fixturePassword, nil), 429, "rate-limited")
}
