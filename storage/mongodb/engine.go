package mongodb

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// Engine is the document layer (storage/docdb) on MongoDB. A document is
// stored as {_id, _rev, d}: d is the store's value, encoded with its json
// tags, so the same private structs serve both engines; indexes are on
// d's fields. A compare-and-swap is a replaceOne filtered by {_id, _rev},
// which MongoDB applies atomically to one document whichever instance
// sends it; nothing relies on multi-document transactions, so a single
// server works as well as a replica set.
type Engine struct {
	client *mongo.Client
	db     *mongo.Database
	mu     sync.RWMutex
	colls  map[string]docdb.Collection
}

// writeLocks serialise the conditional writes of one document by every
// Engine of this process. MongoDB does not need them: it applies a
// filtered replace or delete atomically to one document. The embedded
// FerretDB that stands in for it in tests does not (it evaluates the
// filter and writes in two steps with nothing between them), so without
// the locks two writers in one process, even on two handles as in the
// two-instance tests, could both win one compare-and-swap there. Between
// processes only MongoDB's own atomicity holds, as in production.
var writeLocks struct {
	seed  maphash.Seed
	locks [256]sync.Mutex
}

func init() { writeLocks.seed = maphash.MakeSeed() }

// Open connects to uri and checks the server answers; name is the
// database the collections live in.
func Open(ctx context.Context, uri, name string) (*Engine, error) {
	opts := options.Client().ApplyURI(uri).
		SetAppName("pathways").
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	e := &Engine{client: client, db: client.Database(name), colls: map[string]docdb.Collection{}}
	if err := e.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return e, nil
}

// Kind is "mongodb".
func (e *Engine) Kind() string { return "mongodb" }

// Name is the database's name.
func (e *Engine) Name() string { return e.db.Name() }

// Ping checks the server answers within two seconds.
func (e *Engine) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := e.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("%w: ping database: %w", pathways.ErrUnavailable, err)
	}
	return nil
}

// Close disconnects, waiting for operations in flight until ctx ends.
func (e *Engine) Close(ctx context.Context) error {
	if err := e.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from database: %w", err)
	}
	return nil
}

// Drop deletes the whole database; tests use it to clean up.
func (e *Engine) Drop(ctx context.Context) error {
	if err := e.db.Drop(ctx); err != nil {
		return fmt.Errorf("drop database %s: %w", e.db.Name(), err)
	}
	return nil
}

// Database gives direct access to the database, for tests of the engine
// and the moving of old data; the application goes through the layer.
func (e *Engine) Database() *mongo.Database { return e.db }

// Migrate creates the collections and their indexes.
func (e *Engine) Migrate(ctx context.Context, schema docdb.Schema) error {
	existing, err := e.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", translate(err))
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	for _, c := range schema {
		if !have[c.Name] {
			if err := e.db.CreateCollection(ctx, c.Name); err != nil && !isNamespaceExists(err) {
				return fmt.Errorf("create collection %s: %w", c.Name, translate(err))
			}
		}
		for _, ix := range c.Indexes {
			keys := bson.D{}
			for _, f := range ix.Fields {
				keys = append(keys, bson.E{Key: "d." + f, Value: 1})
			}
			if !ix.Unique {
				keys = append(keys, bson.E{Key: "_id", Value: 1})
			}
			model := mongo.IndexModel{Keys: keys, Options: options.Index().SetName(ix.Name).SetUnique(ix.Unique)}
			if _, err := e.db.Collection(c.Name).Indexes().CreateOne(ctx, model); err != nil {
				return fmt.Errorf("create index %s on %s: %w", ix.Name, c.Name, translate(err))
			}
		}
	}
	e.mu.Lock()
	for _, c := range schema {
		e.colls[c.Name] = c
	}
	e.mu.Unlock()
	return nil
}

// stored is a document as kept.
type stored struct {
	ID  string   `bson:"_id"`
	Rev int64    `bson:"_rev"`
	D   bson.Raw `bson:"d"`
}

func decodeInto(raw bson.Raw, v any) error {
	dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(raw)))
	dec.UseJSONStructTags()
	return dec.Decode(v)
}

func (e *Engine) lock(coll, id string) func() {
	key := e.db.Name() + "\x00" + coll + "\x00" + id
	m := &writeLocks.locks[maphash.String(writeLocks.seed, key)%uint64(len(writeLocks.locks))]
	m.Lock()
	return m.Unlock
}

