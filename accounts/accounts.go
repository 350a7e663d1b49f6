// Package accounts owns organisations, users, their credentials, sign-in and
// sessions: who may act, and on which objects. It knows neither HTTP nor the
// database; it declares the Store it needs.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
)

// Role is what a user may do. Every user has exactly one.
type Role string

// Roles, from least to most privileged.
const (
	RoleLearner  Role = "learner"
	RoleEducator Role = "educator"
	RoleTrainer  Role = "trainer"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, from least to most privileged.
var Roles = []Role{RoleLearner, RoleEducator, RoleTrainer, RoleAdmin}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleLearner, RoleEducator, RoleTrainer, RoleAdmin:
		return true
	}
	return false
}

// CredentialKind says whether a user signs in with a password or a short PIN.
type CredentialKind string

// Credential kinds.
const (
	CredentialPassword CredentialKind = "password"
	CredentialPIN      CredentialKind = "pin"
)

// Organisation is an NGO or programme running Pathways for its learners.
type Organisation struct {
	ID        string
	Slug      string // unique, URL-safe, chosen by the admin
	Name      string
	CreatedAt time.Time
}

// User is anyone who signs in. OrgID is empty only for global admins.
type User struct {
	ID          string
	OrgID       string
	Username    string // as typed at creation, for display
	UsernameKey string // normalised form, unique across the installation
	DisplayName string
	Role        Role
	Locale      string // preferred language (BCP 47), may be empty
	Credential  CredentialKind
	SecretHash  string // argon2id PHC string of the password or PIN
	Disabled    bool
	// SessionEpoch is bumped when credentials change or the account is
	// disabled; refresh tokens of an older epoch stop working.
	SessionEpoch int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Member is the short form of a user an organisation's roster lists.
type Member struct {
	UserID      string
	Username    string
	DisplayName string
	Role        Role
	Disabled    bool
}

// Actor is the authenticated caller of an operation, taken from a verified
// access token. Its role and organisation predicates are in access.go.
type Actor struct {
	UserID string
	OrgID  string
	Role   Role
	epoch  int // the user's SessionEpoch when the token was issued
}

// Page sizes of the listings.
var (
	OrganisationPages = pathways.PageLimits{Default: 50, Max: 200}
	UserPages         = pathways.PageLimits{Default: 100, Max: 1000}
)

// PruneResult counts what Prune deleted.
type PruneResult struct {
	RefreshTokens, TokenFamilies, LoginAttempts int
	// StaleClaims were username and skeleton claims without a user.
	StaleClaims int
}

// Errors specific to accounts. Each wraps a pathways sentinel, so the server
// maps it to the right status even if it does not know it.
var (
	// ErrLoginFailed: wrong username or secret (never says which).
	ErrLoginFailed = fmt.Errorf("%w: wrong username or secret", pathways.ErrUnauthenticated)
	// ErrTokenInvalid: an access or refresh token is malformed, forged,
	// expired, revoked or reused.
	ErrTokenInvalid = fmt.Errorf("%w: token not valid", pathways.ErrUnauthenticated)
	// ErrLookalike: the username's confusable skeleton (Skeleton) is
	// another user's: the name looks like an existing one.
	ErrLookalike = fmt.Errorf("%w: username looks like an existing one", pathways.ErrConflict)
)

// Store is what accounts needs from a database. Implementations return
// pathways.ErrNotFound for a missing object and pathways.ErrConflict for a
// duplicate key, wrapped with context, and never (zero, nil) for "missing".
type Store interface {
	GroupStore

	CreateOrganisation(ctx context.Context, o Organisation) error
	Organisation(ctx context.Context, id string) (Organisation, error)
	// Organisations lists organisations by creation; it scans, so only
	// admin listings call it.
	Organisations(ctx context.Context, p pathways.Page) ([]Organisation, error)

	// CreateUser claims u.UsernameKey and Skeleton(u.UsernameKey) and
	// stores u, which makes it a member of its organisation's roster (if
	// any); its cost does not grow with the organisation. On failure it
	// undoes what it did. A taken username is ErrConflict, a taken
	// skeleton ErrLookalike. A claim whose user does not exist, made more
	// than pathways.ClaimGrace before u.CreatedAt (left by a create that
	// crashed), is taken over.
	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, id string) (User, error)
	UserByUsername(ctx context.Context, usernameKey string) (User, error)
	// UpdateUser reads user id, lets change modify it and stores the
	// result (its roster entry with it), atomically with respect to other
	// updates of that user. An error from change aborts without writing.
	UpdateUser(ctx context.Context, id string, change func(*User) error) (User, error)
	// DeleteUser deletes user u (its roster entry with it) and its
	// (emptied) list of groups, then frees its username and skeleton
	// claims; a crash between leaves claims without a user, which a later
	// create takes over after pathways.ClaimGrace and SweepClaims removes.
	// A user already gone is no error.
	DeleteUser(ctx context.Context, u User) error
	// Roster returns page p (normalised by the caller) of an
	// organisation's members in creation order (user ids are UUIDv7); an
	// organisation without users, or a page past the end, is empty. It
	// reads an index, so its cost is that of the page, not of the
	// organisation.
	Roster(ctx context.Context, orgID string, p pathways.Page) ([]Member, error)

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken marks the token with this hash used (keeping the first
	// use time) and returns it as it was before, so exactly one caller sees
	// it unused.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (RefreshToken, error)
	// RevokeFamily marks a token family revoked (idempotent).
	RevokeFamily(ctx context.Context, family string, now time.Time) error
	FamilyRevoked(ctx context.Context, family string) (bool, error)
	// RefreshToken reads a token by hash without using it.
	RefreshToken(ctx context.Context, hash string) (RefreshToken, error)

	Attempts(ctx context.Context, key string) (Attempts, error)
	// RecordFailure adds one failure to key, starting a new window if the
	// current one began before windowStart, and returns the new state.
	RecordFailure(ctx context.Context, key string, now, windowStart time.Time) (Attempts, error)
	// Lock locks key until the given time, clears its failures and records
	// lockouts, the number of locks so far.
	Lock(ctx context.Context, key string, until time.Time, lockouts int) error
	ResetAttempts(ctx context.Context, key string) error

	// Prune deletes refresh tokens that expired before tokensBefore, token
	// families revoked before familiesBefore and login-attempt records whose
	// window began before attemptsBefore. It scans: only background jobs
	// call it.
	Prune(ctx context.Context, tokensBefore, familiesBefore, attemptsBefore time.Time) (PruneResult, error)
	// SweepClaims removes username and skeleton claims made before before
	// whose user does not exist, and returns how many; it scans.
	SweepClaims(ctx context.Context, before time.Time) (int, error)
	// EachUser visits every user (it scans), and ClaimSkeleton claims the
	// skeleton of an existing user's name (ErrLookalike if another user
	// holds it): the start-up backfill for users made before skeletons.
	EachUser(ctx context.Context, fn func(User) error) error
	ClaimSkeleton(ctx context.Context, u User, now time.Time) error

	// Secret returns the named installation secret, creating it with
	// generate on first use; concurrent first uses agree on one value.
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
	// Flag reports whether the named one-time flag is set; SetFlag sets it
	// (idempotent).
	Flag(ctx context.Context, name string) (bool, error)
	SetFlag(ctx context.Context, name string) error
}

// errNotFoundOr maps "not found" to err, leaving other failures as they are.
func errNotFoundOr(err, replacement error) error {
	if errors.Is(err, pathways.ErrNotFound) {
		return replacement
	}
	return err
}
