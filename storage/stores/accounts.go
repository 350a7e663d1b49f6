package stores

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of the accounts store. The old store's "rosters" (one
// document listing an organisation's members) is gone: the roster is the
// users' org_id index.
const (
	colOrganisations     = "organisations"
	colUsers             = "users"
	colUsernames         = "usernames"
	colUsernameSkeletons = "username_skeletons"
	colRefreshTokens     = "refresh_tokens"
	colTokenFamilies     = "token_families"
	colLoginAttempts     = "login_attempts"
	colSettings          = "settings"
)

// accountsSchema is the collections of the accounts store.
var accountsSchema = docdb.Schema{
	{Name: colOrganisations, Indexes: []docdb.Index{
		{Name: "slug_unique", Fields: []string{"slug"}, Unique: true},
		{Name: "created_at", Fields: []string{"created_at"}},
	}},
	// org_id orders an organisation's users by id: the roster, paged.
	{Name: colUsers, Indexes: []docdb.Index{{Name: "org_id", Fields: []string{"org_id"}}}},
	{Name: colUsernames, Indexes: claimIndexes},
	{Name: colUsernameSkeletons, Indexes: claimIndexes},
	{Name: colRefreshTokens, Indexes: []docdb.Index{{Name: "expires_at", Fields: []string{"expires_at"}}}},
	{Name: colTokenFamilies, Indexes: []docdb.Index{{Name: "revoked_at", Fields: []string{"revoked_at"}}}},
	{Name: colLoginAttempts, Indexes: []docdb.Index{{Name: "window_start", Fields: []string{"window_start"}}}},
	{Name: colSettings},
}

// AccountsStore implements accounts.Store on the document layer.
type AccountsStore struct {
	e         docdb.Engine
	prunePage int // documents per page of Prune; accountsPruneBatch if 0 (tests page smaller)
}

var _ accounts.Store = (*AccountsStore)(nil)

// Accounts returns the accounts store.
func (db *DB) Accounts() *AccountsStore { return &AccountsStore{e: db.e} }

type orgDoc struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"` // Unix ms: the listing's order
}

func (d orgDoc) toDomain(id string) accounts.Organisation {
	return accounts.Organisation{ID: id, Slug: d.Slug, Name: d.Name, CreatedAt: fromMS(d.CreatedAt)}
}

// CreateOrganisation inserts o; a taken id or slug is ErrConflict (the
// slug's unique index).
func (s *AccountsStore) CreateOrganisation(ctx context.Context, o accounts.Organisation) error {
	d := orgDoc{Slug: o.Slug, Name: o.Name, CreatedAt: unixMS(o.CreatedAt)}
	if err := s.e.Insert(ctx, colOrganisations, o.ID, d); err != nil {
		return fmt.Errorf("insert organisation %s: %w", o.Slug, err)
	}
	return nil
}

