package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
	"github.com/pathways-lms/pathways/storage/stores"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// TestRepairIndexes asks FerretDB's own explain command how each
// collection's find({_id}) runs: FerretDB builds the SQL for that find and
// has SQLite plan it. The plan must be a SCAN before the repair (a tripwire:
// if a FerretDB upgrade fixes its own index, this fails and the repair can
// go) and a SEARCH on the repaired index after.
//
// What FerretDB 1.24's explain cannot show: it builds its WHERE clause with
// a copy of the code find uses (its TODO, FerretDB issue 3235), so it tells
// the truth while the two agree, as they do in 1.24. And it explains find
// and an aggregate's $match only: given update, delete, findAndModify or
// count, it ignores their filter and plans a bare SCAN. Those commands first
// look documents up through the same code as find, then write with UPDATE
// or DELETE filtered on the same _id expression.
func TestRepairIndexes(t *testing.T) {
	srv := mongotest.Server(t)
	if srv == nil {
		// Only when the suite is pointed at a real MongoDB on purpose;
		// scripts/test and CI never set PATHWAYS_TEST_MONGODB_URI.
		t.Skip("PATHWAYS_TEST_MONGODB_URI is set: no embedded server to inspect")
	}
	ctx := context.Background()
	db, err := mongodb.Open(ctx, srv.URI(), mongotest.NewName())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop(ctx); _ = db.Close(ctx) })
	if err := db.Migrate(ctx, stores.Schema()); err != nil {
		t.Fatal(err)
	}
	mdb := db.Database().Collection("users").Database() // the driver's handle on db
	names, err := mdb.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no collections after Migrate")
	}

	for _, name := range names {
		if plan := idLookupPlan(t, mdb, name); !strings.HasPrefix(plan, "SCAN ") {
			t.Errorf("%s before repair: plan %q, want a SCAN (has FerretDB fixed its index? then drop the repair)", name, plan)
		}
	}

	for range 2 { // idempotent
		if err := srv.RepairIndexes(ctx, db.Name()); err != nil {
			t.Fatal(err)
		}
	}
	repaired := regexp.MustCompile(`^SEARCH \S+ USING INDEX \S+_pathways_id \(`) // the index RepairIndexes made
	for _, name := range names {
		if plan := idLookupPlan(t, mdb, name); !repaired.MatchString(plan) {
			t.Errorf("%s after repair: plan %q, want %s", name, plan, repaired)
		}
	}
}

// idLookupPlan reads collection name by _id, then returns the detail of the
// SQLite plan FerretDB's explain gives for that find (several steps are
// joined by "; ").
//
// The read comes first because EXPLAIN does not make SQLite notice a
// schema change made on another connection, as the repair's is: FerretDB's
// pooled connection would still show the plan from before the repair. A
// real statement reloads the schema (and is prepared again), and the
// explain then runs on that same connection: database/sql hands out the
// connection freed last.
func idLookupPlan(t *testing.T, db *mongo.Database, name string) string {
	t.Helper()
	ctx := context.Background()
	filter := bson.D{{Key: "_id", Value: "x"}} // a string: FerretDB pushes down only string and ObjectID _ids
	if err := db.Collection(name).FindOne(ctx, filter).Err(); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("find %s: %v", name, err)
	}
	var res struct {
		QueryPlanner struct {
			Plan []string `bson:"Plan"` // "id=2 parent=0 notused=0 detail=SCAN users_5e7cc513"
		} `bson:"queryPlanner"`
		FilterPushdown bool `bson:"filterPushdown"`
	}
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: name}, {Key: "filter", Value: filter}}}}
	if err := db.RunCommand(ctx, cmd).Decode(&res); err != nil {
		t.Fatalf("explain find %s: %v", name, err)
	}
	if !res.FilterPushdown {
		t.Fatalf("explain find %s: filter not pushed down to SQL, so the plan says nothing about _id", name)
	}
	var details []string
	for _, row := range res.QueryPlanner.Plan {
		_, detail, ok := strings.Cut(row, " detail=")
		if !ok {
			t.Fatalf("explain find %s: plan row %q has no detail", name, row)
		}
		details = append(details, detail)
	}
	return strings.Join(details, "; ")
}

// TestRepairKeepsUniqueness checks that documents still read and write
// through the driver after the repair, and duplicates are still refused.
func TestRepairKeepsUniqueness(t *testing.T) {
	ctx := context.Background()
	db, err := mongodb.Open(ctx, mongotest.URI(t), mongotest.NewName())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop(ctx); _ = db.Close(ctx) })
	if err := db.Migrate(ctx, stores.Schema()); err != nil {
		t.Fatal(err)
	}
	if srv := mongotest.Server(t); srv != nil {
		if err := srv.RepairIndexes(ctx, db.Name()); err != nil {
			t.Fatal(err)
		}
	}
	raw := db.Database().Collection("settings")
	for i := range 50 {
		if _, err := raw.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("k", i)}, {Key: "v", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	var got struct{ V int }
	if err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: "k42"}}).Decode(&got); err != nil || got.V != 42 {
		t.Fatalf("find k42: %v, %+v", err, got)
	}
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "_id", Value: "k7"}}); err == nil {
		t.Fatal("duplicate _id accepted")
	}
}
