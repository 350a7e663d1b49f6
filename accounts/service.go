package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
)

// Config sets session lifetimes and sign-in limits.
type Config struct {
	RefreshTTL time.Duration
	// RetryGrace is how long a used refresh token may be presented again to
	// get the same successor back, for clients whose response got lost on a
	// flaky connection. Past it, or once the successor is used, a replay
	// revokes the whole family.
	RetryGrace time.Duration
	UserLimit  LimitPolicy
	AddrLimit  LimitPolicy
}

// DefaultConfig: refresh tokens live 30 days, so a learner who comes back
// once a month does not need their PIN again.
var DefaultConfig = Config{
	RefreshTTL: 30 * 24 * time.Hour,
	RetryGrace: 2 * time.Minute,
	UserLimit:  DefaultUserLimit,
	AddrLimit:  DefaultAddrLimit,
}

// Service is the accounts API used by the server.
type Service struct {
	store     Store
	hasher    *Hasher
	tokens    *TokenIssuer
	cfg       Config
	now       func() time.Time
	refreshMK []byte // derives successor refresh tokens
	dummyHash string // verified against for unknown users, to equalise timing
	status    *statusCache
	creates   *idLocks // serialises creates that share a client-supplied id
}

// NewService wires the accounts service. refreshKey derives successor
// refresh tokens (any secret of MinSecretLen bytes; the token key will do).
func NewService(ctx context.Context, store Store, hasher *Hasher, tokens *TokenIssuer, refreshKey []byte, cfg Config, now func() time.Time) (*Service, error) {
	dummy, err := hasher.Hash(ctx, "pathways-dummy-secret")
	if err != nil {
		return nil, fmt.Errorf("prepare dummy hash: %w", err)
	}
	mac := hmac.New(sha256.New, refreshKey)
	mac.Write([]byte("pathways refresh successor key"))
	return &Service{
		store: store, hasher: hasher, tokens: tokens, cfg: cfg, now: now,
		refreshMK: mac.Sum(nil), dummyHash: dummy, status: newStatusCache(), creates: newIDLocks(),
	}, nil
}

// Session is what a successful sign-in or refresh hands the client.
type Session struct {
	IssuedAt       time.Time
	AccessToken    string
	AccessExpires  time.Time
	RefreshToken   string
	RefreshExpires time.Time
	User           User
}

// Login checks a username and password or PIN from clientAddr. It returns
// ErrLoginFailed for a wrong or unknown username or secret, and a
// RateLimitedError while the username or the address is locked out; the
// answer does not tell whether the username exists.
func (s *Service) Login(ctx context.Context, username, secret, clientAddr string) (Session, error) {
	v := &pathways.ValidationError{}
	key := NormaliseUsername(username)
	if key == "" {
		v.Add("username", pathways.CodeRequired, nil)
	}
	if secret == "" {
		v.Add("password", pathways.CodeRequired, nil)
	}
	if err := v.Err(); err != nil {
		return Session{}, err
	}
	now := s.now()
	oversized := len(username) > 4*UsernameMax || len(secret) > 4*PasswordMax
	if oversized {
		key = key[:min(len(key), 4*UsernameMax)] // bound the limiter's key
	}
	keys := []limitedKey{{"user:" + key, s.cfg.UserLimit}, {"addr:" + clientAddr, s.cfg.AddrLimit}}
	if err := checkLocked(ctx, s.store, now, keys...); err != nil {
		return Session{}, err
	}
	if oversized { // no legitimate credential is this long: do not hash it
		if err := recordFailures(ctx, s.store, now, keys...); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, ErrLoginFailed
	}

	u, err := s.store.UserByUsername(ctx, key)
	found := err == nil
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return Session{}, fmt.Errorf("login %q: %w", key, err)
	}
	hash := s.dummyHash
	if found {
		hash = u.SecretHash
	}
	ok, err := s.hasher.Verify(ctx, secret, hash)
	if err != nil {
		return Session{}, fmt.Errorf("login %q: verify: %w", key, err)
	}
	if !found || !ok || u.Disabled {
		if err := recordFailures(ctx, s.store, now, keys...); err != nil {
			return Session{}, fmt.Errorf("login %q: %w", key, err)
		}
		return Session{}, ErrLoginFailed
	}
	if err := s.store.ResetAttempts(ctx, keys[0].key); err != nil {
		return Session{}, fmt.Errorf("login %q: reset attempts: %w", key, err)
	}
	return s.startSession(ctx, u, newRefreshToken(uuid.NewString()), now)
}

