package stores

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of the assets store, under the old store's names.
const (
	collAssets    = "media_assets"    // by asset id
	collBlobs     = "media_blobs"     // by SHA-256 (hex)
	collLibraries = "media_libraries" // by organisation id
	collUploads   = "media_uploads"   // by upload id (the asset's to be)
)

// assetsSchema is the collections of the assets store. None needs a
// secondary index: requests read by id, and the clean-up's scans walk
// the ids.
var assetsSchema = docdb.Schema{{Name: collAssets}, {Name: collBlobs}, {Name: collLibraries}, {Name: collUploads}}

// AssetsStore implements assets.Store on the document layer. Every
// request reads and writes by id: assets by id, blob records by SHA-256,
// libraries by organisation id, uploads by id. Every read-decide-write is
// a compare-and-swap on the document's revision, retried, so it holds
// with any number of instances.
//
// An organisation's library stays one document, bounded by
// assets.MaxLibrarySize: the listing filters by name, kind, locale,
// owner and use and answers a total, and the usage endpoint sums the
// whole library, which one bounded read answers and a paged index over
// the assets could only by reading up to MaxLibrarySize asset documents.
// It grows with the organisation's library, never with the installation.
// Two documents change together in three places (an asset and its
// library entry); each method says how a crash between them is repaired.
type AssetsStore struct {
	e docdb.Engine
	// libraryCap is assets.MaxLibrarySize; the tests lower it, as a
	// library of 10,000 entries takes seconds a write on FerretDB.
	libraryCap int
}

var _ assets.Store = (*AssetsStore)(nil)

// Assets returns the media library store of db.
func (db *DB) Assets() *AssetsStore { return &AssetsStore{e: db.e, libraryCap: assets.MaxLibrarySize} }

// assetUseDoc is one use of an asset; At is zero on uses recorded before
// times were.
type assetUseDoc struct {
	Ref   string    `json:"ref"`
	OrgID string    `json:"org_id,omitempty"`
	At    time.Time `json:"at"`
}

type assetDoc struct {
	OrgID       string        `json:"org_id"`
	OwnerID     string        `json:"owner_id"`
	Kind        string        `json:"kind"`
	ContentType string        `json:"content_type"`
	Size        int64         `json:"size"`
	SHA256      string        `json:"sha256"`
	BlobKey     string        `json:"blob_key"`
	Name        string        `json:"name,omitempty"`
	Locale      string        `json:"locale,omitempty"`
	AltText     string        `json:"alt_text,omitempty"`
	Transcript  string        `json:"transcript,omitempty"`
	Uses        []assetUseDoc `json:"uses,omitempty"`
	Created     time.Time     `json:"created_at"`
	Updated     time.Time     `json:"updated_at"`
}

func toAssetDoc(a assets.Asset) assetDoc {
	d := assetDoc{
		OrgID: a.OrgID, OwnerID: a.OwnerID, Kind: string(a.Kind), ContentType: a.ContentType,
		Size: a.Size, SHA256: a.SHA256, BlobKey: a.BlobKey, Name: a.Name, Locale: a.Locale,
		AltText: a.AltText, Transcript: a.Transcript, Created: msUTC(a.Created), Updated: msUTC(a.Updated),
	}
	for _, u := range a.Uses {
		d.Uses = append(d.Uses, assetUseDoc{Ref: u.Ref, OrgID: u.OrgID, At: msUTC(u.At)})
	}
	return d
}

func (d assetDoc) toAsset(id string) assets.Asset {
	a := assets.Asset{
		ID: id, OrgID: d.OrgID, OwnerID: d.OwnerID, Kind: assets.Kind(d.Kind), ContentType: d.ContentType,
		Size: d.Size, SHA256: d.SHA256, BlobKey: d.BlobKey, Name: d.Name, Locale: d.Locale,
		AltText: d.AltText, Transcript: d.Transcript, Created: msUTC(d.Created), Updated: msUTC(d.Updated),
	}
	for _, u := range d.Uses {
		a.Uses = append(a.Uses, assets.Use{Ref: u.Ref, OrgID: u.OrgID, At: msUTC(u.At)})
	}
	return a
}

// libraryItemDoc is an asset's entry in its organisation's library.
type libraryItemDoc struct {
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Name        string    `json:"name,omitempty"`
	Locale      string    `json:"locale,omitempty"`
	OwnerID     string    `json:"owner_id"`
	Used        bool      `json:"used,omitempty"`
	Created     time.Time `json:"created_at"`
}

