// Package mongotest gives tests a MongoDB server: an embedded FerretDB
// shared by the test binary (the stand-in for MongoDB), or the one named by
// PATHWAYS_TEST_MONGODB_URI. storage/docdb/dbtest opens fresh databases on
// it.
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

// NewName returns a random database name.
func NewName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("test_%s", hex.EncodeToString(b))
}
