package server_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/server"
)

// slowLogin is a sign-in whose body arrives in two parts over a real
// connection: the server reads the head and the first 8 KiB (fasthttp's
// first read of a streamed body), runs the handler, which then waits for
// the rest, holding its admission slot until finish sends it.
type slowLogin struct {
	conn net.Conn
	rest string
}

func (e *env) startSlowLogin(base, username, secret string) *slowLogin {
	e.t.Helper()
	body := `{"username":"` + username + `","password":"` + secret + `"` + strings.Repeat(" ", 20_000) + `}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	head := "POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	const first = 9000
	if _, err := conn.Write([]byte(head + body[:first])); err != nil {
		e.t.Fatal(err)
	}
	return &slowLogin{conn: conn, rest: body[first:]}
}

// finish sends the rest of the body and reads the answer.
func (l *slowLogin) finish(e *env) response {
	e.t.Helper()
	if _, err := l.conn.Write([]byte(l.rest)); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(l.conn), httptest.NewRequest("POST", "/api/v1/auth/login", nil))
	if err != nil {
		e.t.Fatalf("read answer: %v", err)
	}
	return e.readResponse(resp)
}

// metric is the value of one sample of the server's /metrics (0 if absent).
func (e *env) metric(sample string) float64 {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/metrics"})
	for line := range strings.Lines(string(r.body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				e.t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// waitInFlight waits until the server reports n requests of class in
// flight: the state the test needs, reached when the server says so, not
// after a guessed time.
func (e *env) waitInFlight(class string, n float64) {
	e.t.Helper()
	for e.metric(`pathways_admission_in_flight{class="`+class+`"}`) != n {
		time.Sleep(time.Millisecond)
	}
}

func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 || n > 3 {
		t.Fatalf("Retry-After %q, want 1–3 seconds", r.header.Get("Retry-After"))
	}
}

// publishedLesson publishes a course of org A and returns the path of one
// of its lessons.
func (e *env) publishedLesson(trainer, image string) string {
	e.t.Helper()
	c := e.mustCreateCourse(trainer, draft("talking-at-work", image, false))
	e.mustPublish(trainer, c["id"].(string), c["revision"])
	return "/api/v1/catalogue/" + c["id"].(string) + "/versions/1/lessons/active"
}

// TestAdmissionRefusesBeyondTheBound: with room for one database request,
// a second is answered 503 overloaded with Retry-After at once, while a
// published lesson, outside that bound, is still read, and the probes
// answer; once the first is done, the second gets through.
func TestAdmissionRefusesBeyondTheBound(t *testing.T) {
	e := newEnv(t, func(_ *accounts.Config, c *server.Config, _ *server.Deps) { c.MaxInFlight, c.MaxInFlightCached = 1, 1 })
	trainer := e.token("a-trainer")
	img := e.mustUpload(trainer, formFile{name: "talk.png", data: pngFile(t, 8, 8, 1)})
	lesson := e.publishedLesson(trainer, img["id"].(string))
	learner := e.token("a-learner")
	if r := e.do(req{method: "GET", path: lesson, token: learner}); r.status != 200 {
		t.Fatalf("lesson: %d %s", r.status, r.body)
	}

	base := e.listen()
	slow := e.startSlowLogin(base, "a-edu", fixturePassword)
	e.waitInFlight("database", 1)

	for _, lang := range []string{"en", "ar", "fr", "fa", "uk"} {
		r := e.do(req{method: "GET", path: "/api/v1/me", token: learner, header: map[string]string{"Accept-Language": lang}})
		p := wantProblem(t, r, 503, "overloaded")
		wantRetryAfter(t, r)
		if r.header.Get("Content-Language") != lang || p["title"] == "Server busy" && lang != "en" {
			t.Errorf("%s: Content-Language %q, title %q", lang, r.header.Get("Content-Language"), p["title"])
		}
	}
	// A write is refused the same way, before its body is looked at.
	r := e.do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("other", img["id"].(string), false)})
	wantProblem(t, r, 503, "overloaded")
	wantRetryAfter(t, r)

	if r := e.do(req{method: "GET", path: lesson, token: learner}); r.status != 200 {
		t.Fatalf("lesson while the database bound is full: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/readyz"}); r.status != 200 {
		t.Fatalf("readyz: %d", r.status)
	}
	if n := e.metric(`pathways_admission_refused_total{class="database"}`); n != 6 {
		t.Errorf("refused in the database class: %v, want 6", n)
	}
	if n := e.metric(`pathways_admission_refused_total{class="cached"}`); n != 0 {
		t.Errorf("refused in the cached class: %v, want 0", n)
	}

	if r := slow.finish(e); r.status != 200 {
		t.Fatalf("the slow sign-in: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/me", token: learner}); r.status != 200 {
		t.Fatalf("/me once the slot is free: %d %s", r.status, r.body)
	}
	if !strings.Contains(e.logText(), `"level":"WARN","msg":"request"`) {
		t.Error("refusals are not in the access log at level WARN")
	}
}

// TestRequestDeadlineIsTimeout: a request that runs out of its deadline
// while the database is read is answered 503 timeout with Retry-After, not
// unavailable (the store reports the cancelled call as unavailable).
func TestRequestDeadlineIsTimeout(t *testing.T) {
	e := newEnv(t, func(_ *accounts.Config, c *server.Config, _ *server.Deps) { c.RequestTimeout = time.Nanosecond })
	sess, err := e.acc.Login(context.Background(), "a-learner", fixturePIN, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "GET", path: "/api/v1/me", token: sess.AccessToken, header: map[string]string{"Accept-Language": "uk"}})
	p := wantProblem(t, r, 503, "timeout")
	wantRetryAfter(t, r)
	if p["title"] != "Час очікування вичерпано" {
		t.Errorf("title %q", p["title"])
	}
	if !strings.Contains(e.logText(), `"msg":"request timed out"`) {
		t.Error("the timeout is not logged")
	}
	// Answers that need no database are not affected.
	if r := e.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
}

// TestRevokedTokenRefusedThoughRemembered: the verified-token memory does
// not outlive the checks Authenticate makes on every request. A user
// disabled, or whose credential changed, is refused at once on the
// instance that made the change, and on another within the status TTL,
// exactly as before the memory.
func TestRevokedTokenRefusedThoughRemembered(t *testing.T) {
	e, trainer, image := courseEnv(t)
	lesson := e.publishedLesson(trainer, image)
	other := newEnvOn(t, e)
	admin := e.token("a-admin")
	read := func(e *env, token string) int {
		t.Helper()
		return e.do(req{method: "GET", path: lesson, token: token}).status
	}

	learner := e.token("a-learner")
	if read(e, learner) != 200 || read(other, learner) != 200 {
		t.Fatal("the learner cannot read the lesson")
	}
	r := e.do(req{method: "PATCH", path: "/api/v1/users/" + e.learnerA.ID, token: admin, body: map[string]any{"disabled": true}})
	if r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if s := read(e, learner); s != 401 {
		t.Fatalf("disabled learner on the same instance: %d, want 401", s)
	}
	if s := read(other, learner); s != 200 {
		t.Fatalf("on another instance within the status TTL: %d (as documented, it still works there)", s)
	}
	e.clock.Advance(accounts.StatusTTL*6/5 + time.Second) // past the jittered TTL, within verifiedTTL
	if s := read(other, learner); s != 401 {
		t.Fatalf("disabled learner on another instance after the TTL: %d, want 401", s)
	}

	// A changed credential ends the educator's tokens too.
	edu := e.token("a-edu")
	if read(e, edu) != 200 || read(other, edu) != 200 {
		t.Fatal("the educator cannot read the lesson")
	}
	r = e.do(req{method: "PUT", path: "/api/v1/users/" + e.eduA.ID + "/credential", token: admin, body: map[string]any{"password": "a new passphrase 1"}})
	if r.status != 204 {
		t.Fatalf("set credential: %d %s", r.status, r.body)
	}
	if s := read(e, edu); s != 401 {
		t.Fatalf("old token after a credential change: %d, want 401", s)
	}
	e.clock.Advance(accounts.StatusTTL*6/5 + time.Second)
	if s := read(other, edu); s != 401 {
		t.Fatalf("old token on another instance after the TTL: %d, want 401", s)
	}
}

// countingStore is the real accounts store, counting user reads; with
// release set, the first read, once made, waits for release before it
// returns what it read.
type countingStore struct {
	accounts.Store
	reads   atomic.Int64
	entered chan struct{} // receives once, when the first read starts
	release chan struct{}
	once    sync.Once
}

func (s *countingStore) User(ctx context.Context, id string) (accounts.User, error) {
	u, err := s.Store.User(ctx, id)
	s.reads.Add(1)
	if s.release != nil {
		s.once.Do(func() { s.entered <- struct{}{} })
		<-s.release
	}
	return u, err
}

// serviceOn is an accounts service on store, with e's clock, and the
// access token of a-learner signed in through it.
func (e *env) serviceOn(store accounts.Store) (*accounts.Service, string) {
	e.t.Helper()
	ctx := context.Background()
	tokens, err := accounts.NewTokenIssuer(testKey, 15*time.Minute, e.clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	acc, err := accounts.NewService(ctx, store, accounts.NewHasher(fastHash), tokens, testKey, accounts.DefaultConfig, e.clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	sess, err := acc.Login(ctx, "a-learner", fixturePIN, "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return acc, sess.AccessToken
}

// TestStatusCacheStampede: many requests of one user whose status entry
// has expired cause one database read, not one each.
func TestStatusCacheStampede(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store := &countingStore{Store: e.db.Accounts()}
	acc, token := e.serviceOn(store)
	if _, err := acc.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d reads to fill the entry, want 1", n)
	}

	e.clock.Advance(accounts.StatusTTL*6/5 + time.Second) // expired, whatever its jitter
	store.reads.Store(0)
	store.entered, store.release = make(chan struct{}), make(chan struct{})
	const callers = 100
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for range callers {
		wg.Go(func() {
			if _, err := acc.Authenticate(ctx, token); err != nil {
				failed.Add(1)
			}
		})
	}
	<-store.entered
	close(store.release)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d callers refused", failed.Load(), callers)
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d concurrent callers on an expired entry made %d reads, want 1", callers, n)
	}
}

// TestStatusCacheDropWinsOverARead: a change made on this instance while
// a read of the user's status is in flight is not undone by that read
// storing what it saw before the change.
func TestStatusCacheDropWinsOverARead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store := &countingStore{Store: e.db.Accounts(), entered: make(chan struct{}), release: make(chan struct{})}
	acc, token := e.serviceOn(store)
	done := make(chan error)
	go func() {
		_, err := acc.Authenticate(ctx, token)
		done <- err
	}()
	<-store.entered // the read has begun, and waits
	disabled := true
	if _, err := acc.UpdateUser(ctx, e.root, e.learnerA.ID, accounts.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	close(store.release)
	// The request that began before the change is let through, with what
	// it read then; the next is refused, though nothing expired.
	if err := <-done; err != nil {
		t.Fatalf("authenticate that began before the change: %v", err)
	}
	if _, err := acc.Authenticate(ctx, token); !errors.Is(err, accounts.ErrTokenInvalid) {
		t.Fatalf("a disabled user's token after the change: %v, want ErrTokenInvalid", err)
	}
}
