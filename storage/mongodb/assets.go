package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
)

// AssetsStore implements assets.Store. Every request-path read and write
// filters on _id alone: assets by id, blob records by SHA-256, libraries
// by organisation id, uploads by id. Updates hold the document's lock;
// locks nest only media_assets → media_libraries.
type AssetsStore struct {
	db    *mongo.Database
	locks *docLocks
}

// Assets returns the media library store.
func (db *DB) Assets() *AssetsStore { return &AssetsStore{db: db.db, locks: db.locks} }

func (s *AssetsStore) col(name string) *mongo.Collection { return s.db.Collection(name) }

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// useDoc is one use of an asset. PullUse removes one by its exact value,
// so it is always encoded from this struct (same fields, same order).
type useDoc struct {
	Ref   string    `bson:"ref"`
	OrgID string    `bson:"org_id,omitempty"`
	At    time.Time `bson:"at,omitempty"`
}

type assetDoc struct {
	ID          string    `bson:"_id"`
	OrgID       string    `bson:"org_id"`
	OwnerID     string    `bson:"owner_id"`
	Kind        string    `bson:"kind"`
	ContentType string    `bson:"content_type"`
	Size        int64     `bson:"size"`
	SHA256      string    `bson:"sha256"`
	BlobKey     string    `bson:"blob_key"`
	Name        string    `bson:"name,omitempty"`
	Locale      string    `bson:"locale,omitempty"`
	AltText     string    `bson:"alt_text,omitempty"`
	Transcript  string    `bson:"transcript,omitempty"`
	Uses        []useDoc  `bson:"uses,omitempty"`
	Created     time.Time `bson:"created_at"`
	Updated     time.Time `bson:"updated_at"`
}

func toAssetDoc(a assets.Asset) assetDoc {
	d := assetDoc{
		ID: a.ID, OrgID: a.OrgID, OwnerID: a.OwnerID, Kind: string(a.Kind), ContentType: a.ContentType,
		Size: a.Size, SHA256: a.SHA256, BlobKey: a.BlobKey, Name: a.Name, Locale: a.Locale,
		AltText: a.AltText, Transcript: a.Transcript, Created: a.Created, Updated: a.Updated,
	}
	for _, u := range a.Uses {
		d.Uses = append(d.Uses, useDoc(u))
	}
	return d
}

