package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/embedded"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
)

// fill creates a collection of n small documents with ids d0..d(n-1).
func fill(b *testing.B, db *mongodb.Engine, name string, n int) *mongo.Collection {
	b.Helper()
	ctx := context.Background()
	c := db.Database().Collection(name)
	docs := make([]any, 0, 1000)
	for i := range n {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprint("d", i)}, {Key: "org", Value: fmt.Sprint("o", i%50)}, {Key: "name", Value: "learner name"}, {Key: "n", Value: i}})
		if len(docs) == cap(docs) || i == n-1 {
			if _, err := c.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	return c
}

// BenchmarkFindByID measures FindOne({_id}) at two collection sizes, with
// FerretDB's index as shipped and after RepairIndexes.
//
//	go test -run '^$' -bench FindByID -benchtime 2s ./storage/mongodb/embedded
func BenchmarkFindByID(b *testing.B) {
	srv := mongotest.Server(b)
	if srv == nil {
		b.Skip("PATHWAYS_TEST_MONGODB_URI is set: this benchmark measures the embedded server")
	}
	ctx := context.Background()
	for _, n := range []int{1_000, 10_000} {
		db, err := mongodb.Open(ctx, srv.URI(), mongotest.NewName())
		if err != nil {
			b.Fatal(err)
		}
		c := fill(b, db, "docs", n)
		run := func(b *testing.B) {
			i := 0
			for b.Loop() {
				var out bson.M
				if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("d", (i*7919)%n)}}).Decode(&out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		}
		b.Run(fmt.Sprintf("docs=%d/as-shipped", n), run)
		if err := srv.RepairIndexes(ctx, db.Name()); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("docs=%d/repaired", n), run)
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
	}
}

// BenchmarkWrites compares SQLite's synchronous=FULL (the default) with
// NORMAL (PATHWAYS_DB_SYNCHRONOUS=normal) for the writes a request makes.
//
//	go test -run '^$' -bench Writes -benchtime 2s ./storage/mongodb/embedded
func BenchmarkWrites(b *testing.B) {
	for _, sync := range []string{embedded.SyncFull, embedded.SyncNormal} {
		name := "synchronous=" + sync
		dir := b.TempDir()
		srv, err := embedded.Start(context.Background(), embedded.Options{Dir: dir, Synchronous: sync, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		db, err := mongodb.Open(ctx, srv.URI(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		c := fill(b, db, "docs", 5_000)
		if err := srv.RepairIndexes(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		inserted := 0 // outside the closure: it runs again for each b.N
		b.Run(name+"/InsertOne", func(b *testing.B) {
			for b.Loop() {
				i := inserted
				inserted++
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("new", i)}, {Key: "n", Value: i}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/UpdateOne", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("d", i%5000)}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		_ = db.Close(ctx)
		_ = srv.Close()
	}
}
