package stores

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

func acc(e docdb.Engine) *AccountsStore { return &AccountsStore{e: e} }

// eachAccounts runs fn on both engines with a fresh accounts store.
func eachAccounts(t *testing.T, fn func(t *testing.T, e docdb.Engine, s *AccountsStore)) {
	t.Helper()
	dbtest.Each(t, accountsSchema, func(t *testing.T, e docdb.Engine) { fn(t, e, acc(e)) })
}

// both alternates between two instances on one database: goroutine i
// uses the store of instance i%2.
func accBoth(t *testing.T, e docdb.Engine) [2]*AccountsStore {
	return [2]*AccountsStore{acc(e), acc(dbtest.Second(t, e, accountsSchema))}
}

func accLearner(id, name string, at time.Time) accounts.User {
	return accounts.User{ID: id, OrgID: "o1", Username: name, UsernameKey: name, Role: accounts.RoleLearner,
		Credential: accounts.CredentialPIN, SecretHash: "h", CreatedAt: at, UpdatedAt: at}
}

// accCrashedClaim inserts a claim as a create that crashed after claiming,
// before storing its user, leaves it. A zero at is a claim made before
// claim times were recorded.
func accCrashedClaim(t *testing.T, e docdb.Engine, coll, key, owner string, at time.Time) {
	t.Helper()
	if err := e.Insert(ctx, coll, key, claimDoc{Owner: owner, ClaimedAt: unixMS(at), Pending: true}); err != nil {
		t.Fatal(err)
	}
}

func accRosterIDs(t *testing.T, s *AccountsStore, org string, p pathways.Page) []string {
	t.Helper()
	ms, err := s.Roster(ctx, org, p)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	return ids
}

func TestAccountsOrganisations(t *testing.T) {
	eachAccounts(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		for i := range 3 {
			o := accounts.Organisation{ID: fmt.Sprint("org", 2-i), Slug: fmt.Sprint("slug", i), Name: "N", CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		err := s.CreateOrganisation(ctx, accounts.Organisation{ID: "other", Slug: "slug1", CreatedAt: t0})
		if !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate slug: %v, want ErrConflict", err)
		}
		if err := s.CreateOrganisation(ctx, accounts.Organisation{ID: "org1", Slug: "fresh", CreatedAt: t0}); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate id: %v, want ErrConflict", err)
		}
		got, err := s.Organisation(ctx, "org1")
		if err != nil || got.Slug != "slug1" || got.Name != "N" || !got.CreatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("Organisation: %+v, %v", got, err)
		}
		if _, err := s.Organisation(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("missing organisation: %v, want ErrNotFound", err)
		}
		// Creation order, not id order.
		page, err := s.Organisations(ctx, pathways.Page{Offset: 1, Limit: 5})
		if err != nil || len(page) != 2 || page[0].ID != "org1" || page[1].ID != "org0" {
			t.Fatalf("Organisations page: %+v, %v", page, err)
		}
		if page, err := s.Organisations(ctx, pathways.Page{Offset: 9, Limit: 5}); err != nil || page == nil || len(page) != 0 {
			t.Fatalf("page past the end: %#v, %v", page, err)
		}
	})
}

