package accounts

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// statusCache remembers, for a short time, whether a user is disabled and
// their session epoch, so every authenticated request can refuse tokens of
// disabled users or of changed credentials without a database read each
// time. A change made on this instance takes effect at once (the entry is
// dropped); other instances see it within the TTL.
type statusCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]userStatus
}

type userStatus struct {
	disabled bool
	epoch    int
	fetched  time.Time
}

// StatusTTL bounds how long a disabled account's access token keeps
// working on an instance that did not disable it.
const StatusTTL = 30 * time.Second

func newStatusCache() *statusCache {
	return &statusCache{ttl: StatusTTL, max: 50_000, m: map[string]userStatus{}}
}

func (c *statusCache) get(id string, now time.Time) (userStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[id]
	if !ok || now.Sub(st.fetched) > c.ttl || now.Before(st.fetched) {
		return userStatus{}, false
	}
	return st, true
}

func (c *statusCache) put(id string, st userStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // bounded memory; entries refill on demand
	}
	c.m[id] = st
}

func (c *statusCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// Authenticate verifies an access token (see TokenIssuer.Verify) and that
// its user still exists, is enabled and has not changed credentials since
// the token was issued. Every refusal is ErrTokenInvalid.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	a, err := s.tokens.Verify(token)
	if err != nil {
		return Actor{}, err
	}
	now := s.now()
	st, ok := s.status.get(a.UserID, now)
	if !ok {
		u, err := s.store.User(ctx, a.UserID)
		if err != nil {
			return Actor{}, fmt.Errorf("authenticate: %w", errNotFoundOr(err, ErrTokenInvalid))
		}
		st = userStatus{disabled: u.Disabled, epoch: u.SessionEpoch, fetched: now}
		s.status.put(a.UserID, st)
	}
	if st.disabled || st.epoch != a.epoch {
		return Actor{}, fmt.Errorf("%w: account disabled or credentials changed", ErrTokenInvalid)
	}
	return a, nil
}
