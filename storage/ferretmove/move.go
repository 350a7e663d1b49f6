// Package ferretmove moves a data directory written by the FerretDB engine
// (the embedded engine of Pathways before the SQLite engine) into the SQLite
// engine, once, losing nothing. It starts FerretDB on a copy of the old
// file (the old file itself is never opened, so a failed move leaves it
// byte for byte as it was), reads every document of every collection
// through the MongoDB driver, converts it to the document the stores keep
// today (stores.Legacy: a collection it does not know fails the move, a
// field the new document has no place for too) and inserts it into a new
// SQLite file. The stores then rebuild what they derive (stores.Rebuild),
// every collection is counted again, and only then does the new file take
// its place. The old file is kept, renamed, as a backup.
//
// It is its own command (cmd/pathways-move) so that FerretDB stays out of
// the server's binary; the server refuses to start on an old data directory
// and names that command.
package ferretmove

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/mongodb/embedded"
	"github.com/pathways-lms/pathways/storage/sqlite"
	"github.com/pathways-lms/pathways/storage/stores"
)

// ErrMoved: the data directory holds the SQLite engine's file already,
// so it was moved before (or never needed moving).
var ErrMoved = errors.New("the data directory was moved already")

// OldFile is the FerretDB engine's file of database name in dir.
func OldFile(dir, name string) string { return filepath.Join(dir, name+".sqlite") }

// sqliteSuffixes are the files SQLite keeps beside a database file: a
// database is moved, copied or kept with them.
var sqliteSuffixes = []string{"", "-wal", "-shm", "-journal"}

// workDirPattern names the working directories of Move in the data
// directory.
const workDirPattern = ".pathways-move-*"

// Options configure Move.
type Options struct {
	DataDir string // the data directory (PATHWAYS_DATA_DIR)
	DBName  string // the database's name (PATHWAYS_DB_NAME)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Report counts what moved, by collection.
type Report struct {
	Moved   map[string]int // documents copied
	Skipped map[string]int // documents of collections the stores rebuild (see stores.Legacy)
	Backup  string         // where the old file is now
	File    string         // the new database file
}

// Move moves the FerretDB database of opts into the SQLite engine's file in
// the same directory. It refuses (ErrMoved) if the new file exists, and
// if there is no old file; on any failure it removes its partial copy and
// leaves the old file as it was. Run it with the server stopped.
func Move(ctx context.Context, opts Options) (rep Report, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	old := OldFile(opts.DataDir, opts.DBName)
	target := filepath.Join(opts.DataDir, sqlite.FileName)
	if _, err := os.Stat(target); err == nil {
		return rep, fmt.Errorf("%w: %s exists", ErrMoved, target)
	}
	if _, err := os.Stat(old); err != nil {
		return rep, fmt.Errorf("no FerretDB database to move: %w", err)
	}
	partial := target + ".moving"
	removePartial := func() {
		for _, s := range sqliteSuffixes {
			_ = os.Remove(partial + s)
		}
	}
	// What an interrupted earlier run left: its partial copy, the copy of
	// the old file it gave FerretDB.
	removePartial()
	if stale, err := filepath.Glob(filepath.Join(opts.DataDir, workDirPattern)); err == nil {
		for _, d := range stale {
			_ = os.RemoveAll(d)
		}
	}
	defer func() {
		if err != nil {
			removePartial()
		}
	}()

	// FerretDB opens what it reads for writing (its metadata, the WAL),
	// so it gets a copy: the old file stays untouched until it is renamed.
	snap, err := os.MkdirTemp(opts.DataDir, workDirPattern)
	if err != nil {
		return rep, fmt.Errorf("make a working directory: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(snap)) }()
	// The file and its write-ahead log (FerretDB's journal mode), which
	// may hold commits not yet folded into the file; the -shm index is
	// rebuilt from them.
	for _, s := range []string{"", "-wal"} {
		if err := copyFile(old+s, OldFile(snap, opts.DBName)+s); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("copy the old database: %w", err)
		}
	}

	rep = Report{Moved: map[string]int{}, Skipped: map[string]int{}, File: target}
	if err := copyAll(ctx, opts.DBName, snap, partial, &rep, log); err != nil {
		return rep, err
	}

	rep.Backup = old + ".moved-" + now().UTC().Format("20060102T150405")
	// The new file first: if renaming the old one then fails, the server
	// starts on the new file (it looks for it first), and a second move
	// refuses; the old stays where it was.
	if err := os.Rename(partial, target); err != nil {
		return rep, fmt.Errorf("put the moved database in place: %w", err)
	}
	if err := syncPath(opts.DataDir); err != nil {
		return rep, err
	}
	for _, s := range sqliteSuffixes {
		if _, err := os.Stat(old + s); err == nil {
			if err := os.Rename(old+s, rep.Backup+s); err != nil {
				return rep, fmt.Errorf("moved, but keeping the old database as a backup failed: %w", err)
			}
		}
	}
	return rep, syncPath(opts.DataDir)
}

// copyAll copies every collection of database name, served by FerretDB
// from dir, into a new SQLite file at path, rebuilds the derived
// documents, counts every collection there and closes the file, leaving
// no log beside it.
func copyAll(ctx context.Context, name, dir, path string, rep *Report, log *slog.Logger) (err error) {
	srv, err := embedded.Start(ctx, embedded.Options{Dir: dir, Logger: log})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.Close()) }()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		return fmt.Errorf("connect to the old database: %w", err)
	}
	defer func() { err = errors.Join(err, client.Disconnect(context.WithoutCancel(ctx))) }()
	src := client.Database(name)
	names, err := src.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list old collections: %w", err)
	}
	slices.Sort(names)
	var unknown []string
	for _, n := range names {
		if _, ok := stores.Legacy(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the old database has collections this version does not know (%s): "+
			"nothing was moved; move with the version that wrote them", strings.Join(unknown, ", "))
	}

	// Without an fsync per insert: the copy is not in place until it is
	// closed and synced, so a crash meanwhile loses only
	// the copy, which the next run makes again.
	dst, err := sqlite.Open(ctx, sqlite.Options{Path: path, Synchronous: sqlite.SyncNormal})
	if err != nil {
		return err
	}
	defer func() {
		if dst != nil {
			_ = dst.Close(context.WithoutCancel(ctx))
		}
	}()
	db := stores.New(dst)
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	for _, n := range names {
		l, _ := stores.Legacy(n)
		count, err := copyCollection(ctx, src.Collection(n), l, dst)
		if err != nil {
			return err
		}
		if l.Rebuilt() {
			rep.Skipped[n] = count
		} else {
			rep.Moved[n] = count
		}
		log.Info("collection moved", slog.String("collection", n), slog.Int("documents", count), slog.Bool("rebuilt", l.Rebuilt()))
	}
	if err := db.Rebuild(ctx); err != nil {
		return fmt.Errorf("rebuild derived documents: %w", err)
	}
	// Count again what the new file holds: every document copied is there.
	for n, want := range rep.Moved {
		got, err := count(ctx, dst, n)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s: the new database holds %d documents, the old %d", n, got, want)
		}
	}
	e := dst
	dst = nil
	if err := e.Close(ctx); err != nil {
		return fmt.Errorf("close the new database: %w", err)
	}
	// Closing the last connection checkpoints the log into the file and
	// removes it; a log left over would not follow the file's rename.
	if _, err := os.Stat(path + "-wal"); err == nil {
		return fmt.Errorf("the new database's log %s-wal was not folded into it", path)
	}
	return syncPath(path)
}

