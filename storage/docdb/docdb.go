// Package docdb is the document layer the domain stores are written on,
// once, for both storage engines: SQLite (storage/sqlite, the embedded
// engine of the small box) and MongoDB (storage/mongodb, for replica sets
// and many instances).
//
// A document is a Go value (a private struct of a store, with json tags),
// kept under a string id with a revision. The layer has only what both
// engines do atomically on one document: get by id, insert (a unique id),
// compare-and-swap replace by revision, delete, and listing by a declared
// index with paging. Every read-decide-write of a store is Update (or its
// own loop) over Get and Replace, so it holds with any number of instances
// on one database: two writers that read the same revision cannot both
// write. Nothing here relies on a multi-document transaction, because the
// MongoDB engine must also work without a replica set.
package docdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pathways-lms/pathways"
)

// Rev is a document's revision: a random number when inserted, one more
// at every replace. Random, not 1, so that a document deleted and
// inserted again under its id never repeats a revision a writer may still
// hold from before the delete (that writer's swap must fail, not
// overwrite the new document). AnyRev deletes whatever revision is stored.
type Rev int64

// FirstRev is for engines: the revision of a newly inserted document,
// positive and far from overflowing however often it is replaced.
func FirstRev() Rev { return Rev(rand.Int64N(1<<62) + 1) }

// AnyRev, given to Delete, deletes the document at any revision.
const AnyRev Rev = 0

// ErrStale: the document changed (or was deleted, or created) since the
// revision the write was based on. It wraps pathways.ErrConflict, so one
// that escapes a store's retry loop answers 409.
var ErrStale = fmt.Errorf("%w: document changed since it was read", pathways.ErrConflict)

// Engine is one storage engine. Errors wrap pathways.ErrNotFound (no such
// document), pathways.ErrConflict (the id or a unique index key is taken;
// ErrStale for a lost compare-and-swap) and pathways.ErrUnavailable (the
// database cannot be reached or is busy); a cancelled or expired ctx
// gives an error wrapping ctx.Err().
type Engine interface {
	// Get decodes document id of coll into v and returns its revision.
	Get(ctx context.Context, coll, id string, v any) (Rev, error)
	// Insert stores v as a new document id at FirstRev; ErrConflict if id
	// (or a unique index key) is taken.
	Insert(ctx context.Context, coll, id string, v any) error
	// Replace stores v as document id if it is still at revision rev, and
	// returns the new revision. It returns ErrStale if the document is at
	// another revision, and ErrNotFound if it does not exist.
	Replace(ctx context.Context, coll, id string, rev Rev, v any) (Rev, error)
	// Delete removes document id if it is at revision rev (any revision
	// with AnyRev): ErrNotFound if it does not exist, ErrStale if it is at
	// another revision.
	Delete(ctx context.Context, coll, id string, rev Rev) error
	// List calls fn with the documents q selects, in the index's order
	// (its fields ascending, then id), until fn returns an error (which
	// List returns) or the page ends.
	List(ctx context.Context, coll string, q Query, fn func(Doc) error) error

	// Migrate creates the collections and indexes of schema; it is
	// idempotent and leaves what exists.
	Migrate(ctx context.Context, schema Schema) error
	// Ping checks the database answers (pathways.ErrUnavailable if not).
	Ping(ctx context.Context) error
	// Kind names the engine: "sqlite" or "mongodb".
	Kind() string
	// Close releases the engine's connections.
	Close(ctx context.Context) error
}

// Doc is one document of a listing, valid during the call of List's fn
// it is given to.
type Doc struct {
	ID     string
	Rev    Rev
	decode func(v any) error
}

// NewDoc is for engines: a listed document and how to decode its body.
func NewDoc(id string, rev Rev, decode func(v any) error) Doc {
	return Doc{ID: id, Rev: rev, decode: decode}
}

// Decode decodes the document's body into v.
func (d Doc) Decode(v any) error { return d.decode(v) }

// Schema declares every collection of a database and its indexes.
type Schema []Collection

// Collection is a named set of documents with their secondary indexes.
type Collection struct {
	Name    string
	Indexes []Index
}

// Index is a secondary index over top-level scalar fields of the documents
// (json names: strings, integers or booleans, never arrays; store times as
// integer milliseconds so they order as times). A non-unique index orders
// by its fields and then the id; a unique one refuses a second document
// with the same values (documents missing a field are not indexed by
// SQLite's partial rule: see storage/sqlite).
type Index struct {
	Name   string
	Fields []string
	Unique bool
}

// Index returns the named index of c.
func (c Collection) Index(name string) (Index, bool) {
	for _, ix := range c.Indexes {
		if ix.Name == name {
			return ix, true
		}
	}
	return Index{}, false
}

// Collection returns the named collection of s.
func (s Schema) Collection(name string) (Collection, bool) {
	for _, c := range s {
		if c.Name == name {
			return c, true
		}
	}
	return Collection{}, false
}

// MaxLimit is the largest page one List may ask for: a listing's cost is
// bounded whatever the installation holds.
const MaxLimit = 1000

