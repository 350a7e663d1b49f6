package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The security headers every answer carries: helmet's defaults (Fiber's
// middleware/helmet) with this API's Content-Security-Policy and a year of
// HSTS on HTTPS. hstsMaxAge is in seconds.
const (
	contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"
	hstsMaxAge            = 31536000
)

// securityHeaders sets the security headers helmet would set, in helmet's
// order, with the keys and values made once: helmet sets twelve headers
// with Ctx.Set, each normalising its key into a buffer first, which was
// about a tenth of the CPU of a cached lesson read. The answers are the
// same byte for byte (TestSecurityHeadersAsHelmet), so the keys are
// spelt as fasthttp normalises helmet's (X-Xss-Protection).
type securityHeaders struct {
	before, after []headerKV // around Strict-Transport-Security
	hsts          headerKV
}

type headerKV struct{ key, value []byte }

func newSecurityHeaders() *securityHeaders {
	kv := func(k, v string) headerKV { return headerKV{[]byte(k), []byte(v)} }
	return &securityHeaders{
		before: []headerKV{
			kv("X-Xss-Protection", "0"),
			kv(fiber.HeaderXContentTypeOptions, "nosniff"),
			kv(fiber.HeaderXFrameOptions, "SAMEORIGIN"),
			kv("Cross-Origin-Embedder-Policy", "require-corp"),
			kv("Cross-Origin-Opener-Policy", "same-origin"),
			kv("Cross-Origin-Resource-Policy", "same-origin"),
			kv("Origin-Agent-Cluster", "?1"),
			kv("Referrer-Policy", "no-referrer"),
			kv("X-Dns-Prefetch-Control", "off"),
			kv("X-Download-Options", "noopen"),
			kv("X-Permitted-Cross-Domain-Policies", "none"),
		},
		hsts:  kv(fiber.HeaderStrictTransportSecurity, "max-age="+strconv.Itoa(hstsMaxAge)+"; includeSubDomains"),
		after: []headerKV{kv(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)},
	}
}

// handler sets the headers. Strict-Transport-Security only goes with
// HTTPS, which Ctx.Protocol tells as helmet asks it (TLS, or a proxy's
// X-Forwarded-Proto).
func (h *securityHeaders) handler(c *fiber.Ctx) error {
	rh := &c.Response().Header
	setAll(rh, h.before)
	if c.Protocol() == "https" {
		rh.SetCanonical(h.hsts.key, h.hsts.value)
	}
	setAll(rh, h.after)
	return c.Next()
}

// setAll sets canonical keys: no normalising, no copy of the key first.
func setAll(rh *fasthttp.ResponseHeader, kvs []headerKV) {
	for _, kv := range kvs {
		rh.SetCanonical(kv.key, kv.value)
	}
}