// copyCollection copies every document of col into dst, converted by l
// (only counting those of a rebuilt collection), and checks it copied as
// many as the old database counts.
func copyCollection(ctx context.Context, col *mongo.Collection, l stores.LegacyCollection, dst docdb.Engine) (n int, err error) {
	want, err := col.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", col.Name(), err)
	}
	if l.Rebuilt() {
		return int(want), nil
	}
	cur, err := col.Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", col.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		id, old, err := plainDocument(cur.Current)
		if err != nil {
			return n, fmt.Errorf("%s: document %d: %w", col.Name(), n+1, err)
		}
		doc, err := l.Convert(old)
		if err != nil {
			return n, fmt.Errorf("%s %s: %w", col.Name(), id, err)
		}
		if err := dst.Insert(ctx, col.Name(), id, doc); err != nil {
			return n, err
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", col.Name(), err)
	}
	if int64(n) != want {
		return n, fmt.Errorf("%s: copied %d of %d documents", col.Name(), n, want)
	}
	return n, nil
}

// count walks collection coll of e and counts its documents.
func count(ctx context.Context, e docdb.Engine, coll string) (int, error) {
	n := 0
	err := docdb.Each(ctx, e, coll, docdb.Query{}, func(docdb.Doc) error { n++; return nil })
	if err != nil {
		return 0, fmt.Errorf("count %s in the new database: %w", coll, err)
	}
	return n, nil
}

// plainDocument is a BSON document as stores.LegacyCollection.Convert
// takes it: its string _id apart, the rest in plain Go values.
func plainDocument(raw bson.Raw) (string, map[string]any, error) {
	v, err := plainValue(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: raw})
	if err != nil {
		return "", nil, err
	}
	doc := v.(map[string]any)
	id, ok := doc["_id"].(string)
	if !ok {
		return "", nil, fmt.Errorf("_id is %T, not a string", doc["_id"])
	}
	delete(doc, "_id")
	return id, doc, nil
}

// plainValue is v as a plain Go value; the types the old stores never
// wrote are an error.
func plainValue(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeInt32:
		return int64(v.Int32()), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeDateTime:
		return time.UnixMilli(v.DateTime()).UTC(), nil
	case bson.TypeNull:
		return nil, nil
	case bson.TypeBinary:
		sub, data := v.Binary()
		if sub != bson.TypeBinaryGeneric {
			return nil, fmt.Errorf("binary of subtype %d", sub)
		}
		return data, nil
	case bson.TypeEmbeddedDocument:
		elems, err := v.Document().Elements()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(elems))
		for _, e := range elems {
			if m[e.Key()], err = plainValue(e.Value()); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Key(), err)
			}
		}
		return m, nil
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		a := make([]any, len(vals))
		for i, e := range vals {
			if a[i], err = plainValue(e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return a, nil
	}
	return nil, fmt.Errorf("a BSON %s, which the old stores never wrote", v.Type)
}

// copyFile copies from to a new file to, synced.
func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return out.Sync()
}

// syncPath flushes a file, or a directory's entries (making renames in it
// durable), to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
