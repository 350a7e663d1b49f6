package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// AccountsStore implements accounts.Store.
type AccountsStore struct {
	db    *mongo.Database
	locks *docLocks // every update of a document holds its lock (see docLocks)
}

var _ accounts.Store = (*AccountsStore)(nil)

// Accounts returns the accounts store of db.
func (db *DB) Accounts() *AccountsStore { return &AccountsStore{db: db.db, locks: db.locks} }

func (s *AccountsStore) col(name string) *mongo.Collection { return s.db.Collection(name) }

type orgDoc struct {
	ID        string    `bson:"_id"`
	Slug      string    `bson:"slug"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"created_at"`
}

func (d orgDoc) toDomain() accounts.Organisation {
	return accounts.Organisation{ID: d.ID, Slug: d.Slug, Name: d.Name, CreatedAt: d.CreatedAt}
}

// CreateOrganisation inserts o; a taken slug is ErrConflict (unique index).
func (s *AccountsStore) CreateOrganisation(ctx context.Context, o accounts.Organisation) error {
	d := orgDoc{ID: o.ID, Slug: o.Slug, Name: o.Name, CreatedAt: o.CreatedAt}
	if _, err := s.col(colOrganisations).InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert organisation %s: %w", o.Slug, translate(err))
	}
	return nil
}

// Organisation reads one organisation by id.
func (s *AccountsStore) Organisation(ctx context.Context, id string) (accounts.Organisation, error) {
	var d orgDoc
	if err := s.col(colOrganisations).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return accounts.Organisation{}, fmt.Errorf("find organisation %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// Organisations pages through all organisations in creation order. It
// scans; only admin listings call it.
func (s *AccountsStore) Organisations(ctx context.Context, p pathways.Page) ([]accounts.Organisation, error) {
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(p.Offset)).SetLimit(int64(p.Limit))
	cur, err := s.col(colOrganisations).Find(ctx, bson.D{}, opts)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", translate(err))
	}
	var docs []orgDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list organisations: %w", translate(err))
	}
	out := make([]accounts.Organisation, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, nil
}

type userDoc struct {
	ID           string    `bson:"_id"`
	OrgID        string    `bson:"org_id,omitempty"`
	Username     string    `bson:"username"`
	UsernameKey  string    `bson:"username_key"`
	DisplayName  string    `bson:"display_name"`
	Role         string    `bson:"role"`
	Locale       string    `bson:"locale,omitempty"`
	Credential   string    `bson:"credential"`
	SecretHash   string    `bson:"secret_hash"`
	Disabled     bool      `bson:"disabled"`
	SessionEpoch int       `bson:"session_epoch"`
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
}

