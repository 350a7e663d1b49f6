// Package sqlite is the embedded storage engine: the document layer
// (storage/docdb) on one SQLite file, through modernc.org/sqlite (pure Go,
// no cgo). Each collection is a table of (id, rev, body), the body the
// document's JSON; each declared index is an SQLite index on expressions
// over the body, so a listing reads an index, never the whole table.
//
// The file is opened in WAL mode, with one connection for writes (SQLite
// has one writer at a time; queuing in Go is cheaper than SQLITE_BUSY
// retries) and a small pool for reads, which WAL lets run beside the
// writer. A compare-and-swap is one UPDATE … WHERE id = ? AND rev = ?,
// atomic between connections and between processes on the same file, so
// two instances on one file (or a server and a CLI command) are safe.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// Synchronous modes of SQLite in WAL mode.
const (
	// SyncFull fsyncs the log at every commit: an acknowledged write
	// survives a power loss. The default: learners' work must not be lost.
	SyncFull = "full"
	// SyncNormal skips that fsync: the database stays consistent, but a
	// power loss may undo the last commits. For disposable installations.
	SyncNormal = "normal"
)

// FileName is the database file's name inside the data directory.
const FileName = "pathways.db"

// Options configure Open.
type Options struct {
	// Path is the database file; its directory is created if missing.
	Path string
	// Synchronous is SyncFull (default when empty) or SyncNormal.
	Synchronous string
	// Readers is the size of the read pool; 4 if zero.
	Readers int
}

// DB is an open SQLite database.
type DB struct {
	path  string
	w, r  *sql.DB
	mu    sync.RWMutex
	colls map[string]*table
}

// table is one collection's table and its prepared statements.
type table struct {
	coll                           docdb.Collection
	get, insert, replace, rev, del *sql.Stmt
}