func TestAccountsUsersAndRoster(t *testing.T) {
	eachAccounts(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		u := accLearner("u1", "amira", t0.Add(123456789)) // sub-millisecond part dropped
		u.Username, u.DisplayName, u.Locale = "Amira", "Amira", "ar"
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		dup := u
		dup.ID = "u2"
		if err := s.CreateUser(ctx, dup); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate username: %v, want ErrConflict", err)
		}
		if _, err := s.User(ctx, "u2"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("user of refused create exists: %v", err)
		}
		got, err := s.UserByUsername(ctx, "amira")
		want := u
		want.CreatedAt, want.UpdatedAt = msUTC(u.CreatedAt), msUTC(u.UpdatedAt)
		if err != nil || got != want {
			t.Fatalf("UserByUsername: %+v, %v; want %+v", got, err, want)
		}
		if _, err := s.UserByUsername(ctx, "nobody"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("unknown username: %v", err)
		}
		u3 := accLearner("u3", "bilal", t0)
		u3.Username = "Bilal"
		if err := s.CreateUser(ctx, u3); err != nil {
			t.Fatal(err)
		}
		// A global admin has no organisation and is in no roster.
		admin := accLearner("u0", "root", t0)
		admin.OrgID, admin.Role = "", accounts.RoleAdmin
		if err := s.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		if got, err := s.User(ctx, "u0"); err != nil || got.OrgID != "" || got.Role != accounts.RoleAdmin {
			t.Fatalf("global admin: %+v %v", got, err)
		}
		updated, err := s.UpdateUser(ctx, "u1", func(u *accounts.User) error {
			u.DisplayName, u.Disabled, u.SessionEpoch = "Amira K.", true, 1
			u.UpdatedAt = t0.Add(time.Hour + 7) // nanoseconds dropped
			return nil
		})
		if err != nil || updated.DisplayName != "Amira K." || !updated.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("UpdateUser: %+v %v", updated, err)
		}
		refuse := errors.New("refused")
		if _, err := s.UpdateUser(ctx, "u1", func(u *accounts.User) error { u.DisplayName = "X"; return refuse }); !errors.Is(err, refuse) {
			t.Fatalf("change error: %v", err)
		}
		if got, _ := s.User(ctx, "u1"); got != updated || !got.Disabled || got.SessionEpoch != 1 {
			t.Fatalf("after update: %+v, want %+v", got, updated)
		}
		roster, err := s.Roster(ctx, "o1", pathways.Page{Limit: 100})
		if err != nil || len(roster) != 2 {
			t.Fatalf("Roster: %+v, %v", roster, err)
		}
		wantRoster := []accounts.Member{
			{UserID: "u1", Username: "Amira", DisplayName: "Amira K.", Role: accounts.RoleLearner, Disabled: true},
			{UserID: "u3", Username: "Bilal", Role: accounts.RoleLearner},
		}
		if !slices.Equal(roster, wantRoster) {
			t.Fatalf("roster entries: %+v, want %+v", roster, wantRoster)
		}
		if r, err := s.Roster(ctx, "empty", pathways.Page{Limit: 100}); err != nil || r == nil || len(r) != 0 {
			t.Fatalf("empty roster: %#v, %v", r, err)
		}
		if _, err := s.UpdateUser(ctx, "ghost", func(*accounts.User) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("update of missing user: %v", err)
		}
		var seen []string
		if err := s.EachUser(ctx, func(u accounts.User) error { seen = append(seen, u.ID+"/"+u.UsernameKey); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seen, []string{"u0/root", "u1/amira", "u3/bilal"}) {
			t.Errorf("EachUser visited %v", seen)
		}
		stop := errors.New("stop")
		if err := s.EachUser(ctx, func(accounts.User) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("EachUser's fn error: %v", err)
		}
	})
}

// TestAccountsRosterPages: the roster is paged in creation order, and other
// organisations' users are not in it.
func TestAccountsRosterPages(t *testing.T) {
	eachAccounts(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		var want []string
		for i := range 7 {
			u := accLearner(fmt.Sprintf("u%02d", i), fmt.Sprint("l", i), t0)
			if i%3 == 2 {
				u.OrgID = "o2"
			} else {
				want = append(want, u.ID)
			}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for off := 0; ; off += 2 {
			page := accRosterIDs(t, s, "o1", pathways.Page{Offset: off, Limit: 2})
			got = append(got, page...)
			if len(page) < 2 {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of o1: %v, want %v", got, want)
		}
		if got := accRosterIDs(t, s, "o2", pathways.Page{Limit: 10}); !slices.Equal(got, []string{"u02", "u05"}) {
			t.Errorf("o2: %v", got)
		}
	})
}

func TestAccountsRefreshTokens(t *testing.T) {
	eachAccounts(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		rt := accounts.RefreshToken{Hash: "h1", Family: "f1", UserID: "u1", SessionEpoch: 3, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRefreshToken(ctx, rt); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate token: %v", err)
		}
		if got, err := s.RefreshToken(ctx, "h1"); err != nil || got != rt {
			t.Fatalf("RefreshToken: %+v %v, want %+v", got, err, rt)
		}
		first, err := s.UseRefreshToken(ctx, "h1", t0.Add(time.Minute))
		if err != nil || !first.UsedAt.IsZero() || first != rt {
			t.Fatalf("first use: %+v, %v", first, err)
		}
		second, err := s.UseRefreshToken(ctx, "h1", t0.Add(2*time.Minute))
		if err != nil || !second.UsedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("second use: %+v, %v (want used at first use)", second, err)
		}
		third, _ := s.RefreshToken(ctx, "h1")
		if !third.UsedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("used_at moved: %v", third.UsedAt)
		}
		if _, err := s.UseRefreshToken(ctx, "nope", t0); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := s.RefreshToken(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("unknown token read: %v", err)
		}
		if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || r {
			t.Fatalf("fresh family revoked: %v %v", r, err)
		}
		for _, at := range []time.Time{t0.Add(time.Hour), t0, t0.Add(2 * time.Hour)} {
			if err := s.RevokeFamily(ctx, "f1", at); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || !r {
			t.Fatalf("revoked family: %v %v", r, err)
		}
		if at := accRevokedAt(t, s, "f1"); !at.Equal(t0) {
			t.Errorf("revoked at %v, want the earliest, %v", at, t0)
		}
	})
}

