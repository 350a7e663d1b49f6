package stores

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// The rights service on these stores: an erasure is recorded before it
// starts, so one a failure interrupts is finished later, by the worker
// or a retry, on any instance, and every part forgets once.

// rightsFixture is a real accounts service with one organisation and a
// learner, and a rights service whose one part records what it forgot and
// fails while fail is set (a fault, not a stand-in: the rest is real).
type rightsFixture struct {
	acc      *accounts.Service
	rts      *rights.Service
	clock    *testClock
	learner  accounts.User
	educator accounts.Actor

	mu     sync.Mutex
	fail   bool
	forgot []string
}

func newRightsFixture(t *testing.T, e docdb.Engine) *rightsFixture {
	t.Helper()
	ctx := context.Background()
	db := New(e)
	clock := &testClock{t: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	key := []byte("a test key of at least thirty-two bytes")
	tokens, err := accounts.NewTokenIssuer(key, 15*time.Minute, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.NewService(ctx, db.Accounts(), accounts.NewHasher(accounts.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}), tokens, key, accounts.DefaultConfig, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	root := accounts.Actor{UserID: "root", Role: accounts.RoleAdmin}
	org, _, err := acc.CreateOrganisation(ctx, root, accounts.NewOrganisation{Slug: "ngo", Name: "NGO"})
	if err != nil {
		t.Fatal(err)
	}
	f := &rightsFixture{acc: acc, clock: clock}
	f.learner, _, err = acc.CreateUser(ctx, root, org.ID, accounts.NewUser{Username: "amal", DisplayName: "Amal", Role: accounts.RoleLearner, PIN: "2580"})
	if err != nil {
		t.Fatal(err)
	}
	edu, _, err := acc.CreateUser(ctx, root, org.ID, accounts.NewUser{Username: "edu", Role: accounts.RoleEducator, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	f.educator = accounts.Actor{UserID: edu.ID, OrgID: org.ID, Role: accounts.RoleEducator}
	f.rts = rights.NewService(db.Rights(), acc, []rights.Part{{
		Name:   "notes",
		Export: func(context.Context, string, []string) (any, error) { return []string{}, nil },
		Forget: func(_ context.Context, id string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.fail {
				return errors.New("the notes store is down")
			}
			f.forgot = append(f.forgot, id)
			return nil
		},
	}}, clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return f
}

func TestErasureResumes(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		ctx := context.Background()
		f := newRightsFixture(t, e)
		f.fail = true
		r, err := f.rts.Erase(ctx, f.educator, f.learner.ID, "amal")
		if err != nil || !r.Pending() {
			t.Fatalf("interrupted erasure: %+v, %v", r, err)
		}
		// Suspended at once: the learner cannot sign in meanwhile.
		if _, err := f.acc.Login(ctx, "amal", "2580", "192.0.2.1"); !errors.Is(err, accounts.ErrLoginFailed) {
			t.Errorf("login during the erasure: %v", err)
		}
		// The worker leaves a fresh one to its request, then finishes it.
		if n, err := f.rts.RunPending(ctx, 10); n != 0 || err != nil {
			t.Errorf("worker took a fresh erasure: %d, %v", n, err)
		}
		f.fail = false
		f.clock.Add(2 * time.Minute)
		if n, err := f.rts.RunPending(ctx, 10); n != 1 || err != nil {
			t.Fatalf("worker: %d, %v", n, err)
		}
		if _, err := f.acc.User(ctx, f.educator, f.learner.ID); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("learner after the erasure: %v", err)
		}
		// A retry, and the worker again, forget nothing twice.
		again, err := f.rts.Erase(ctx, f.educator, f.learner.ID, "amal")
		if err != nil || again.Pending() || again.ID != r.ID || !slices.Equal(again.Forgotten, []string{"notes"}) {
			t.Errorf("retry: %+v, %v", again, err)
		}
		if n, _ := f.rts.RunPending(ctx, 10); n != 0 {
			t.Errorf("worker found %d pending after the end", n)
		}
		if len(f.forgot) != 1 {
			t.Errorf("notes forgotten %d times", len(f.forgot))
		}
	})
}

// TestErasureTwoInstances: two instances erasing one learner at once
// agree on one erasure, and both answer it.
func TestErasureTwoInstances(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		ctx := context.Background()
		f := newRightsFixture(t, e)
		second := rights.NewService(New(dbtest.Second(t, e, Schema())).Rights(), f.acc, nil, f.clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		var wg sync.WaitGroup
		ids := make([]string, 2)
		errs := make([]error, 2)
		for i, s := range []*rights.Service{f.rts, second} {
			wg.Go(func() {
				r, err := s.Erase(ctx, f.educator, f.learner.ID, "amal")
				ids[i], errs[i] = r.ID, err
			})
		}
		wg.Wait()
		for i, err := range errs {
			// The slower may find the learner gone: it then gets the
			// erasure its asker made, or (a moment earlier) not found.
			if err != nil && !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		if ids[0] != "" && ids[1] != "" && ids[0] != ids[1] {
			t.Errorf("two erasures: %v", ids)
		}
		if _, err := f.acc.User(ctx, f.educator, f.learner.ID); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("learner after both: %v", err)
		}
	})
}