func toUserDoc(u accounts.User) userDoc {
	return userDoc{
		ID: u.ID, OrgID: u.OrgID, Username: u.Username, UsernameKey: u.UsernameKey,
		DisplayName: u.DisplayName, Role: string(u.Role), Locale: u.Locale,
		Credential: string(u.Credential), SecretHash: u.SecretHash, Disabled: u.Disabled,
		SessionEpoch: u.SessionEpoch, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func (d userDoc) toDomain() accounts.User {
	return accounts.User{
		ID: d.ID, OrgID: d.OrgID, Username: d.Username, UsernameKey: d.UsernameKey,
		DisplayName: d.DisplayName, Role: accounts.Role(d.Role), Locale: d.Locale,
		Credential: accounts.CredentialKind(d.Credential), SecretHash: d.SecretHash, Disabled: d.Disabled,
		SessionEpoch: d.SessionEpoch, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// usernameDoc claims a normalised username: its _id is the key, so the
// unique _id makes the claim atomic and sign-in a single _id look-up. It
// also records when it was made and whether the sweep has yet seen its
// user (see claims); skeleton claims have the same shape.
type usernameDoc struct {
	Key    string `bson:"_id"`
	UserID string `bson:"user_id"`
}

// usernames and skeletons are the claims on normalised usernames and on
// their confusable skeletons (accounts.Skeleton).
func (s *AccountsStore) usernames() claims {
	return claims{db: s.db, locks: s.locks, name: colUsernames, ownerField: "user_id"}
}

func (s *AccountsStore) skeletons() claims {
	return claims{db: s.db, locks: s.locks, name: colUsernameSkeletons, ownerField: "user_id"}
}

// userExists is the owner check of both: a user is never deleted or
// renamed, so a claim naming a user that exists is that user's.
func (s *AccountsStore) userExists(ctx context.Context, c claim) (bool, error) {
	err := s.col(colUsers).FindOne(ctx, byID(c.Owner)).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, translate(err)
}

// rosterDoc lists an organisation's users, keyed by user id so one member
// is set or changed with an _id-only update.
type rosterDoc struct {
	OrgID   string               `bson:"_id"`
	Count   int                  `bson:"count"`
	Members map[string]memberDoc `bson:"members"`
}

// maxRosterSize bounds this store's roster document (about 1.2 MB at the
// cap); errRosterFull refuses a user past it. Both go with this store:
// storage/stores lists members through an index and has no cap.
const maxRosterSize = 10000

var errRosterFull = fmt.Errorf("%w: organisation has too many users", pathways.ErrConflict)

type memberDoc struct {
	Username    string `bson:"username"`
	DisplayName string `bson:"display_name"`
	Role        string `bson:"role"`
	Disabled    bool   `bson:"disabled,omitempty"`
}

func toMemberDoc(u accounts.User) memberDoc {
	return memberDoc{Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role), Disabled: u.Disabled}
}

// CreateUser claims the username and its skeleton, inserts the user and
// adds it to its organisation's roster, undoing earlier steps if a later
// one fails (there are no multi-document transactions on the embedded
// database). A claim left by a create that crashed is taken over once it
// is older than pathways.ClaimGrace (u.CreatedAt is the time now). A
// taken username is ErrConflict, a taken skeleton accounts.ErrLookalike.
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
	if _, err := s.col(colUsers).InsertOne(ctx, toUserDoc(u)); err != nil {
		release()
		return translate(err)
	}
	if u.OrgID == "" {
		return nil
	}
	if err := s.addMember(ctx, u); err != nil {
		_, _ = s.col(colUsers).DeleteOne(undo, bson.D{{Key: "_id", Value: u.ID}})
		release()
		return err
	}
	return nil
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

// EachUser visits every user. It scans: background jobs only.
func (s *AccountsStore) EachUser(ctx context.Context, fn func(accounts.User) error) error {
	return each(ctx, s.col(colUsers), func(d userDoc) error { return fn(d.toDomain()) })
}

func (s *AccountsStore) addMember(ctx context.Context, u accounts.User) error {
	defer s.locks.lock(colRosters, u.OrgID)()
	var after struct {
		Count int `bson:"count"`
	}
	err := s.col(colRosters).FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: u.OrgID}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "members." + u.ID, Value: toMemberDoc(u)}}},
			{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}},
		},
		// No projection: FerretDB 1.24 does not support one in findAndModify.
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&after)
	if err != nil {
		return translate(err)
	}
	if after.Count > maxRosterSize {
		_, _ = s.col(colRosters).UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: u.OrgID}}, bson.D{
			{Key: "$unset", Value: bson.D{{Key: "members." + u.ID, Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "count", Value: -1}}},
		})
		return errRosterFull
	}
	return nil
}

// User reads one user by id.
func (s *AccountsStore) User(ctx context.Context, id string) (accounts.User, error) {
	var d userDoc
	if err := s.col(colUsers).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return accounts.User{}, fmt.Errorf("find user %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// UserByUsername reads a user by normalised username: two _id look-ups.
func (s *AccountsStore) UserByUsername(ctx context.Context, key string) (accounts.User, error) {
	var claim usernameDoc
	if err := s.col(colUsernames).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&claim); err != nil {
		return accounts.User{}, fmt.Errorf("find username %q: %w", key, translate(err))
	}
	return s.User(ctx, claim.UserID)
}

// UpdateUser applies change to a fresh read of the user under the user's
// document lock and writes the user and its roster entry back.
func (s *AccountsStore) UpdateUser(ctx context.Context, id string, change func(*accounts.User) error) (accounts.User, error) {
	defer s.locks.lock(colUsers, id)()
	u, err := s.User(ctx, id)
	if err != nil {
		return accounts.User{}, err
	}
	if err := change(&u); err != nil {
		return accounts.User{}, err
	}
	u.ID = id // change may not move the document
	res, err := s.col(colUsers).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, toUserDoc(u))
	if err != nil {
		return accounts.User{}, fmt.Errorf("update user %s: %w", id, translate(err))
	}
	if res.MatchedCount == 0 {
		return accounts.User{}, fmt.Errorf("update user %s: %w", id, pathways.ErrNotFound)
	}
	if u.OrgID == "" {
		return u, nil
	}
	defer s.locks.lock(colRosters, u.OrgID)() // users → rosters: the one allowed nesting
	_, err = s.col(colRosters).UpdateOne(ctx, bson.D{{Key: "_id", Value: u.OrgID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "members." + id, Value: toMemberDoc(u)}}}})
	if err != nil {
		return accounts.User{}, fmt.Errorf("update roster entry of %s: %w", id, translate(err))
	}
	return u, nil
}