func accRevokedAt(t *testing.T, s *AccountsStore, family string) time.Time {
	t.Helper()
	var d familyDoc
	if _, err := s.e.Get(ctx, colTokenFamilies, family, &d); err != nil {
		t.Fatal(err)
	}
	return fromMS(d.RevokedAt)
}

// TestAccountsConcurrentUse: of many concurrent uses of one token on two
// instances, exactly one sees it unused, and the first use time stays.
func TestAccountsConcurrentUse(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		if err := s.CreateRefreshToken(ctx, accounts.RefreshToken{Hash: "h", Family: "f", ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ss := accBoth(t, e)
		var wg sync.WaitGroup
		var mu sync.Mutex
		unused := 0
		for i := range 10 {
			wg.Go(func() {
				got, err := ss[i%2].UseRefreshToken(ctx, "h", t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if got.UsedAt.IsZero() {
					unused++
				}
			})
		}
		wg.Wait()
		if unused != 1 {
			t.Fatalf("%d callers saw the token unused, want 1", unused)
		}
		if rt, _ := s.RefreshToken(ctx, "h"); rt.UsedAt.IsZero() {
			t.Error("token not marked used")
		}
	})
}

// TestAccountsUseInterleaved: A reads the token unused, B uses it, A's write
// fails and A reads again: A sees it used by B, and the earlier use time
// is kept.
func TestAccountsUseInterleaved(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		if err := s.CreateRefreshToken(ctx, accounts.RefreshToken{Hash: "h", Family: "f", ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		b := accBoth(t, e)[1]
		a := dbtest.AfterGet(e, colRefreshTokens, "h", func() {
			if got, err := b.UseRefreshToken(ctx, "h", t0.Add(2*time.Second)); err != nil || !got.UsedAt.IsZero() {
				t.Errorf("B's use: %+v %v", got, err)
			}
		})
		got, err := acc(a).UseRefreshToken(ctx, "h", t0.Add(time.Second))
		if err != nil || a.Fired != 1 || !got.UsedAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("A after B: %+v %v (interleaved %d); want it seen used by B", got, err, a.Fired)
		}
		if rt, _ := s.RefreshToken(ctx, "h"); !rt.UsedAt.Equal(t0.Add(time.Second)) {
			t.Errorf("used at %v, want the earliest use", rt.UsedAt)
		}
	})
}

// TestAccountsRevokeFamilyRaces: first revocations on two instances at once all
// succeed and keep the earliest time; an interleaved one (A reads no
// family, B revokes it, A's insert fails) retries on B's.
func TestAccountsRevokeFamilyRaces(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := accBoth(t, e)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := ss[i%2].RevokeFamily(ctx, "f", t0.Add(time.Duration(8-i)*time.Minute)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if at := accRevokedAt(t, s, "f"); !at.Equal(t0.Add(time.Minute)) {
			t.Errorf("revoked at %v, want the earliest", at)
		}

		a := dbtest.AfterGet(e, colTokenFamilies, "g", func() {
			if err := ss[1].RevokeFamily(ctx, "g", t0); err != nil {
				t.Error(err)
			}
		})
		if err := acc(a).RevokeFamily(ctx, "g", t0.Add(time.Hour)); err != nil || a.Fired != 1 {
			t.Fatalf("A after B: %v (interleaved %d)", err, a.Fired)
		}
		if at := accRevokedAt(t, s, "g"); !at.Equal(t0) {
			t.Errorf("revoked at %v, want B's earlier time", at)
		}
	})
}