// same reports whether two entries say the same (times as instants).
func (it libraryItemDoc) same(o libraryItemDoc) bool {
	t := it.Created
	it.Created = o.Created
	return it == o && t.Equal(o.Created)
}

// libraryDoc lists an organisation's assets, keyed by asset id (a UUID:
// no '.' or '$' in a key; addEntry refuses any other).
type libraryDoc struct {
	Items map[string]libraryItemDoc `json:"items"`
}

func toLibraryItemDoc(a assets.Asset) libraryItemDoc {
	return libraryItemDoc{
		Kind: string(a.Kind), ContentType: a.ContentType, Size: a.Size, Name: a.Name,
		Locale: a.Locale, OwnerID: a.OwnerID, Used: len(a.Uses) > 0, Created: msUTC(a.Created),
	}
}

func (d libraryDoc) toLibrary(orgID string) assets.Library {
	l := assets.Library{OrgID: orgID, Items: make([]assets.LibraryItem, 0, len(d.Items))}
	for id, it := range d.Items {
		l.Items = append(l.Items, assets.LibraryItem{
			ID: id, Kind: assets.Kind(it.Kind), ContentType: it.ContentType, Size: it.Size, Name: it.Name,
			Locale: it.Locale, OwnerID: it.OwnerID, Used: it.Used, Created: msUTC(it.Created),
		})
	}
	// Newest first, as the listing shows them.
	slices.SortFunc(l.Items, func(a, b assets.LibraryItem) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(a.ID, b.ID))
	})
	return l
}

// errUnchanged aborts an update that has nothing to write.
var errUnchanged = errors.New("unchanged")

// retryWait sleeps a little before retry try of a compare-and-swap loop
// of this file (those that end in a delete, which docdb.Update does not
// do), jittered and longer with every try, as docdb.Update does.
func retryWait(ctx context.Context, try int) error {
	if try == 0 {
		return nil
	}
	t := time.NewTimer(rand.N(time.Duration(min(try, 20))*time.Millisecond) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Asset reads one asset by id.
func (s *AssetsStore) Asset(ctx context.Context, id string) (assets.Asset, error) {
	var d assetDoc
	if _, err := s.e.Get(ctx, collAssets, id, &d); err != nil {
		return assets.Asset{}, fmt.Errorf("read asset %s: %w", id, err)
	}
	return d.toAsset(id), nil
}

// InsertAsset inserts the asset (a unique insert: ErrConflict if the id
// is taken), then adds its entry to the library by a compare-and-swap
// that refuses a library of MaxLibrarySize entries, so two instances
// cannot both fill its last place. If the library is full or cannot be
// written, the asset is deleted again. A crash between the two writes
// leaves an asset without an entry, which the clean-up relists.
func (s *AssetsStore) InsertAsset(ctx context.Context, a assets.Asset) error {
	if strings.ContainsAny(a.ID, ".$") {
		return fmt.Errorf("insert asset %q: not a library key", a.ID)
	}
	if err := s.e.Insert(ctx, collAssets, a.ID, toAssetDoc(a)); err != nil {
		return fmt.Errorf("insert asset %s: %w", a.ID, err)
	}
	if err := s.addEntry(ctx, a, true); err != nil {
		if derr := s.e.Delete(context.WithoutCancel(ctx), collAssets, a.ID, docdb.AnyRev); derr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", derr))
		}
		return fmt.Errorf("insert asset %s: %w", a.ID, err)
	}
	return nil
}

// addEntry adds or refreshes a's entry in its library; capped, a new
// entry is refused once the library holds MaxLibrarySize.
func (s *AssetsStore) addEntry(ctx context.Context, a assets.Asset, capped bool) error {
	if strings.ContainsAny(a.ID, ".$") {
		return fmt.Errorf("list asset %q: not a library key", a.ID)
	}
	item := toLibraryItemDoc(a)
	_, _, err := docdb.Update(ctx, s.e, collLibraries, a.OrgID,
		func() (libraryDoc, error) { return libraryDoc{}, nil },
		func(d *libraryDoc) error {
			old, ok := d.Items[a.ID]
			switch {
			case ok && old.same(item):
				return errUnchanged
			case !ok && capped && len(d.Items) >= s.libraryCap:
				return assets.ErrLibraryFull
			}
			if d.Items == nil {
				d.Items = map[string]libraryItemDoc{}
			}
			d.Items[a.ID] = item
			return nil
		})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("list asset %s in library %s: %w", a.ID, a.OrgID, err)
	}
	return nil
}

