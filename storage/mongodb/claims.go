package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
)

// claims is a collection of claims: documents whose _id is a claimed key
// (a username, a skeleton, "<org>/<slug>"), naming their owner in a field
// (ownerField) and recording when they were made (claimed_at) and that the
// sweep has not yet seen their owner (pending). A claim is made by a
// unique insert before its owner is stored; a create that crashes in
// between leaves a claim without an owner, which take treats as free once
// it is older than pathways.ClaimGrace and sweep removes.
//
// Every change of a claim other than its insert is a compare-and-swap on
// the claim as it was read (sameClaim): atomic on MongoDB between
// instances; on the embedded database, where updates are not atomic and
// any filter but {_id} is evaluated over the whole collection, the
// document lock makes it atomic within the one process, and the scan is
// paid only when the swap is about to succeed (a takeover, an undo, the
// sweep), never on the common paths.
type claims struct {
	db         *mongo.Database
	locks      *docLocks
	name       string
	ownerField string
}

// claim is a claim as read.
type claim struct {
	Key   string
	Owner string
	At    time.Time // zero on claims made before times were recorded
}

func (c claims) col() *mongo.Collection { return c.db.Collection(c.name) }

func (c claims) doc(key, owner string, at time.Time) bson.D {
	return bson.D{{Key: "_id", Value: key}, {Key: c.ownerField, Value: owner},
		{Key: "claimed_at", Value: msUTC(at)}, {Key: "pending", Value: true}}
}

// sameClaim matches cl exactly as it was read.
func (c claims) sameClaim(cl claim) bson.D {
	at := any(cl.At)
	if cl.At.IsZero() {
		at = bson.D{{Key: "$exists", Value: false}}
	}
	return bson.D{{Key: "_id", Value: cl.Key}, {Key: c.ownerField, Value: cl.Owner}, {Key: "claimed_at", Value: at}}
}

func (c claims) decode(raw bson.Raw) (claim, error) {
	cl := claim{}
	var ok bool
	if cl.Key, ok = raw.Lookup("_id").StringValueOK(); !ok {
		return claim{}, fmt.Errorf("claim in %s without a string _id", c.name)
	}
	cl.Owner, _ = raw.Lookup(c.ownerField).StringValueOK()
	if dt, ok := raw.Lookup("claimed_at").DateTimeOK(); ok {
		cl.At = time.UnixMilli(dt).UTC()
	}
	return cl, nil
}

// read returns the claim on key, or ErrNotFound.
func (c claims) read(ctx context.Context, key string) (claim, error) {
	raw, err := c.col().FindOne(ctx, byID(key)).Raw()
	if err != nil {
		return claim{}, fmt.Errorf("read claim %q: %w", key, translate(err))
	}
	return c.decode(raw)
}

// take claims key for owner at time at (the caller's now). It reports
// whether this call made the claim: a claim that already names owner (left
// by an interrupted earlier call with the same id, or a concurrent one) is
// accepted but not made here, so the caller must not release it on
// failure. A claim of another owner is ErrConflict while it is younger
// than pathways.ClaimGrace or owned says its owner exists; otherwise it is
// taken over by a compare-and-swap, so of two creates only one gets it.
func (c claims) take(ctx context.Context, key, owner string, at time.Time, owned func(context.Context, claim) (bool, error)) (bool, error) {
	for range 3 {
		_, err := c.col().InsertOne(ctx, c.doc(key, owner, at))
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, fmt.Errorf("claim %q: %w", key, translate(err))
		}
		cur, err := c.read(ctx, key)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue // released meanwhile: insert again
		case err != nil:
			return false, err
		case cur.Owner == owner:
			return false, nil
		case !cur.At.Before(at.Add(-pathways.ClaimGrace)):
			return false, fmt.Errorf("claim %q: %w", key, pathways.ErrConflict)
		}
		ok, err := owned(ctx, cur)
		if err != nil {
			return false, fmt.Errorf("claim %q: owner %s: %w", key, cur.Owner, err)
		}
		if ok {
			return false, fmt.Errorf("claim %q: %w", key, pathways.ErrConflict)
		}
		won, err := c.swap(ctx, cur, func(filter bson.D) (int64, error) {
			res, err := c.col().ReplaceOne(ctx, filter, c.doc(key, owner, at))
			if err != nil {
				return 0, err
			}
			return res.MatchedCount, nil
		})
		if err != nil || won {
			return won, err
		}
	}
	return false, fmt.Errorf("claim %q: changing hands: %w", key, pathways.ErrConflict)
}

// swap runs write, a write filtered by sameClaim(cl), under the claim's
// document lock, and reports whether it matched.
func (c claims) swap(ctx context.Context, cl claim, write func(filter bson.D) (int64, error)) (bool, error) {
	defer c.locks.lock(c.name, cl.Key)()
	n, err := write(c.sameClaim(cl))
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", cl.Key, translate(err))
	}
	return n > 0, nil
}

// release deletes the claim on key if it names owner: the undo of a
// create that failed after take made the claim.
func (c claims) release(ctx context.Context, key, owner string) error {
	cur, err := c.read(ctx, key)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		return nil
	case err != nil:
		return err
	case cur.Owner != owner:
		return nil
	}
	_, err = c.swap(ctx, cur, func(filter bson.D) (int64, error) {
		res, err := c.col().DeleteOne(ctx, filter)
		if err != nil {
			return 0, err
		}
		return res.DeletedCount, nil
	})
	return err
}

// sweepPages bounds the pages one sweep of a collection looks at; what is
// left waits for the next run.
const sweepPages = 20

// sweep looks at the pending claims made before before (and those made
// before times were recorded), a page at a time: a claim whose owner
// exists is settled (no longer pending, so later sweeps skip it), one
// without is deleted. Both are compare-and-swaps, so a claim taken over
// meanwhile is left alone. It scans: background jobs only.
func (c claims) sweep(ctx context.Context, before time.Time, owned func(context.Context, claim) (bool, error)) (removed int, err error) {
	filter := bson.D{
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: false}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "claimed_at", Value: bson.D{{Key: "$lt", Value: msUTC(before)}}}},
			bson.D{{Key: "claimed_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		}},
	}
	for range sweepPages {
		cur, err := c.col().Find(ctx, filter, options.Find().SetLimit(pruneBatch))
		if err != nil {
			return removed, fmt.Errorf("sweep %s: %w", c.name, translate(err))
		}
		var page []bson.Raw
		if err := cur.All(ctx, &page); err != nil {
			return removed, fmt.Errorf("sweep %s: %w", c.name, translate(err))
		}
		for _, raw := range page {
			cl, err := c.decode(raw)
			if err != nil {
				return removed, err
			}
			ok, err := owned(ctx, cl)
			if err != nil {
				return removed, fmt.Errorf("sweep %s: owner of %q: %w", c.name, cl.Key, err)
			}
			var n int64
			_, err = c.swap(ctx, cl, func(filter bson.D) (int64, error) {
				if ok {
					res, err := c.col().UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: false}}}})
					if err != nil {
						return 0, err
					}
					return res.MatchedCount, nil
				}
				res, err := c.col().DeleteOne(ctx, filter)
				if err != nil {
					return 0, err
				}
				n = res.DeletedCount
				return n, nil
			})
			if err != nil {
				return removed, fmt.Errorf("sweep %s: %w", c.name, err)
			}
			removed += int(n)
		}
		if len(page) < pruneBatch {
			break
		}
	}
	return removed, nil
}