func TestAccountsAttempts(t *testing.T) {
	eachAccounts(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		if _, err := s.Attempts(ctx, "user:a"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("no attempts yet: %v", err)
		}
		for i := 1; i <= 3; i++ {
			a, err := s.RecordFailure(ctx, "user:a", t0.Add(time.Duration(i)*time.Second), t0.Add(-time.Hour))
			if err != nil || a.Failures != i || !a.WindowStart.Equal(t0.Add(time.Second)) || a.Key != "user:a" {
				t.Fatalf("failure %d: %+v, %v", i, a, err)
			}
		}
		// A window that began before windowStart restarts.
		later := t0.Add(2 * time.Hour)
		a, err := s.RecordFailure(ctx, "user:a", later, later.Add(-15*time.Minute))
		if err != nil || a.Failures != 1 || !a.WindowStart.Equal(later) {
			t.Fatalf("new window: %+v, %v", a, err)
		}
		if err := s.Lock(ctx, "user:a", later.Add(time.Minute), 2); err != nil {
			t.Fatal(err)
		}
		a, err = s.Attempts(ctx, "user:a")
		if err != nil || !a.LockedUntil.Equal(later.Add(time.Minute)) || a.Lockouts != 2 || a.Failures != 0 {
			t.Fatalf("after lock: %+v, %v", a, err)
		}
		// A failure during the lock counts towards the window after it.
		a, err = s.RecordFailure(ctx, "user:a", later.Add(time.Second), later.Add(time.Second-15*time.Minute))
		if err != nil || a.Failures != 1 || a.Lockouts != 2 || !a.WindowStart.Equal(later.Add(time.Minute)) {
			t.Fatalf("failure during the lock: %+v, %v", a, err)
		}
		if err := s.ResetAttempts(ctx, "user:a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Attempts(ctx, "user:a"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("after reset: %v", err)
		}
		if err := s.ResetAttempts(ctx, "user:a"); err != nil {
			t.Fatalf("reset of nothing: %v", err)
		}
		// A lock of a key reset meanwhile is kept.
		if err := s.Lock(ctx, "user:b", later, 1); err != nil {
			t.Fatal(err)
		}
		if a, err := s.Attempts(ctx, "user:b"); err != nil || !a.LockedUntil.Equal(later) || a.Lockouts != 1 {
			t.Fatalf("lock without a record: %+v %v", a, err)
		}
	})
}

// TestAccountsConcurrentFailures: failures recorded on two instances at once are
// each counted, and concurrent locks each apply whole (the lock's time
// and count come from one call).
func TestAccountsConcurrentFailures(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := accBoth(t, e)
		const n = 24
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := ss[i%2].RecordFailure(ctx, "addr:192.0.2.1", t0, t0.Add(-time.Hour)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if a, err := s.Attempts(ctx, "addr:192.0.2.1"); err != nil || a.Failures != n {
			t.Fatalf("%d failures recorded of %d: %v", a.Failures, n, err)
		}
		for i := range 8 {
			wg.Go(func() {
				if i%2 == 0 {
					if err := ss[i/2%2].Lock(ctx, "addr:192.0.2.1", t0.Add(time.Duration(i)*time.Minute), i); err != nil {
						t.Error(err)
					}
				} else if _, err := ss[i/2%2].RecordFailure(ctx, "addr:192.0.2.1", t0, t0.Add(-time.Hour)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		a, err := s.Attempts(ctx, "addr:192.0.2.1")
		if err != nil || !a.LockedUntil.Equal(t0.Add(time.Duration(a.Lockouts)*time.Minute)) || a.Failures > 4 {
			t.Fatalf("after concurrent locks and failures: %+v %v", a, err)
		}
	})
}

// TestAccountsAttemptsInterleaved: a failure recorded between another failure's
// read and write is counted too; so is one between a lock's read and
// write, and a lock between a failure's read and write holds.
func TestAccountsAttemptsInterleaved(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		b := accBoth(t, e)[1]
		fail := func(key string) func() {
			return func() {
				if _, err := b.RecordFailure(ctx, key, t0, t0.Add(-time.Hour)); err != nil {
					t.Error(err)
				}
			}
		}
		// A's first failure of the key: B's insert comes first.
		a := dbtest.AfterGet(e, colLoginAttempts, "k1", fail("k1"))
		got, err := acc(a).RecordFailure(ctx, "k1", t0, t0.Add(-time.Hour))
		if err != nil || a.Fired != 1 || got.Failures != 2 {
			t.Fatalf("failure after B's first: %+v %v (interleaved %d)", got, err, a.Fired)
		}
		// A later failure: B's replace comes first.
		a = dbtest.AfterGet(e, colLoginAttempts, "k1", fail("k1"))
		if got, err := acc(a).RecordFailure(ctx, "k1", t0, t0.Add(-time.Hour)); err != nil || got.Failures != 4 {
			t.Fatalf("failure after B's: %+v %v", got, err)
		}
		// A locks; B's failure came between A's read and write: A's lock
		// is written on B's record (B's failure came before the lock, so
		// the lock clears it).
		a = dbtest.AfterGet(e, colLoginAttempts, "k1", fail("k1"))
		if err := acc(a).Lock(ctx, "k1", t0.Add(time.Minute), 1); err != nil || a.Fired != 1 {
			t.Fatalf("lock: %v", err)
		}
		if got, _ := s.Attempts(ctx, "k1"); got.Failures != 0 || got.Lockouts != 1 || !got.LockedUntil.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after the interleaved lock: %+v", got)
		}
		// A records a failure; B locks between A's read and write: the
		// lock holds and A's failure counts after it.
		a = dbtest.AfterGet(e, colLoginAttempts, "k1", func() {
			if err := b.Lock(ctx, "k1", t0.Add(2*time.Minute), 2); err != nil {
				t.Error(err)
			}
		})
		got, err = acc(a).RecordFailure(ctx, "k1", t0, t0.Add(-time.Hour))
		if err != nil || got.Failures != 1 || got.Lockouts != 2 || !got.LockedUntil.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("failure after B's lock: %+v %v", got, err)
		}
	})
}

