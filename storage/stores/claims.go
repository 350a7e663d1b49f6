package stores

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// claims is a collection of claims: documents whose id is a claimed key (a
// username, a skeleton, "<org>/<slug>"), naming their owner, when they
// were made and whether the sweep has yet seen their owner (pending). A
// claim is made by a unique insert before its owner is stored; a create
// that crashes in between leaves a claim without an owner, which take
// treats as free once it is older than pathways.ClaimGrace and sweep
// removes. Every change of a claim other than its insert is a
// compare-and-swap on the revision read, so of two instances taking over
// one claim only one wins.
type claims struct {
	e    docdb.Engine
	name string
}

// claimDoc is a claim as stored.
type claimDoc struct {
	Owner     string `json:"owner"`
	ClaimedAt int64  `json:"claimed_at"` // Unix ms; 0 on claims made before times were recorded
	Pending   bool   `json:"pending"`
}

// claim is a claim as read.
type claim struct {
	Key   string
	Owner string
	At    time.Time // zero on claims made before times were recorded
	rev   docdb.Rev
}

// claimIndexes are the indexes of every claims collection: the sweep
// looks for pending claims by age.
var claimIndexes = []docdb.Index{{Name: "pending_claimed_at", Fields: []string{"pending", "claimed_at"}}}

func (c claims) toClaim(key string, rev docdb.Rev, d claimDoc) claim {
	return claim{Key: key, Owner: d.Owner, At: fromMS(d.ClaimedAt), rev: rev}
}

// read returns the claim on key, or ErrNotFound.
func (c claims) read(ctx context.Context, key string) (claim, error) {
	var d claimDoc
	rev, err := c.e.Get(ctx, c.name, key, &d)
	if err != nil {
		return claim{}, fmt.Errorf("read claim %q: %w", key, err)
	}
	return c.toClaim(key, rev, d), nil
}

// take claims key for owner at time at (the caller's now). It reports
// whether this call made the claim: a claim that already names owner (left
// by an interrupted earlier call with the same id, or a concurrent one) is
// accepted but not made here, so the caller must not release it on
// failure. A claim of another owner is ErrConflict while it is younger
// than pathways.ClaimGrace or owned says its owner exists; otherwise it is
// taken over by a compare-and-swap, so of two creates only one gets it.
func (c claims) take(ctx context.Context, key, owner string, at time.Time, owned func(context.Context, claim) (bool, error)) (bool, error) {
	doc := claimDoc{Owner: owner, ClaimedAt: unixMS(at), Pending: true}
	for range 3 {
		err := c.e.Insert(ctx, c.name, key, doc)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, pathways.ErrConflict) {
			return false, fmt.Errorf("claim %q: %w", key, err)
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
		_, err = c.e.Replace(ctx, c.name, key, cur.rev, doc)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, docdb.ErrStale), errors.Is(err, pathways.ErrNotFound):
			continue // changed hands meanwhile: look again
		default:
			return false, fmt.Errorf("claim %q: %w", key, err)
		}
	}
	return false, fmt.Errorf("claim %q: changing hands: %w", key, pathways.ErrConflict)
}

// release deletes the claim on key if it names owner: the undo of a
// create that failed after take made the claim. A claim taken over
// meanwhile is left alone.
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
	err = c.e.Delete(ctx, c.name, key, cur.rev)
	if err != nil && !errors.Is(err, docdb.ErrStale) && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("release claim %q: %w", key, err)
	}
	return nil
}

// sweepLimit bounds the claims one sweep of a collection looks at; what
// is left waits for the next run.
const sweepLimit = 20 * 500

// sweep looks at the pending claims made before before, oldest first: a
// claim whose owner exists is settled (no longer pending, so later sweeps
// skip it), one without is deleted. Both are compare-and-swaps, so a
// claim taken over meanwhile is left alone. It reads an index: background
// jobs only.
func (c claims) sweep(ctx context.Context, before time.Time, owned func(context.Context, claim) (bool, error)) (removed int, err error) {
	var page []claim
	q := docdb.Query{Index: "pending_claimed_at", Eq: []any{true}, Below: before.UnixMilli(), Limit: 500}
	for seen := 0; seen < sweepLimit; seen += q.Limit {
		page = page[:0]
		err := c.e.List(ctx, c.name, q, func(d docdb.Doc) error {
			var cd claimDoc
			if err := d.Decode(&cd); err != nil {
				return err
			}
			page = append(page, c.toClaim(d.ID, d.Rev, cd))
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("sweep %s: %w", c.name, err)
		}
		gone := 0 // settled or removed: out of the index now
		for _, cl := range page {
			ok, err := owned(ctx, cl)
			if err != nil {
				return removed, fmt.Errorf("sweep %s: owner of %q: %w", c.name, cl.Key, err)
			}
			if ok {
				_, err = c.e.Replace(ctx, c.name, cl.Key, cl.rev, claimDoc{Owner: cl.Owner, ClaimedAt: unixMS(cl.At), Pending: false})
				if err == nil {
					gone++
				}
			} else if err = c.e.Delete(ctx, c.name, cl.Key, cl.rev); err == nil {
				gone++
				removed++
			}
			if err != nil && !errors.Is(err, docdb.ErrStale) && !errors.Is(err, pathways.ErrNotFound) {
				return removed, fmt.Errorf("sweep %s: %w", c.name, err)
			}
		}
		if len(page) < q.Limit {
			break
		}
		// What this page settled or removed left the index; what it could
		// not (changed meanwhile) is skipped by the offset.
		q.Offset += len(page) - gone
	}
	return removed, nil
}