// syncEntry brings asset id's entry in library orgID in step with a read
// of the asset made inside the library's compare-and-swap: refreshed if
// it is listed, removed if the asset is gone; an asset not listed stays
// so (an insert in progress lists it, the clean-up a crashed one). As
// every writer of an asset syncs after its write and reads the asset
// after the library, the last sync to succeed saw the asset's last
// write: of concurrent changes, the entry ends as the asset does.
func (s *AssetsStore) syncEntry(ctx context.Context, orgID, id string) error {
	_, _, err := docdb.Update(ctx, s.e, collLibraries, orgID, nil, func(d *libraryDoc) error {
		old, listed := d.Items[id]
		if !listed {
			return errUnchanged
		}
		var a assetDoc
		_, err := s.e.Get(ctx, collAssets, id, &a)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			delete(d.Items, id)
			return nil
		case err != nil:
			return err
		}
		item := toLibraryItemDoc(a.toAsset(id))
		if item.same(old) {
			return errUnchanged
		}
		d.Items[id] = item
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("library entry of %s: %w", id, err)
	}
	return nil
}

// UpdateAsset applies change to a fresh read of the asset and replaces it
// by a compare-and-swap (change runs again on a newer read if another
// write came first), then, if the write changed what the entry shows,
// brings its library entry in step (the entry is a read and a write of
// the whole library: see BenchmarkLibraryEntry). A crash between the two
// leaves a stale entry, which the clean-up refreshes.
func (s *AssetsStore) UpdateAsset(ctx context.Context, id string, change func(*assets.Asset) error) (assets.Asset, error) {
	var listed bool // whether the write changed what the entry shows
	d, _, err := docdb.Update(ctx, s.e, collAssets, id, nil, func(d *assetDoc) error {
		a := d.toAsset(id)
		before := toLibraryItemDoc(a)
		if err := change(&a); err != nil {
			return err
		}
		*d = toAssetDoc(a)
		listed = !before.same(toLibraryItemDoc(d.toAsset(id)))
		return nil
	})
	if err != nil {
		return assets.Asset{}, fmt.Errorf("update asset %s: %w", id, err)
	}
	if !listed {
		return d.toAsset(id), nil // whoever changed the entry's fields last syncs it
	}
	if err := s.syncEntry(ctx, d.OrgID, id); err != nil {
		return assets.Asset{}, fmt.Errorf("update asset %s: %w", id, err)
	}
	return d.toAsset(id), nil
}

// PullUse removes one use equal to u (Ref, OrgID and At) from the asset
// by a compare-and-swap, so a use added or recorded again meanwhile (a
// later At) stays; with none equal it writes nothing. The library entry
// (its Used flag) is then brought in step when the last use went, as in
// UpdateAsset.
func (s *AssetsStore) PullUse(ctx context.Context, id string, u assets.Use) (assets.Asset, error) {
	u.At = msUTC(u.At)
	var seen assetDoc
	d, _, err := docdb.Update(ctx, s.e, collAssets, id, nil, func(d *assetDoc) error {
		i := slices.IndexFunc(d.Uses, func(x assetUseDoc) bool {
			return x.Ref == u.Ref && x.OrgID == u.OrgID && x.At.Equal(u.At)
		})
		if i < 0 {
			seen = *d
			return errUnchanged
		}
		d.Uses = slices.Delete(d.Uses, i, i+1)
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return seen.toAsset(id), nil
	}
	if err != nil {
		return assets.Asset{}, fmt.Errorf("remove use %s of %s: %w", u.Ref, id, err)
	}
	if len(d.Uses) > 0 {
		return d.toAsset(id), nil // still used: the entry shows the same
	}
	if err := s.syncEntry(ctx, d.OrgID, id); err != nil {
		return assets.Asset{}, fmt.Errorf("remove use %s of %s: %w", u.Ref, id, err)
	}
	return d.toAsset(id), nil
}

// DeleteAsset deletes the asset if check approves a fresh read of it: the
// delete is conditional on the revision check saw, so a use added
// meanwhile makes it read and check again. Its library entry goes after
// it; a crash between leaves an entry of no asset, which the clean-up
// removes.
func (s *AssetsStore) DeleteAsset(ctx context.Context, id string, check func(assets.Asset) error) (assets.Asset, error) {
	for try := range docdb.MaxTries {
		if err := retryWait(ctx, try); err != nil {
			return assets.Asset{}, err
		}
		var d assetDoc
		rev, err := s.e.Get(ctx, collAssets, id, &d)
		if err != nil {
			return assets.Asset{}, fmt.Errorf("delete asset %s: %w", id, err)
		}
		a := d.toAsset(id)
		if err := check(a); err != nil {
			return assets.Asset{}, err
		}
		err = s.e.Delete(ctx, collAssets, id, rev)
		if errors.Is(err, docdb.ErrStale) {
			continue
		}
		if err != nil {
			return assets.Asset{}, fmt.Errorf("delete asset %s: %w", id, err)
		}
		if err := s.syncEntry(ctx, a.OrgID, id); err != nil {
			return a, nil // the clean-up removes the entry
		}
		return a, nil
	}
	return assets.Asset{}, fmt.Errorf("delete asset %s: %d tries: %w", id, docdb.MaxTries, docdb.ErrStale)
}

// Library reads an organisation's library, newest first; an organisation
// that never uploaded has an empty one.
func (s *AssetsStore) Library(ctx context.Context, orgID string) (assets.Library, error) {
	var d libraryDoc
	_, err := s.e.Get(ctx, collLibraries, orgID, &d)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return assets.Library{}, fmt.Errorf("read library %s: %w", orgID, err)
	}
	return d.toLibrary(orgID), nil
}