// startSession stores refresh token rt for u and issues an access token.
func (s *Service) startSession(ctx context.Context, u User, rt string, now time.Time) (Session, error) {
	family, _ := refreshFamily(rt)
	exp := now.Add(s.cfg.RefreshTTL)
	err := s.store.CreateRefreshToken(ctx, RefreshToken{
		Hash: HashToken(rt), Family: family, UserID: u.ID, SessionEpoch: u.SessionEpoch,
		IssuedAt: now, ExpiresAt: exp,
	})
	// A conflict means a concurrent retry stored this very token already.
	if err != nil && !errors.Is(err, pathways.ErrConflict) {
		return Session{}, fmt.Errorf("store refresh token: %w", err)
	}
	return s.session(u, rt, exp)
}

func (s *Service) session(u User, rt string, refreshExp time.Time) (Session, error) {
	at, atExp, err := s.tokens.Issue(u)
	if err != nil {
		return Session{}, err
	}
	return Session{IssuedAt: s.now(), AccessToken: at, AccessExpires: atExp, RefreshToken: rt, RefreshExpires: refreshExp, User: u}, nil
}

// successor derives the refresh token that replaces token. It is
// deterministic, so a retried refresh gets the same successor.
func (s *Service) successor(token, family string) string {
	mac := hmac.New(sha256.New, s.refreshMK)
	mac.Write([]byte(token))
	return family + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Refresh exchanges a refresh token for a new access token and a new
// refresh token. A token presented again after its successor was used, or
// after RetryGrace, is taken as stolen: its whole family is revoked and
// ErrTokenInvalid returned. Expired, revoked, unknown or malformed tokens
// also give ErrTokenInvalid.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	family, err := refreshFamily(token)
	if err != nil {
		return Session{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	now := s.now()
	rt, err := s.store.UseRefreshToken(ctx, HashToken(token), now)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", errNotFoundOr(err, ErrTokenInvalid))
	}
	if rt.Family != family || now.After(rt.ExpiresAt) {
		return Session{}, fmt.Errorf("%w: expired or mismatched", ErrTokenInvalid)
	}
	revoked, err := s.store.FamilyRevoked(ctx, family)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if revoked {
		return Session{}, fmt.Errorf("%w: session revoked", ErrTokenInvalid)
	}
	u, err := s.store.User(ctx, rt.UserID)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", errNotFoundOr(err, ErrTokenInvalid))
	}
	if u.Disabled || u.SessionEpoch != rt.SessionEpoch {
		return Session{}, s.revoke(ctx, family, now, "account changed")
	}
	next := s.successor(token, family)
	if rt.UsedAt.IsZero() {
		return s.startSession(ctx, u, next, now)
	}
	// Used before: a lost response being retried, or a replay.
	if now.Sub(rt.UsedAt) > s.cfg.RetryGrace {
		return Session{}, s.revoke(ctx, family, now, "refresh token reused")
	}
	succ, err := s.store.RefreshToken(ctx, HashToken(next))
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		// The first request is still storing the successor: store it too
		// (same token, same key) and answer the same.
		return s.startSession(ctx, u, next, now)
	case err != nil:
		return Session{}, fmt.Errorf("refresh: %w", err)
	case !succ.UsedAt.IsZero():
		return Session{}, s.revoke(ctx, family, now, "refresh token reused")
	}
	return s.session(u, next, succ.ExpiresAt)
}

func (s *Service) revoke(ctx context.Context, family string, now time.Time, why string) error {
	if err := s.store.RevokeFamily(ctx, family, now); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return fmt.Errorf("%w: %s", ErrTokenInvalid, why)
}

