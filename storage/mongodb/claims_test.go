package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
)

// crashedClaim inserts a claim as a create that crashed after claiming,
// before storing its owner, leaves it. A zero at leaves out the time, as
// claims made before times were recorded.
func crashedClaim(t *testing.T, db *mongodb.DB, collection, ownerField, key, owner string, at time.Time) {
	t.Helper()
	d := bson.D{{Key: "_id", Value: key}, {Key: ownerField, Value: owner}}
	if !at.IsZero() {
		d = append(d, bson.E{Key: "claimed_at", Value: at}, bson.E{Key: "pending", Value: true})
	}
	if _, err := db.Collection(collection).InsertOne(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// claimed lists which of keys have a claim document in collection.
func claimed(t *testing.T, db *mongodb.DB, collection string, keys ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, k := range keys {
		err := db.Collection(collection).FindOne(context.Background(), bson.D{{Key: "_id", Value: k}}).Err()
		out[k] = err == nil
	}
	return out
}

func learner(id, name string, at time.Time) accounts.User {
	return accounts.User{ID: id, OrgID: "o1", Username: name, UsernameKey: name, Role: accounts.RoleLearner,
		Credential: accounts.CredentialPIN, SecretHash: "h", CreatedAt: at, UpdatedAt: at}
}

// TestUsernameClaimOfCrashedCreate: a username claimed by a create that
// crashed is refused while the claim is fresh, free once it is older than
// the grace (taken over), and removed by the sweep; so is its skeleton.
func TestUsernameClaimOfCrashedCreate(t *testing.T) {
	db := mongotest.NewDB(t)
	s, ctx := db.Accounts(), context.Background()
	crashedClaim(t, db, "usernames", "user_id", "amira", "ghost-1", t0)
	crashedClaim(t, db, "usernames", "user_id", "bilal", "ghost-2", time.Time{}) // before claim times
	crashedClaim(t, db, "username_skeletons", "user_id", accounts.Skeleton("carla"), "ghost-3", t0)

	fresh := t0.Add(pathways.ClaimGrace - time.Minute)
	for _, name := range []string{"amira", "carla"} {
		if err := s.CreateUser(ctx, learner("u-"+name, name, fresh)); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("create %s while the crashed claim is fresh: %v, want a conflict", name, err)
		}
	}
	late := t0.Add(pathways.ClaimGrace + time.Minute)
	for _, name := range []string{"amira", "bilal", "carla"} {
		if err := s.CreateUser(ctx, learner("u-"+name, name, late)); err != nil {
			t.Errorf("create %s once the crashed claim is old: %v", name, err)
		}
		if u, err := s.UserByUsername(ctx, name); err != nil || u.ID != "u-"+name {
			t.Errorf("sign-in look-up of %s: %+v %v", name, u, err)
		}
	}

	// The sweep removes old claims without a user, keeps young ones and
	// those whose user exists.
	crashedClaim(t, db, "usernames", "user_id", "dawit", "ghost-4", t0)
	crashedClaim(t, db, "usernames", "user_id", "emine", "ghost-5", late)
	crashedClaim(t, db, "username_skeletons", "user_id", accounts.Skeleton("fatima"), "ghost-6", t0)
	n, err := s.SweepClaims(ctx, late.Add(-pathways.ClaimGrace))
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d %v, want 2", n, err)
	}
	got := claimed(t, db, "usernames", "amira", "bilal", "carla", "dawit", "emine")
	want := map[string]bool{"amira": true, "bilal": true, "carla": true, "dawit": false, "emine": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("username claims after the sweep: %v, want %v", got, want)
	}
	if c := claimed(t, db, "username_skeletons", accounts.Skeleton("fatima"), accounts.Skeleton("carla")); fmt.Sprint(c) != fmt.Sprint(map[string]bool{accounts.Skeleton("fatima"): false, accounts.Skeleton("carla"): true}) {
		t.Errorf("skeleton claims after the sweep: %v", c)
	}
	// Seen once with its user, a claim is settled: the next sweep
	// finds nothing, even long after.
	if n, err := s.SweepClaims(ctx, late.Add(time.Hour)); err != nil || n != 1 { // only emine's ghost
		t.Fatalf("second sweep: %d %v, want 1", n, err)
	}
	if n, err := s.SweepClaims(ctx, late.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("third sweep: %d %v, want 0", n, err)
	}
}

