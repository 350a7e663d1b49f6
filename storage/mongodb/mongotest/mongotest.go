// Package mongotest gives tests a real database: a fresh, migrated database
// per test on an embedded FerretDB shared by the test binary, dropped when
// the test ends. Set PATHWAYS_TEST_MONGODB_URI to run the same tests against
// a real MongoDB instead.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/embedded"
)

var (
	once    sync.Once
	srv     *embedded.Server
	dir     string
	uri     string
	initErr error
)

func start() {
	if u := os.Getenv("PATHWAYS_TEST_MONGODB_URI"); u != "" {
		uri = u
		return
	}
	dir, initErr = os.MkdirTemp("", "pathways-test-db-")
	if initErr != nil {
		return
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, initErr = embedded.Start(context.Background(), embedded.Options{Dir: dir, Logger: logger})
	if initErr == nil {
		uri = srv.URI()
	}
}

// Main runs a package's tests and then stops the shared server and removes
// its files. Call it from TestMain: os.Exit(mongotest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		_ = srv.Close()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	return code
}

// Server returns the shared embedded server, or nil when testing against
// PATHWAYS_TEST_MONGODB_URI.
func Server(t testing.TB) *embedded.Server {
	t.Helper()
	once.Do(start)
	if initErr != nil {
		t.Fatalf("start embedded database: %v", initErr)
	}
	return srv
}

// URI returns the address of the test database server.
func URI(t testing.TB) string {
	Server(t)
	return uri
}

// NewDB returns a fresh, migrated database with repaired indexes, dropped
// and disconnected when the test ends.
func NewDB(t testing.TB) *mongodb.DB {
	t.Helper()
	s := Server(t)
	ctx := context.Background()
	db, err := mongodb.Open(ctx, uri, NewName())
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		if err := db.Close(ctx); err != nil {
			t.Errorf("close test database: %v", err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	if s != nil {
		if err := s.RepairIndexes(ctx, db.Name()); err != nil {
			t.Fatalf("repair indexes: %v", err)
		}
	}
	return db
}

// NewName returns a random database name.
func NewName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("test_%s", hex.EncodeToString(b))
}
