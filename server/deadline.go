package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, deadline) that makes its
// timer only when asked whether it is done (Done, Err), or when asked for
// a value once the deadline has passed (so that context.Cause says so).
// A request answered from memory (a cached lesson, a known user) never
// asks, and a timer per request, made and stopped, was about a twentieth
// of the CPU of such a read; one that calls the database asks at its
// first call and from then on is the WithDeadline context itself. Until
// something asks, nothing can observe whether a timer ran.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time
	mu       sync.Mutex
	timed    atomic.Pointer[timedContext] // nil until started
	stopped  bool                         // under mu: the request ended
}

type timedContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newLazyDeadline(parent context.Context, timeout time.Duration) *lazyDeadline {
	d := time.Now().Add(timeout)
	if pd, ok := parent.Deadline(); ok && pd.Before(d) {
		d = pd
	}
	return &lazyDeadline{parent: parent, deadline: d}
}

// start makes the WithDeadline context, once.
func (l *lazyDeadline) start() context.Context {
	if t := l.timed.Load(); t != nil {
		return t.ctx
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.timed.Load(); t != nil {
		return t.ctx
	}
	ctx, cancel := context.WithDeadline(l.parent, l.deadline)
	if l.stopped { // asked after the request ended: as if cancelled then
		cancel()
	}
	l.timed.Store(&timedContext{ctx: ctx, cancel: cancel})
	return ctx
}

func (l *lazyDeadline) Deadline() (time.Time, bool) { return l.deadline, true }
func (l *lazyDeadline) Done() <-chan struct{}       { return l.start().Done() }
func (l *lazyDeadline) Err() error                  { return l.start().Err() }

func (l *lazyDeadline) Value(key any) any {
	if t := l.timed.Load(); t != nil {
		return t.ctx.Value(key)
	}
	if !time.Now().Before(l.deadline) {
		return l.start().Value(key)
	}
	return l.parent.Value(key)
}

// stop cancels the context, as WithDeadline's cancel does, and releases
// the timer if one was made.
func (l *lazyDeadline) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	if t := l.timed.Load(); t != nil {
		t.cancel()
	}
}
