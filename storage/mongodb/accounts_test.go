package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *mongodb.AccountsStore {
	t.Helper()
	return mongotest.NewDB(t).Accounts()
}

func TestOrganisations(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	for i := range 3 {
		o := accounts.Organisation{ID: fmt.Sprint("org", i), Slug: fmt.Sprint("slug", i), Name: "N", CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	err := s.CreateOrganisation(ctx, accounts.Organisation{ID: "other", Slug: "slug1", CreatedAt: t0})
	if !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("duplicate slug: %v, want ErrConflict", err)
	}
	got, err := s.Organisation(ctx, "org1")
	if err != nil || got.Slug != "slug1" || !got.CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Organisation: %+v, %v", got, err)
	}
	if _, err := s.Organisation(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("missing organisation: %v, want ErrNotFound", err)
	}
	page, err := s.Organisations(ctx, pathways.Page{Offset: 1, Limit: 5})
	if err != nil || len(page) != 2 || page[0].ID != "org1" || page[1].ID != "org2" {
		t.Fatalf("Organisations page: %+v, %v", page, err)
	}
}

func TestUsersAndRoster(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	u := accounts.User{ID: "u1", OrgID: "o1", Username: "Amira", UsernameKey: "amira", DisplayName: "Amira", Role: accounts.RoleLearner, Credential: accounts.CredentialPIN, SecretHash: "h", CreatedAt: t0, UpdatedAt: t0}
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
	if err != nil || got.ID != "u1" || got.Role != accounts.RoleLearner || got.Credential != accounts.CredentialPIN {
		t.Fatalf("UserByUsername: %+v, %v", got, err)
	}
	if _, err := s.UserByUsername(ctx, "nobody"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("unknown username: %v", err)
	}
	u3 := u
	u3.ID, u3.Username, u3.UsernameKey = "u3", "Bilal", "bilal"
	if err := s.CreateUser(ctx, u3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, "u1", func(u *accounts.User) error {
		u.DisplayName, u.Disabled, u.SessionEpoch = "Amira K.", true, 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	refuse := errors.New("refused")
	if _, err := s.UpdateUser(ctx, "u1", func(u *accounts.User) error { u.DisplayName = "X"; return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("change error: %v", err)
	}
	if got, _ := s.User(ctx, "u1"); got.DisplayName != "Amira K." || !got.Disabled || got.SessionEpoch != 1 {
		t.Fatalf("after update: %+v", got)
	}
	roster, err := s.Roster(ctx, "o1", pathways.Page{Limit: 100})
	if err != nil || len(roster) != 2 {
		t.Fatalf("Roster: %+v, %v", roster, err)
	}
	if roster[0].UserID != "u1" || roster[0].DisplayName != "Amira K." || !roster[0].Disabled || roster[1].Username != "Bilal" {
		t.Fatalf("roster entries: %+v", roster)
	}
	if r, err := s.Roster(ctx, "empty", pathways.Page{Limit: 100}); err != nil || len(r) != 0 {
		t.Fatalf("empty roster: %+v, %v", r, err)
	}
	if _, err := s.UpdateUser(ctx, "ghost", func(*accounts.User) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("update of missing user: %v", err)
	}
}

func TestRefreshTokens(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	rt := accounts.RefreshToken{Hash: "h1", Family: "f1", UserID: "u1", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, rt); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("duplicate token: %v", err)
	}
	first, err := s.UseRefreshToken(ctx, "h1", t0.Add(time.Minute))
	if err != nil || !first.UsedAt.IsZero() || first.Family != "f1" {
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
	if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || r {
		t.Fatalf("fresh family revoked: %v %v", r, err)
	}
	for range 2 {
		if err := s.RevokeFamily(ctx, "f1", t0); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || !r {
		t.Fatalf("revoked family: %v %v", r, err)
	}
}

// TestConcurrentUse: of many concurrent uses of one token, exactly one
// sees it unused.
func TestConcurrentUse(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if err := s.CreateRefreshToken(ctx, accounts.RefreshToken{Hash: "h", Family: "f", ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	unused := 0
	for i := range 10 {
		wg.Go(func() {
			got, err := s.UseRefreshToken(ctx, "h", t0.Add(time.Duration(i)*time.Second))
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
}

func TestAttempts(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if _, err := s.Attempts(ctx, "user:a"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("no attempts yet: %v", err)
	}
	for i := 1; i <= 3; i++ {
		a, err := s.RecordFailure(ctx, "user:a", t0.Add(time.Duration(i)*time.Second), t0.Add(-time.Hour))
		if err != nil || a.Failures != i || !a.WindowStart.Equal(t0.Add(time.Second)) {
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
	if err := s.ResetAttempts(ctx, "user:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attempts(ctx, "user:a"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("after reset: %v", err)
	}
}

func TestSecretAndFlags(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			v, err := s.Secret(ctx, "jwt", func() ([]byte, error) { return []byte(fmt.Sprint("value-", i)), nil })
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
	if set, err := s.Flag(ctx, "x"); err != nil || set {
		t.Fatalf("flag before set: %v %v", set, err)
	}
	for range 2 {
		if err := s.SetFlag(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if set, err := s.Flag(ctx, "x"); err != nil || !set {
		t.Fatalf("flag after set: %v %v", set, err)
	}
}

// TestConcurrentUpdatesLoseNothing: concurrent updates of one document
// (an organisation's roster, one login-attempt counter) all take effect.
// The embedded database applies update operators read-modify-write, so
// without the store's document locks some of these would be lost.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := accounts.User{ID: fmt.Sprintf("u%02d", i), OrgID: "o1", Username: fmt.Sprint("user", i), UsernameKey: fmt.Sprint("user", i), Role: accounts.RoleLearner, CreatedAt: t0}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Error(err)
			}
			if _, err := s.RecordFailure(ctx, "addr:192.0.2.1", t0, t0.Add(-time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	roster, err := s.Roster(ctx, "o1", pathways.Page{Limit: 100})
	if err != nil || len(roster) != n {
		t.Fatalf("roster has %d members after %d concurrent creates: %v", len(roster), n, err)
	}
	a, err := s.Attempts(ctx, "addr:192.0.2.1")
	if err != nil || a.Failures != n {
		t.Fatalf("%d failures recorded of %d: %v", a.Failures, n, err)
	}
}

// TestConcurrentUserUpdates: concurrent changes of different fields of one
// user all survive (each runs on a fresh read under the user's lock).
func TestConcurrentUserUpdates(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if err := s.CreateUser(ctx, accounts.User{ID: "u1", OrgID: "o1", Username: "amira", UsernameKey: "amira", Role: accounts.RoleLearner}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateUser(ctx, "u1", func(u *accounts.User) error {
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
}

func TestPrune(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	for i := range 1203 { // more than two pages of expired tokens
		exp := t0.Add(-time.Hour)
		if i%3 == 0 {
			exp = t0.Add(time.Hour) // still valid
		}
		if err := s.CreateRefreshToken(ctx, accounts.RefreshToken{Hash: fmt.Sprint("h", i), Family: "f", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.RevokeFamily(ctx, "old", t0.Add(-60*24*time.Hour))
	_ = s.RevokeFamily(ctx, "recent", t0.Add(-time.Hour))
	_, _ = s.RecordFailure(ctx, "user:old", t0.Add(-48*time.Hour), t0.Add(-72*time.Hour))
	_, _ = s.RecordFailure(ctx, "user:recent", t0.Add(-time.Minute), t0.Add(-time.Hour))

	r, err := s.Prune(ctx, t0, t0.Add(-30*24*time.Hour), t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r != (accounts.PruneResult{RefreshTokens: 802, TokenFamilies: 1, LoginAttempts: 1}) {
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
	if _, err := s.Attempts(ctx, "user:recent"); err != nil {
		t.Fatalf("recent attempts pruned: %v", err)
	}
	if again, err := s.Prune(ctx, t0, t0.Add(-30*24*time.Hour), t0.Add(-24*time.Hour)); err != nil || again != (accounts.PruneResult{}) {
		t.Fatalf("second prune: %+v %v", again, err)
	}
}
