// Package dbtest gives tests real engines of the document layer: a fresh
// SQLite file, and a fresh database on the embedded FerretDB that stands
// in for MongoDB (or on PATHWAYS_TEST_MONGODB_URI), each migrated with the
// test's schema and closed when the test ends. Each runs a test against
// both, which is how every store's contract suite runs.
package dbtest

import (
	"context"
	"sync"
	"testing"

	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
	"github.com/pathways-lms/pathways/storage/sqlite"
)

// Main runs a package's tests and then stops the shared FerretDB; call it
// from TestMain: os.Exit(dbtest.Main(m)).
func Main(m *testing.M) int { return mongotest.Main(m) }

// Engines are the engines Each runs on, by name.
var Engines = []string{"sqlite", "mongodb"}

// Each runs fn as a subtest on a fresh engine of every kind, migrated with
// schema.
func Each(t *testing.T, schema docdb.Schema, fn func(t *testing.T, e docdb.Engine)) {
	t.Helper()
	for _, kind := range Engines {
		t.Run(kind, func(t *testing.T) { fn(t, New(t, kind, schema)) })
	}
}

// New returns a fresh engine of kind ("sqlite" or "mongodb"), migrated
// with schema and closed (its database dropped) when t ends.
func New(t testing.TB, kind string, schema docdb.Schema) docdb.Engine {
	t.Helper()
	switch kind {
	case "sqlite":
		return SQLite(t, t.TempDir()+"/"+sqlite.FileName, schema)
	case "mongodb":
		return Mongo(t, mongotest.NewName(), schema)
	}
	t.Fatalf("dbtest: unknown engine %q", kind)
	return nil
}

// SQLite opens the SQLite file at path, migrated with schema, closed when
// t ends. Two calls on one path are two instances on one database.
func SQLite(t testing.TB, path string, schema docdb.Schema) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(ctx); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	if err := db.Migrate(ctx, schema); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// dropped remembers the MongoDB databases a cleanup already dropped, so a
// second handle on the same database does not fail dropping it again.
var dropped sync.Map

// Mongo opens database name on the test MongoDB, migrated with schema;
// the database is dropped when t ends. Two calls with one name are two
// instances on one database.
func Mongo(t testing.TB, name string, schema docdb.Schema) *mongodb.Engine {
	t.Helper()
	srv := mongotest.Server(t)
	ctx := context.Background()
	e, err := mongodb.Open(ctx, mongotest.URI(t), name)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		if _, done := dropped.LoadOrStore(name, true); !done {
			if err := e.Drop(ctx); err != nil {
				t.Errorf("drop test database: %v", err)
			}
		}
		if err := e.Close(ctx); err != nil {
			t.Errorf("close test database: %v", err)
		}
	})
	if err := e.Migrate(ctx, schema); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	if srv != nil {
		if err := srv.RepairIndexes(ctx, name); err != nil {
			t.Fatalf("repair indexes: %v", err)
		}
	}
	return e
}

// Second opens another instance on e's database: another handle, as a
// second server process would have.
func Second(t testing.TB, e docdb.Engine, schema docdb.Schema) docdb.Engine {
	t.Helper()
	switch e := e.(type) {
	case *sqlite.DB:
		return SQLite(t, e.Path(), schema)
	case *mongodb.Engine:
		return Mongo(t, e.Name(), schema)
	case *Interleaved:
		return Second(t, e.Engine, schema)
	}
	t.Fatalf("dbtest: no second instance of %T", e)
	return nil
}

// Interleaved is a real engine that runs a function once, right after a
// chosen read: the deterministic interleaving of a store's tests ("A
// reads, B writes, A's write must fail and retry"). Between is called
// after the first Get of document id in coll returns, before the caller
// can act on what it read.
type Interleaved struct {
	docdb.Engine
	mu      sync.Mutex
	coll    string
	id      string // "" matches any document of coll
	between func()
	Fired   int // how many times between ran (0 or 1)
}

// AfterGet wraps e so that between runs once, after the first Get of
// document id (any document if id is "") of coll.
func AfterGet(e docdb.Engine, coll, id string, between func()) *Interleaved {
	return &Interleaved{Engine: e, coll: coll, id: id, between: between}
}

// Get reads through the wrapped engine, then runs between if this is the
// chosen read.
func (i *Interleaved) Get(ctx context.Context, coll, id string, v any) (docdb.Rev, error) {
	rev, err := i.Engine.Get(ctx, coll, id, v)
	i.mu.Lock()
	fire := i.between != nil && coll == i.coll && (i.id == "" || id == i.id)
	between := i.between
	if fire {
		i.between = nil
		i.Fired++
	}
	i.mu.Unlock()
	if fire {
		between()
	}
	return rev, err
}