// Open opens (creating if needed) the database file.
func Open(ctx context.Context, opts Options) (*DB, error) {
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlite path %q: %w", opts.Path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create sqlite dir: %w", err)
	}
	sync := opts.Synchronous
	if sync == "" {
		sync = SyncFull
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite: synchronous mode %q, want %q or %q", sync, SyncFull, SyncNormal)
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)", // another process's write: wait, don't fail
		"journal_mode(wal)",
		"synchronous(" + sync + ")",
		"temp_store(memory)",
		"cache_size(-16000)", // 16 MB of page cache per connection
		"foreign_keys(off)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Opaque: filepath.ToSlash(path), RawQuery: q.Encode()}).String()
	db := &DB{path: path, colls: map[string]*table{}}
	if db.w, err = sql.Open("sqlite", dsn); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxIdleTime(0)
	if db.r, err = sql.Open("sqlite", dsn); err != nil {
		_ = db.w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(readers)
	db.r.SetMaxIdleConns(readers)
	if err := db.Ping(ctx); err != nil {
		_ = db.Close(ctx)
		return nil, err
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Kind is "sqlite".
func (db *DB) Kind() string { return "sqlite" }

// Ping checks the file can be read and written.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, c := range []*sql.DB{db.w, db.r} {
		if err := c.PingContext(ctx); err != nil {
			return fmt.Errorf("%w: ping sqlite %s: %w", pathways.ErrUnavailable, db.path, err)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close(context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, t := range db.colls {
		for _, s := range []*sql.Stmt{t.get, t.insert, t.replace, t.rev, t.del} {
			if s != nil {
				_ = s.Close()
			}
		}
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

func tableName(coll string) string { return `"c_` + coll + `"` }

// field is the SQL expression of a top-level JSON field; index and query
// must spell it identically for SQLite to use the index.
func field(name string) string { return `json_extract(body, '$.` + name + `')` }

// Migrate creates the tables and indexes of schema and prepares their
// statements.
func (db *DB) Migrate(ctx context.Context, schema docdb.Schema) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, c := range schema {
		if !nameRE.MatchString(c.Name) {
			return fmt.Errorf("sqlite: collection name %q", c.Name)
		}
		tn := tableName(c.Name)
		stmts := []string{`CREATE TABLE IF NOT EXISTS ` + tn + ` (id TEXT NOT NULL PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)`}
		for _, ix := range c.Indexes {
			if !nameRE.MatchString(ix.Name) || len(ix.Fields) == 0 {
				return fmt.Errorf("sqlite: index %q of %s", ix.Name, c.Name)
			}
			exprs := make([]string, len(ix.Fields))
			for i, f := range ix.Fields {
				if !nameRE.MatchString(f) {
					return fmt.Errorf("sqlite: index field %q of %s", f, c.Name)
				}
				exprs[i] = field(f)
			}
			kind, cols := "INDEX", strings.Join(exprs, ", ")+", id"
			if ix.Unique {
				kind, cols = "UNIQUE INDEX", strings.Join(exprs, ", ")
			}
			stmts = append(stmts, fmt.Sprintf(`CREATE %s IF NOT EXISTS "ix_%s_%s" ON %s (%s)`, kind, c.Name, ix.Name, tn, cols))
		}
		for _, s := range stmts {
			if _, err := db.w.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("migrate %s: %w", c.Name, translate(err))
			}
		}
		t, err := db.prepare(ctx, c)
		if err != nil {
			return err
		}
		if old := db.colls[c.Name]; old != nil {
			for _, s := range []*sql.Stmt{old.get, old.insert, old.replace, old.rev, old.del} {
				_ = s.Close()
			}
		}
		db.colls[c.Name] = t
	}
	return nil
}

func (db *DB) prepare(ctx context.Context, c docdb.Collection) (*table, error) {
	tn := tableName(c.Name)
	t := &table{coll: c}
	for _, p := range []struct {
		on   *sql.DB
		dst  **sql.Stmt
		text string
	}{
		{db.r, &t.get, `SELECT rev, body FROM ` + tn + ` WHERE id = ?`},
		{db.r, &t.rev, `SELECT rev FROM ` + tn + ` WHERE id = ?`},
		{db.w, &t.insert, `INSERT INTO ` + tn + ` (id, rev, body) VALUES (?, ?, ?)`},
		{db.w, &t.replace, `UPDATE ` + tn + ` SET rev = rev + 1, body = ? WHERE id = ? AND rev = ?`},
		{db.w, &t.del, `DELETE FROM ` + tn + ` WHERE id = ?1 AND (?2 = 0 OR rev = ?2)`},
	} {
		s, err := p.on.PrepareContext(ctx, p.text)
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", c.Name, translate(err))
		}
		*p.dst = s
	}
	return t, nil
}

func (db *DB) table(coll string) (*table, error) {
	db.mu.RLock()
	t := db.colls[coll]
	db.mu.RUnlock()
	if t == nil {
		return nil, fmt.Errorf("sqlite: collection %q not migrated", coll)
	}
	return t, nil
}

// Get reads document id of coll into v.
func (db *DB) Get(ctx context.Context, coll, id string, v any) (docdb.Rev, error) {
	t, err := db.table(coll)
	if err != nil {
		return 0, err
	}
	var (
		rev  int64
		body []byte
	)
	if err := t.get.QueryRowContext(ctx, id).Scan(&rev, &body); err != nil {
		return 0, fmt.Errorf("get %s %s: %w", coll, id, translate(err))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, fmt.Errorf("get %s %s: decode: %w", coll, id, err)
	}
	return docdb.Rev(rev), nil
}

// Insert stores v as new document id of coll.
func (db *DB) Insert(ctx context.Context, coll, id string, v any) error {
	t, err := db.table(coll)
	if err != nil {
		return err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("insert %s %s: encode: %w", coll, id, err)
	}
	if _, err := t.insert.ExecContext(ctx, id, int64(docdb.FirstRev()), string(body)); err != nil {
		return fmt.Errorf("insert %s %s: %w", coll, id, translate(err))
	}
	return nil
}

// Replace stores v as document id of coll if it is at rev.
func (db *DB) Replace(ctx context.Context, coll, id string, rev docdb.Rev, v any) (docdb.Rev, error) {
	t, err := db.table(coll)
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("replace %s %s: encode: %w", coll, id, err)
	}
	res, err := t.replace.ExecContext(ctx, string(body), id, int64(rev))
	if err != nil {
		return 0, fmt.Errorf("replace %s %s: %w", coll, id, translate(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("replace %s %s: %w", coll, id, translate(err))
	} else if n == 0 {
		return 0, fmt.Errorf("replace %s %s at %d: %w", coll, id, rev, db.missingOrStale(ctx, t, id))
	}
	return rev + 1, nil
}

// Delete removes document id of coll if it is at rev (any with AnyRev).
func (db *DB) Delete(ctx context.Context, coll, id string, rev docdb.Rev) error {
	t, err := db.table(coll)
	if err != nil {
		return err
	}
	res, err := t.del.ExecContext(ctx, id, int64(rev))
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", coll, id, translate(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete %s %s: %w", coll, id, translate(err))
	} else if n == 0 {
		return fmt.Errorf("delete %s %s: %w", coll, id, db.missingOrStale(ctx, t, id))
	}
	return nil
}

// missingOrStale tells why a conditional write matched nothing.
func (db *DB) missingOrStale(ctx context.Context, t *table, id string) error {
	var rev int64
	err := t.rev.QueryRowContext(ctx, id).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return pathways.ErrNotFound
	}
	if err != nil {
		return translate(err)
	}
	return docdb.ErrStale
}

