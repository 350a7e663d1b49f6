package server

import (
	"net"
	"regexp"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// TestSecurityHeadersAsHelmet: the server's security headers are helmet's,
// as the server configured it before they were made once, byte for byte
// and in the same order, over HTTP and behind a proxy saying HTTPS, and
// a handler may still replace one (media downloads set their own
// Content-Security-Policy).
func TestSecurityHeadersAsHelmet(t *testing.T) {
	helmetApp := fiber.New()
	helmetApp.Use(helmet.New(helmet.Config{ContentSecurityPolicy: contentSecurityPolicy, HSTSMaxAge: hstsMaxAge}))
	ownApp := fiber.New()
	ownApp.Use(newSecurityHeaders().handler)
	for _, app := range []*fiber.App{helmetApp, ownApp} {
		app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
		app.Get("/media", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
			return c.SendString("bytes")
		})
	}
	date := regexp.MustCompile(`(?m)^Date: .*\r\n`)
	answer := func(app *fiber.App, path string, header map[string]string) string {
		var r fasthttp.Request
		r.SetRequestURI(path)
		r.Header.SetHost("test")
		for k, v := range header {
			r.Header.Set(k, v)
		}
		var fc fasthttp.RequestCtx
		fc.Init(&r, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, nil)
		app.Handler()(&fc)
		return date.ReplaceAllString(fc.Response.String(), "")
	}
	for _, tt := range []struct {
		path   string
		header map[string]string
	}{
		{"/", nil},
		{"/", map[string]string{"X-Forwarded-Proto": "https"}},
		{"/", map[string]string{"X-Forwarded-Proto": "https, http"}},
		{"/", map[string]string{"X-Forwarded-Ssl": "on"}},
		{"/media", map[string]string{"X-Forwarded-Proto": "https"}},
	} {
		want, got := answer(helmetApp, tt.path, tt.header), answer(ownApp, tt.path, tt.header)
		if got != want {
			t.Errorf("GET %s %v:\n%s\nhelmet answers:\n%s", tt.path, tt.header, got, want)
		}
	}
	if got := answer(ownApp, "/", map[string]string{"X-Forwarded-Proto": "https"}); !regexp.MustCompile(`Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n`).MatchString(got) {
		t.Errorf("no HSTS over HTTPS:\n%s", got)
	}
}

// TestNewRequestID: new request ids are version 4 UUIDs, acceptable as an
// incoming X-Request-ID, and do not repeat.
func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newRequestID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q: not a version 4 UUID (%v)", id, err)
		}
		if !validRequestID(id) {
			t.Fatalf("%q: refused as an incoming request id", id)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}
