// Package stores implements the domain stores (accounts.Store,
// courses.Store, assessments.Store, assets.Store) once, on the document
// layer (storage/docdb), so they run unchanged on both engines: SQLite
// (storage/sqlite) and MongoDB (storage/mongodb). It owns the private
// document types, their converters, the collections and their indexes;
// DESIGN.md's store rules apply: request paths read by id, lists are
// documents or paged indexes, and every read-decide-write is a
// compare-and-swap on a revision, retried on conflict.
package stores

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways/storage/docdb"
)

// DB is the domain stores on one engine.
type DB struct {
	e docdb.Engine
}

// New returns the stores on e; call Migrate before use.
func New(e docdb.Engine) *DB { return &DB{e: e} }

// Engine is the engine the stores run on.
func (db *DB) Engine() docdb.Engine { return db.e }

// Migrate creates every collection and index the stores need; it is
// idempotent.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.e.Migrate(ctx, Schema()); err != nil {
		return fmt.Errorf("migrate %s: %w", db.e.Kind(), err)
	}
	return nil
}

// Schema is every collection of the stores with its indexes.
func Schema() docdb.Schema {
	var s docdb.Schema
	for _, part := range []docdb.Schema{accountsSchema, groupsSchema, assetsSchema, coursesSchema, assessmentsSchema, rightsSchema, learningSchema} {
		s = append(s, part...)
	}
	return s
}

// unixMS is t in Unix milliseconds, 0 for the zero time: how documents
// keep the times they are indexed or compared by.
func unixMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the time of Unix milliseconds ms, UTC; 0 is the zero time.
func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// msUTC is t truncated to milliseconds in UTC, as both engines keep
// times; the zero time stays zero.
func msUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Millisecond).UTC()
}