// Roster returns page p of an organisation's members ordered by user id,
// which is creation order (ids are UUIDv7). It reads the whole roster
// document and windows it.
func (s *AccountsStore) Roster(ctx context.Context, orgID string, p pathways.Page) ([]accounts.Member, error) {
	var d rosterDoc
	err := s.col(colRosters).FindOne(ctx, bson.D{{Key: "_id", Value: orgID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return []accounts.Member{}, nil // an organisation without users
	}
	if err != nil {
		return nil, fmt.Errorf("find roster %s: %w", orgID, translate(err))
	}
	out := make([]accounts.Member, 0, len(d.Members))
	for id, m := range d.Members {
		out = append(out, accounts.Member{
			UserID: id, Username: m.Username, DisplayName: m.DisplayName,
			Role: accounts.Role(m.Role), Disabled: m.Disabled,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return pathways.Window(out, p), nil
}

type refreshDoc struct {
	Hash      string    `bson:"_id"`
	Family    string    `bson:"family"`
	UserID    string    `bson:"user_id"`
	Epoch     int       `bson:"epoch"`
	IssuedAt  time.Time `bson:"issued_at"`
	ExpiresAt time.Time `bson:"expires_at"`
	UsedAt    time.Time `bson:"used_at,omitempty"`
}

func (d refreshDoc) toDomain() accounts.RefreshToken {
	return accounts.RefreshToken{
		Hash: d.Hash, Family: d.Family, UserID: d.UserID, SessionEpoch: d.Epoch,
		IssuedAt: d.IssuedAt, ExpiresAt: d.ExpiresAt, UsedAt: d.UsedAt,
	}
}

// CreateRefreshToken stores a token by hash; a duplicate is ErrConflict.
func (s *AccountsStore) CreateRefreshToken(ctx context.Context, t accounts.RefreshToken) error {
	d := refreshDoc{Hash: t.Hash, Family: t.Family, UserID: t.UserID, Epoch: t.SessionEpoch, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt}
	if _, err := s.col(colRefreshTokens).InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert refresh token: %w", translate(err))
	}
	return nil
}

// UseRefreshToken sets used_at to the earliest use ($min keeps the first)
// and returns the document as it was before, atomically.
func (s *AccountsStore) UseRefreshToken(ctx context.Context, hash string, now time.Time) (accounts.RefreshToken, error) {
	defer s.locks.lock(colRefreshTokens, hash)()
	var d refreshDoc
	err := s.col(colRefreshTokens).FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: hash}},
		bson.D{{Key: "$min", Value: bson.D{{Key: "used_at", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before),
	).Decode(&d)
	if err != nil {
		return accounts.RefreshToken{}, fmt.Errorf("use refresh token: %w", translate(err))
	}
	return d.toDomain(), nil
}

// RefreshToken reads a token by hash.
func (s *AccountsStore) RefreshToken(ctx context.Context, hash string) (accounts.RefreshToken, error) {
	var d refreshDoc
	if err := s.col(colRefreshTokens).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&d); err != nil {
		return accounts.RefreshToken{}, fmt.Errorf("find refresh token: %w", translate(err))
	}
	return d.toDomain(), nil
}

// RevokeFamily records the family as revoked, keeping the first time.
func (s *AccountsStore) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	defer s.locks.lock(colTokenFamilies, family)()
	_, err := s.col(colTokenFamilies).UpdateOne(ctx, bson.D{{Key: "_id", Value: family}},
		bson.D{{Key: "$min", Value: bson.D{{Key: "revoked_at", Value: now}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("revoke token family: %w", translate(err))
	}
	return nil
}

// FamilyRevoked reports whether the family was revoked.
func (s *AccountsStore) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	err := s.col(colTokenFamilies).FindOne(ctx, bson.D{{Key: "_id", Value: family}}).Err()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("find token family: %w", translate(err))
	}
	return true, nil
}

type attemptsDoc struct {
	Key         string    `bson:"_id"`
	Failures    int       `bson:"failures"`
	WindowStart time.Time `bson:"window_start"`
	LockedUntil time.Time `bson:"locked_until,omitempty"`
	Lockouts    int       `bson:"lockouts"`
}

func (d attemptsDoc) toDomain() accounts.Attempts {
	return accounts.Attempts{Key: d.Key, Failures: d.Failures, WindowStart: d.WindowStart, LockedUntil: d.LockedUntil, Lockouts: d.Lockouts}
}

// Attempts reads the failure record of key.
func (s *AccountsStore) Attempts(ctx context.Context, key string) (accounts.Attempts, error) {
	var d attemptsDoc
	if err := s.col(colLoginAttempts).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d); err != nil {
		return accounts.Attempts{}, fmt.Errorf("find login attempts: %w", translate(err))
	}
	return d.toDomain(), nil
}

// RecordFailure increments key's failures atomically, restarting the
// window if it began before windowStart.
func (s *AccountsStore) RecordFailure(ctx context.Context, key string, now, windowStart time.Time) (accounts.Attempts, error) {
	defer s.locks.lock(colLoginAttempts, key)()
	var d attemptsDoc
	err := s.col(colLoginAttempts).FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: key}},
		bson.D{
			{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "window_start", Value: now}, {Key: "lockouts", Value: 0}}},
		},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&d)
	if err != nil {
		return accounts.Attempts{}, fmt.Errorf("record login failure: %w", translate(err))
	}
	if d.WindowStart.Before(windowStart) {
		d.Failures, d.WindowStart = 1, now
		_, err := s.col(colLoginAttempts).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 1}, {Key: "window_start", Value: now}}}})
		if err != nil {
			return accounts.Attempts{}, fmt.Errorf("restart login window: %w", translate(err))
		}
	}
	return d.toDomain(), nil
}

