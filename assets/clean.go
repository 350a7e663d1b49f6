package assets

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pathways-lms/pathways"
)

// CleanReport counts what one clean-up run repaired.
type CleanReport struct {
	// ExpiredUploads were resumable uploads left unfinished too long.
	ExpiredUploads int
	// OrphanBlobs were stored bytes no record referred to.
	OrphanBlobs int
	// StaleClaims were references from blob records to assets that do
	// not exist (older than pathways.ClaimGrace, so that uploads being
	// recorded are left alone); EmptyRecords were blob records left with
	// none.
	StaleClaims  int
	EmptyRecords int
	// StaleUses were media uses older than pathways.ClaimGrace that no
	// published version accounts for (see CheckUses).
	StaleUses int
	// MissingBlobs were assets whose bytes are gone: they are deleted
	// (their bytes cannot come back) and logged.
	MissingBlobs int
	// Relisted and Unlisted were library entries added (or refreshed)
	// for assets that lacked one (or whose entry was out of step), and
	// removed for assets that no longer exist.
	Relisted int
	Unlisted int
}

// Clean repairs what interrupted work can leave behind: unfinished
// uploads past their time, bytes without a record (older than OrphanAge,
// so that uploads in flight are left alone), records without bytes, blob
// claims of assets that do not exist and media uses no published version
// accounts for (both once older than pathways.ClaimGrace), and library
// entries out of step with the assets. Every removal is checked again by
// id just before it is made. It scans every collection, so it runs in the
// background, never in a request.
func (s *Service) Clean(ctx context.Context) (CleanReport, error) {
	var r CleanReport
	now := s.now()

	// 1. Expired uploads.
	active := map[string]bool{} // blob keys of uploads still running
	var expired []Upload
	if err := s.store.EachUpload(ctx, func(u Upload) error {
		if now.Before(u.Expires) {
			active[u.BlobKey] = true
		} else {
			expired = append(expired, u)
		}
		return nil
	}); err != nil {
		return r, fmt.Errorf("clean: uploads: %w", err)
	}
	for _, u := range expired {
		if err := s.blobs.AbortMultipart(ctx, u.BlobKey, u.MultipartID); err != nil {
			return r, fmt.Errorf("clean: abort upload %s: %w", u.ID, err)
		}
		if err := s.store.DeleteUpload(ctx, u.ID); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return r, fmt.Errorf("clean: delete upload %s: %w", u.ID, err)
		}
		r.ExpiredUploads++
	}

	// 2. Assets, by content.
	assets := map[string]Asset{}
	if err := s.store.EachAsset(ctx, func(a Asset) error {
		assets[a.ID] = a
		return nil
	}); err != nil {
		return r, fmt.Errorf("clean: assets: %w", err)
	}

	// 3. Uses no version accounts for.
	stale := now.Add(-pathways.ClaimGrace)
	for _, id := range slices.Sorted(maps.Keys(assets)) {
		a := assets[id]
		for _, u := range a.Uses {
			shows := s.showsOf(u.Ref)
			if shows == nil || !u.At.Before(stale) {
				continue // unknown, or its publisher may still be storing the version
			}
			ok, err := shows(ctx, u.Ref, a.ID)
			if err != nil {
				return r, fmt.Errorf("clean: use %s of %s: %w", u.Ref, a.ID, err)
			}
			if ok {
				continue
			}
			a2, err := s.store.PullUse(ctx, a.ID, u)
			if errors.Is(err, pathways.ErrNotFound) {
				delete(assets, id) // deleted since the scan
				break
			}
			if err != nil {
				return r, fmt.Errorf("clean: remove use %s of %s: %w", u.Ref, a.ID, err)
			}
			if len(a2.Uses) < len(assets[id].Uses) {
				r.StaleUses++
			}
			assets[id] = a2
		}
	}

	// 3b. Blob records: drop claims of assets that do not exist (made
	// before the grace: an upload claims its content before it stores the
	// asset), records left empty, and note which keys are referred to.
	referred := map[string]bool{}
	recorded := map[string]Blob{} // by SHA-256
	if err := s.store.EachBlob(ctx, func(b Blob) error {
		recorded[b.SHA256] = b
		return nil
	}); err != nil {
		return r, fmt.Errorf("clean: blob records: %w", err)
	}
	for sha, b := range recorded {
		for _, id := range b.Assets {
			if _, ok := assets[id]; ok || !b.Claimed[id].Before(stale) {
				continue
			}
			if _, err := s.store.Asset(ctx, id); !errors.Is(err, pathways.ErrNotFound) {
				continue // created since the scan, or the store is failing
			}
			b2, last, err := s.store.ReleaseBlob(ctx, sha, id)
			if err != nil {
				return r, fmt.Errorf("clean: release %s of %s: %w", id, sha, err)
			}
			r.StaleClaims++
			if last {
				if err := s.blobs.Delete(ctx, b2.Key); err != nil {
					return r, fmt.Errorf("clean: delete %s: %w", b2.Key, err)
				}
				r.EmptyRecords++
				delete(recorded, sha)
			}
		}
		if b, ok := recorded[sha]; ok {
			referred[b.Key] = true
		}
	}

	// 4. Assets whose bytes are gone, or whose record is.
	var missing []Asset
	for _, a := range assets {
		_, err := s.blobs.Stat(ctx, a.BlobKey)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			missing = append(missing, a)
		case err != nil:
			return r, fmt.Errorf("clean: stat %s: %w", a.BlobKey, err)
		case recorded[a.SHA256].Key != a.BlobKey:
			// The bytes are there but the record is not: claim them again.
			if _, err := s.store.ClaimBlob(ctx, Blob{SHA256: a.SHA256, Key: a.BlobKey, Size: a.Size, Created: a.Created}, a.ID, now); err != nil {
				return r, fmt.Errorf("clean: reclaim %s: %w", a.SHA256, err)
			}
			referred[a.BlobKey] = true
		}
	}
	if len(missing) >= 2 && len(missing)*2 > len(assets) {
		// Most bytes gone at once is a misconfigured store (an empty
		// bucket, a wrong directory), not an accident to tidy up.
		return r, fmt.Errorf("clean: %d of %d assets have no bytes; is the media store the right one? Nothing deleted: %w",
			len(missing), len(assets), pathways.ErrUnavailable)
	}
	for _, a := range missing {
		if len(a.Uses) > 0 {
			// A published version shows it: keep the record, so the
			// course says what is missing, and tell the operators.
			s.log.ErrorContext(ctx, "asset of a published course has no bytes", "asset", a.ID, "org", a.OrgID, "name", a.Name)
			continue
		}
		if _, err := s.store.DeleteAsset(ctx, a.ID, func(Asset) error { return nil }); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return r, fmt.Errorf("clean: delete asset %s without bytes: %w", a.ID, err)
		}
		if _, _, err := s.store.ReleaseBlob(ctx, a.SHA256, a.ID); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return r, fmt.Errorf("clean: release %s: %w", a.SHA256, err)
		}
		s.log.WarnContext(ctx, "asset deleted: its bytes are missing", "asset", a.ID, "org", a.OrgID, "name", a.Name)
		delete(assets, a.ID)
		r.MissingBlobs++
	}

	// 5. Bytes no record or running upload refers to.
	cutoff := now.Add(-s.cfg.OrphanAge)
	var orphans []string
	if err := s.blobs.List(ctx, "blobs/", func(bi BlobInfo) error {
		if !referred[bi.Key] && !active[bi.Key] && bi.Modified.Before(cutoff) {
			orphans = append(orphans, bi.Key)
		}
		return nil
	}); err != nil {
		return r, fmt.Errorf("clean: list blobs: %w", err)
	}
	for _, key := range orphans {
		if err := s.blobs.Delete(ctx, key); err != nil {
			return r, fmt.Errorf("clean: delete orphan %s: %w", key, err)
		}
		r.OrphanBlobs++
	}

	// 6. Libraries in step with the assets.
	listed := map[string]bool{}
	type entry struct{ org, id string }
	var unlist []entry
	if err := s.store.EachLibrary(ctx, func(l Library) error {
		for _, it := range l.Items {
			if a, ok := assets[it.ID]; ok {
				// An entry that says otherwise than its asset (a crash
				// between the asset's write and its entry's) is relisted.
				listed[it.ID] = sameItem(it, ItemOf(a))
			} else {
				unlist = append(unlist, entry{l.OrgID, it.ID})
			}
		}
		return nil
	}); err != nil {
		return r, fmt.Errorf("clean: libraries: %w", err)
	}
	for _, e := range unlist {
		if _, err := s.store.Asset(ctx, e.id); !errors.Is(err, pathways.ErrNotFound) {
			continue
		}
		if err := s.store.UnlistAsset(ctx, e.org, e.id); err != nil {
			return r, fmt.Errorf("clean: unlist %s: %w", e.id, err)
		}
		r.Unlisted++
	}
	ids := make([]string, 0, len(assets))
	for id := range assets {
		if !listed[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := s.store.ListAsset(ctx, assets[id]); err != nil {
			return r, fmt.Errorf("clean: relist %s: %w", id, err)
		}
		r.Relisted++
	}
	return r, nil
}

// sameItem reports whether two library entries say the same (times as
// instants).
func sameItem(a, b LibraryItem) bool {
	t := a.Created
	a.Created = b.Created
	return a == b && t.Equal(b.Created)
}
