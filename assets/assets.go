// Package assets is the media library of Pathways: pictures, audio
// narration, video, subtitles and PDF guides that trainers upload and
// lessons use. It owns the asset type and its metadata store, the upload
// rules (type decided by the content, size limits per kind, checksum while
// streaming, identical content stored once), resumable uploads, who may read
// and delete an asset, and the clean-up of orphans. The bytes live in a
// Blobs store (storage/media: local disk or S3).
package assets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
)

// Kind groups the file types that share rules: a size limit and what a
// lesson block may use them for.
type Kind string

// The kinds of media.
const (
	KindImage    Kind = "image"
	KindAudio    Kind = "audio"
	KindVideo    Kind = "video"
	KindSubtitle Kind = "subtitle"
	KindDocument Kind = "document"
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindImage, KindAudio, KindVideo, KindSubtitle, KindDocument}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Asset is one uploaded media file and what is known about it. Its bytes
// never change: a corrected file is a new asset, so an asset's URL can be
// cached for ever. Its descriptive fields (name, locale, alt text,
// transcript) may be edited.
type Asset struct {
	ID          string
	OrgID       string // the organisation whose library holds it
	OwnerID     string // the user who uploaded it
	Kind        Kind
	ContentType string // decided from the content, never from the client
	Size        int64
	SHA256      string // hex; also the strong ETag
	BlobKey     string // where the bytes are, in the Blobs store
	Name        string // the original file name, cleaned
	Locale      string // the language spoken or written in it, if any (BCP 47)
	AltText     string // for images: what a screen reader says
	Transcript  string // for audio and video: the words, for those who cannot listen
	Uses        []Use  // published course versions that show it
	Created     time.Time
	Updated     time.Time
}

// Use records that a published course version shows an asset. Published
// versions are immutable, so while a Use exists the asset may not be
// deleted; and every user who may see that course may read the asset.
type Use struct {
	// Ref names the user of the asset, e.g. "course:<id>@3".
	Ref string
	// OrgID is the organisation whose members may see the course; empty
	// means the course is shared with every organisation.
	OrgID string
	// At is when the use was recorded (zero on uses recorded before times
	// were): a publisher records its uses before it stores its version,
	// so a use whose version does not exist is left alone until it is
	// older than pathways.ClaimGrace.
	At time.Time
}

// Blob is the record of one stored content: identical files share it, and
// it lists the assets that refer to it, so the bytes are deleted with the
// last of them.
type Blob struct {
	SHA256  string
	Key     string
	Size    int64
	Assets  []string
	Created time.Time
	// Claimed is when each asset in Assets claimed the record (missing
	// for claims made before times were recorded). An asset claims its
	// content before its metadata is stored, so a claim of an asset that
	// does not exist is left alone until it is older than
	// pathways.ClaimGrace.
	Claimed map[string]time.Time
}

// LibraryItem is an asset as its organisation's library lists it.
type LibraryItem struct {
	ID          string
	Kind        Kind
	ContentType string
	Size        int64
	Name        string
	Locale      string
	OwnerID     string
	Used        bool
	Created     time.Time
}

// ItemOf is asset a's entry in its library.
func ItemOf(a Asset) LibraryItem {
	return LibraryItem{
		ID: a.ID, Kind: a.Kind, ContentType: a.ContentType, Size: a.Size, Name: a.Name,
		Locale: a.Locale, OwnerID: a.OwnerID, Used: len(a.Uses) > 0, Created: a.Created,
	}
}

// Library lists the assets of one organisation; it is what a trainer
// browses and what storage usage is counted from.
type Library struct {
	OrgID string
	Items []LibraryItem
}

// MaxLibrarySize caps the assets of one organisation, so its library stays
// one bounded document.
const MaxLibrarySize = 10000

// Upload is a resumable upload in progress: the client sends the file in
// chunks, each stored as one part of a multipart upload, and may resume
// after a dropped connection from Offset.
type Upload struct {
	ID      string // also the id of the asset it becomes
	OrgID   string
	OwnerID string
	Meta    Meta  // what the client said about the file
	Size    int64 // the whole file, announced at the start
	Offset  int64 // bytes received and stored so far
	Parts   []Part
	// Kind and ContentType are decided from the first chunk.
	Kind        Kind
	ContentType string
	// HashState is the SHA-256 state after Offset bytes, so the checksum
	// is computed while streaming even across requests.
	HashState   []byte
	BlobKey     string
	MultipartID string
	Created     time.Time
	Expires     time.Time
}