// Get reads document id of coll into v.
func (e *Engine) Get(ctx context.Context, coll, id string, v any) (docdb.Rev, error) {
	var s stored
	if err := e.db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&s); err != nil {
		return 0, fmt.Errorf("get %s %s: %w", coll, id, translate(err))
	}
	if err := decodeInto(s.D, v); err != nil {
		return 0, fmt.Errorf("get %s %s: decode: %w", coll, id, err)
	}
	return docdb.Rev(s.Rev), nil
}

// Insert stores v as new document id of coll.
func (e *Engine) Insert(ctx context.Context, coll, id string, v any) error {
	doc := bson.D{{Key: "_id", Value: id}, {Key: "_rev", Value: int64(docdb.FirstRev())}, {Key: "d", Value: v}}
	if _, err := e.db.Collection(coll).InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("insert %s %s: %w", coll, id, translate(err))
	}
	return nil
}

// Replace stores v as document id of coll if it is at rev.
func (e *Engine) Replace(ctx context.Context, coll, id string, rev docdb.Rev, v any) (docdb.Rev, error) {
	defer e.lock(coll, id)()
	doc := bson.D{{Key: "_id", Value: id}, {Key: "_rev", Value: int64(rev) + 1}, {Key: "d", Value: v}}
	res, err := e.db.Collection(coll).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "_rev", Value: int64(rev)}}, doc)
	if err != nil {
		return 0, fmt.Errorf("replace %s %s: %w", coll, id, translate(err))
	}
	if res.MatchedCount == 0 {
		return 0, fmt.Errorf("replace %s %s at %d: %w", coll, id, rev, e.missingOrStale(ctx, coll, id))
	}
	return rev + 1, nil
}

// Delete removes document id of coll if it is at rev (any with AnyRev).
func (e *Engine) Delete(ctx context.Context, coll, id string, rev docdb.Rev) error {
	defer e.lock(coll, id)()
	filter := bson.D{{Key: "_id", Value: id}}
	if rev != docdb.AnyRev {
		filter = append(filter, bson.E{Key: "_rev", Value: int64(rev)})
	}
	res, err := e.db.Collection(coll).DeleteOne(ctx, filter)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", coll, id, translate(err))
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("delete %s %s: %w", coll, id, e.missingOrStale(ctx, coll, id))
	}
	return nil
}

func (e *Engine) missingOrStale(ctx context.Context, coll, id string) error {
	n, err := e.db.Collection(coll).CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	switch {
	case err != nil:
		return translate(err)
	case n == 0:
		return pathways.ErrNotFound
	}
	return docdb.ErrStale
}

// List calls fn with the documents q selects.
func (e *Engine) List(ctx context.Context, coll string, q docdb.Query, fn func(docdb.Doc) error) error {
	e.mu.RLock()
	c, ok := e.colls[coll]
	e.mu.RUnlock()
	if !ok {
		return fmt.Errorf("mongodb: collection %q not migrated", coll)
	}
	fields, err := q.Check(c)
	if err != nil {
		return err
	}
	filter, sort := bson.D{}, bson.D{}
	for i, f := range fields {
		sort = append(sort, bson.E{Key: "d." + f, Value: 1})
		switch {
		case i < len(q.Eq):
			filter = append(filter, bson.E{Key: "d." + f, Value: q.Eq[i]})
		case i == len(q.Eq) && q.Below != nil:
			filter = append(filter, bson.E{Key: "d." + f, Value: bson.D{{Key: "$lt", Value: q.Below}}})
		}
	}
	if q.AfterID != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.AfterID}}})
	}
	sort = append(sort, bson.E{Key: "_id", Value: 1})
	opts := options.Find().SetSort(sort).SetSkip(int64(q.Offset)).SetLimit(int64(q.Limit)).SetBatchSize(int32(min(q.Limit, 500)))
	cur, err := e.db.Collection(coll).Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("list %s: %w", coll, translate(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var s stored
		if err := cur.Decode(&s); err != nil {
			return fmt.Errorf("list %s: %w", coll, err)
		}
		raw := s.D
		d := docdb.NewDoc(s.ID, docdb.Rev(s.Rev), func(v any) error {
			if err := decodeInto(raw, v); err != nil {
				return fmt.Errorf("list %s: decode %s: %w", coll, s.ID, err)
			}
			return nil
		})
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("list %s: %w", coll, translate(err))
	}
	return nil
}

var _ docdb.Engine = (*Engine)(nil)