// TestLookalikeClaims: a name whose skeleton is another user's is
// ErrLookalike, and the failed create leaves no claim behind.
func TestLookalikeClaims(t *testing.T) {
	db := mongotest.NewDB(t)
	s, ctx := db.Accounts(), context.Background()
	if err := s.CreateUser(ctx, learner("u1", "adma", t0)); err != nil {
		t.Fatal(err)
	}
	err := s.CreateUser(ctx, learner("u2", "аdmа", t0)) // Cyrillic а
	if !errors.Is(err, accounts.ErrLookalike) {
		t.Fatalf("create a lookalike: %v", err)
	}
	if c := claimed(t, db, "usernames", "аdmа"); c["аdmа"] {
		t.Error("the refused name's claim was left behind")
	}
	// A create that fails after its claims (here: the user id is taken)
	// undoes both.
	if err := s.CreateUser(ctx, learner("u1", "zaid", t0)); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("create with a taken id: %v", err)
	}
	if c := claimed(t, db, "usernames", "zaid"); c["zaid"] {
		t.Error("username claim of a failed create left behind")
	}
	if c := claimed(t, db, "username_skeletons", accounts.Skeleton("zaid")); c[accounts.Skeleton("zaid")] {
		t.Error("skeleton claim of a failed create left behind")
	}
	// Backfill: a user made before skeletons were claimed gets its claim;
	// one whose name looks like an existing user's keeps working.
	if _, err := db.Collection("username_skeletons").DeleteOne(ctx, bson.D{{Key: "_id", Value: accounts.Skeleton("adma")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimSkeleton(ctx, learner("u1", "adma", t0), t0); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	if err := s.ClaimSkeleton(ctx, learner("u1", "adma", t0), t0); err != nil {
		t.Fatalf("backfill again: %v", err)
	}
	if err := s.ClaimSkeleton(ctx, learner("u3", "adrna", t0), t0); !errors.Is(err, accounts.ErrLookalike) {
		t.Fatalf("backfill of a lookalike: %v", err)
	}
}

// TestClaimTakeoverRace: many creates of one name whose claim a crashed
// create left: exactly one takes it over.
func TestClaimTakeoverRace(t *testing.T) {
	db := mongotest.NewDB(t)
	s, ctx := db.Accounts(), context.Background()
	crashedClaim(t, db, "usernames", "user_id", "amira", "ghost", t0)
	late := t0.Add(pathways.ClaimGrace + time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.CreateUser(ctx, learner(fmt.Sprint("u", i), "amira", late)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, pathways.ErrConflict):
			t.Errorf("create: %v", err)
		}
	}
	u, err := s.UserByUsername(ctx, "amira")
	if won != 1 || err != nil {
		t.Fatalf("%d creates won; look-up: %v", won, err)
	}
	if r, _ := s.Roster(ctx, "o1", pathways.Page{Limit: 100}); len(r) != 1 || r[0].UserID != u.ID {
		t.Errorf("roster %+v, want only %s", r, u.ID)
	}
}

// TestSlugClaimOfCrashedCreate: a course slug reserved by a create that
// crashed is taken while fresh, free once older than the grace, and swept;
// so is the old slug of a course whose slug change crashed before it
// released it.
func TestSlugClaimOfCrashedCreate(t *testing.T) {
	db := mongotest.NewDB(t)
	s, ctx := db.Courses(), context.Background()
	crashedClaim(t, db, "course_slugs", "course_id", "org1/talking", "ghost", t0)
	c := richCourse("c1", "org1", "talking")
	c.Created, c.Updated = t0.Add(pathways.ClaimGrace-time.Minute), t0.Add(pathways.ClaimGrace-time.Minute)
	if err := s.InsertCourse(ctx, c); !errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("create while the crashed reservation is fresh: %v", err)
	}
	late := t0.Add(pathways.ClaimGrace + time.Minute)
	c.Created, c.Updated = late, late
	if err := s.InsertCourse(ctx, c); err != nil {
		t.Fatalf("create once the crashed reservation is old: %v", err)
	}
	// A second course reserved "listening", then moved to another slug
	// and crashed before releasing the first: that reservation is stale.
	c2 := richCourse("c2", "org1", "working")
	c2.Created, c2.Updated = late, late
	if err := s.InsertCourse(ctx, c2); err != nil {
		t.Fatal(err)
	}
	crashedClaim(t, db, "course_slugs", "course_id", "org1/listening", "c2", t0)
	crashedClaim(t, db, "course_slugs", "course_id", "org1/young", "ghost", late)
	n, err := s.SweepSlugs(ctx, late)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v, want 1", n, err)
	}
	got := claimed(t, db, "course_slugs", "org1/talking", "org1/working", "org1/listening", "org1/young")
	want := map[string]bool{"org1/talking": true, "org1/working": true, "org1/listening": false, "org1/young": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("slug reservations after the sweep: %v, want %v", got, want)
	}
	// Releasing names the owner: the reservation a course does not hold
	// stays, and the course's own goes with it.
	if err := s.DeleteCourse(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	if c := claimed(t, db, "course_slugs", "org1/working", "org1/young"); !c["org1/young"] || c["org1/working"] {
		t.Errorf("after deleting c2: %v", c)
	}
}