// Query selects a page of a collection through one index.
type Query struct {
	// Index is the declared index to walk; empty walks the ids.
	Index string
	// Eq fixes the index's first len(Eq) fields to these values.
	Eq []any
	// Below, if not nil, bounds the field after Eq: only documents whose
	// value is less than Below (for "made before" sweeps).
	Below any
	// AfterID keeps only ids greater than it: paging by id, when Eq fixes
	// every field of the index (or there is no index).
	AfterID string
	// Offset skips that many documents; Limit (1..MaxLimit) ends the page.
	Offset, Limit int
}

// Check reports a query the engines would not answer: an unknown index,
// more values than fields, a Below with no field left, a limit out of
// range. Engines call it before running q.
func (q Query) Check(c Collection) ([]string, error) {
	var fields []string
	if q.Index != "" {
		ix, ok := c.Index(q.Index)
		if !ok {
			return nil, fmt.Errorf("docdb: collection %s has no index %q", c.Name, q.Index)
		}
		fields = ix.Fields
	}
	switch {
	case len(q.Eq) > len(fields):
		return nil, fmt.Errorf("docdb: %d values for index %q of %d fields", len(q.Eq), q.Index, len(fields))
	case q.Below != nil && len(q.Eq) >= len(fields):
		return nil, fmt.Errorf("docdb: Below with no field left in index %q", q.Index)
	case q.AfterID != "" && len(q.Eq) < len(fields):
		return nil, fmt.Errorf("docdb: AfterID needs every field of index %q fixed", q.Index)
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, fmt.Errorf("docdb: limit %d out of 1..%d", q.Limit, MaxLimit)
	case q.Offset < 0:
		return nil, fmt.Errorf("docdb: negative offset %d", q.Offset)
	}
	return fields, nil
}

// MaxTries bounds the compare-and-swap retries of Update; reaching it
// returns ErrStale. Contention that high on one document is a design
// error (a hot document), so it is reported rather than waited out.
const MaxTries = 64

// Update reads document id of coll, lets change modify it and replaces it
// if nobody wrote it meanwhile; on ErrStale it reads again and calls
// change again, so change must decide from the document alone (no side
// effects it cannot repeat). missing, if not nil, gives the document to
// start from when there is none (the write is then an insert, which a
// concurrent insert turns into a retry); with missing nil a missing
// document is ErrNotFound. An error from change aborts without writing.
// It returns the document as written and its revision, which is 0 when
// the write was the insert (the engine chose it; Get tells it).
func Update[D any](ctx context.Context, e Engine, coll, id string, missing func() (D, error), change func(*D) error) (D, Rev, error) {
	var zero D
	for try := 0; ; try++ {
		if try == MaxTries {
			return zero, 0, fmt.Errorf("update %s %s: %d tries: %w", coll, id, MaxTries, ErrStale)
		}
		if try > 0 {
			if err := backoff(ctx, try); err != nil {
				return zero, 0, err
			}
		}
		var d D
		rev, err := e.Get(ctx, coll, id, &d)
		if errors.Is(err, pathways.ErrNotFound) && missing != nil {
			d, err = missing()
		}
		if err != nil {
			return zero, 0, err
		}
		if err := change(&d); err != nil {
			return zero, 0, err
		}
		if rev == 0 {
			err = e.Insert(ctx, coll, id, d)
			if errors.Is(err, pathways.ErrConflict) {
				continue // created meanwhile: decide again on it
			}
			if err != nil {
				return zero, 0, err
			}
			return d, 0, nil
		}
		rev, err = e.Replace(ctx, coll, id, rev, d)
		switch {
		case errors.Is(err, ErrStale):
			continue
		case errors.Is(err, pathways.ErrNotFound) && missing != nil:
			continue // deleted meanwhile: start again from missing
		case err != nil:
			return zero, 0, err
		}
		return d, rev, nil
	}
}

// backoff sleeps a little before retry try, more with every try and
// jittered, so writers that lost a race do not collide again in step.
func backoff(ctx context.Context, try int) error {
	ceiling := time.Duration(min(try, 20)) * time.Millisecond
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Each visits every document q selects, page by page (q.Limit per page,
// 500 if unset), for scans off the request path: clean-up jobs and
// exports. Pages follow the last id seen on a walk of the ids, and an
// offset on an index, so a sweep that
// deletes what it visits may leave some for its next run. q must not set
// Offset or AfterID.
func Each(ctx context.Context, e Engine, coll string, q Query, fn func(Doc) error) error {
	if q.Limit == 0 {
		q.Limit = 500
	}
	byID := q.Index == ""
	for {
		n, last := 0, ""
		err := e.List(ctx, coll, q, func(d Doc) error {
			n++
			last = d.ID
			return fn(d)
		})
		if err != nil {
			return err
		}
		if n < q.Limit {
			return nil
		}
		if byID {
			q.AfterID = last
		} else {
			q.Offset += n
		}
	}
}