// List calls fn with the documents q selects.
func (db *DB) List(ctx context.Context, coll string, q docdb.Query, fn func(docdb.Doc) error) error {
	t, err := db.table(coll)
	if err != nil {
		return err
	}
	if _, err := q.Check(t.coll); err != nil {
		return err
	}
	text, args := db.listSQL(t.coll, q)
	rows, err := db.r.QueryContext(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("list %s: %w", coll, translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   string
			rev  int64
			body []byte
		)
		if err := rows.Scan(&id, &rev, &body); err != nil {
			return fmt.Errorf("list %s: %w", coll, translate(err))
		}
		d := docdb.NewDoc(id, docdb.Rev(rev), func(v any) error {
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("list %s: decode %s: %w", coll, id, err)
			}
			return nil
		})
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list %s: %w", coll, translate(err))
	}
	return nil
}

// listSQL is the statement of a checked query q on collection c.
func (db *DB) listSQL(c docdb.Collection, q docdb.Query) (string, []any) {
	var (
		fields []string
		where  []string
		args   []any
		order  []string
	)
	if ix, ok := c.Index(q.Index); ok {
		fields = ix.Fields
	}
	for i, f := range fields {
		if i >= len(q.Eq) {
			// Fields fixed by Eq stay out of ORDER BY: they order nothing,
			// and naming them makes SQLite sort instead of walking the index.
			order = append(order, field(f))
		}
		switch {
		case i < len(q.Eq):
			where = append(where, field(f)+" = ?")
			args = append(args, sqlValue(q.Eq[i]))
		case i == len(q.Eq) && q.Below != nil:
			where = append(where, field(f)+" < ?")
			args = append(args, sqlValue(q.Below))
		}
	}
	if q.AfterID != "" {
		where = append(where, "id > ?")
		args = append(args, q.AfterID)
	}
	order = append(order, "id")
	text := `SELECT id, rev, body FROM ` + tableName(c.Name)
	if len(where) > 0 {
		text += " WHERE " + strings.Join(where, " AND ")
	}
	text += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	return text, append(args, q.Limit, q.Offset)
}

// sqlValue gives a query value as json_extract returns it: booleans are
// 1 and 0.
func sqlValue(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return 1
		}
		return 0
	}
	return v
}

// translate maps SQLite errors to domain errors, keeping the original in
// the chain: no row → ErrNotFound, a taken key → ErrConflict, a lock held
// past busy_timeout → ErrUnavailable.
func translate(err error) error {
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", pathways.ErrNotFound, err)
	case errors.As(err, &se):
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", pathways.ErrConflict, err)
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", pathways.ErrUnavailable, err)
		}
	}
	return err
}

var _ docdb.Engine = (*DB)(nil)
