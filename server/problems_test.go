package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/sqlite"
)

// TestBadInput: every kind of malformed request gets a 4xx problem
// document, never a 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	root := e.token("root")
	login := "/api/v1/auth/login"
	tests := []struct {
		name   string
		r      req
		status int
		typ    string
		fields []string
	}{
		{"malformed JSON", req{method: "POST", path: login, body: `{"username": "a",`}, 400, "malformed-json", nil},
		{"not JSON at all", req{method: "POST", path: login, body: `username=a&password=b`}, 400, "malformed-json", nil},
		{"empty body", req{method: "POST", path: login, body: ``}, 400, "malformed-json", nil},
		{"two JSON values", req{method: "POST", path: login, body: `{"username":"a","password":"b"} {}`}, 400, "malformed-json", nil},
		{"wrong content type", req{method: "POST", path: login, body: `{}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported-media-type", nil},
		{"broken content type", req{method: "POST", path: login, body: `{}`, header: map[string]string{"Content-Type": ";;;"}}, 415, "unsupported-media-type", nil},
		{"unknown field", req{method: "POST", path: login, body: `{"username":"a","password":"b","admin":true}`}, 422, "validation", []string{"admin:unknown"}},
		{"field in the wrong case", req{method: "POST", path: login, body: `{"USERNAME":"a","password":"b"}`}, 422, "validation", []string{"USERNAME:unknown"}},
		{"field given twice", req{method: "POST", path: login, body: `{"username":"a","username":"b","password":"c"}`}, 422, "validation", []string{"username:duplicate"}},
		{"wrong type", req{method: "POST", path: login, body: `{"username":42,"password":"b"}`}, 422, "validation", []string{"username:type"}},
		{"array body", req{method: "POST", path: login, body: `[1,2]`}, 422, "validation", []string{"$:type"}},
		{"null body", req{method: "POST", path: login, body: `null`}, 422, "validation", []string{"username:required", "password:required"}},
		{"wrong type nested bool", req{method: "PATCH", path: "/api/v1/users/" + e.learnerA.ID, token: root, body: `{"disabled":"yes"}`}, 422, "validation", []string{"disabled:type"}},
		{"invalid UTF-8", req{method: "POST", path: login, body: []byte("{\"username\":\"\xff\xfe\",\"password\":\"x\"}")}, 401, "login-failed", nil},
		{"bad id", req{method: "GET", path: "/api/v1/users/not-an-id", token: root}, 422, "validation", []string{"id:id"}},
		{"bad id with traversal", req{method: "GET", path: "/api/v1/users/..%2F..%2Fetc", token: root}, 422, "validation", []string{"id:id"}},
		{"bad offset", req{method: "GET", path: "/api/v1/organisations?offset=-1", token: root}, 422, "validation", []string{"offset:range"}},
		{"bad limit", req{method: "GET", path: "/api/v1/organisations?limit=lots", token: root}, 422, "validation", []string{"limit:type"}},
		{"unknown route", req{method: "GET", path: "/api/v1/nothing-here"}, 404, "not-found", nil},
		{"route in the wrong case", req{method: "GET", path: "/API/V1/ME"}, 404, "not-found", nil},
		{"wrong method", req{method: "DELETE", path: "/api/v1/auth/login"}, 405, "method-not-allowed", nil},
		{"huge username", req{method: "POST", path: login, body: map[string]string{"username": strings.Repeat("a", 5000), "password": "x"}}, 401, "login-failed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			p := wantProblem(t, r, tt.status, tt.typ)
			checkPointers(t, p)
			if tt.fields != nil {
				if got := fieldCodes(p); !slices.Equal(got, tt.fields) {
					t.Fatalf("field errors %v, want %v", got, tt.fields)
				}
			}
			if r.header.Get("X-Request-ID") == "" && tt.status != 413 {
				t.Fatal("no X-Request-ID")
			}
		})
	}
}

// checkPointers: body fields have a JSON Pointer, query and path
// parameters a parameter name instead.
func checkPointers(t *testing.T, p map[string]any) {
	t.Helper()
	errs, _ := p["errors"].([]any)
	for _, raw := range errs {
		f := raw.(map[string]any)
		name := f["field"].(string)
		ptr, hasPtr := f["pointer"]
		param, hasParam := f["parameter"]
		switch {
		case name == "id" || name == "offset" || name == "limit":
			if hasPtr || param != name {
				t.Errorf("parameter %s: %v", name, f)
			}
		case name == "$":
			if ptr != "" || hasParam {
				t.Errorf("whole body: %v", f)
			}
		default:
			if ptr != "/"+name || hasParam {
				t.Errorf("body field %s: %v", name, f)
			}
		}
	}
}

// TestProblemLanguage: titles, details and field messages follow
// Accept-Language, with Content-Language saying which was used.
func TestProblemLanguage(t *testing.T) {
	e := newEnv(t)
	titles := map[string]string{}
	for _, lang := range []string{"en", "fr", "ar", "uk", "fa"} {
		r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"nope":1}`, header: map[string]string{"Accept-Language": lang}})
		p := wantProblem(t, r, 422, "validation")
		if got := r.header.Get("Content-Language"); got != lang {
			t.Errorf("%s: Content-Language %q", lang, got)
		}
		title := p["title"].(string)
		for other, seen := range titles {
			if seen == title {
				t.Errorf("%s title %q same as %s: untranslated?", lang, title, other)
			}
		}
		titles[lang] = title
		detail := p["errors"].([]any)[0].(map[string]any)["detail"].(string)
		if lang != "en" && detail == "This field is not expected here." {
			t.Errorf("%s: field message untranslated", lang)
		}
	}
}

