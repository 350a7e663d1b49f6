package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestLazyDeadline: the lazy deadline context behaves as WithDeadline's:
// its deadline, its end (Done, Err, Cause), values, children and
// AfterFunc, cancellation when the request ends and by its parent; and
// it makes no timer while nobody asks.
func TestLazyDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")

	t.Run("no timer until asked", func(t *testing.T) {
		l := newLazyDeadline(parent, time.Hour)
		if d, ok := l.Deadline(); !ok || time.Until(d) <= 0 {
			t.Fatalf("deadline %v %v", d, ok)
		}
		if l.Value(ctxKey{}) != "v" {
			t.Fatal("value of the parent lost")
		}
		if l.timed.Load() != nil {
			t.Fatal("a timer was made before anyone asked")
		}
		if l.Err() != nil || l.timed.Load() == nil {
			t.Fatal("Err: not started, or not nil before the deadline")
		}
		l.stop()
		if !errors.Is(l.Err(), context.Canceled) {
			t.Fatalf("after stop: %v", l.Err())
		}
	})

	t.Run("ends at its deadline", func(t *testing.T) {
		l := newLazyDeadline(parent, 20*time.Millisecond)
		defer l.stop()
		child, cancel := context.WithCancel(l)
		defer cancel()
		fired := make(chan struct{})
		context.AfterFunc(l, func() { close(fired) })
		<-child.Done()
		<-fired
		if !errors.Is(l.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) ||
			!errors.Is(context.Cause(l), context.DeadlineExceeded) {
			t.Fatalf("err %v, child %v, cause %v", l.Err(), child.Err(), context.Cause(l))
		}
		if child.Value(ctxKey{}) != "v" {
			t.Fatal("child lost the value")
		}
	})

	t.Run("asked only after its deadline", func(t *testing.T) {
		cp, cancel := context.WithCancel(parent)
		defer cancel()
		l := newLazyDeadline(cp, time.Millisecond)
		defer l.stop()
		for time.Now().Before(l.deadline) {
			time.Sleep(time.Millisecond)
		}
		if !errors.Is(context.Cause(l), context.DeadlineExceeded) || !errors.Is(l.Err(), context.DeadlineExceeded) {
			t.Fatalf("cause %v, err %v", context.Cause(l), l.Err())
		}
	})

	t.Run("its parent's earlier deadline and cancellation", func(t *testing.T) {
		cp, cancel := context.WithTimeout(parent, time.Minute)
		pd, _ := cp.Deadline()
		l := newLazyDeadline(cp, time.Hour)
		defer l.stop()
		if d, _ := l.Deadline(); !d.Equal(pd) {
			t.Fatalf("deadline %v, parent's %v", d, pd)
		}
		cancel()
		<-l.Done()
		if !errors.Is(l.Err(), context.Canceled) {
			t.Fatalf("err %v", l.Err())
		}
	})

	t.Run("asked after the request ended", func(t *testing.T) {
		l := newLazyDeadline(parent, time.Hour)
		l.stop()
		<-l.Done()
		if !errors.Is(l.Err(), context.Canceled) {
			t.Fatalf("err %v", l.Err())
		}
	})
}