// Lock locks key until the given time and starts a new window.
func (s *AccountsStore) Lock(ctx context.Context, key string, until time.Time, lockouts int) error {
	defer s.locks.lock(colLoginAttempts, key)()
	_, err := s.col(colLoginAttempts).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "locked_until", Value: until}, {Key: "lockouts", Value: lockouts},
			{Key: "failures", Value: 0}, {Key: "window_start", Value: until},
		}}})
	if err != nil {
		return fmt.Errorf("lock %s: %w", key, translate(err))
	}
	return nil
}

// ResetAttempts forgets key's failures and locks.
func (s *AccountsStore) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.col(colLoginAttempts).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return fmt.Errorf("reset login attempts: %w", translate(err))
	}
	return nil
}

type settingDoc struct {
	Name  string `bson:"_id"`
	Value []byte `bson:"value,omitempty"`
}

// Secret returns the named secret, creating it on first use. Of two
// instances starting together, the second insert fails on the _id and
// reads the first one's value.
func (s *AccountsStore) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	id := "secret:" + name
	var d settingDoc
	err := s.col(colSettings).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if err == nil {
		return d.Value, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("read secret %s: %w", name, translate(err))
	}
	v, err := generate()
	if err != nil {
		return nil, err
	}
	_, err = s.col(colSettings).InsertOne(ctx, settingDoc{Name: id, Value: v})
	if mongo.IsDuplicateKeyError(err) {
		return s.Secret(ctx, name, generate)
	}
	if err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, translate(err))
	}
	return v, nil
}

// Flag reports whether the named flag is set.
func (s *AccountsStore) Flag(ctx context.Context, name string) (bool, error) {
	err := s.col(colSettings).FindOne(ctx, bson.D{{Key: "_id", Value: "flag:" + name}}).Err()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read flag %s: %w", name, translate(err))
	}
	return true, nil
}

// SetFlag sets the named flag; setting it twice is fine.
func (s *AccountsStore) SetFlag(ctx context.Context, name string) error {
	defer s.locks.lock(colSettings, "flag:"+name)()
	_, err := s.col(colSettings).UpdateOne(ctx, bson.D{{Key: "_id", Value: "flag:" + name}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "set", Value: true}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("set flag %s: %w", name, translate(err))
	}
	return nil
}

// Prune deletes the records nobody can use any more (see accounts.Store).
func (s *AccountsStore) Prune(ctx context.Context, tokensBefore, familiesBefore, attemptsBefore time.Time) (accounts.PruneResult, error) {
	var r accounts.PruneResult
	var err error
	if r.RefreshTokens, err = s.deleteWhere(ctx, colRefreshTokens, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: tokensBefore}}}}); err != nil {
		return r, err
	}
	if r.TokenFamilies, err = s.deleteWhere(ctx, colTokenFamilies, bson.D{{Key: "revoked_at", Value: bson.D{{Key: "$lt", Value: familiesBefore}}}}); err != nil {
		return r, err
	}
	// Lock sets window_start to the end of the lock, so an old window
	// start also means any lock is long over.
	r.LoginAttempts, err = s.deleteWhere(ctx, colLoginAttempts, bson.D{{Key: "window_start", Value: bson.D{{Key: "$lt", Value: attemptsBefore}}}})
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

// pruneBatch bounds one page of deleteWhere.
const pruneBatch = 500

// deleteWhere deletes the documents of a collection that match filter, a
// page of ids at a time. Each page scans the collection on the embedded
// database, so only background jobs call it.
func (s *AccountsStore) deleteWhere(ctx context.Context, coll string, filter bson.D) (int, error) {
	total := 0
	for {
		cur, err := s.col(coll).Find(ctx, filter, options.Find().SetLimit(pruneBatch).SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", coll, translate(err))
		}
		var ids []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return total, fmt.Errorf("prune %s: %w", coll, translate(err))
		}
		if len(ids) == 0 {
			return total, nil
		}
		in := make(bson.A, len(ids))
		for i, d := range ids {
			in[i] = d.ID
		}
		res, err := s.col(coll).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}})
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", coll, translate(err))
		}
		total += int(res.DeletedCount)
		if len(ids) < pruneBatch {
			return total, nil
		}
	}
}
