package accounts

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
)

// NewOrganisation is the input to CreateOrganisation. ID is optional: a
// client that may retry supplies its own (a UUID), making the create
// idempotent.
type NewOrganisation struct {
	ID   string
	Slug string
	Name string
}

// CreateOrganisation creates an organisation; only global admins may. It
// reports created false when in.ID names an organisation created earlier
// with the same slug and name (a retry), and ErrConflict when that id holds
// another. A taken slug is a validation error on "slug".
func (s *Service) CreateOrganisation(ctx context.Context, a Actor, in NewOrganisation) (o Organisation, created bool, err error) {
	if !a.IsGlobalAdmin() {
		return Organisation{}, false, pathways.ErrForbidden
	}
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	if err := CheckNewOrganisation(in); err != nil {
		return Organisation{}, false, err
	}
	same := func(e Organisation) bool { return e.Slug == in.Slug && e.Name == in.Name }
	if in.ID != "" {
		defer s.creates.lock(in.ID)() // see createUser
		if e, err := s.store.Organisation(ctx, in.ID); err == nil {
			return replay(e, same(e))
		} else if !errors.Is(err, pathways.ErrNotFound) {
			return Organisation{}, false, fmt.Errorf("create organisation %s: %w", in.ID, err)
		}
	}
	o = Organisation{ID: or(in.ID, newID()), Slug: in.Slug, Name: in.Name, CreatedAt: s.now()}
	err = s.store.CreateOrganisation(ctx, o)
	if errors.Is(err, pathways.ErrConflict) {
		// A concurrent retry with this id, or the slug is someone else's.
		if e, rerr := s.store.Organisation(ctx, o.ID); rerr == nil {
			return replay(e, same(e))
		}
		return Organisation{}, false, pathways.Invalid("slug", CodeTaken)
	}
	if err != nil {
		return Organisation{}, false, fmt.Errorf("create organisation %q: %w", in.Slug, err)
	}
	return o, true, nil
}

// replay answers a create whose client-supplied id already exists: the
// earlier result if it is the same object, ErrConflict otherwise.
func replay[T any](existing T, same bool) (T, bool, error) {
	if !same {
		var zero T
		return zero, false, fmt.Errorf("%w: id already used for another object", pathways.ErrConflict)
	}
	return existing, false, nil
}

// idLocks serialises work on one client-supplied id within this process.
type idLocks struct {
	seed    maphash.Seed
	stripes [64]sync.Mutex
}

func newIDLocks() *idLocks { return &idLocks{seed: maphash.MakeSeed()} }

