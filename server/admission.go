package server

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Admission control: overload is answered, not queued (DESIGN.md). Each
// instance bounds the requests in flight in each of two classes; a
// request beyond its class's bound is answered at once with 503
// `overloaded` and a short, jittered Retry-After, before any of its work
// (authentication included) is done, instead of waiting behind the others
// until its deadline passes. Refusals are counted in
// pathways_admission_refused_total{class}.
//
// The classes, chosen per route in routes(), the one place that says which
// route is which:
//
//   - database: every route that reads or writes the database in the
//     common case (the default: sign-in, users, authoring, attempts,
//     answers, submits, media). Bounded by Config.MaxInFlight.
//   - cached: the published course versions and lessons, answered from the
//     in-process cache (DESIGN.md, "Published content is immutable").
//     Bounded by Config.MaxInFlightCached, separately, so that a crowd of
//     writers filling the database bound leaves lesson reads working.
//   - unbounded: /healthz, /readyz, /metrics and /api/v1/openapi.json.
//     Probes must answer under load (an orchestrator restarts an instance
//     whose liveness probe fails, which would turn overload into an
//     outage), and none of them costs more than a ping.
//
// A request holds its slot while its handler runs; the bytes of a streamed
// answer (a media download) are sent after it is released.
type admission struct {
	class    string
	limit    int64
	inFlight atomic.Int64
	refused  prometheus.Counter
}

// DefaultMaxInFlight and DefaultMaxInFlightCached are the default bounds,
// chosen for the project's machine, 2 cores; a larger machine against a
// faster database may raise them (PATHWAYS_MAX_IN_FLIGHT,
// PATHWAYS_MAX_IN_FLIGHT_CACHED).
//
// Database: a burst of 1,000 learners submitting at once used to wait in
// the database's queue until their 15 s deadline and get 503 (all but 2–4
// of them). On 2 cores the embedded engine committed about 100 submits a
// second when it was FerretDB (docs/PERFORMANCE.md; the direct SQLite
// engine costs far less per write), so 64 in flight means an admitted
// request waits at most about half a second behind the others, and the
// rest are told at once to come back in 1–3 s. 64 also stays below the
// MongoDB driver's default pool of 100 connections, so admitted requests
// do not queue again for a connection. Reads take a fraction of a
// millisecond and are not slowed by the bound.
//
// Cached: a lesson read costs a few tens of microseconds of CPU, so on
// 2 cores only a handful are really running at any moment; the bound
// matters only when they block (a user status read after its cache
// expired, a version loaded after a restart), and 256 lets that many wait
// on the database at most, a quarter of a 1,000-learner crowd.
const (
	DefaultMaxInFlight       = 64
	DefaultMaxInFlightCached = 256
)

// errOverloaded is a request refused by admission control.
var errOverloaded = errors.New("overloaded: too many requests in flight")

func newAdmission(reg *prometheus.Registry, refused *prometheus.CounterVec, class string, limit int) (*admission, error) {
	a := &admission{class: class, limit: int64(limit), refused: refused.WithLabelValues(class)}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "pathways_admission_in_flight",
		Help:        "Requests in flight by admission class.",
		ConstLabels: prometheus.Labels{"class": class},
	}, func() float64 { return float64(a.inFlight.Load()) })
	if err := reg.Register(inFlight); err != nil {
		return nil, fmt.Errorf("register admission metrics: %w", err)
	}
	return a, nil
}

// admit runs the rest of the chain if the class has room, and refuses the
// request with errOverloaded otherwise.
func (a *admission) admit(c *fiber.Ctx) error {
	if a.inFlight.Add(1) > a.limit {
		a.inFlight.Add(-1)
		a.refused.Inc()
		return errOverloaded
	}
	defer a.inFlight.Add(-1)
	return c.Next()
}

// retryAfter is the Retry-After of an overloaded or timed-out request:
// 1–3 seconds, at random, so that refused clients do not all come back in
// the same second.
func retryAfter() int { return 1 + rand.IntN(3) }
