package embedded_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// TestRepairIndexes proves, without timing anything, that after the repair
// SQLite answers FerretDB's _id look-up of every collection from an index.
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
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	before, err := srv.IDLookupPlans(ctx, db.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 {
		t.Fatal("no collections after Migrate")
	}
	for _, p := range before {
		if !strings.HasPrefix(p.Detail, "SCAN") {
			t.Errorf("%s before repair: plan %q, want a SCAN (has FerretDB fixed its index? then drop the repair)", p.Collection, p.Detail)
		}
	}

	for range 2 { // idempotent
		if err := srv.RepairIndexes(ctx, db.Name()); err != nil {
			t.Fatal(err)
		}
	}
	after, err := srv.IDLookupPlans(ctx, db.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("collections: %d before, %d after", len(before), len(after))
	}
	for _, p := range after {
		if !strings.HasPrefix(p.Detail, "SEARCH") || !strings.Contains(p.Detail, "USING INDEX") {
			t.Errorf("%s after repair: plan %q, want SEARCH ... USING INDEX", p.Collection, p.Detail)
		}
	}
}

// TestRepairKeepsUniqueness checks that documents still read and write
// through the driver after the repair, and duplicates are still refused.
func TestRepairKeepsUniqueness(t *testing.T) {
	db := mongotest.NewDB(t)
	ctx := context.Background()
	raw := db.Collection("settings")
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
