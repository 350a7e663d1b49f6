package server

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// Locals keys.
const (
	localRequestID = "request_id"
	localLocalizer = "localizer"
	localActor     = "actor"
)

// requestID honours a sane incoming X-Request-ID (so ids follow a request
// through a proxy) and generates one otherwise.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// newRequestID is a new random (version 4) UUID, as uuid.NewString makes,
// with its bits from the runtime's generator (math/rand/v2: ChaCha8 per
// thread, seeded by the operating system) rather than crypto/rand: as
// unlikely to repeat, on any number of instances, without a read of the
// system's generator per request. A request id is not a secret.
func newRequestID() string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	return ""
}

// locale negotiates the response language from Accept-Language.
func (s *Server) locale(c *fiber.Ctx) error {
	loc := s.negotiate(c)
	c.Locals(localLocalizer, loc)
	c.Set(fiber.HeaderContentLanguage, loc.Tag().String())
	c.Vary(fiber.HeaderAcceptLanguage)
	return c.Next()
}

// localizer returns the request's localizer; errors raised before the
// middleware ran (an oversized body) negotiate here.
func (s *Server) localizer(c *fiber.Ctx) *i18n.Localizer {
	if l, ok := c.Locals(localLocalizer).(*i18n.Localizer); ok {
		return l
	}
	return s.negotiate(c)
}

// negotiate is the localizer for the request's Accept-Language, from
// s.localizers when that value was seen before.
func (s *Server) negotiate(c *fiber.Ctx) *i18n.Localizer {
	header := c.Context().Request.Header.Peek(fiber.HeaderAcceptLanguage)
	if loc, ok := s.localizers.get(header); ok {
		return loc
	}
	v := string(header)
	loc := s.catalog.Negotiate(v)
	s.localizers.put(v, loc)
	return loc
}

// valueCache remembers what was worked out from a request's value (a
// header, a query parameter), for values worked out the same way every
// time: the localizer negotiated for an Accept-Language, the languages a
// ?lang= or Accept-Language lists. Browsers and phones send a handful of
// distinct values, and working one out (parsing the header, matching it
// against the catalogue, building a go-i18n localizer, which parses its
// tags again) cost a few per cent of the CPU of a lesson read and a dozen
// allocations. What it keeps must be immutable, as it serves any number
// of requests. Bounded: long values are not kept, and a full cache starts
// again empty.
type valueCache[V any] struct {
	mu sync.RWMutex
	m  map[string]V
}

const (
	maxCachedValues = 1024
	maxCachedValue  = 128 // bytes; longer values are worked out each time
)

func newValueCache[V any]() *valueCache[V] {
	return &valueCache[V]{m: map[string]V{}}
}

func (vc *valueCache[V]) get(key []byte) (V, bool) {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	v, ok := vc.m[string(key)] // no copy: the compiler looks up []byte keys in place
	return v, ok
}

func (vc *valueCache[V]) put(key string, v V) {
	if len(key) > maxCachedValue {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.m) >= maxCachedValues {
		clear(vc.m)
	}
	vc.m[key] = v
}

// observe logs every request and records its metrics. It renders errors
// itself (through the app's error handler) so the logged status is the one
// sent.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	end := time.Now()
	elapsed := end.Sub(start)
	route := c.Route().Path
	s.metrics.requests.WithLabelValues(c.Method(), route, statusLabel(status)).Inc()
	s.metrics.latency.WithLabelValues(c.Method(), route).Observe(elapsed.Seconds())
	level := slog.LevelInfo
	switch {
	case status == fiber.StatusServiceUnavailable:
		// Overload, a deadline, a dependency down: conditions of the
		// moment, which the metrics count, not faults to look into.
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	ctx := c.UserContext()
	h := s.log.Handler()
	if !h.Enabled(ctx, level) {
		return nil
	}
	line := accessLine{
		time: end, level: level, requestID: requestID(c), method: c.Method(), path: c.Path(), route: route,
		status: status, duration: elapsed, ip: s.clientIP(c), bytes: responseSize(c),
	}
	// A log that cannot be written must not fail the request.
	if s.access != nil {
		_ = s.access.write(&line)
		return nil
	}
	// Without Deps.AccessLog the line goes to the handler directly:
	// Logger.LogAttrs would also capture the caller's program counter
	// (runtime.Callers), which only a handler with AddSource reads, and
	// for this one line it would always name this function.
	r := slog.NewRecord(end, level, "request", 0)
	r.AddAttrs(line.attrs()...)
	_ = h.Handle(ctx, r)
	return nil
}

// statusLabels are the metric labels of the statuses, made once rather
// than formatted for each request.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// responseSize is the length of the response body, without reading a
// streamed one (a media download) into memory.
func responseSize(c *fiber.Ctx) int {
	if c.Response().IsBodyStream() {
		return max(c.Response().Header.ContentLength(), 0)
	}
	return len(c.Response().Body())
}

// recoverPanic turns a panic into an internal error answered as a problem,
// with the stack in the log.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", slog.String("request_id", requestID(c)), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// deadline gives the request's context a timeout, so a stuck database call
// ends with a problem rather than holding the connection. A request that
// fails after its deadline passed, with an error that says only that a
// dependency failed or with an unknown one, failed because of the
// deadline: the stores report a cancelled call as unavailable, but the
// client should learn that its request ran out of time (timeout), not that
// the database is down.
// Its timer starts only if the request asks about its context (deadline.go).
func (s *Server) deadline(c *fiber.Ctx) error {
	ctx := newLazyDeadline(c.UserContext(), s.cfg.RequestTimeout)
	defer ctx.stop()
	c.SetUserContext(ctx)
	err := c.Next()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if k, _ := classify(err); k == kindUnavailable || k == kindInternal {
			return &deadlineError{err: err}
		}
	}
	return err
}

// deadlineError is a request that failed because its deadline passed.
type deadlineError struct{ err error }

func (e *deadlineError) Error() string { return "request deadline passed: " + e.err.Error() }
func (e *deadlineError) Unwrap() error { return e.err }

// authenticate requires a valid bearer access token and stores the actor.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return pathways.ErrUnauthenticated
	}
	a, err := s.acc.Authenticate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		return err
	}
	c.Locals(localActor, a)
	// Answers to signed-in callers are personal: no shared cache keeps them.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

func actor(c *fiber.Ctx) accounts.Actor {
	a, _ := c.Locals(localActor).(accounts.Actor)
	return a
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathways_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pathways_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathways_admission_refused_total",
			Help: "Requests answered 503 overloaded by admission control, by class.",
		}, []string{"class"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// metricsHandler serves Prometheus metrics, behind a bearer token when
// Config.MetricsToken is set.
func (s *Server) metricsHandler() fiber.Handler {
	h := adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return func(c *fiber.Ctx) error {
		if subtle.ConstantTimeCompare([]byte(c.Get(fiber.HeaderAuthorization)), want) != 1 {
			return pathways.ErrUnauthenticated
		}
		return h(c)
	}
}