func (d assetDoc) toDomain() assets.Asset {
	a := assets.Asset{
		ID: d.ID, OrgID: d.OrgID, OwnerID: d.OwnerID, Kind: assets.Kind(d.Kind), ContentType: d.ContentType,
		Size: d.Size, SHA256: d.SHA256, BlobKey: d.BlobKey, Name: d.Name, Locale: d.Locale,
		AltText: d.AltText, Transcript: d.Transcript, Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
	for _, u := range d.Uses {
		u.At = u.At.UTC()
		a.Uses = append(a.Uses, assets.Use(u))
	}
	return a
}

// itemDoc is an asset's entry in its organisation's library document.
type itemDoc struct {
	Kind        string    `bson:"kind"`
	ContentType string    `bson:"content_type"`
	Size        int64     `bson:"size"`
	Name        string    `bson:"name,omitempty"`
	Locale      string    `bson:"locale,omitempty"`
	OwnerID     string    `bson:"owner_id"`
	Used        bool      `bson:"used,omitempty"`
	Created     time.Time `bson:"created_at"`
}

func toItemDoc(a assets.Asset) itemDoc {
	return itemDoc{
		Kind: string(a.Kind), ContentType: a.ContentType, Size: a.Size, Name: a.Name,
		Locale: a.Locale, OwnerID: a.OwnerID, Used: len(a.Uses) > 0, Created: a.Created,
	}
}

// libraryDoc lists an organisation's assets, keyed by asset id.
type libraryDoc struct {
	OrgID string             `bson:"_id"`
	Items map[string]itemDoc `bson:"items"`
}

func (d libraryDoc) toDomain() assets.Library {
	l := assets.Library{OrgID: d.OrgID, Items: make([]assets.LibraryItem, 0, len(d.Items))}
	for id, it := range d.Items {
		l.Items = append(l.Items, assets.LibraryItem{
			ID: id, Kind: assets.Kind(it.Kind), ContentType: it.ContentType, Size: it.Size, Name: it.Name,
			Locale: it.Locale, OwnerID: it.OwnerID, Used: it.Used, Created: it.Created.UTC(),
		})
	}
	return l
}

// Asset reads one asset by id.
func (s *AssetsStore) Asset(ctx context.Context, id string) (assets.Asset, error) {
	var d assetDoc
	if err := s.col(colAssets).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assets.Asset{}, fmt.Errorf("find asset %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// InsertAsset inserts the asset, then adds it to its library; if the
// library is full or cannot be written, the asset is deleted again.
func (s *AssetsStore) InsertAsset(ctx context.Context, a assets.Asset) error {
	if _, err := s.col(colAssets).InsertOne(ctx, toAssetDoc(a)); err != nil {
		return fmt.Errorf("insert asset %s: %w", a.ID, translate(err))
	}
	if err := s.addItem(ctx, a); err != nil {
		_, _ = s.col(colAssets).DeleteOne(context.WithoutCancel(ctx), byID(a.ID))
		return fmt.Errorf("insert asset %s: %w", a.ID, err)
	}
	return nil
}

// addItem adds a new entry to a library, refusing past the cap.
func (s *AssetsStore) addItem(ctx context.Context, a assets.Asset) error {
	defer s.locks.lock(colLibraries, a.OrgID)()
	var after struct {
		Items map[string]bson.Raw `bson:"items"`
	}
	err := s.col(colLibraries).FindOneAndUpdate(ctx, byID(a.OrgID),
		bson.D{{Key: "$set", Value: bson.D{{Key: "items." + a.ID, Value: toItemDoc(a)}}}},
		// No projection: FerretDB 1.24 does not support one in findAndModify.
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&after)
	if err != nil {
		return fmt.Errorf("list in library %s: %w", a.OrgID, translate(err))
	}
	if len(after.Items) > assets.MaxLibrarySize {
		_, _ = s.col(colLibraries).UpdateOne(context.WithoutCancel(ctx), byID(a.OrgID),
			bson.D{{Key: "$unset", Value: bson.D{{Key: "items." + a.ID, Value: ""}}}})
		return assets.ErrLibraryFull
	}
	return nil
}

// setItem writes an asset's library entry, adding it if it is missing.
func (s *AssetsStore) setItem(ctx context.Context, a assets.Asset) error {
	defer s.locks.lock(colLibraries, a.OrgID)()
	_, err := s.col(colLibraries).UpdateOne(ctx, byID(a.OrgID),
		bson.D{{Key: "$set", Value: bson.D{{Key: "items." + a.ID, Value: toItemDoc(a)}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("update library entry of %s: %w", a.ID, translate(err))
	}
	return nil
}

// UpdateAsset applies change to a fresh read of the asset under its lock,
// then writes the asset and its library entry.
func (s *AssetsStore) UpdateAsset(ctx context.Context, id string, change func(*assets.Asset) error) (assets.Asset, error) {
	defer s.locks.lock(colAssets, id)()
	a, err := s.Asset(ctx, id)
	if err != nil {
		return assets.Asset{}, err
	}
	if err := change(&a); err != nil {
		return assets.Asset{}, err
	}
	a.ID = id
	res, err := s.col(colAssets).ReplaceOne(ctx, byID(id), toAssetDoc(a))
	if err != nil {
		return assets.Asset{}, fmt.Errorf("update asset %s: %w", id, translate(err))
	}
	if res.MatchedCount == 0 {
		return assets.Asset{}, fmt.Errorf("update asset %s: %w", id, pathways.ErrNotFound)
	}
	if err := s.setItem(ctx, a); err != nil { // assets → libraries: the allowed nesting
		return assets.Asset{}, err
	}
	return a, nil
}

// PullUse removes exactly use u from the asset with $pull, an _id-only
// update: atomic on MongoDB (a use added meanwhile by another instance
// stays), and under the asset's lock on the embedded database. It then
// refreshes the asset's library entry.
func (s *AssetsStore) PullUse(ctx context.Context, id string, u assets.Use) (assets.Asset, error) {
	defer s.locks.lock(colAssets, id)()
	u.At = msUTC(u.At) // zero stays zero: left out, as in uses recorded without a time
	res, err := s.col(colAssets).UpdateOne(ctx, byID(id), bson.D{{Key: "$pull", Value: bson.D{{Key: "uses", Value: useDoc(u)}}}})
	if err != nil {
		return assets.Asset{}, fmt.Errorf("remove use %s of %s: %w", u.Ref, id, translate(err))
	}
	if res.MatchedCount == 0 {
		return assets.Asset{}, fmt.Errorf("remove use %s of %s: %w", u.Ref, id, pathways.ErrNotFound)
	}
	a, err := s.Asset(ctx, id)
	if err != nil {
		return assets.Asset{}, err
	}
	if err := s.setItem(ctx, a); err != nil { // assets → libraries: the allowed nesting
		return assets.Asset{}, err
	}
	return a, nil
}

// DeleteAsset deletes the asset if check approves a fresh read of it, then
// its library entry.
func (s *AssetsStore) DeleteAsset(ctx context.Context, id string, check func(assets.Asset) error) (assets.Asset, error) {
	defer s.locks.lock(colAssets, id)()
	a, err := s.Asset(ctx, id)
	if err != nil {
		return assets.Asset{}, err
	}
	if err := check(a); err != nil {
		return assets.Asset{}, err
	}
	res, err := s.col(colAssets).DeleteOne(ctx, byID(id))
	if err != nil {
		return assets.Asset{}, fmt.Errorf("delete asset %s: %w", id, translate(err))
	}
	if res.DeletedCount == 0 {
		return assets.Asset{}, fmt.Errorf("delete asset %s: %w", id, pathways.ErrNotFound)
	}
	// A failure here leaves an entry the clean-up job removes.
	if err := s.UnlistAsset(ctx, a.OrgID, id); err != nil {
		return a, nil
	}
	return a, nil
}

// Library returns an organisation's library; an organisation that never
// uploaded has an empty one.
func (s *AssetsStore) Library(ctx context.Context, orgID string) (assets.Library, error) {
	var d libraryDoc
	err := s.col(colLibraries).FindOne(ctx, byID(orgID)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return assets.Library{OrgID: orgID, Items: []assets.LibraryItem{}}, nil
	}
	if err != nil {
		return assets.Library{}, fmt.Errorf("find library %s: %w", orgID, translate(err))
	}
	return d.toDomain(), nil
}

// ListAsset adds or refreshes an asset's library entry.
func (s *AssetsStore) ListAsset(ctx context.Context, a assets.Asset) error { return s.setItem(ctx, a) }

// UnlistAsset removes an asset's library entry.
func (s *AssetsStore) UnlistAsset(ctx context.Context, orgID, id string) error {
	defer s.locks.lock(colLibraries, orgID)()
	_, err := s.col(colLibraries).UpdateOne(ctx, byID(orgID),
		bson.D{{Key: "$unset", Value: bson.D{{Key: "items." + id, Value: ""}}}})
	if err != nil {
		return fmt.Errorf("unlist asset %s: %w", id, translate(err))
	}
	return nil
}

type blobDoc struct {
	SHA256  string             `bson:"_id"`
	Key     string             `bson:"key"`
	Size    int64              `bson:"size"`
	Assets  []string           `bson:"assets"`
	Claimed list[blobClaimDoc] `bson:"claimed,omitempty"`
	Created time.Time          `bson:"created_at"`
}

// blobClaimDoc is when one asset of a blob record claimed it.
type blobClaimDoc struct {
	AssetID string    `bson:"asset_id"`
	At      time.Time `bson:"at"`
}

func (d blobDoc) toDomain() assets.Blob {
	b := assets.Blob{SHA256: d.SHA256, Key: d.Key, Size: d.Size, Assets: d.Assets, Created: d.Created.UTC()}
	if d.Claimed != nil {
		b.Claimed = make(map[string]time.Time, len(d.Claimed))
		for _, c := range d.Claimed {
			b.Claimed[c.AssetID] = c.At.UTC()
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

func (s *AssetsStore) blob(ctx context.Context, sha string) (blobDoc, error) {
	var d blobDoc
	if err := s.col(colBlobs).FindOne(ctx, byID(sha)).Decode(&d); err != nil {
		return blobDoc{}, fmt.Errorf("find blob %s: %w", sha, translate(err))
	}
	return d, nil
}

// Blob reads the record of one content by its checksum.
func (s *AssetsStore) Blob(ctx context.Context, sha string) (assets.Blob, error) {
	d, err := s.blob(ctx, sha)
	if err != nil {
		return assets.Blob{}, err
	}
	return d.toDomain(), nil
}

// ClaimBlob adds assetID to the record of its content, creating the
// record if the content is new, and records when (again, for a retry).
func (s *AssetsStore) ClaimBlob(ctx context.Context, b assets.Blob, assetID string, at time.Time) (assets.Blob, error) {
	defer s.locks.lock(colBlobs, b.SHA256)()
	d, err := s.blob(ctx, b.SHA256)
	if errors.Is(err, pathways.ErrNotFound) {
		d = blobDoc{SHA256: b.SHA256, Key: b.Key, Size: b.Size, Assets: []string{}, Created: b.Created}
		d.claim(assetID, at)
		if _, err := s.col(colBlobs).InsertOne(ctx, d); err != nil {
			return assets.Blob{}, fmt.Errorf("record blob %s: %w", b.SHA256, translate(err))
		}
		return d.toDomain(), nil
	}
	if err != nil {
		return assets.Blob{}, err
	}
	d.claim(assetID, at)
	if _, err := s.col(colBlobs).UpdateOne(ctx, byID(b.SHA256),
		bson.D{{Key: "$set", Value: bson.D{{Key: "assets", Value: d.Assets}, {Key: "claimed", Value: d.Claimed}}}}); err != nil {
		return assets.Blob{}, fmt.Errorf("claim blob %s: %w", b.SHA256, translate(err))
	}
	return d.toDomain(), nil
}

// ReleaseBlob removes assetID from the record of its content, deleting the
// record with its last asset.
func (s *AssetsStore) ReleaseBlob(ctx context.Context, sha, assetID string) (assets.Blob, bool, error) {
	defer s.locks.lock(colBlobs, sha)()
	d, err := s.blob(ctx, sha)
	if err != nil {
		return assets.Blob{}, false, err
	}
	d.Assets = slices.DeleteFunc(d.Assets, func(id string) bool { return id == assetID })
	d.Claimed = slices.DeleteFunc(d.Claimed, func(c blobClaimDoc) bool { return c.AssetID == assetID })
	if len(d.Assets) == 0 {
		if _, err := s.col(colBlobs).DeleteOne(ctx, byID(sha)); err != nil {
			return assets.Blob{}, false, fmt.Errorf("delete blob record %s: %w", sha, translate(err))
		}
		return d.toDomain(), true, nil
	}
	if _, err := s.col(colBlobs).UpdateOne(ctx, byID(sha),
		bson.D{{Key: "$set", Value: bson.D{{Key: "assets", Value: d.Assets}, {Key: "claimed", Value: d.Claimed}}}}); err != nil {
		return assets.Blob{}, false, fmt.Errorf("release blob %s: %w", sha, translate(err))
	}
	return d.toDomain(), false, nil
}

type partDoc struct {
	N    int    `bson:"n"`
	ETag string `bson:"etag"`
	Size int64  `bson:"size"`
}

type uploadDoc struct {
	ID           string    `bson:"_id"`
	OrgID        string    `bson:"org_id"`
	OwnerID      string    `bson:"owner_id"`
	Name         string    `bson:"name,omitempty"`
	DeclaredType string    `bson:"declared_type,omitempty"`
	Locale       string    `bson:"locale,omitempty"`
	AltText      string    `bson:"alt_text,omitempty"`
	Transcript   string    `bson:"transcript,omitempty"`
	Size         int64     `bson:"size"`
	Offset       int64     `bson:"offset"`
	Parts        []partDoc `bson:"parts"`
	Kind         string    `bson:"kind,omitempty"`
	ContentType  string    `bson:"content_type,omitempty"`
	HashState    []byte    `bson:"hash_state,omitempty"`
	BlobKey      string    `bson:"blob_key"`
	MultipartID  string    `bson:"multipart_id"`
	Created      time.Time `bson:"created_at"`
	Expires      time.Time `bson:"expires_at"`
}

func toUploadDoc(u assets.Upload) uploadDoc {
	d := uploadDoc{
		ID: u.ID, OrgID: u.OrgID, OwnerID: u.OwnerID, Name: u.Meta.Name, DeclaredType: u.Meta.DeclaredType,
		Locale: u.Meta.Locale, AltText: u.Meta.AltText, Transcript: u.Meta.Transcript, Size: u.Size,
		Offset: u.Offset, Parts: []partDoc{}, Kind: string(u.Kind), ContentType: u.ContentType,
		HashState: u.HashState, BlobKey: u.BlobKey, MultipartID: u.MultipartID, Created: u.Created, Expires: u.Expires,
	}
	for _, p := range u.Parts {
		d.Parts = append(d.Parts, partDoc(p))
	}
	return d
}

func (d uploadDoc) toDomain() assets.Upload {
	u := assets.Upload{
		ID: d.ID, OrgID: d.OrgID, OwnerID: d.OwnerID,
		Meta: assets.Meta{ID: d.ID, OrgID: d.OrgID, Name: d.Name, DeclaredType: d.DeclaredType,
			Locale: d.Locale, AltText: d.AltText, Transcript: d.Transcript},
		Size: d.Size, Offset: d.Offset, Kind: assets.Kind(d.Kind), ContentType: d.ContentType,
		HashState: d.HashState, BlobKey: d.BlobKey, MultipartID: d.MultipartID,
		Created: d.Created.UTC(), Expires: d.Expires.UTC(),
	}
	for _, p := range d.Parts {
		u.Parts = append(u.Parts, assets.Part(p))
	}
	return u
}

// InsertUpload stores a new resumable upload.
func (s *AssetsStore) InsertUpload(ctx context.Context, u assets.Upload) error {
	if _, err := s.col(colUploads).InsertOne(ctx, toUploadDoc(u)); err != nil {
		return fmt.Errorf("insert upload %s: %w", u.ID, translate(err))
	}
	return nil
}

// Upload reads one resumable upload.
func (s *AssetsStore) Upload(ctx context.Context, id string) (assets.Upload, error) {
	var d uploadDoc
	if err := s.col(colUploads).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assets.Upload{}, fmt.Errorf("find upload %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// UpdateUpload applies change to a fresh read of the upload under its lock.
func (s *AssetsStore) UpdateUpload(ctx context.Context, id string, change func(*assets.Upload) error) (assets.Upload, error) {
	defer s.locks.lock(colUploads, id)()
	u, err := s.Upload(ctx, id)
	if err != nil {
		return assets.Upload{}, err
	}
	if err := change(&u); err != nil {
		return assets.Upload{}, err
	}
	u.ID = id
	res, err := s.col(colUploads).ReplaceOne(ctx, byID(id), toUploadDoc(u))
	if err != nil {
		return assets.Upload{}, fmt.Errorf("update upload %s: %w", id, translate(err))
	}
	if res.MatchedCount == 0 {
		return assets.Upload{}, fmt.Errorf("update upload %s: %w", id, pathways.ErrNotFound)
	}
	return u, nil
}

// DeleteUpload removes an upload's record.
func (s *AssetsStore) DeleteUpload(ctx context.Context, id string) error {
	res, err := s.col(colUploads).DeleteOne(ctx, byID(id))
	if err != nil {
		return fmt.Errorf("delete upload %s: %w", id, translate(err))
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("delete upload %s: %w", id, pathways.ErrNotFound)
	}
	return nil
}

// each decodes every document of a collection into fn, streaming through
// a cursor. It scans: background jobs only.
func each[D any](ctx context.Context, c *mongo.Collection, fn func(D) error) error {
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("scan %s: %w", c.Name(), translate(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("scan %s: %w", c.Name(), err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", c.Name(), translate(err))
	}
	return nil
}

// EachAsset visits every asset.
func (s *AssetsStore) EachAsset(ctx context.Context, fn func(assets.Asset) error) error {
	return each(ctx, s.col(colAssets), func(d assetDoc) error { return fn(d.toDomain()) })
}

// EachBlob visits every blob record.
func (s *AssetsStore) EachBlob(ctx context.Context, fn func(assets.Blob) error) error {
	return each(ctx, s.col(colBlobs), func(d blobDoc) error { return fn(d.toDomain()) })
}

// EachUpload visits every resumable upload.
func (s *AssetsStore) EachUpload(ctx context.Context, fn func(assets.Upload) error) error {
	return each(ctx, s.col(colUploads), func(d uploadDoc) error { return fn(d.toDomain()) })
}

// EachLibrary visits every library.
func (s *AssetsStore) EachLibrary(ctx context.Context, fn func(assets.Library) error) error {
	return each(ctx, s.col(colLibraries), func(d libraryDoc) error { return fn(d.toDomain()) })
}

var _ assets.Store = (*AssetsStore)(nil)
