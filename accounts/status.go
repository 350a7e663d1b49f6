package accounts

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// statusCache remembers, for a short time, whether a user is disabled and
// their session epoch, so every authenticated request can refuse tokens of
// disabled users or of changed credentials without a database read each
// time. A change made on this instance takes effect at once (the entry is
// dropped); other instances see it within the TTL.
//
// A crowd must not reach the database together: entries expire at a
// jittered time (StatusTTL ±20 %), so users who signed in at the same
// moment are not all read again at the same moment, and concurrent misses
// on one user share one read (singleflight).
type statusCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]userStatus
	// gen counts drops: a read that began before a drop must not store
	// what it read, which may be the status the drop made stale.
	gen uint64

	flight singleflight.Group
}

type userStatus struct {
	disabled bool
	epoch    int
	fetched  time.Time
	expires  time.Time
}

// StatusTTL bounds how long a disabled account's access token keeps
// working on an instance that did not disable it (StatusTTL + 20 % at
// most, with the jitter).
const StatusTTL = 30 * time.Second

// statusJitter is the spread of the entries' lifetimes around the TTL.
const statusJitter = 0.2

// statusFetchTimeout bounds a shared read. It is detached from the
// context of the request that started it, so that one caller giving up
// does not fail the others waiting for the same read; each caller still
// stops waiting when its own context ends.
const statusFetchTimeout = 10 * time.Second

func newStatusCache() *statusCache {
	return &statusCache{ttl: StatusTTL, max: 50_000, m: map[string]userStatus{}}
}

func (c *statusCache) get(id string, now time.Time) (userStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[id]
	if !ok || !now.Before(st.expires) || now.Before(st.fetched) {
		return userStatus{}, false
	}
	return st, true
}

// generation is the drop count, taken before a read.
func (c *statusCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores st, read when the drop count was gen, unless a drop came
// since. Its expiry is jittered around the TTL.
func (c *statusCache) put(id string, st userStatus, gen uint64) {
	life := time.Duration(float64(c.ttl) * (1 - statusJitter + 2*statusJitter*rand.Float64()))
	st.expires = st.fetched.Add(life)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= c.max {
		clear(c.m) // bounded memory; entries refill on demand
	}
	c.m[id] = st
}

func (c *statusCache) drop(id string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, id)
	c.mu.Unlock()
	// Callers from now on start a read of their own rather than wait for
	// one that began before the change.
	c.flight.Forget(id)
}

// fetch returns the status of user id from the cache or, on a miss, from
// read, which concurrent callers for the same id share. It returns ctx's
// error if ctx ends first.
func (c *statusCache) fetch(ctx context.Context, id string, now time.Time, read func(context.Context) (userStatus, error)) (userStatus, error) {
	ch := c.flight.DoChan(id, func() (any, error) {
		// A caller that missed just before an earlier read stored its
		// result finds it here instead of reading again.
		if st, ok := c.get(id, now); ok {
			return st, nil
		}
		gen := c.generation()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusFetchTimeout)
		defer cancel()
		st, err := read(rctx)
		if err != nil {
			return userStatus{}, err
		}
		c.put(id, st, gen)
		return st, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return userStatus{}, r.Err
		}
		return r.Val.(userStatus), nil
	case <-ctx.Done():
		return userStatus{}, ctx.Err()
	}
}

// Authenticate verifies an access token (see TokenIssuer.Verify) and that
// its user still exists, is enabled and has not changed credentials since
// the token was issued. Every refusal is ErrTokenInvalid; a context that
// ends while the user is read gives its error.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	a, err := s.tokens.Verify(token)
	if err != nil {
		return Actor{}, err
	}
	now := s.now()
	st, ok := s.status.get(a.UserID, now)
	if !ok {
		st, err = s.status.fetch(ctx, a.UserID, now, func(ctx context.Context) (userStatus, error) {
			u, err := s.store.User(ctx, a.UserID)
			if err != nil {
				return userStatus{}, err
			}
			return userStatus{disabled: u.Disabled, epoch: u.SessionEpoch, fetched: now}, nil
		})
		if err != nil {
			return Actor{}, fmt.Errorf("authenticate: %w", errNotFoundOr(err, ErrTokenInvalid))
		}
	}
	if st.disabled || st.epoch != a.epoch {
		return Actor{}, fmt.Errorf("%w: account disabled or credentials changed", ErrTokenInvalid)
	}
	return a, nil
}