// Logout revokes the session the refresh token belongs to. It is
// idempotent: logging out twice, or with an unknown or malformed token,
// succeeds. Access tokens of the session run out on their own.
func (s *Service) Logout(ctx context.Context, token string) error {
	family, err := refreshFamily(token)
	if err != nil {
		return nil // no session can have this token: nothing to end
	}
	rt, err := s.store.RefreshToken(ctx, HashToken(token))
	if errors.Is(err, pathways.ErrNotFound) || err == nil && rt.Family != family {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.store.RevokeFamily(ctx, family, s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Me returns the caller's own account; a disabled or deleted account's
// tokens stop working here.
func (s *Service) Me(ctx context.Context, a Actor) (User, error) {
	u, err := s.store.User(ctx, a.UserID)
	if err != nil {
		return User{}, fmt.Errorf("me: %w", errNotFoundOr(err, ErrTokenInvalid))
	}
	if u.Disabled {
		return User{}, fmt.Errorf("me: %w", ErrTokenInvalid)
	}
	return u, nil
}

const flagAdminBootstrapped = "admin-bootstrapped"

// Bootstrap creates the first global admin on a new installation. With
// password empty it generates one and returns it so the caller can show it
// once. It does nothing (created false) once an admin was bootstrapped.
func (s *Service) Bootstrap(ctx context.Context, username, password string) (created bool, generated string, err error) {
	done, err := s.store.Flag(ctx, flagAdminBootstrapped)
	if err != nil || done {
		return false, "", err
	}
	if password == "" {
		generated = generatePassword()
		password = generated
	}
	_, _, err = s.createUser(ctx, "", NewUser{Username: username, DisplayName: username, Role: RoleAdmin, Password: password})
	var ve *pathways.ValidationError
	switch {
	case errors.As(err, &ve) && hasCode(ve, "username", CodeTaken):
		generated = "" // another instance won the race, or the name exists
	case err != nil:
		return false, "", fmt.Errorf("bootstrap admin: %w", err)
	default:
		created = true
	}
	if err := s.store.SetFlag(ctx, flagAdminBootstrapped); err != nil {
		return created, generated, fmt.Errorf("bootstrap admin: %w", err)
	}
	return created, generated, nil
}

// Prune deletes session and sign-in records nobody can use any more:
// expired refresh tokens, families revoked longer ago than a refresh token
// lives, and login-attempt records older than the lock memory. Run it from
// a background job.
func (s *Service) Prune(ctx context.Context) (PruneResult, error) {
	now := s.now()
	r, err := s.store.Prune(ctx, now, now.Add(-s.cfg.RefreshTTL), now.Add(-lockMemory))
	if err != nil {
		return r, fmt.Errorf("prune: %w", err)
	}
	if r.StaleClaims, err = s.store.SweepClaims(ctx, now.Add(-pathways.ClaimGrace)); err != nil {
		return r, fmt.Errorf("prune: %w", err)
	}
	return r, nil
}

// flagSkeletons marks the backfill of skeleton claims done; its suffix
// names the confusables data, so new data claims the new skeletons.
const flagSkeletons = "username-skeletons-unicode-17.0"

// BackfillSkeletons claims the confusable skeleton of every user made
// before skeletons were claimed, so a new name that looks like theirs is
// refused too. It scans every user, so it runs in the background at
// start-up, once (a flag records it; running it again changes nothing).
// It returns how many users it saw and how many names already looked like
// an earlier one's (both keep working; they are logged by the caller).
func (s *Service) BackfillSkeletons(ctx context.Context) (users int, lookalikes []string, err error) {
	done, err := s.store.Flag(ctx, flagSkeletons)
	if err != nil || done {
		return 0, nil, err
	}
	now := s.now()
	err = s.store.EachUser(ctx, func(u User) error {
		users++
		err := s.store.ClaimSkeleton(ctx, u, now)
		if errors.Is(err, ErrLookalike) {
			lookalikes = append(lookalikes, u.ID)
			return nil
		}
		return err
	})
	if err != nil {
		return users, lookalikes, fmt.Errorf("backfill skeletons: %w", err)
	}
	if err := s.store.SetFlag(ctx, flagSkeletons); err != nil {
		return users, lookalikes, fmt.Errorf("backfill skeletons: %w", err)
	}
	return users, lookalikes, nil
}

// generatePassword returns a random password of 26 upper-case letters and
// digits (128 bits), easy to copy from a console.
func generatePassword() string { return rand.Text() }

func hasCode(ve *pathways.ValidationError, field, code string) bool {
	for _, f := range ve.Fields {
		if f.Field == field && f.Code == code {
			return true
		}
	}
	return false
}
