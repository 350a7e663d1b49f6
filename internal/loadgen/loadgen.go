// Package loadgen is Pathways' load generator: it sets up an organisation,
// a course, a quiz and learners through the public API, drives a real
// server with one of a few scenarios, and reports latencies, errors and
// the server's CPU time and memory as /proc gives them. It is what
// `pathways load` runs; docs/PERFORMANCE.md records its figures.
//
// Scenarios:
//
//	class-burst  every learner at once starts an attempt, saves 20 answers
//	             (one request each) and submits
//	day-mix      learners with think time read the catalogue and lessons,
//	             answer and submit, for a while
//	lessons      lesson reads at a number of connections; with Bare, the
//	             same bytes from a bare Fiber handler too, and the ratio
//	lesson-ratio lessons with Bare
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"
)

// Scenarios lists the scenarios Run knows.
var Scenarios = []string{"class-burst", "day-mix", "lessons", "lesson-ratio"}

// Config is one run.
type Config struct {
	Scenario string
	Learners int           // learners set up (lessons: at most Conns are used)
	Conns    int           // lessons: concurrent connections
	Duration time.Duration // class-burst: a cap; day-mix and lessons: how long (each phase)
	Think    time.Duration // day-mix: mean pause between a learner's requests (jittered ±50 %)
	Bare     bool          // lessons: also measure the bare handler and the ratio
	Retries  int           // retries of a call refused with 503 or 429
	// SetupConcurrency bounds the requests set-up sends at once (each
	// learner's create and sign-in hash a PIN with argon2id).
	SetupConcurrency int

	// The target: Addr (a base URL such as http://127.0.0.1:8080) of a
	// running server, whose process PID (0: not measured) and admin
	// credentials are given; or, with Addr empty, a server that Spawn
	// starts and stops.
	Addr          string
	PID           int
	AdminUsername string
	AdminPassword string
	Spawn         Spawn

	// Log receives progress lines (set-up, phases); nil discards them.
	Log io.Writer
}