func TestAccountsSecretAndFlags(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := accBoth(t, e)
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		for i := range got {
			wg.Go(func() {
				v, err := ss[i%2].Secret(ctx, "jwt", func() ([]byte, error) { return []byte(fmt.Sprint("value-", i)), nil })
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			})
		}
		wg.Wait()
		for i := range got {
			if string(got[i]) != string(got[0]) || len(got[0]) == 0 {
				t.Fatalf("concurrent first uses disagree: %q", got)
			}
		}
		if v, err := s.Secret(ctx, "jwt", func() ([]byte, error) { return nil, errors.New("not called") }); err != nil || string(v) != string(got[0]) {
			t.Fatalf("later use: %q %v", v, err)
		}
		broken := errors.New("no entropy")
		if _, err := s.Secret(ctx, "other", func() ([]byte, error) { return nil, broken }); !errors.Is(err, broken) {
			t.Fatalf("generate error: %v", err)
		}
		// A reads no secret, B stores one, A's insert fails: A answers B's.
		a := dbtest.AfterGet(e, colSettings, "secret:s", func() {
			if _, err := ss[1].Secret(ctx, "s", func() ([]byte, error) { return []byte("B"), nil }); err != nil {
				t.Error(err)
			}
		})
		if v, err := acc(a).Secret(ctx, "s", func() ([]byte, error) { return []byte("A"), nil }); err != nil || string(v) != "B" || a.Fired != 1 {
			t.Fatalf("A after B: %q %v", v, err)
		}

		if set, err := s.Flag(ctx, "x"); err != nil || set {
			t.Fatalf("flag before set: %v %v", set, err)
		}
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() { errs[i] = ss[i%2].SetFlag(ctx, "x") })
		}
		wg.Wait()
		if won := countWins(t, errs, pathways.ErrConflict); won != len(errs) {
			t.Fatalf("%d of %d concurrent SetFlag succeeded", won, len(errs))
		}
		for _, s := range ss {
			if set, err := s.Flag(ctx, "x"); err != nil || !set {
				t.Fatalf("flag after set: %v %v", set, err)
			}
		}
		if set, err := s.Flag(ctx, "jwt"); err != nil || set {
			t.Fatalf("a secret's name is no flag: %v %v", set, err)
		}
	})
}

// TestAccountsConcurrentCreates: learners created at once on two instances in one
// organisation are all in its roster (there is no roster document to lose
// them from).
func TestAccountsConcurrentCreates(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := accBoth(t, e)
		const n = 24
		var wg sync.WaitGroup
		var want []string
		for i := range n {
			u := accLearner(fmt.Sprintf("u%02d", i), fmt.Sprint("user", i), t0)
			want = append(want, u.ID)
			wg.Go(func() {
				if err := ss[i%2].CreateUser(ctx, u); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var got []string
		for off := 0; off < 2*n; off += 10 {
			got = append(got, accRosterIDs(t, s, "o1", pathways.Page{Offset: off, Limit: 10})...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("roster after %d concurrent creates: %v", n, got)
		}
	})
}

// TestAccountsCreateRaces: creates of one name by different users on two
// instances: exactly one wins; copies of one create (same id): one user,
// whose claims stay.
func TestAccountsCreateRaces(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := accBoth(t, e)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = ss[i%2].CreateUser(ctx, accLearner(fmt.Sprint("u", i), "amira", t0)) })
		}
		wg.Wait()
		if won := countWins(t, errs, pathways.ErrConflict); won != 1 {
			t.Fatalf("%d creates of one name won", won)
		}
		u, err := s.UserByUsername(ctx, "amira")
		if err != nil {
			t.Fatal(err)
		}
		if r := accRosterIDs(t, s, "o1", pathways.Page{Limit: 100}); !slices.Equal(r, []string{u.ID}) {
			t.Errorf("roster %v, want only %s", r, u.ID)
		}

		for i := range errs {
			wg.Go(func() { errs[i] = ss[i%2].CreateUser(ctx, accLearner("same", "bilal", t0)) })
		}
		wg.Wait()
		if won := countWins(t, errs, pathways.ErrConflict); won != 1 {
			t.Fatalf("%d copies of one create won", won)
		}
		if u, err := s.UserByUsername(ctx, "bilal"); err != nil || u.ID != "same" {
			t.Fatalf("after copies of one create: %+v %v", u, err)
		}
		if got := has(t, e, colUsernameSkeletons, accounts.Skeleton("bilal")); got != fmt.Sprintf("map[%s:true]", accounts.Skeleton("bilal")) {
			t.Errorf("skeleton claim of the copies: %s", got)
		}

		// Interleaved: A makes both claims, B (a copy on the other
		// instance) accepts them and stores the user before A does; A's
		// insert fails and A must leave B's claims alone.
		a := &accBeforeInsert{Engine: e, coll: colUsers, between: func() {
			if err := ss[1].CreateUser(ctx, accLearner("copy", "carla", t0)); err != nil {
				t.Errorf("B's copy: %v", err)
			}
		}}
		if err := acc(a).CreateUser(ctx, accLearner("copy", "carla", t0)); !errors.Is(err, pathways.ErrConflict) || a.between != nil {
			t.Fatalf("A after its copy B: %v", err)
		}
		if u, err := s.UserByUsername(ctx, "carla"); err != nil || u.ID != "copy" {
			t.Fatalf("after interleaved copies: %+v %v", u, err)
		}
		if got := has(t, e, colUsernameSkeletons, accounts.Skeleton("carla")); got != fmt.Sprintf("map[%s:true]", accounts.Skeleton("carla")) {
			t.Errorf("skeleton claim of interleaved copies: %s", got)
		}
	})
}