// ListAsset adds or refreshes a's library entry, as a is (the clean-up's
// repair: not capped, as the assets it lists exist already).
func (s *AssetsStore) ListAsset(ctx context.Context, a assets.Asset) error {
	return s.addEntry(ctx, a, false)
}

// UnlistAsset removes an asset's library entry, by a compare-and-swap.
func (s *AssetsStore) UnlistAsset(ctx context.Context, orgID, id string) error {
	_, _, err := docdb.Update(ctx, s.e, collLibraries, orgID, nil, func(d *libraryDoc) error {
		if _, ok := d.Items[id]; !ok {
			return errUnchanged
		}
		delete(d.Items, id)
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("unlist asset %s: %w", id, err)
	}
	return nil
}

// blobDoc is the record of one content. Claimed has no entry for claims
// made before times were recorded. A record whose last asset let go is
// kept, empty (a tombstone, Emptied set), rather than deleted: revisions
// start again at 1 when a document is deleted and inserted anew, so a
// claim that read the old record could otherwise swap its write into a
// new record at the same revision (ABA) and put the old, deleted bytes'
// key back, losing the new record's claims. An empty record reads as
// none: claiming it starts it afresh, Blob and EachBlob skip it.
type blobDoc struct {
	Key     string         `json:"key"`
	Size    int64          `json:"size"`
	Assets  []string       `json:"assets"`
	Claimed []blobClaimDoc `json:"claimed,omitempty"`
	Created time.Time      `json:"created_at"`
	Emptied int64          `json:"emptied_at,omitempty"` // Unix ms
}

// blobClaimDoc is when one asset of a blob record claimed it (a list, not
// a map, so that no asset id becomes a field name).
type blobClaimDoc struct {
	AssetID string    `json:"asset_id"`
	At      time.Time `json:"at"`
}

// empty reports a record no asset holds: its bytes are deleted.
func (d blobDoc) empty() bool { return len(d.Assets) == 0 }

func (d blobDoc) toBlob(sha string) assets.Blob {
	b := assets.Blob{SHA256: sha, Key: d.Key, Size: d.Size, Assets: slices.Clone(d.Assets), Created: msUTC(d.Created)}
	if b.Assets == nil {
		b.Assets = []string{}
	}
	if d.Claimed != nil {
		b.Claimed = make(map[string]time.Time, len(d.Claimed))
		for _, c := range d.Claimed {
			b.Claimed[c.AssetID] = msUTC(c.At)
		}
	}
	return b
}

// claim records that assetID claimed the record at time at.
func (d *blobDoc) claim(assetID string, at time.Time) {
	d.Claimed = slices.DeleteFunc(d.Claimed, func(c blobClaimDoc) bool { return c.AssetID == assetID })
	d.Claimed = append(d.Claimed, blobClaimDoc{AssetID: assetID, At: msUTC(at)})
	if !slices.Contains(d.Assets, assetID) {
		d.Assets = append(d.Assets, assetID)
	}
}

// release removes assetID from the record; it reports whether it was
// there.
func (d *blobDoc) release(assetID string) bool {
	n := len(d.Assets)
	d.Assets = slices.DeleteFunc(d.Assets, func(id string) bool { return id == assetID })
	d.Claimed = slices.DeleteFunc(d.Claimed, func(c blobClaimDoc) bool { return c.AssetID == assetID })
	return len(d.Assets) < n
}

// Blob reads the record of one content by its checksum (ErrNotFound if
// no asset holds it).
func (s *AssetsStore) Blob(ctx context.Context, sha string) (assets.Blob, error) {
	var d blobDoc
	_, err := s.e.Get(ctx, collBlobs, sha, &d)
	if err == nil && d.empty() {
		err = fmt.Errorf("emptied record: %w", pathways.ErrNotFound)
	}
	if err != nil {
		return assets.Blob{}, fmt.Errorf("read blob record %s: %w", sha, err)
	}
	return d.toBlob(sha), nil
}

// ClaimBlob adds assetID to the record of its content by a
// compare-and-swap, or starts the record with b if the content is new (a
// unique insert) or its record empty (a compare-and-swap); a concurrent
// creation, claim or release turns either into a retry. It records when
// the claim was made (again, for a retry).
func (s *AssetsStore) ClaimBlob(ctx context.Context, b assets.Blob, assetID string, at time.Time) (assets.Blob, error) {
	fresh := blobDoc{Key: b.Key, Size: b.Size, Assets: []string{}, Created: msUTC(b.Created)}
	d, _, err := docdb.Update(ctx, s.e, collBlobs, b.SHA256,
		func() (blobDoc, error) { return fresh, nil },
		func(d *blobDoc) error {
			if d.empty() {
				*d = fresh
			}
			d.claim(assetID, at)
			return nil
		})
	if err != nil {
		return assets.Blob{}, fmt.Errorf("claim blob %s for %s: %w", b.SHA256, assetID, err)
	}
	return d.toBlob(b.SHA256), nil
}

// ReleaseBlob removes assetID from the record of its content by a
// compare-and-swap. The release that removes the last asset empties the
// record (a tombstone, see blobDoc) and reports last: a claim added
// meanwhile makes its write fail and the release read again, and of two
// releases only one can write the emptying revision, so the bytes are
// deleted once and only when no asset holds them. Releasing an asset the
// record does not list writes nothing; an empty record is ErrNotFound.
func (s *AssetsStore) ReleaseBlob(ctx context.Context, sha, assetID string) (assets.Blob, bool, error) {
	var (
		last bool
		seen blobDoc
	)
	d, _, err := docdb.Update(ctx, s.e, collBlobs, sha, nil, func(d *blobDoc) error {
		last = false
		switch {
		case d.empty():
			return fmt.Errorf("emptied record: %w", pathways.ErrNotFound)
		case !d.release(assetID):
			seen = *d
			return errUnchanged
		case d.empty():
			last = true
			d.Claimed, d.Emptied = nil, time.Now().UnixMilli()
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return seen.toBlob(sha), false, nil
	}
	if err != nil {
		return assets.Blob{}, false, fmt.Errorf("release blob %s: %w", sha, err)
	}
	return d.toBlob(sha), last, nil
}

type uploadPartDoc struct {
	N    int    `json:"n"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
}

type uploadDoc struct {
	OrgID        string          `json:"org_id"`
	OwnerID      string          `json:"owner_id"`
	Name         string          `json:"name,omitempty"`
	DeclaredType string          `json:"declared_type,omitempty"`
	Locale       string          `json:"locale,omitempty"`
	AltText      string          `json:"alt_text,omitempty"`
	Transcript   string          `json:"transcript,omitempty"`
	Size         int64           `json:"size"`
	Offset       int64           `json:"offset"`
	Parts        []uploadPartDoc `json:"parts"`
	Kind         string          `json:"kind,omitempty"`
	ContentType  string          `json:"content_type,omitempty"`
	HashState    []byte          `json:"hash_state,omitempty"`
	BlobKey      string          `json:"blob_key"`
	MultipartID  string          `json:"multipart_id"`
	Created      time.Time       `json:"created_at"`
	Expires      time.Time       `json:"expires_at"`
}

func toUploadDoc(u assets.Upload) uploadDoc {
	d := uploadDoc{
		OrgID: u.OrgID, OwnerID: u.OwnerID, Name: u.Meta.Name, DeclaredType: u.Meta.DeclaredType,
		Locale: u.Meta.Locale, AltText: u.Meta.AltText, Transcript: u.Meta.Transcript, Size: u.Size,
		Offset: u.Offset, Parts: []uploadPartDoc{}, Kind: string(u.Kind), ContentType: u.ContentType,
		HashState: u.HashState, BlobKey: u.BlobKey, MultipartID: u.MultipartID,
		Created: msUTC(u.Created), Expires: msUTC(u.Expires),
	}
	for _, p := range u.Parts {
		d.Parts = append(d.Parts, uploadPartDoc(p))
	}
	return d
}

func (d uploadDoc) toUpload(id string) assets.Upload {
	u := assets.Upload{
		ID: id, OrgID: d.OrgID, OwnerID: d.OwnerID,
		Meta: assets.Meta{ID: id, OrgID: d.OrgID, Name: d.Name, DeclaredType: d.DeclaredType,
			Locale: d.Locale, AltText: d.AltText, Transcript: d.Transcript},
		Size: d.Size, Offset: d.Offset, Kind: assets.Kind(d.Kind), ContentType: d.ContentType,
		HashState: d.HashState, BlobKey: d.BlobKey, MultipartID: d.MultipartID,
		Created: msUTC(d.Created), Expires: msUTC(d.Expires),
	}
	for _, p := range d.Parts {
		u.Parts = append(u.Parts, assets.Part(p))
	}
	return u
}

// InsertUpload stores a new resumable upload (ErrConflict if the id is
// taken).
func (s *AssetsStore) InsertUpload(ctx context.Context, u assets.Upload) error {
	if err := s.e.Insert(ctx, collUploads, u.ID, toUploadDoc(u)); err != nil {
		return fmt.Errorf("insert upload %s: %w", u.ID, err)
	}
	return nil
}

// Upload reads one resumable upload.
func (s *AssetsStore) Upload(ctx context.Context, id string) (assets.Upload, error) {
	var d uploadDoc
	if _, err := s.e.Get(ctx, collUploads, id, &d); err != nil {
		return assets.Upload{}, fmt.Errorf("read upload %s: %w", id, err)
	}
	return d.toUpload(id), nil
}

// UpdateUpload applies change to a fresh read of the upload and replaces
// it by a compare-and-swap; change runs again on a newer read if another
// write came first (so two chunks recorded at once cannot both extend the
// same offset).
func (s *AssetsStore) UpdateUpload(ctx context.Context, id string, change func(*assets.Upload) error) (assets.Upload, error) {
	d, _, err := docdb.Update(ctx, s.e, collUploads, id, nil, func(d *uploadDoc) error {
		u := d.toUpload(id)
		if err := change(&u); err != nil {
			return err
		}
		*d = toUploadDoc(u)
		return nil
	})
	if err != nil {
		return assets.Upload{}, fmt.Errorf("update upload %s: %w", id, err)
	}
	return d.toUpload(id), nil
}

// DeleteUpload removes an upload's record.
func (s *AssetsStore) DeleteUpload(ctx context.Context, id string) error {
	if err := s.e.Delete(ctx, collUploads, id, docdb.AnyRev); err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// eachDoc decodes every document of coll into fn, page by page by id. It
// scans: the clean-up job only.
func eachDoc[D any](ctx context.Context, e docdb.Engine, coll string, fn func(id string, d D) error) error {
	err := docdb.Each(ctx, e, coll, docdb.Query{}, func(doc docdb.Doc) error {
		var d D
		if err := doc.Decode(&d); err != nil {
			return err
		}
		return fn(doc.ID, d)
	})
	if err != nil {
		return fmt.Errorf("scan %s: %w", coll, err)
	}
	return nil
}

// EachAsset visits every asset.
func (s *AssetsStore) EachAsset(ctx context.Context, fn func(assets.Asset) error) error {
	return eachDoc(ctx, s.e, collAssets, func(id string, d assetDoc) error { return fn(d.toAsset(id)) })
}

// EachBlob visits every blob record some asset holds.
func (s *AssetsStore) EachBlob(ctx context.Context, fn func(assets.Blob) error) error {
	return eachDoc(ctx, s.e, collBlobs, func(id string, d blobDoc) error {
		if d.empty() {
			return nil
		}
		return fn(d.toBlob(id))
	})
}

// EachUpload visits every resumable upload.
func (s *AssetsStore) EachUpload(ctx context.Context, fn func(assets.Upload) error) error {
	return eachDoc(ctx, s.e, collUploads, func(id string, d uploadDoc) error { return fn(d.toUpload(id)) })
}

// EachLibrary visits every library.
func (s *AssetsStore) EachLibrary(ctx context.Context, fn func(assets.Library) error) error {
	return eachDoc(ctx, s.e, collLibraries, func(id string, d libraryDoc) error { return fn(d.toLibrary(id)) })
}
