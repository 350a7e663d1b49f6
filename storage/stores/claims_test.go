package stores

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var (
	ctx = context.Background()
	t0  = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
)

var claimSchema = docdb.Schema{{Name: "claims", Indexes: claimIndexes}}

// owners is the owner check of the claims tests: the owners that exist.
type owners map[string]bool

func (o owners) owned(_ context.Context, cl claim) (bool, error) { return o[cl.Owner], nil }

func has(t *testing.T, e docdb.Engine, coll string, keys ...string) string {
	t.Helper()
	out := map[string]bool{}
	for _, k := range keys {
		var d claimDoc
		_, err := e.Get(ctx, coll, k, &d)
		if err != nil && !errors.Is(err, pathways.ErrNotFound) {
			t.Fatal(err)
		}
		out[k] = err == nil
	}
	return fmt.Sprint(out)
}

// TestClaims: take, its idempotent repeat, the grace of a crashed claim,
// release by owner only, and the sweep settling or removing.
func TestClaims(t *testing.T) {
	dbtest.Each(t, claimSchema, func(t *testing.T, e docdb.Engine) {
		c, live := claims{e: e, name: "claims"}, owners{"u1": true}
		if made, err := c.take(ctx, "amira", "u1", t0, live.owned); err != nil || !made {
			t.Fatalf("take: %v %v", made, err)
		}
		if made, err := c.take(ctx, "amira", "u1", t0, live.owned); err != nil || made {
			t.Errorf("take again by its owner: made %v, %v; want accepted, not made", made, err)
		}
		if _, err := c.take(ctx, "amira", "u2", t0.Add(time.Hour), live.owned); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("take of a claim whose owner exists: %v", err)
		}
		// A crash between claim and owner: "ghost" never exists.
		if _, err := c.take(ctx, "bilal", "ghost", t0, live.owned); err != nil {
			t.Fatal(err)
		}
		if _, err := c.take(ctx, "bilal", "u2", t0.Add(pathways.ClaimGrace-time.Minute), live.owned); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("take within the grace: %v", err)
		}
		if made, err := c.take(ctx, "bilal", "u2", t0.Add(pathways.ClaimGrace+time.Minute), live.owned); err != nil || !made {
			t.Errorf("take over after the grace: %v %v", made, err)
		}
		if err := c.release(ctx, "bilal", "ghost"); err != nil {
			t.Fatal(err)
		}
		if cl, err := c.read(ctx, "bilal"); err != nil || cl.Owner != "u2" {
			t.Errorf("release by a former owner changed the claim: %+v %v", cl, err)
		}
		if err := c.release(ctx, "bilal", "u2"); err != nil || has(t, e, "claims", "bilal") != "map[bilal:false]" {
			t.Errorf("release by its owner: %v, %s", err, has(t, e, "claims", "bilal"))
		}
		if err := c.release(ctx, "nobody", "u2"); err != nil {
			t.Errorf("release of nothing: %v", err)
		}
		// Claims made before times were recorded count as old.
		if err := e.Insert(ctx, "claims", "old", claimDoc{Owner: "ghost", Pending: true}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"dawit", "emine"} {
			if _, err := c.take(ctx, k, "ghost-"+k, t0, live.owned); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.take(ctx, "young", "ghost", t0.Add(time.Hour), live.owned); err != nil {
			t.Fatal(err)
		}
		n, err := c.sweep(ctx, t0.Add(time.Minute), live.owned)
		if err != nil || n != 3 {
			t.Fatalf("sweep: %d %v, want 3 (dawit, emine, old)", n, err)
		}
		if got := has(t, e, "claims", "amira", "dawit", "emine", "old", "young"); got != "map[amira:true dawit:false emine:false old:false young:true]" {
			t.Errorf("after the sweep: %s", got)
		}
		var d claimDoc
		if _, err := e.Get(ctx, "claims", "amira", &d); err != nil || d.Pending {
			t.Errorf("a claim whose owner exists is settled by the sweep: %+v %v", d, err)
		}
		if n, err := c.sweep(ctx, t0.Add(2*time.Hour), live.owned); err != nil || n != 1 {
			t.Errorf("second sweep: %d %v, want 1 (young)", n, err)
		}
	})
}

// TestClaimTakeover: two instances take over one crashed claim at once,
// and an interleaved takeover (A reads the crashed claim, B takes it
// over, A's swap fails): exactly one wins each time.
func TestClaimTakeover(t *testing.T) {
	dbtest.Each(t, claimSchema, func(t *testing.T, e docdb.Engine) {
		other := dbtest.Second(t, e, claimSchema)
		none := owners{}
		late := t0.Add(pathways.ClaimGrace + time.Minute)
		if _, err := (claims{e: e, name: "claims"}).take(ctx, "k", "ghost", t0, none.owned); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		made := make([]bool, 8)
		for i := range made {
			wg.Go(func() {
				c := claims{e: []docdb.Engine{e, other}[i%2], name: "claims"}
				ok, err := c.take(ctx, "k", fmt.Sprint("u", i), late, none.owned)
				if err != nil && !errors.Is(err, pathways.ErrConflict) {
					t.Error(err)
				}
				made[i] = ok
			})
		}
		wg.Wait()
		won := 0
		for _, ok := range made {
			if ok {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%d of %d takeovers won, want 1", won, len(made))
		}

		if _, err := (claims{e: e, name: "claims"}).take(ctx, "j", "ghost", t0, none.owned); err != nil {
			t.Fatal(err)
		}
		a := dbtest.AfterGet(e, "claims", "j", func() {
			if ok, err := (claims{e: other, name: "claims"}).take(ctx, "j", "B", late, none.owned); err != nil || !ok {
				t.Errorf("B's takeover: %v %v", ok, err)
			}
		})
		ok, err := (claims{e: a, name: "claims"}).take(ctx, "j", "A", late, owners{"B": true}.owned)
		if ok || !errors.Is(err, pathways.ErrConflict) || a.Fired != 1 {
			t.Errorf("A after B took the claim over: made %v, %v (interleaved %d)", ok, err, a.Fired)
		}
		if cl, _ := (claims{e: e, name: "claims"}).read(ctx, "j"); cl.Owner != "B" {
			t.Errorf("claim held by %q, want B", cl.Owner)
		}
		if msUTC(t0.Add(123456)) != t0 || !fromMS(unixMS(late)).Equal(late) || unixMS(time.Time{}) != 0 {
			t.Error("millisecond times do not round-trip")
		}
	})
}

// countWins counts the nil errors of errs (the racers that won) and
// reports any other error that is not loser, the answer a racer that lost
// must get.
func countWins(t *testing.T, errs []error, loser error) int {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loser):
			t.Errorf("unexpected error (want nil or %v): %v", loser, err)
		}
	}
	return won
}
