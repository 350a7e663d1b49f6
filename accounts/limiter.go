package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
)

// Attempts is the failed sign-in record of one key (a username or a client
// address), kept in the database so every instance sees the same state.
type Attempts struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time
	Lockouts    int // how many times the key was locked; doubles the next lock
}

// LimitPolicy locks a key for BaseLock after MaxFailures failures within
// Window, doubling the lock each time up to MaxLock. A day without a lock
// forgets the doubling.
type LimitPolicy struct {
	MaxFailures int
	Window      time.Duration
	BaseLock    time.Duration
	MaxLock     time.Duration
}

// Default policies. The address limit is high on purpose: a whole class of
// learners often signs in from one NGO centre's network address.
var (
	DefaultUserLimit = LimitPolicy{MaxFailures: 5, Window: 15 * time.Minute, BaseLock: time.Minute, MaxLock: time.Hour}
	DefaultAddrLimit = LimitPolicy{MaxFailures: 100, Window: 15 * time.Minute, BaseLock: 5 * time.Minute, MaxLock: time.Hour}
)

const lockMemory = 24 * time.Hour

func (p LimitPolicy) lockFor(lockouts int) time.Duration {
	d := p.BaseLock
	for i := 0; i < lockouts && d < p.MaxLock; i++ {
		d *= 2
	}
	return min(d, p.MaxLock)
}

type limitedKey struct {
	key    string
	policy LimitPolicy
}

// checkLocked returns a RateLimitedError if any key is locked at now.
func checkLocked(ctx context.Context, s Store, now time.Time, keys ...limitedKey) error {
	var wait time.Duration
	for _, k := range keys {
		a, err := s.Attempts(ctx, k.key)
		if errors.Is(err, pathways.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read attempts: %w", err)
		}
		if d := a.LockedUntil.Sub(now); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return &pathways.RateLimitedError{RetryAfter: wait.Round(time.Second) + time.Second}
	}
	return nil
}

// recordFailures counts one failure against each key and locks those that
// reached their limit.
func recordFailures(ctx context.Context, s Store, now time.Time, keys ...limitedKey) error {
	for _, k := range keys {
		a, err := s.RecordFailure(ctx, k.key, now, now.Add(-k.policy.Window))
		if err != nil {
			return fmt.Errorf("record failure: %w", err)
		}
		if a.Failures < k.policy.MaxFailures {
			continue
		}
		lockouts := a.Lockouts
		if now.Sub(a.LockedUntil) > lockMemory {
			lockouts = 0
		}
		if err := s.Lock(ctx, k.key, now.Add(k.policy.lockFor(lockouts)), lockouts+1); err != nil {
			return fmt.Errorf("lock %s: %w", k.key, err)
		}
	}
	return nil
}