// Organisation reads one organisation by id.
func (s *AccountsStore) Organisation(ctx context.Context, id string) (accounts.Organisation, error) {
	var d orgDoc
	if _, err := s.e.Get(ctx, colOrganisations, id, &d); err != nil {
		return accounts.Organisation{}, fmt.Errorf("find organisation %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// Organisations pages through all organisations in creation order, on
// the created_at index.
func (s *AccountsStore) Organisations(ctx context.Context, p pathways.Page) ([]accounts.Organisation, error) {
	out := []accounts.Organisation{}
	q := docdb.Query{Index: "created_at", Offset: p.Offset, Limit: p.Limit}
	err := s.e.List(ctx, colOrganisations, q, func(doc docdb.Doc) error {
		var d orgDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.toDomain(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return out, nil
}

type userDoc struct {
	OrgID        string    `json:"org_id,omitempty"` // absent for global admins: not in the roster index
	Username     string    `json:"username"`
	UsernameKey  string    `json:"username_key"`
	DisplayName  string    `json:"display_name"`
	Role         string    `json:"role"`
	Locale       string    `json:"locale,omitempty"`
	Credential   string    `json:"credential"`
	SecretHash   string    `json:"secret_hash"`
	Disabled     bool      `json:"disabled"`
	SessionEpoch int       `json:"session_epoch"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toUserDoc(u accounts.User) userDoc {
	return userDoc{
		OrgID: u.OrgID, Username: u.Username, UsernameKey: u.UsernameKey,
		DisplayName: u.DisplayName, Role: string(u.Role), Locale: u.Locale,
		Credential: string(u.Credential), SecretHash: u.SecretHash, Disabled: u.Disabled,
		SessionEpoch: u.SessionEpoch, CreatedAt: msUTC(u.CreatedAt), UpdatedAt: msUTC(u.UpdatedAt),
	}
}

func (d userDoc) toDomain(id string) accounts.User {
	return accounts.User{
		ID: id, OrgID: d.OrgID, Username: d.Username, UsernameKey: d.UsernameKey,
		DisplayName: d.DisplayName, Role: accounts.Role(d.Role), Locale: d.Locale,
		Credential: accounts.CredentialKind(d.Credential), SecretHash: d.SecretHash, Disabled: d.Disabled,
		SessionEpoch: d.SessionEpoch, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func (d userDoc) toMember(id string) accounts.Member {
	return accounts.Member{UserID: id, Username: d.Username, DisplayName: d.DisplayName, Role: accounts.Role(d.Role), Disabled: d.Disabled}
}

// usernames and skeletons are the claims on normalised usernames (the
// sign-in look-up: the claim's id is the key) and on their confusable
// skeletons (accounts.Skeleton).
func (s *AccountsStore) usernames() claims { return claims{e: s.e, name: colUsernames} }
func (s *AccountsStore) skeletons() claims { return claims{e: s.e, name: colUsernameSkeletons} }

// userExists is the owner check of both: a user is never renamed, and an
// erased user's claims are released after it is deleted, so a claim
// naming a user that exists is that user's.
func (s *AccountsStore) userExists(ctx context.Context, c claim) (bool, error) {
	var d userDoc
	_, err := s.e.Get(ctx, colUsers, c.Owner, &d)
	if errors.Is(err, pathways.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CreateUser claims the username, then its skeleton (unique inserts, or
// the compare-and-swap takeover of a claim older than pathways.ClaimGrace
// whose user does not exist; u.CreatedAt is the time now), then inserts
// the user, which is also its roster entry: nothing of the organisation
// is rewritten, so a create costs the same at 10 or 10,000 members. If a
// step fails for sure (a taken skeleton, an id another user holds), the
// claims this call made are released. A crash between the claims and the
// user, or an insert whose outcome is unknown, leaves claims without a
// user: a later create of the name takes them over after the grace, and
// SweepClaims removes them. A copy of the create (same id, on any
// instance) accepts the claims the other made and is refused only by the
// user's id (ErrConflict), which the service answers as a replay; it
// releases nothing. A taken username is ErrConflict, a taken skeleton
// accounts.ErrLookalike.
func (s *AccountsStore) CreateUser(ctx context.Context, u accounts.User) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("create user %s: %w", u.UsernameKey, err)
		}
	}()
	names, skels := s.usernames(), s.skeletons()
	skel := accounts.Skeleton(u.UsernameKey)
	madeName, err := names.take(ctx, u.UsernameKey, u.ID, u.CreatedAt, s.userExists)
	if err != nil {
		return err
	}
	// Undo with a context that outlives a cancelled request; only claims
	// this call made (a retry with the same id shares the earlier ones).
	undo := context.WithoutCancel(ctx)
	var madeSkel bool
	release := func() {
		if madeSkel {
			_ = skels.release(undo, skel, u.ID)
		}
		if madeName {
			_ = names.release(undo, u.UsernameKey, u.ID)
		}
	}
	madeSkel, err = skels.take(ctx, skel, u.ID, u.CreatedAt, s.userExists)
	if errors.Is(err, pathways.ErrConflict) {
		release()
		return fmt.Errorf("%w: %w", accounts.ErrLookalike, err)
	}
	if err != nil {
		release()
		return err
	}
	err = s.e.Insert(ctx, colUsers, u.ID, toUserDoc(u))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pathways.ErrConflict):
		// The id is taken. By a copy of this create (a retry on another
		// instance) the claims are that user's, and stay.
		var d userDoc
		_, gerr := s.e.Get(undo, colUsers, u.ID, &d)
		if (gerr == nil && d.UsernameKey != u.UsernameKey) || errors.Is(gerr, pathways.ErrNotFound) {
			release()
		}
		return err
	default:
		// The insert may have been stored: keep the claims (a retry
		// accepts them; without a user they are free after the grace).
		return err
	}
}

// ClaimSkeleton claims the skeleton of an existing user's name, for users
// created before skeletons were claimed. A skeleton another existing user
// holds is accounts.ErrLookalike (two such names were accepted before the
// rule; both keep working).
func (s *AccountsStore) ClaimSkeleton(ctx context.Context, u accounts.User, now time.Time) error {
	_, err := s.skeletons().take(ctx, accounts.Skeleton(u.UsernameKey), u.ID, now, s.userExists)
	if errors.Is(err, pathways.ErrConflict) {
		return fmt.Errorf("%w: %w", accounts.ErrLookalike, err)
	}
	return err
}

// EachUser visits every user, a page of ids at a time: background jobs
// only.
func (s *AccountsStore) EachUser(ctx context.Context, fn func(accounts.User) error) error {
	err := docdb.Each(ctx, s.e, colUsers, docdb.Query{}, func(doc docdb.Doc) error {
		var d userDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		return fn(d.toDomain(doc.ID))
	})
	if err != nil {
		return fmt.Errorf("each user: %w", err)
	}
	return nil
}

// User reads one user by id.
func (s *AccountsStore) User(ctx context.Context, id string) (accounts.User, error) {
	var d userDoc
	if _, err := s.e.Get(ctx, colUsers, id, &d); err != nil {
		return accounts.User{}, fmt.Errorf("find user %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// UserByUsername reads a user by normalised username: the claim, then
// the user it names, both by id. A claim left by a crashed create names a
// user that does not exist: ErrNotFound.
func (s *AccountsStore) UserByUsername(ctx context.Context, key string) (accounts.User, error) {
	cl, err := s.usernames().read(ctx, key)
	if err != nil {
		return accounts.User{}, fmt.Errorf("find username %q: %w", key, err)
	}
	return s.User(ctx, cl.Owner)
}

// UpdateUser applies change to a fresh read of the user and replaces it
// by revision, reading again and calling change again if another write
// came between. The user document is its roster entry, so there is no
// second document to keep in step.
func (s *AccountsStore) UpdateUser(ctx context.Context, id string, change func(*accounts.User) error) (accounts.User, error) {
	d, _, err := docdb.Update(ctx, s.e, colUsers, id, nil, func(d *userDoc) error {
		u := d.toDomain(id)
		if err := change(&u); err != nil {
			return err
		}
		*d = toUserDoc(u) // the id stays: change may not move the document
		return nil
	})
	if err != nil {
		return accounts.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// DeleteUser deletes user u and its list of groups, then releases its
// username and skeleton claims (only if they still name u).
func (s *AccountsStore) DeleteUser(ctx context.Context, u accounts.User) error {
	for _, coll := range []string{colUsers, colLearnerGroups} {
		if err := s.e.Delete(ctx, coll, u.ID, docdb.AnyRev); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return fmt.Errorf("delete user %s: %w", u.ID, err)
		}
	}
	if err := s.usernames().release(ctx, u.UsernameKey, u.ID); err != nil {
		return fmt.Errorf("delete user %s: %w", u.ID, err)
	}
	if err := s.skeletons().release(ctx, accounts.Skeleton(u.UsernameKey), u.ID); err != nil {
		return fmt.Errorf("delete user %s: %w", u.ID, err)
	}
	return nil
}

// Roster returns page p of an organisation's members in id order, which is
// creation order (ids are UUIDv7), from the users' org_id index.
func (s *AccountsStore) Roster(ctx context.Context, orgID string, p pathways.Page) ([]accounts.Member, error) {
	out := []accounts.Member{}
	q := docdb.Query{Index: "org_id", Eq: []any{orgID}, Offset: p.Offset, Limit: p.Limit}
	err := s.e.List(ctx, colUsers, q, func(doc docdb.Doc) error {
		var d userDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.toMember(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("roster of %s: %w", orgID, err)
	}
	return out, nil
}

// refreshDoc is a refresh token, kept under its hash: the refresh reads
// it by id.
type refreshDoc struct {
	Family    string    `json:"family"`
	UserID    string    `json:"user_id"`
	Epoch     int       `json:"epoch"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt int64     `json:"expires_at"` // Unix ms: Prune's index
	UsedAt    time.Time `json:"used_at"`    // zero while unused
}

func (d refreshDoc) toDomain(hash string) accounts.RefreshToken {
	return accounts.RefreshToken{
		Hash: hash, Family: d.Family, UserID: d.UserID, SessionEpoch: d.Epoch,
		IssuedAt: d.IssuedAt, ExpiresAt: fromMS(d.ExpiresAt), UsedAt: d.UsedAt,
	}
}

// CreateRefreshToken stores a token by hash; a duplicate is ErrConflict.
func (s *AccountsStore) CreateRefreshToken(ctx context.Context, t accounts.RefreshToken) error {
	d := refreshDoc{Family: t.Family, UserID: t.UserID, Epoch: t.SessionEpoch, IssuedAt: msUTC(t.IssuedAt), ExpiresAt: unixMS(t.ExpiresAt)}
	if err := s.e.Insert(ctx, colRefreshTokens, t.Hash, d); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// UseRefreshToken sets the token's use time to the earliest use and
// returns the token as it was before, by a compare-and-swap: of two
// concurrent uses on any instances, one writes first and the other reads
// again and sees the token used.
func (s *AccountsStore) UseRefreshToken(ctx context.Context, hash string, now time.Time) (accounts.RefreshToken, error) {
	now = msUTC(now)
	var before refreshDoc
	_, _, err := docdb.Update(ctx, s.e, colRefreshTokens, hash, nil, func(d *refreshDoc) error {
		before = *d
		if d.UsedAt.IsZero() || now.Before(d.UsedAt) {
			d.UsedAt = now
		}
		return nil
	})
	if err != nil {
		return accounts.RefreshToken{}, fmt.Errorf("use refresh token: %w", err)
	}
	return before.toDomain(hash), nil
}

// RefreshToken reads a token by hash.
func (s *AccountsStore) RefreshToken(ctx context.Context, hash string) (accounts.RefreshToken, error) {
	var d refreshDoc
	if _, err := s.e.Get(ctx, colRefreshTokens, hash, &d); err != nil {
		return accounts.RefreshToken{}, fmt.Errorf("find refresh token: %w", err)
	}
	return d.toDomain(hash), nil
}

// familyDoc records a revoked token family, kept under the family id;
// it exists only once revoked.
type familyDoc struct {
	RevokedAt int64 `json:"revoked_at"` // Unix ms: Prune's index
}

// RevokeFamily records the family as revoked, keeping the earliest time:
// an insert, or a compare-and-swap if it is revoked already (concurrent
// first revocations retry on the one that inserted).
func (s *AccountsStore) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	at := unixMS(now)
	_, _, err := docdb.Update(ctx, s.e, colTokenFamilies, family,
		func() (familyDoc, error) { return familyDoc{RevokedAt: at}, nil },
		func(d *familyDoc) error {
			if at < d.RevokedAt {
				d.RevokedAt = at
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("revoke token family: %w", err)
	}
	return nil
}

// FamilyRevoked reports whether the family was revoked.
func (s *AccountsStore) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	var d familyDoc
	_, err := s.e.Get(ctx, colTokenFamilies, family, &d)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("find token family: %w", err)
	}
	return true, nil
}

// attemptsDoc is the failure record of one key ("user:<id>",
// "addr:<address>"), kept under the key: sign-in reads it by id.
type attemptsDoc struct {
	Failures    int       `json:"failures"`
	WindowStart int64     `json:"window_start"` // Unix ms: Prune's index
	LockedUntil time.Time `json:"locked_until"`
	Lockouts    int       `json:"lockouts"`
}

func (d attemptsDoc) toDomain(key string) accounts.Attempts {
	return accounts.Attempts{Key: key, Failures: d.Failures, WindowStart: fromMS(d.WindowStart), LockedUntil: d.LockedUntil, Lockouts: d.Lockouts}
}

// Attempts reads the failure record of key.
func (s *AccountsStore) Attempts(ctx context.Context, key string) (accounts.Attempts, error) {
	var d attemptsDoc
	if _, err := s.e.Get(ctx, colLoginAttempts, key, &d); err != nil {
		return accounts.Attempts{}, fmt.Errorf("find login attempts: %w", err)
	}
	return d.toDomain(key), nil
}

// RecordFailure adds one failure to key by a compare-and-swap (an insert
// for the first), restarting the window if it began before windowStart:
// failures on any number of instances are each counted once.
func (s *AccountsStore) RecordFailure(ctx context.Context, key string, now, windowStart time.Time) (accounts.Attempts, error) {
	d, _, err := docdb.Update(ctx, s.e, colLoginAttempts, key,
		func() (attemptsDoc, error) { return attemptsDoc{WindowStart: unixMS(now)}, nil },
		func(d *attemptsDoc) error {
			d.Failures++
			if d.WindowStart < unixMS(windowStart) {
				d.Failures, d.WindowStart = 1, unixMS(now)
			}
			return nil
		})
	if err != nil {
		return accounts.Attempts{}, fmt.Errorf("record login failure: %w", err)
	}
	return d.toDomain(key), nil
}

// Lock locks key until the given time, records lockouts and starts a new
// window at until (so failures during the lock count towards the next
// one), by a compare-and-swap; a key without a record (reset meanwhile)
// gets one, so the lock is never lost.
func (s *AccountsStore) Lock(ctx context.Context, key string, until time.Time, lockouts int) error {
	_, _, err := docdb.Update(ctx, s.e, colLoginAttempts, key,
		func() (attemptsDoc, error) { return attemptsDoc{}, nil },
		func(d *attemptsDoc) error {
			d.LockedUntil, d.Lockouts = msUTC(until), lockouts
			d.Failures, d.WindowStart = 0, unixMS(until)
			return nil
		})
	if err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

// ResetAttempts forgets key's failures and locks.
func (s *AccountsStore) ResetAttempts(ctx context.Context, key string) error {
	err := s.e.Delete(ctx, colLoginAttempts, key, docdb.AnyRev)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("reset login attempts: %w", err)
	}
	return nil
}

// settingDoc is an installation secret ("secret:<name>", Value) or a
// one-time flag ("flag:<name>", Set).
type settingDoc struct {
	Value []byte `json:"value,omitempty"`
	Set   bool   `json:"set,omitempty"`
}

// Secret returns the named secret, creating it on first use by a unique
// insert: of instances starting together, every insert but the first
// fails on the id and reads the first one's value.
func (s *AccountsStore) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	id := "secret:" + name
	for range 3 {
		var d settingDoc
		_, err := s.e.Get(ctx, colSettings, id, &d)
		if err == nil {
			return d.Value, nil
		}
		if !errors.Is(err, pathways.ErrNotFound) {
			return nil, fmt.Errorf("read secret %s: %w", name, err)
		}
		v, err := generate()
		if err != nil {
			return nil, fmt.Errorf("generate secret %s: %w", name, err)
		}
		err = s.e.Insert(ctx, colSettings, id, settingDoc{Value: v})
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, pathways.ErrConflict) {
			return nil, fmt.Errorf("store secret %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("store secret %s: %w", name, pathways.ErrConflict)
}

// Flag reports whether the named flag is set.
func (s *AccountsStore) Flag(ctx context.Context, name string) (bool, error) {
	var d settingDoc
	_, err := s.e.Get(ctx, colSettings, "flag:"+name, &d)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read flag %s: %w", name, err)
	}
	return true, nil
}

// SetFlag sets the named flag by a unique insert; a flag set already (by
// any instance) is fine.
func (s *AccountsStore) SetFlag(ctx context.Context, name string) error {
	err := s.e.Insert(ctx, colSettings, "flag:"+name, settingDoc{Set: true})
	if err != nil && !errors.Is(err, pathways.ErrConflict) {
		return fmt.Errorf("set flag %s: %w", name, err)
	}
	return nil
}

// Prune deletes the records nobody can use any more (see accounts.Store),
// walking each collection's time index below its bound.
func (s *AccountsStore) Prune(ctx context.Context, tokensBefore, familiesBefore, attemptsBefore time.Time) (accounts.PruneResult, error) {
	var r accounts.PruneResult
	var err error
	if r.RefreshTokens, err = s.deleteBelow(ctx, colRefreshTokens, "expires_at", tokensBefore); err != nil {
		return r, err
	}
	if r.TokenFamilies, err = s.deleteBelow(ctx, colTokenFamilies, "revoked_at", familiesBefore); err != nil {
		return r, err
	}
	// Lock sets window_start to the end of the lock, so an old window
	// start also means any lock is long over.
	r.LoginAttempts, err = s.deleteBelow(ctx, colLoginAttempts, "window_start", attemptsBefore)
	return r, err
}

// SweepClaims removes username and skeleton claims made before before
// whose user does not exist (see claims.sweep).
func (s *AccountsStore) SweepClaims(ctx context.Context, before time.Time) (int, error) {
	n, err := s.usernames().sweep(ctx, before, s.userExists)
	if err != nil {
		return n, err
	}
	m, err := s.skeletons().sweep(ctx, before, s.userExists)
	return n + m, err
}

// accountsPruneBatch is one page of deleteBelow, unless the store says otherwise.
const accountsPruneBatch = 500

// deleteBelow deletes the documents of coll whose index field (Unix ms)
// is before before, a page at a time, each by the revision it was listed
// at: a document written meanwhile (a failure recorded on an old window,
// which restarts it) is left for the next run. Background jobs only.
func (s *AccountsStore) deleteBelow(ctx context.Context, coll, index string, before time.Time) (int, error) {
	type listed struct {
		id  string
		rev docdb.Rev
	}
	total, kept := 0, 0
	q := docdb.Query{Index: index, Below: before.UnixMilli(), Limit: cmp.Or(s.prunePage, accountsPruneBatch)}
	for {
		var page []listed
		q.Offset = kept // what was deleted left the index; what was kept was not
		err := s.e.List(ctx, coll, q, func(d docdb.Doc) error {
			page = append(page, listed{d.ID, d.Rev})
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", coll, err)
		}
		for _, d := range page {
			err := s.e.Delete(ctx, coll, d.id, d.rev)
			switch {
			case err == nil:
				total++
			case errors.Is(err, pathways.ErrNotFound): // deleted meanwhile: out of the index
			case errors.Is(err, docdb.ErrStale):
				kept++ // written meanwhile: maybe still listed; the next run looks again
			default:
				return total, fmt.Errorf("prune %s %s: %w", coll, d.id, err)
			}
		}
		if len(page) < q.Limit {
			return total, nil
		}
	}
}
