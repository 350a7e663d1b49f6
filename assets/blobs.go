package assets

import (
	"context"
	"io"
	"time"
)

// MinPartSize is the smallest part a multipart upload accepts, except its
// last part. It is S3's own limit; the disk store enforces it too, so that
// both stores behave alike.
const MinPartSize = 5 << 20

// MaxParts is the largest number of parts in one multipart upload, and
// MaxPartSize the largest part (S3's limits).
const (
	MaxParts    = 10000
	MaxPartSize = 5 << 30
)

// Blobs stores the bytes of media files under keys that this package
// chooses ("blobs/…"). Implementations live in storage/media: the local
// disk (the default) and S3. They report a missing blob as
// pathways.ErrNotFound and a store they cannot reach as
// pathways.ErrUnavailable, both wrapped with the operation and key.
type Blobs interface {
	// Put stores size bytes read from r under key (size is -1 if unknown).
	// A blob appears only once complete: if r fails, ends early or yields
	// more than size bytes, or ctx ends, Put returns an error and leaves
	// nothing under key. An existing blob under key is replaced.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open reads length bytes of the blob starting at offset (length -1:
	// to the end). The caller closes the reader.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes one blob.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every complete blob whose key starts with prefix,
	// in no particular order, and stops at fn's first error.
	List(ctx context.Context, prefix string, fn func(BlobInfo) error) error

	// CreateMultipart starts a multipart upload to key and returns its id.
	// Nothing appears under key until CompleteMultipart.
	CreateMultipart(ctx context.Context, key string) (uploadID string, err error)
	// PutPart stores part number n (1 ≤ n ≤ MaxParts) of an upload, size
	// bytes read from r, and returns the part's ETag. Putting a part number
	// again replaces it. Like Put, a failed PutPart stores nothing.
	PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (etag string, err error)
	// CompleteMultipart joins the parts, in the order given, into the blob
	// under key. Every part but the last must be at least MinPartSize.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error
	// AbortMultipart drops an upload and its parts; aborting an unknown
	// upload is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error

	// Ping reports whether the store can serve (for /readyz).
	Ping(ctx context.Context) error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Part is one stored part of a multipart upload.
type Part struct {
	N    int
	ETag string
	Size int64
}

// Presigner is implemented by stores that can hand out a short-lived URL
// from which a client downloads a blob directly (S3 with a public
// endpoint), so large media need not pass through the server.
type Presigner interface {
	// PresignGet returns a URL valid for ttl; the download is answered with
	// the given Content-Type and Content-Disposition.
	PresignGet(ctx context.Context, key string, ttl time.Duration, contentType, disposition string) (string, error)
}