// accBeforeInsert is a real engine that runs between once, right before the
// first insert into coll.
type accBeforeInsert struct {
	docdb.Engine
	coll    string
	between func()
}

func (b *accBeforeInsert) Insert(ctx context.Context, coll, id string, v any) error {
	if coll == b.coll && b.between != nil {
		between := b.between
		b.between = nil
		between()
	}
	return b.Engine.Insert(ctx, coll, id, v)
}

// TestAccountsUpdateUserRaces: concurrent changes of one user on two instances
// all survive, and a change interleaved between another's read and write
// makes that one read again.
func TestAccountsUpdateUserRaces(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		if err := s.CreateUser(ctx, accLearner("u1", "amira", t0)); err != nil {
			t.Fatal(err)
		}
		ss := accBoth(t, e)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := ss[i%2].UpdateUser(ctx, "u1", func(u *accounts.User) error {
					u.SessionEpoch++ // every call must count
					if i == 7 {
						u.Locale = "ar"
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		u, err := s.User(ctx, "u1")
		if err != nil || u.SessionEpoch != n || u.Locale != "ar" {
			t.Fatalf("after %d concurrent updates: epoch %d, locale %q, %v", n, u.SessionEpoch, u.Locale, err)
		}

		a := dbtest.AfterGet(e, colUsers, "u1", func() {
			if _, err := ss[1].UpdateUser(ctx, "u1", func(u *accounts.User) error { u.DisplayName = "B"; return nil }); err != nil {
				t.Error(err)
			}
		})
		calls := 0
		got, err := acc(a).UpdateUser(ctx, "u1", func(u *accounts.User) error { calls++; u.Disabled = true; return nil })
		if err != nil || a.Fired != 1 || calls != 2 || got.DisplayName != "B" || !got.Disabled {
			t.Fatalf("A after B: %+v %v (change called %d times)", got, err, calls)
		}
		if m, _ := s.Roster(ctx, "o1", pathways.Page{Limit: 1}); len(m) != 1 || m[0].DisplayName != "B" || !m[0].Disabled {
			t.Errorf("roster entry: %+v", m)
		}
	})
}

// TestAccountsUsernameClaimOfCrashedCreate: a username claimed by a create that
// crashed is refused while the claim is fresh, free once it is older than
// the grace (taken over), and removed by the sweep; so is its skeleton.
func TestAccountsUsernameClaimOfCrashedCreate(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		accCrashedClaim(t, e, colUsernames, "amira", "ghost-1", t0)
		accCrashedClaim(t, e, colUsernames, "bilal", "ghost-2", time.Time{}) // before claim times
		accCrashedClaim(t, e, colUsernameSkeletons, accounts.Skeleton("carla"), "ghost-3", t0)
		if _, err := s.UserByUsername(ctx, "amira"); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("sign-in look-up of a crashed create's name: %v", err)
		}

		fresh := t0.Add(pathways.ClaimGrace - time.Minute)
		for _, name := range []string{"amira", "carla"} {
			if err := s.CreateUser(ctx, accLearner("u-"+name, name, fresh)); !errors.Is(err, pathways.ErrConflict) {
				t.Errorf("create %s while the crashed claim is fresh: %v, want a conflict", name, err)
			}
		}
		late := t0.Add(pathways.ClaimGrace + time.Minute)
		for _, name := range []string{"amira", "bilal", "carla"} {
			if err := s.CreateUser(ctx, accLearner("u-"+name, name, late)); err != nil {
				t.Errorf("create %s once the crashed claim is old: %v", name, err)
			}
			if u, err := s.UserByUsername(ctx, name); err != nil || u.ID != "u-"+name {
				t.Errorf("sign-in look-up of %s: %+v %v", name, u, err)
			}
		}

		// The sweep removes old claims without a user, keeps young ones and
		// those whose user exists.
		accCrashedClaim(t, e, colUsernames, "dawit", "ghost-4", t0)
		accCrashedClaim(t, e, colUsernames, "emine", "ghost-5", late)
		accCrashedClaim(t, e, colUsernameSkeletons, accounts.Skeleton("fatima"), "ghost-6", t0)
		n, err := s.SweepClaims(ctx, late.Add(-pathways.ClaimGrace))
		if err != nil || n != 2 {
			t.Fatalf("sweep: %d %v, want 2", n, err)
		}
		got := has(t, e, colUsernames, "amira", "bilal", "carla", "dawit", "emine")
		if want := "map[amira:true bilal:true carla:true dawit:false emine:true]"; got != want {
			t.Errorf("username claims after the sweep: %v, want %v", got, want)
		}
		got = has(t, e, colUsernameSkeletons, accounts.Skeleton("fatima"), accounts.Skeleton("carla"))
		if want := fmt.Sprint(map[string]bool{accounts.Skeleton("fatima"): false, accounts.Skeleton("carla"): true}); got != want {
			t.Errorf("skeleton claims after the sweep: %v, want %v", got, want)
		}
		// Seen once with its user, a claim is settled: the next sweep
		// finds nothing, even long after.
		if n, err := s.SweepClaims(ctx, late.Add(time.Hour)); err != nil || n != 1 { // only emine's ghost
			t.Fatalf("second sweep: %d %v, want 1", n, err)
		}
		if n, err := s.SweepClaims(ctx, late.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("third sweep: %d %v, want 0", n, err)
		}
	})
}