// TestOversizedBody: a body over the limit is refused with 413 before it
// is read, over a real connection, in the caller's language.
func TestOversizedBody(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	for lang, title := range map[string]string{"en": "Request too large", "ar": ""} {
		r := e.doRaw(base, "/api/v1/auth/login", 2<<20, map[string]string{"Accept-Language": lang})
		p := wantProblem(t, r, 413, "too-large")
		if r.header.Get("X-Request-ID") == "" || p["requestId"] != r.header.Get("X-Request-ID") {
			t.Errorf("413 without a request id: %v", r.header)
		}
		if r.header.Get("Content-Language") != lang {
			t.Errorf("%s: Content-Language %q", lang, r.header.Get("Content-Language"))
		}
		if title != "" && p["title"] != title || title == "" && p["title"] == "Request too large" {
			t.Errorf("%s: title %q", lang, p["title"])
		}
	}
	// Just under the limit is read and judged on its content.
	r := e.doHTTP(base, req{method: "POST", path: "/api/v1/auth/login", body: `{"username":"` + strings.Repeat("a", 1<<19) + `","password":"x"}`})
	wantProblem(t, r, 401, "login-failed")
}

func TestPanicIsAProblem(t *testing.T) {
	e := newEnv(t)
	e.srv.App().Get("/test-panic", func(*fiber.Ctx) error { panic("boom") })
	e.srv.App().Get("/test-error", func(*fiber.Ctx) error { return errors.New("secret internal detail") })
	for _, path := range []string{"/test-panic", "/test-error"} {
		r := e.do(req{method: "GET", path: path, header: map[string]string{"X-Request-ID": "trace-" + path[6:]}})
		p := wantProblem(t, r, 500, "internal")
		if strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), "secret internal detail") {
			t.Fatalf("internal error leaked: %s", r.body)
		}
		if p["requestId"] != "trace-"+path[6:] || !strings.Contains(p["detail"].(string), "trace-"+path[6:]) {
			t.Fatalf("request id not in problem: %s", r.body)
		}
	}
	if !strings.Contains(e.logs.String(), `"panic":"boom"`) || !strings.Contains(e.logs.String(), "secret internal detail") {
		t.Fatalf("panic or error not logged: %s", e.logs.String())
	}
	// The server still answers afterwards.
	if r := e.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz after panic: %d", r.status)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	r := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "abc-123"}})
	if r.header.Get("X-Request-ID") != "abc-123" {
		t.Fatalf("valid id not honoured: %q", r.header.Get("X-Request-ID"))
	}
	r = e.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id\"<script>"}})
	if got := r.header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, "\" <") {
		t.Fatalf("unsafe id echoed: %q", got)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"abc-123"`) {
		t.Fatal("request id not in access log")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	if r := e.do(req{method: "GET", path: "/healthz"}); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "GET", path: "/readyz"}); r.status != 200 {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}

	// A server whose database connection is gone is alive but not ready.
	ctx := context.Background()
	gone, err := sqlite.Open(ctx, sqlite.Options{Path: t.TempDir() + "/gone.db"})
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Close(ctx); err != nil {
		t.Fatal(err)
	}
	down := newEnv(t, func(_ *accounts.Config, _ *server.Config, d *server.Deps) {
		d.Ready = []server.Check{{Name: "database", Check: gone.Ping}}
	})
	if r := down.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz with database down: %d", r.status)
	}
	p := wantProblem(t, down.do(req{method: "GET", path: "/readyz"}), 503, "unavailable")
	if checks, _ := p["checks"].(map[string]any); checks["database"] != "unavailable" {
		t.Fatalf("readyz does not name the failed check: %v", p)
	}
}

func TestMetricsToken(t *testing.T) {
	e := newEnv(t, func(_ *accounts.Config, c *server.Config, _ *server.Deps) { c.MetricsToken = "scrape-secret" })
	wantProblem(t, e.do(req{method: "GET", path: "/metrics"}), 401, "unauthenticated")
	wantProblem(t, e.do(req{method: "GET", path: "/metrics", token: "wrong"}), 401, "unauthenticated")
	if r := e.do(req{method: "GET", path: "/metrics", token: "scrape-secret"}); r.status != 200 {
		t.Fatalf("metrics with token: %d", r.status)
	}
}

func TestPersonalAnswersNotCached(t *testing.T) {
	e := newEnv(t)
	tok := e.token("a-edu")
	for _, path := range []string{"/api/v1/me", "/api/v1/users/" + e.learnerA.ID, "/api/v1/organisations/" + e.orgA.ID + "/users"} {
		if r := e.do(req{method: "GET", path: path, token: tok}); r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d Cache-Control %q", path, r.status, r.header.Get("Cache-Control"))
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	tok := e.token("a-edu")
	e.do(req{method: "GET", path: "/api/v1/me", token: tok})
	e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: tok})
	e.do(req{method: "GET", path: "/api/v1/me"})
	r := e.do(req{method: "GET", path: "/metrics"})
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`pathways_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1`,
		`pathways_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1`,
		`pathways_http_requests_total{method="GET",route="/api/v1/users/:id",status="200"} 1`,
		`pathways_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 1`,
		`pathways_http_request_duration_seconds_bucket{method="GET",route="/api/v1/me",le="+Inf"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestSecurityHeadersAndCORS(t *testing.T) {
	e := newEnv(t, func(_ *accounts.Config, c *server.Config, _ *server.Deps) {
		c.CORSOrigins = []string{"https://app.example.org"}
	})
	r := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://app.example.org"}})
	for h, want := range map[string]string{
		"X-Content-Type-Options":      "nosniff",
		"X-Frame-Options":             "SAMEORIGIN",
		"Referrer-Policy":             "no-referrer",
		"Content-Security-Policy":     "default-src 'none'; frame-ancestors 'none'",
		"Access-Control-Allow-Origin": "https://app.example.org",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	r = e.do(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://evil.example"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("foreign origin allowed: %q", got)
	}
	pre := e.do(req{method: "OPTIONS", path: "/api/v1/me", header: map[string]string{
		"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization",
	}})
	if pre.status != 204 || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
}

// TestShutdownDrains: a request in flight when shutdown starts completes;
// the server then stops accepting connections.
func TestShutdownDrains(t *testing.T) {
	e := newEnv(t)
	entered := make(chan struct{})
	e.srv.App().Get("/test-slow", func(c *fiber.Ctx) error {
		close(entered)
		time.Sleep(300 * time.Millisecond)
		return c.SendString("done")
	})
	base := e.listen()
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() { // no t.Fatal off the test goroutine: report through done
		resp, err := http.Get(base + "/test-slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, string(b), err}
	}()
	<-entered
	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}