func (l *idLocks) lock(id string) func() {
	m := &l.stripes[maphash.String(l.seed, id)%uint64(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// checkClientID validates an optional client-supplied id.
func checkClientID(v *pathways.ValidationError, id string) {
	if id != "" && !ValidID(id) {
		v.Add("id", pathways.CodeID, nil)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Organisation returns one organisation if a belongs to it or is a global
// admin; otherwise ErrNotFound, so ids of other organisations are not
// confirmed.
func (s *Service) Organisation(ctx context.Context, a Actor, id string) (Organisation, error) {
	if !maySeeOrganisation(a, id) {
		return Organisation{}, pathways.ErrNotFound
	}
	o, err := s.store.Organisation(ctx, id)
	if err != nil {
		return Organisation{}, fmt.Errorf("organisation %s: %w", id, err)
	}
	return o, nil
}

// Organisations lists every organisation for global admins, and only their
// own for everyone else.
func (s *Service) Organisations(ctx context.Context, a Actor, p pathways.Page) ([]Organisation, error) {
	if !a.IsGlobalAdmin() {
		if a.OrgID == "" {
			return []Organisation{}, nil
		}
		o, err := s.Organisation(ctx, a, a.OrgID)
		if err != nil {
			return nil, err
		}
		if p.Offset > 0 {
			return []Organisation{}, nil
		}
		return []Organisation{o}, nil
	}
	list, err := s.store.Organisations(ctx, p.Normalise(OrganisationPages))
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return list, nil
}

// NewUser is the input to CreateUser. Exactly one of Password and PIN is
// set. ID is optional: a client that may retry supplies its own (a UUID).
type NewUser struct {
	ID          string
	Username    string
	DisplayName string
	Role        Role
	Locale      string
	Password    string
	PIN         string
}

// CreateUser creates a user in organisation orgID (empty: a global admin,
// which only global admins may create). A taken username is a validation
// error on "username". With a client-supplied in.ID it is idempotent: a
// retry of the same create (same organisation, username and role) reports
// created false and the user; a different user under that id is
// ErrConflict.
func (s *Service) CreateUser(ctx context.Context, a Actor, orgID string, in NewUser) (User, bool, error) {
	if err := mayManage(a, orgID, in.Role); err != nil {
		return User{}, false, err
	}
	if orgID != "" {
		if _, err := s.store.Organisation(ctx, orgID); err != nil {
			return User{}, false, fmt.Errorf("create user in %s: %w", orgID, err)
		}
	}
	return s.createUser(ctx, orgID, in)
}

func (s *Service) createUser(ctx context.Context, orgID string, in NewUser) (User, bool, error) {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	key := NormaliseUsername(in.Username)
	if err := CheckNewUser(orgID, in); err != nil {
		return User{}, false, err
	}
	kind, secret := secretOf(in.Password, in.PIN)
	same := func(e User) bool { return e.OrgID == orgID && e.UsernameKey == key && e.Role == in.Role }
	if in.ID != "" {
		// Copies of one create arriving together run one after the other,
		// so the later ones find the user the first one made.
		defer s.creates.lock(in.ID)()
		if e, err := s.store.User(ctx, in.ID); err == nil {
			return replay(e, same(e))
		} else if !errors.Is(err, pathways.ErrNotFound) {
			return User{}, false, fmt.Errorf("create user %s: %w", in.ID, err)
		}
	}
	hash, err := s.hasher.Hash(ctx, secret)
	if err != nil {
		return User{}, false, fmt.Errorf("create user %q: %w", key, err)
	}
	if in.DisplayName == "" {
		in.DisplayName = strings.TrimSpace(in.Username)
	}
	now := s.now()
	u := User{
		ID: or(in.ID, newID()), OrgID: orgID, Username: strings.TrimSpace(in.Username), UsernameKey: key,
		DisplayName: in.DisplayName, Role: in.Role, Locale: in.Locale,
		Credential: kind, SecretHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.CreateUser(ctx, u)
	switch {
	case errors.Is(err, pathways.ErrConflict):
		// A concurrent retry with this id, or the username is taken, or
		// it looks like one that is (which one is not said).
		if e, rerr := s.store.User(ctx, u.ID); rerr == nil {
			return replay(e, same(e))
		}
		if errors.Is(err, ErrLookalike) {
			return User{}, false, pathways.Invalid("username", CodeConfusable)
		}
		return User{}, false, pathways.Invalid("username", CodeTaken)
	case err != nil:
		return User{}, false, fmt.Errorf("create user %q: %w", key, err)
	}
	return u, true, nil
}

// secretOf returns the kind of a new secret CheckSecret accepted, and the
// secret.
func secretOf(password, pin string) (CredentialKind, string) {
	if pin != "" {
		return CredentialPIN, pin
	}
	return CredentialPassword, password
}

// User returns user id if a may see it, ErrNotFound otherwise.
func (s *Service) User(ctx context.Context, a Actor, id string) (User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	if !mayView(a, u) {
		return User{}, fmt.Errorf("user %s: %w", id, pathways.ErrNotFound)
	}
	return u, nil
}

// Users lists a page of an organisation's members for its admins and
// educators and for global admins, in creation order. It gives no total:
// counting would cost as much as the organisation is large.
func (s *Service) Users(ctx context.Context, a Actor, orgID string, p pathways.Page) ([]Member, error) {
	if err := mayList(a, orgID); err != nil {
		return nil, fmt.Errorf("users of %s: %w", orgID, err)
	}
	if _, err := s.store.Organisation(ctx, orgID); err != nil {
		return nil, fmt.Errorf("users of %s: %w", orgID, err)
	}
	members, err := s.store.Roster(ctx, orgID, p.Normalise(UserPages))
	if err != nil {
		return nil, fmt.Errorf("users of %s: %w", orgID, err)
	}
	return members, nil
}

// UserUpdate changes some of a user's fields; nil fields stay as they are.
type UserUpdate struct {
	DisplayName *string
	Locale      *string
	Disabled    *bool
}

// UpdateUser changes a user's profile or disables it. Disabling ends every
// session of the user. Users may change their own display name and locale,
// but not disable themselves.
func (s *Service) UpdateUser(ctx context.Context, a Actor, id string, in UserUpdate) (User, error) {
	checked := CheckUserUpdate(in)
	var name string
	if in.DisplayName != nil {
		name = strings.TrimSpace(*in.DisplayName)
	}
	u, err := s.store.UpdateUser(ctx, id, func(u *User) error {
		if !mayView(a, *u) {
			return pathways.ErrNotFound
		}
		self := a.UserID == u.ID
		// u is visible to a, so only the role can still be wrong.
		if (!self || in.Disabled != nil) && (self || mayManage(a, u.OrgID, u.Role) != nil) {
			return pathways.ErrForbidden
		}
		if checked != nil {
			return checked
		}
		if in.DisplayName != nil {
			u.DisplayName = name
		}
		if in.Locale != nil {
			u.Locale = *in.Locale
		}
		if in.Disabled != nil && *in.Disabled != u.Disabled {
			u.Disabled = *in.Disabled
			u.SessionEpoch++
		}
		u.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	s.status.drop(id)
	return u, nil
}

// CredentialChange is the input to SetCredential: the new password or PIN
// (exactly one), and the current one when users change their own.
type CredentialChange struct {
	Current  string
	Password string
	PIN      string
}

// SetCredential replaces a user's password or PIN, as educators do for
// learners who forgot theirs, and ends all of the user's sessions (their
// refresh tokens at once, their access tokens within StatusTTL + 20 %). Users may
// change their own after giving the current one; a wrong current one
// counts as a failed sign-in, so a stolen access token cannot guess it.
func (s *Service) SetCredential(ctx context.Context, a Actor, id string, in CredentialChange) error {
	u, err := s.User(ctx, a, id)
	if err != nil {
		return err
	}
	self := a.UserID == u.ID
	if self {
		if err := s.checkCurrent(ctx, u, in.Current); err != nil {
			return err
		}
	} else if mayManage(a, u.OrgID, u.Role) != nil {
		return pathways.ErrForbidden
	}
	if err := CheckSecret(in.Password, in.PIN); err != nil {
		return err
	}
	kind, secret := secretOf(in.Password, in.PIN)
	// Hash outside the lock: it takes tens of milliseconds.
	hash, err := s.hasher.Hash(ctx, secret)
	if err != nil {
		return fmt.Errorf("set credential of %s: %w", id, err)
	}
	_, err = s.store.UpdateUser(ctx, id, func(u *User) error {
		if !self && mayManage(a, u.OrgID, u.Role) != nil {
			return pathways.ErrForbidden // the role changed meanwhile
		}
		u.Credential, u.SecretHash = kind, hash
		u.SessionEpoch++
		u.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return fmt.Errorf("set credential of %s: %w", id, err)
	}
	s.status.drop(id)
	return nil
}

// ResetPassword gives the user a new generated password and returns it,
// ends their sessions and lifts any sign-in lock on their username. It
// checks no actor: it is for the operator's command line, to recover an
// account whose password is lost (the first admin's, typically).
func (s *Service) ResetPassword(ctx context.Context, username string) (string, error) {
	key := NormaliseUsername(username)
	u, err := s.store.UserByUsername(ctx, key)
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", key, err)
	}
	password := generatePassword()
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", key, err)
	}
	_, err = s.store.UpdateUser(ctx, u.ID, func(u *User) error {
		u.Credential, u.SecretHash = CredentialPassword, hash
		u.SessionEpoch++
		u.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", key, err)
	}
	s.status.drop(u.ID)
	if err := s.store.ResetAttempts(ctx, "user:"+key); err != nil {
		return "", fmt.Errorf("reset password of %q: %w", key, err)
	}
	return password, nil
}

// checkCurrent verifies a user's current secret under the sign-in limits.
func (s *Service) checkCurrent(ctx context.Context, u User, current string) error {
	if current == "" {
		return pathways.Invalid("current", pathways.CodeRequired)
	}
	now := s.now()
	key := limitedKey{"user:" + u.UsernameKey, s.cfg.UserLimit}
	if err := checkLocked(ctx, s.store, now, key); err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, current, u.SecretHash)
	if err != nil {
		return fmt.Errorf("verify current secret of %s: %w", u.ID, err)
	}
	if !ok {
		if err := recordFailures(ctx, s.store, now, key); err != nil {
			return err
		}
		return pathways.Invalid("current", CodeCurrentWrong)
	}
	return nil
}

// newID returns a time-ordered UUID (v7), so ids sort by creation.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s looks like an id this package issues; the
// server checks path parameters with it before any look-up.
func ValidID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