// TestAccountsLookalikeClaims: a name whose skeleton is another user's is
// ErrLookalike, and the failed create leaves no claim behind.
func TestAccountsLookalikeClaims(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		if err := s.CreateUser(ctx, accLearner("u1", "adma", t0)); err != nil {
			t.Fatal(err)
		}
		err := s.CreateUser(ctx, accLearner("u2", "аdmа", t0)) // Cyrillic а
		if !errors.Is(err, accounts.ErrLookalike) {
			t.Fatalf("create a lookalike: %v", err)
		}
		if c := has(t, e, colUsernames, "аdmа"); c != "map[аdmа:false]" {
			t.Errorf("the refused name's claim was left behind: %s", c)
		}
		// A create that fails after its claims (here: the user id is taken)
		// undoes both.
		if err := s.CreateUser(ctx, accLearner("u1", "zaid", t0)); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("create with a taken id: %v", err)
		}
		if c := has(t, e, colUsernames, "zaid"); c != "map[zaid:false]" {
			t.Errorf("username claim of a failed create left behind: %s", c)
		}
		if c := has(t, e, colUsernameSkeletons, accounts.Skeleton("zaid")); c != fmt.Sprintf("map[%s:false]", accounts.Skeleton("zaid")) {
			t.Errorf("skeleton claim of a failed create left behind: %s", c)
		}
		// Backfill: a user made before skeletons were claimed gets its claim;
		// one whose name looks like an existing user's keeps working.
		if err := e.Delete(ctx, colUsernameSkeletons, accounts.Skeleton("adma"), docdb.AnyRev); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimSkeleton(ctx, accLearner("u1", "adma", t0), t0); err != nil {
			t.Fatalf("backfill: %v", err)
		}
		if err := s.ClaimSkeleton(ctx, accLearner("u1", "adma", t0), t0); err != nil {
			t.Fatalf("backfill again: %v", err)
		}
		if err := s.ClaimSkeleton(ctx, accLearner("u3", "adrna", t0), t0); !errors.Is(err, accounts.ErrLookalike) {
			t.Fatalf("backfill of a lookalike: %v", err)
		}
	})
}

