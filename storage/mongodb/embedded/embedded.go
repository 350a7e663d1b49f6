// Package embedded runs FerretDB (SQLite backend) inside the process, so
// Pathways starts with nothing installed. The application talks to it
// through the official MongoDB driver over loopback, exactly as it would to
// a real MongoDB: this is a deployment choice, not a second code path.
//
// It also repairs FerretDB 1.24's _id index, which SQLite cannot use for the
// query FerretDB sends (see DESIGN.md, "The embedded database, measured").
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", the one FerretDB uses
)

// Pragmas are the SQLite settings the embedded server opens every database
// with, on top of FerretDB's own (busy_timeout(10000), journal_mode(wal),
// auto_vacuum(none)). docs/PERFORMANCE.md has the measurements behind them.
var Pragmas = []string{
	"temp_store(memory)",
	"cache_size(-8000)", // 8 MB of page cache per connection
}

// Synchronous modes of SQLite in WAL mode.
const (
	// SyncFull fsyncs the log at every commit: an acknowledged write
	// survives a power loss. The default: learners' work must not be lost,
	// and it costs about 0.2 ms an insert (docs/PERFORMANCE.md).
	SyncFull = "full"
	// SyncNormal skips that fsync: the database stays consistent, but a
	// power loss may undo the last commits. For disposable installations.
	SyncNormal = "normal"
)

// Options configure Start.
type Options struct {
	// Dir holds one SQLite file per database; it is created if missing.
	Dir string
	// Addr is the loopback address to listen on; "127.0.0.1:0" if empty.
	Addr string
	// Synchronous is SyncFull (default when empty) or SyncNormal.
	Synchronous string
	// Logger receives FerretDB's warnings and errors.
	Logger *slog.Logger
}

// Server is a running embedded FerretDB.
type Server struct {
	dir    string
	uri    string
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex // serialises repairs
}

// Start starts FerretDB listening on loopback and returns once it accepts
// connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database dir %q: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create embedded database dir: %w", err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// FerretDB logs every unsupported command at WARN (the driver's
	// endSessions on disconnect, for one); errors are what matter.
	logger = slog.New(levelFilter{Handler: logger.Handler(), min: slog.LevelError}).With("component", "ferretdb")

	sync := opts.Synchronous
	if sync == "" {
		sync = SyncFull
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("embedded database: synchronous mode %q, want %q or %q", sync, SyncFull, SyncNormal)
	}
	q := url.Values{}
	for _, p := range Pragmas {
		q.Add("_pragma", p)
	}
	q.Add("_pragma", "synchronous("+sync+")")
	sqliteURL := (&url.URL{Scheme: "file", Opaque: filepath.ToSlash(dir) + "/", RawQuery: q.Encode()}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{dir: dir, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx) // returns only when runCtx is cancelled
	}()
	// MongoDBURI blocks until the listener is bound.
	s.uri = f.MongoDBURI()
	return s, nil
}

// URI is the mongodb:// address of the server.
func (s *Server) URI() string { return s.uri }

// Dir is the directory holding the database files.
func (s *Server) Dir() string { return s.dir }

// Close stops the server and waits until its databases are closed.
func (s *Server) Close() error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("embedded database did not stop within 30s")
	}
}

// idExpr is the expression FerretDB's SQLite backend filters on for a
// {_id: v} query; an index must be on exactly this for SQLite to use it.
// TestRepairIndexes checks it against the plan of FerretDB's own explain.
const idExpr = `_ferretdb_sjson->'$._id'`

// RepairIndexes creates, for every collection of database dbName, a unique
// index on the expression FerretDB queries _id with. Call it after the
// stores created their collections; it is idempotent and cheap to repeat.
func (s *Server) RepairIndexes(ctx context.Context, dbName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(dbName)
	if err != nil {
		return err
	}
	defer db.Close()
	tables, err := collectionTables(ctx, db)
	if err != nil {
		return fmt.Errorf("repair indexes of %s: %w", dbName, err)
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (%s)`, t+"_pathways_id", t, idExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("repair index of %s.%s: %w", dbName, t, err)
		}
	}
	return nil
}

func (s *Server) open(dbName string) (*sql.DB, error) {
	if dbName == "" || strings.ContainsAny(dbName, `/\.`) {
		return nil, fmt.Errorf("invalid database name %q", dbName)
	}
	path := filepath.Join(s.dir, dbName+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", dbName, err)
	}
	u := (&url.URL{Scheme: "file", Opaque: filepath.ToSlash(path), RawQuery: "_pragma=busy_timeout(10000)"}).String()
	db, err := sql.Open("sqlite", u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func collectionTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil // no collection yet
		}
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

// levelFilter drops records below min.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{Handler: h.Handler.WithAttrs(a), min: h.min}
}

func (h levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{Handler: h.Handler.WithGroup(n), min: h.min}
}