// Meta is what a client says about a file it uploads.
type Meta struct {
	// ID, if set, makes the upload idempotent: a retry with the same id
	// returns the asset stored the first time.
	ID           string
	OrgID        string // needed only from global admins, who have none
	Name         string
	DeclaredType string // the Content-Type the client gave, if any
	Locale       string
	AltText      string
	Transcript   string
}

// Store keeps asset metadata. Implementations serialise the updates of
// each document (see docs/DECISIONS.md).
type Store interface {
	// Asset returns one asset, or ErrNotFound.
	Asset(ctx context.Context, id string) (Asset, error)
	// InsertAsset stores a new asset and lists it in its organisation's
	// library. It returns ErrConflict if the id is taken, and
	// ErrLibraryFull if the library holds MaxLibrarySize assets.
	InsertAsset(ctx context.Context, a Asset) error
	// UpdateAsset applies change to a fresh read of the asset and stores
	// the result (and its library entry); change's error aborts.
	UpdateAsset(ctx context.Context, id string, change func(*Asset) error) (Asset, error)
	// DeleteAsset removes an asset and its library entry, if check
	// approves a fresh read of it; it returns the deleted asset.
	DeleteAsset(ctx context.Context, id string, check func(Asset) error) (Asset, error)
	// Library returns an organisation's library (empty if it has none).
	Library(ctx context.Context, orgID string) (Library, error)
	// ListAsset adds or refreshes an asset's library entry; UnlistAsset
	// removes it. The clean-up job uses them to repair libraries.
	ListAsset(ctx context.Context, a Asset) error
	UnlistAsset(ctx context.Context, orgID, id string) error

	// PullUse removes exactly use u (same Ref, OrgID and At) from asset
	// id, atomically, and returns the asset: a use recorded again
	// meanwhile (a later At) stays. It is ErrNotFound if the asset is.
	PullUse(ctx context.Context, id string, u Use) (Asset, error)

	// ClaimBlob records that assetID refers to content b.SHA256, as of
	// time at. If the content is stored already, it adds assetID to that
	// record and returns it; otherwise it stores b with assetID and
	// returns b.
	ClaimBlob(ctx context.Context, b Blob, assetID string, at time.Time) (Blob, error)
	// ReleaseBlob removes assetID from the blob's record. When no asset
	// is left it deletes the record and returns last = true: the caller
	// then deletes the bytes.
	ReleaseBlob(ctx context.Context, sha256, assetID string) (b Blob, last bool, err error)
	// Blob returns the record of content sha256 (hex), or ErrNotFound:
	// which assets hold that content, for reusing one instead of storing
	// the content again under a new asset.
	Blob(ctx context.Context, sha256 string) (Blob, error)

	// InsertUpload, Upload, UpdateUpload and DeleteUpload keep resumable
	// upload sessions.
	InsertUpload(ctx context.Context, u Upload) error
	Upload(ctx context.Context, id string) (Upload, error)
	UpdateUpload(ctx context.Context, id string, change func(*Upload) error) (Upload, error)
	DeleteUpload(ctx context.Context, id string) error

	// EachAsset, EachBlob, EachUpload and EachLibrary visit every record,
	// in pages; they scan, so only the clean-up job calls them.
	EachAsset(ctx context.Context, fn func(Asset) error) error
	EachBlob(ctx context.Context, fn func(Blob) error) error
	EachUpload(ctx context.Context, fn func(Upload) error) error
	EachLibrary(ctx context.Context, fn func(Library) error) error
}

// Errors of this package, beyond the shared ones.
var (
	// ErrLibraryFull: the organisation's library holds MaxLibrarySize assets.
	ErrLibraryFull = fmt.Errorf("media library full: %w", pathways.ErrConflict)
	// ErrIncomplete: the upload ended before the file did (a dropped
	// connection); nothing was stored.
	ErrIncomplete = errors.New("upload incomplete")
	// ErrInUse: a published course version shows the asset.
	ErrInUse = fmt.Errorf("asset in use by a published version: %w", pathways.ErrConflict)
)

// TooLargeError says a file exceeds the size limit of its kind.
type TooLargeError struct {
	Kind  Kind
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s file larger than the limit of %d bytes", e.Kind, e.Limit)
}

// OffsetError says a resumable upload's chunk does not start where the
// upload stands; the client resumes from Offset.
type OffsetError struct{ Offset int64 }

func (e *OffsetError) Error() string {
	return fmt.Sprintf("upload is at offset %d", e.Offset)
}

func (e *OffsetError) Unwrap() error { return pathways.ErrConflict }