// withDefaults fills in what c leaves at zero.
func (c Config) withDefaults() Config {
	if c.Scenario == "" {
		c.Scenario = "class-burst"
	}
	if c.Learners <= 0 {
		c.Learners = 100
	}
	if c.Conns <= 0 {
		c.Conns = 50
	}
	if c.Duration <= 0 {
		c.Duration = map[string]time.Duration{"class-burst": 5 * time.Minute, "day-mix": time.Minute}[c.Scenario]
		if c.Duration == 0 {
			c.Duration = 10 * time.Second
		}
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.SetupConcurrency <= 0 {
		c.SetupConcurrency = 8
	}
	if c.Scenario == "lesson-ratio" {
		c.Scenario, c.Bare = "lessons", true
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Run sets up and runs one scenario, and reports it.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if !slices.Contains(Scenarios, cfg.Scenario) && cfg.Scenario != "" {
		return nil, fmt.Errorf("unknown scenario %q (one of %v)", cfg.Scenario, Scenarios)
	}
	cfg = cfg.withDefaults()
	if cfg.Bare && cfg.Spawn.CPUs != "" && cfg.Addr == "" {
		// The bare handler runs in this process: pinned, it would share
		// the generator's CPUs while the server has its own.
		return nil, errors.New("the bare handler runs in the generator's process: measure lesson-ratio without pinning the server")
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	rep = &Report{Scenario: cfg.Scenario, Date: time.Now().UTC().Format(time.RFC3339), Learners: cfg.Learners}
	switch cfg.Scenario {
	case "lessons":
		rep.Conns = cfg.Conns
		rep.Learners = min(cfg.Learners, cfg.Conns)
		if cfg.Bare {
			rep.Scenario = "lesson-ratio"
		}
	case "day-mix":
		rep.ThinkMs = float64(cfg.Think.Milliseconds())
	}
	rep.DurationS = cfg.Duration.Seconds()

	base, pid := cfg.Addr, cfg.PID
	admin := &session{username: cfg.AdminUsername, secret: cfg.AdminPassword}
	if base == "" {
		srv, err := cfg.Spawn.start(ctx)
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, srv.stop()) }()
		base, pid = srv.base, srv.cmd.Process.Pid
		admin = &session{username: srv.username, secret: srv.password}
		rep.Target = "spawned " + base
		if cfg.Spawn.CPUs != "" {
			rep.Target += " (server on CPUs " + cfg.Spawn.CPUs + ")"
		}
		logf("spawned a server at %s (pid %d, data in a temporary directory)", base, pid)
	} else {
		rep.Target = base
	}
	rep.ServerPID = pid

	conns := max(cfg.Learners, cfg.Conns, cfg.SetupConcurrency)
	c := newClient(base, conns, cfg.Retries)
	defer c.close()

	start := time.Now()
	f, err := setUp(ctx, c, admin, rep.Learners, cfg.SetupConcurrency, logf)
	if err != nil {
		return nil, fmt.Errorf("set-up: %w", err)
	}
	rep.SetupS = round3(time.Since(start).Seconds())

	switch cfg.Scenario {
	case "class-burst":
		ph, err := measure(ctx, "class-burst", pid, len(f.learners), func(rec *recorder, w int, start <-chan struct{}) {
			<-start
			runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
			defer cancel()
			classFlow(runCtx, c, rec, f, f.learners[w])
		})
		if err != nil {
			return nil, err
		}
		rep.Phases = append(rep.Phases, ph)
	case "day-mix":
		ph, err := measure(ctx, "day-mix", pid, len(f.learners), func(rec *recorder, w int, start <-chan struct{}) {
			<-start
			runCtx, cancel := context.WithTimeout(ctx, cfg.Duration+time.Minute)
			defer cancel()
			dayMix(runCtx, c, rec, f, f.learners[w], cfg.Think, time.Now().Add(cfg.Duration))
		})
		if err != nil {
			return nil, err
		}
		rep.Phases = append(rep.Phases, ph)
	case "lessons":
		if err := lessons(ctx, c, f, cfg, pid, rep, logf); err != nil {
			return nil, err
		}
	}
	for _, ph := range rep.Phases {
		logf("phase %s: %.1f s, %d requests", ph.Name, ph.Seconds, ph.Requests)
	}
	return rep, nil
}

// measure runs n workers of one phase from the same moment and reports
// what they saw and what the server (pid) and this process spent.
func measure(ctx context.Context, name string, pid, n int, work func(rec *recorder, w int, start <-chan struct{})) (Phase, error) {
	recs := make([]*recorder, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range n {
		recs[w] = newRecorder()
		wg.Go(func() { work(recs[w], w, start) })
	}
	server, err := startMeter(pid)
	if err != nil {
		close(start)
		wg.Wait()
		return Phase{}, err
	}
	self, err := startMeter(os.Getpid())
	if err != nil {
		close(start)
		wg.Wait()
		return Phase{}, err
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	ph := Phase{Name: name, Seconds: round3(elapsed.Seconds()), Flows: all.flowStats()}
	ph.Ops, ph.Requests = all.opStats(elapsed)
	ph.PerSec = perSec(ph.Requests, elapsed)
	if ph.Server, err = server.stop(ph.Requests); err != nil {
		return ph, err
	}
	ph.Generator, err = self.stop(ph.Requests)
	return ph, err
}

// classFlow is one learner of a class burst: start an attempt, save every
// answer, submit.
func classFlow(ctx context.Context, c *client, rec *recorder, f *fixture, s *session) {
	rec.flows.started++
	t0, refusals := time.Now(), rec.refusals
	done := func(ok bool) {
		refusedHere := rec.refusals > refusals
		if refusedHere {
			rec.flows.refused++
		}
		if !ok {
			rec.flows.failed++
			return
		}
		rec.flows.completed++
		rec.flows.latencies = append(rec.flows.latencies, time.Since(t0))
		if refusedHere {
			rec.flows.refusedOK++
		}
	}
	id, answers, err := startAttempt(ctx, c, rec, s, f.quizID)
	if err != nil {
		done(false)
		return
	}
	for _, a := range answers {
		if _, err := c.do(ctx, rec, call{op: "save-answer", method: "PUT", path: a.path, sess: s, body: a.body}); err != nil {
			done(false)
			return
		}
	}
	_, err = c.do(ctx, rec, call{op: "submit", method: "POST", path: "/api/v1/attempts/" + id + "/submit", sess: s})
	done(err == nil)
}

// The day-mix cycle: the catalogue, three lessons, then the quiz (start,
// each answer, submit), and again.
const (
	mixLessons = 3
	mixStart   = 1 + mixLessons
	mixSubmit  = mixStart + 1 + questions
	mixCycle   = mixSubmit + 1
)

// dayMix is one learner's day until stop: each learner begins at a
// random point of the cycle (so the run starts in a steady state, with
// attempts half done), and waits a jittered think time between requests.
func dayMix(ctx context.Context, c *client, rec *recorder, f *fixture, s *session, think time.Duration, stop time.Time) {
	// pause is the think time (± 50 %), cut short at stop so that the
	// phase ends when its duration does.
	pause := func() error {
		if think <= 0 {
			return ctx.Err()
		}
		return sleep(ctx, min(think/2+time.Duration(rand.Int64N(int64(think))), time.Until(stop)))
	}
	if think > 0 && sleep(ctx, time.Duration(rand.Int64N(int64(think)))) != nil {
		return
	}
	var (
		attempt  string
		answers  []answerSave
		refusals int
	)
	end := func(ok bool) {
		refused := rec.refusals > refusals
		switch {
		case ok:
			rec.flows.completed++
		default:
			rec.flows.failed++
		}
		if refused {
			rec.flows.refused++
			if ok {
				rec.flows.refusedOK++
			}
		}
		attempt, answers = "", nil
	}
	step := rand.IntN(mixCycle)
	for time.Now().Before(stop) {
		switch {
		case step == 0:
			_, _ = c.do(ctx, rec, call{op: "catalogue", method: "GET", path: "/api/v1/catalogue", sess: s})
			step++
		case step < mixStart:
			_, _ = c.do(ctx, rec, call{op: "lesson", method: "GET", path: f.lessons[rand.IntN(len(f.lessons))], sess: s})
			step++
		case attempt == "":
			rec.flows.started++
			refusals = rec.refusals
			id, all, err := startAttempt(ctx, c, rec, s, f.quizID)
			if err != nil {
				end(false)
				step = 0
				break
			}
			// Joining the cycle in the middle of a quiz, the learner
			// leaves the earlier questions unanswered.
			attempt, answers = id, all[min(max(step-mixStart-1, 0), len(all)):]
			step = mixStart + 1
		case len(answers) > 0:
			a := answers[0]
			answers = answers[1:]
			if _, err := c.do(ctx, rec, call{op: "save-answer", method: "PUT", path: a.path, sess: s, body: a.body}); err != nil {
				end(false)
				step = 0
			}
		default:
			_, err := c.do(ctx, rec, call{op: "submit", method: "POST", path: "/api/v1/attempts/" + attempt + "/submit", sess: s})
			end(err == nil)
			step = 0
		}
		if pause() != nil {
			break
		}
	}
	if attempt != "" {
		rec.flows.unfinished++
	}
}