// TestAccountsClaimTakeoverRace: many creates on two instances of one name whose
// claim a crashed create left: exactly one takes it over. Interleaved: A
// reads the crashed claim, B takes it over and stores its user, A's swap
// fails and A, reading again, finds B's user.
func TestAccountsClaimTakeoverRace(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		accCrashedClaim(t, e, colUsernames, "amira", "ghost", t0)
		late := t0.Add(pathways.ClaimGrace + time.Minute)
		ss := accBoth(t, e)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = ss[i%2].CreateUser(ctx, accLearner(fmt.Sprint("u", i), "amira", late)) })
		}
		wg.Wait()
		won := countWins(t, errs, pathways.ErrConflict)
		u, err := s.UserByUsername(ctx, "amira")
		if won != 1 || err != nil {
			t.Fatalf("%d creates won; look-up: %v", won, err)
		}
		if r := accRosterIDs(t, s, "o1", pathways.Page{Limit: 100}); !slices.Equal(r, []string{u.ID}) {
			t.Errorf("roster %v, want only %s", r, u.ID)
		}

		accCrashedClaim(t, e, colUsernames, "bilal", "ghost", t0)
		a := dbtest.AfterGet(e, colUsernames, "bilal", func() {
			if err := ss[1].CreateUser(ctx, accLearner("B", "bilal", late)); err != nil {
				t.Errorf("B's create: %v", err)
			}
		})
		err = acc(a).CreateUser(ctx, accLearner("A", "bilal", late))
		if !errors.Is(err, pathways.ErrConflict) || a.Fired != 1 {
			t.Fatalf("A after B took the name over: %v (interleaved %d)", err, a.Fired)
		}
		if u, err := s.UserByUsername(ctx, "bilal"); err != nil || u.ID != "B" {
			t.Errorf("bilal is %+v %v, want B", u, err)
		}
		if _, err := s.User(ctx, "A"); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("A's user: %v", err)
		}
	})
}

// accAfterList is a real engine that runs between once, right after the
// first listing of coll: a write between a sweep's read and its deletes.
type accAfterList struct {
	docdb.Engine
	coll    string
	between func()
}

func (a *accAfterList) List(ctx context.Context, coll string, q docdb.Query, fn func(docdb.Doc) error) error {
	err := a.Engine.List(ctx, coll, q, fn)
	if coll == a.coll && a.between != nil {
		between := a.between
		a.between = nil
		between()
	}
	return err
}

func TestAccountsPrune(t *testing.T) {
	eachAccounts(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		s.prunePage = 10
		for i := range 43 { // more than two pages of expired tokens
			exp := t0.Add(-time.Hour)
			if i%3 == 0 {
				exp = t0.Add(time.Hour) // still valid
			}
			if err := s.CreateRefreshToken(ctx, accounts.RefreshToken{Hash: fmt.Sprint("h", i), Family: "f", ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.RevokeFamily(ctx, "old", t0.Add(-60*24*time.Hour)))
		must(s.RevokeFamily(ctx, "recent", t0.Add(-time.Hour)))
		for _, k := range []string{"user:old", "user:busy"} {
			_, err := s.RecordFailure(ctx, k, t0.Add(-48*time.Hour), t0.Add(-72*time.Hour))
			must(err)
		}
		_, err := s.RecordFailure(ctx, "user:recent", t0.Add(-time.Minute), t0.Add(-time.Hour))
		must(err)

		// A failure on user:busy recorded between the prune's listing and
		// its delete restarts the window: the record stays.
		p := acc(&accAfterList{Engine: e, coll: colLoginAttempts, between: func() {
			_, err := s.RecordFailure(ctx, "user:busy", t0, t0.Add(-15*time.Minute))
			must(err)
		}})
		p.prunePage = s.prunePage
		r, err := p.Prune(ctx, t0, t0.Add(-30*24*time.Hour), t0.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r != (accounts.PruneResult{RefreshTokens: 28, TokenFamilies: 1, LoginAttempts: 1}) {
			t.Fatalf("pruned %+v", r)
		}
		if _, err := s.RefreshToken(ctx, "h0"); err != nil {
			t.Fatalf("valid token pruned: %v", err)
		}
		if _, err := s.RefreshToken(ctx, "h1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("expired token kept: %v", err)
		}
		if revoked, _ := s.FamilyRevoked(ctx, "recent"); !revoked {
			t.Fatal("recent revocation pruned")
		}
		if revoked, _ := s.FamilyRevoked(ctx, "old"); revoked {
			t.Fatal("old revocation kept")
		}
		if _, err := s.Attempts(ctx, "user:recent"); err != nil {
			t.Fatalf("recent attempts pruned: %v", err)
		}
		if a, err := s.Attempts(ctx, "user:busy"); err != nil || a.Failures != 1 || !a.WindowStart.Equal(t0) {
			t.Fatalf("a failure recorded during the prune: %+v %v", a, err)
		}
		if again, err := s.Prune(ctx, t0, t0.Add(-30*24*time.Hour), t0.Add(-24*time.Hour)); err != nil || again != (accounts.PruneResult{}) {
			t.Fatalf("second prune: %+v %v", again, err)
		}
	})
}
