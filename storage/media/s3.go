package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pathways-lms/pathways/assets"
)

const (
	// defaultRegion is used when S3Config.Region is empty. It is always
	// passed to the client, so no request is spent looking it up.
	defaultRegion = "us-east-1"
	// s3PartSize is the part size of Put's multipart uploads: the client
	// buffers one part, so memory stays flat whatever the blob's size.
	s3PartSize = 8 << 20
	// s3MaxRetries bounds the client's retries of a failed request (its
	// default, 10, can take ~10 s before a dead server is reported).
	s3MaxRetries = 3
	// pingTimeout bounds Ping, for a readiness probe that must answer.
	pingTimeout = 5 * time.Second
	// contentType is stored with every object; the real type is given to
	// the browser per download (see Presigner), not kept in S3.
	contentType = "application/octet-stream"
)

// S3Config says where an S3 store is and how to sign in.
type S3Config struct {
	// Endpoint is host[:port] of the S3 API, without scheme ("minio:9000").
	Endpoint string
	Bucket   string
	// AccessKey and SecretKey are static credentials. To report a missing
	// blob as missing, they need s3:ListBucket on the bucket: without it S3
	// answers AccessDenied, which is reported as pathways.ErrUnavailable.
	AccessKey, SecretKey string
	// Region defaults to "us-east-1".
	Region string
	UseSSL bool
	// PublicEndpoint is host[:port] at which browsers reach the same server,
	// for presigned URLs (empty: no presigning). PublicUseSSL is its scheme.
	PublicEndpoint string
	PublicUseSSL   bool
}

// S3 stores blobs as objects of one bucket. Put streams through multipart
// uploads of 8 MiB parts for large or unknown sizes; a failed Put leaves
// nothing under its key. Should the abort of a failed upload fail too (the
// server gone meanwhile), its parts stay on the server until its clean-up
// of stale uploads (MinIO: after 24 h by default; AWS: a lifecycle rule).
//
// S3 is safe for concurrent use.
type S3 struct {
	client *minio.Client
	core   minio.Core
	bucket string
	// public signs URLs for PublicEndpoint; nil without one.
	public *minio.Client
}

var _ assets.Blobs = (*S3)(nil)

// NewS3 connects to the store and creates the bucket if it is missing. It
// fails, wrapping pathways.ErrUnavailable, if the server cannot be reached.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3: endpoint and bucket are required")
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	client, err := newMinioClient(cfg.Endpoint, cfg.UseSSL, cfg)
	if err != nil {
		return nil, fmt.Errorf("s3 %s: %w", cfg.Endpoint, err)
	}
	s := &S3{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket}
	if cfg.PublicEndpoint != "" {
		if s.public, err = newMinioClient(cfg.PublicEndpoint, cfg.PublicUseSSL, cfg); err != nil {
			return nil, fmt.Errorf("s3 public endpoint %s: %w", cfg.PublicEndpoint, err)
		}
	}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func newMinioClient(endpoint string, secure bool, cfg S3Config) (*minio.Client, error) {
	return minio.New(endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     secure,
		Region:     cfg.Region,
		MaxRetries: s3MaxRetries,
	})
}

// ensureBucket creates the bucket unless it exists, tolerating a concurrent
// creation by another instance.
func (s *S3) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s3Err("check bucket", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
		return s3Err("create bucket", s.bucket, err)
	}
	return nil
}

// Put uploads the blob: in one request up to 8 MiB, else as a multipart
// upload that the client aborts on failure (even once ctx has ended: it
// gives the abort a minute of its own). A failure of r, a wrong size or
// an ended ctx makes the upload fail before its last byte is sent, and is
// returned as the caller's error.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	src := newSource(ctx, r, size)
	if size == 0 || ctx.Err() != nil {
		// The client sends an empty body without reading r: check it here.
		// An ended ctx is reported before any request is made.
		if _, err := src.Read(nil); err != io.EOF {
			return fmt.Errorf("put %s: %w", key, src.err)
		}
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, src, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    partSize(size),
	})
	if src.err != nil {
		return fmt.Errorf("put %s: %w", key, src.err)
	}
	return s3Err("put", key, err)
}

// partSize is s3PartSize, or more for blobs that would need more than
// assets.MaxParts parts (over 78 GiB).
func partSize(size int64) uint64 {
	if size <= s3PartSize*assets.MaxParts {
		return s3PartSize
	}
	const mib = 1 << 20
	per := (size + assets.MaxParts - 1) / assets.MaxParts
	return uint64((per + mib - 1) / mib * mib)
}

// Open starts a ranged GET. It uses the low-level Core.GetObject, which
// sends the request at once (minio.Client.GetObject would only send it on
// the first Read), so a missing blob is reported here, in one round trip
// and without a separate Stat. A range starting at or beyond the end costs
// a second request, a Stat, to tell an empty read from *RangeError.
func (s *S3) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if err := validRange(offset, length); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if length == 0 {
		return s.openEmpty(ctx, key, offset)
	}
	var opts minio.GetObjectOptions
	var err error
	switch {
	case length > 0 && length <= math.MaxInt64-offset:
		err = opts.SetRange(offset, offset+length-1)
	case offset > 0:
		err = opts.SetRange(offset, 0) // from offset to the end
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.InvalidRange {
			return s.openEmpty(ctx, key, offset)
		}
		return nil, s3Err("open", key, err)
	}
	return body, nil
}

// openEmpty serves a range that holds no bytes, if offset is within the blob.
func (s *S3) openEmpty(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, s3Err("open", key, err)
	}
	if offset > info.Size {
		return nil, &RangeError{Key: key, Offset: offset, Size: info.Size}
	}
	return emptyReader{}, nil
}

// Stat asks for the object's metadata (a HEAD request).
func (s *S3) Stat(ctx context.Context, key string) (assets.BlobInfo, error) {
	if err := validKey(key); err != nil {
		return assets.BlobInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return assets.BlobInfo{}, s3Err("stat", key, err)
	}
	return assets.BlobInfo{Key: key, Size: info.Size, Modified: info.LastModified}, nil
}

// Delete removes the object; S3 reports success for a missing one too.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil
	}
	return s3Err("delete", key, err)
}

// List pages through the bucket's listing (1000 keys a request). Incomplete
// multipart uploads are not objects and are never listed.
func (s *S3) List(ctx context.Context, prefix string, fn func(assets.BlobInfo) error) error {
	if err := validPrefix(prefix); err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	ctx, cancel := context.WithCancel(ctx) // stops the listing if fn fails
	defer cancel()
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return s3Err("list", prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // a "directory" marker made by another tool, not a blob
		}
		if err := fn(assets.BlobInfo{Key: obj.Key, Size: obj.Size, Modified: obj.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

// CreateMultipart starts an S3 multipart upload.
func (s *S3) CreateMultipart(ctx context.Context, key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", fmt.Errorf("create upload %s: %w", key, err)
	}
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return "", s3Err("create upload", key, err)
	}
	return id, nil
}

// PutPart uploads part n; size must be known. The ETag is S3's (the hex MD5
// of the part, unquoted).
func (s *S3) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (string, error) {
	op := "put part " + strconv.Itoa(n) + " of"
	if err := validKey(key); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, key, err)
	}
	if err := validPartNumber(n); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, key, err)
	}
	if size < 0 {
		return "", fmt.Errorf("%s %s: part size must be known", op, key)
	}
	src := newSource(ctx, r, size)
	if size == 0 {
		if _, err := src.Read(nil); err != io.EOF {
			return "", fmt.Errorf("%s %s: %w", op, key, src.err)
		}
	}
	part, err := s.core.PutObjectPart(ctx, s.bucket, key, uploadID, n, src, size, minio.PutObjectPartOptions{})
	if src.err != nil {
		return "", fmt.Errorf("%s %s: %w", op, key, src.err)
	}
	if err != nil {
		return "", s3Err(op, key, err)
	}
	return part.ETag, nil
}

// CompleteMultipart asks S3 to join the parts. S3 checks them: a missing
// part or wrong ETag fails with its code InvalidPart, a small non-last part
// with EntityTooSmall.
func (s *S3) CompleteMultipart(ctx context.Context, key, uploadID string, parts []assets.Part) error {
	const op = "complete upload"
	if err := validKey(key); err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	if err := checkParts(parts); err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	complete := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		complete[i] = minio.CompletePart{PartNumber: p.N, ETag: p.ETag}
	}
	_, err := s.core.CompleteMultipartUpload(ctx, s.bucket, key, uploadID, complete, minio.PutObjectOptions{})
	return s3Err(op, key, err)
}

// AbortMultipart drops the upload; S3's NoSuchUpload counts as done.
func (s *S3) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("abort upload %s: %w", key, err)
	}
	err := s.core.AbortMultipartUpload(ctx, s.bucket, key, uploadID)
	if minio.ToErrorResponse(err).Code == minio.NoSuchUpload {
		return nil
	}
	return s3Err("abort upload", key, err)
}

// Ping checks, within 5 s, that the bucket answers (a HEAD request).
func (s *S3) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s3Err("ping", s.bucket, err)
	}
	if !ok {
		return unavailable("ping", s.bucket, errors.New("bucket does not exist"))
	}
	return nil
}

// Presigner returns the store's presigner, or nil if S3Config has no
// PublicEndpoint. S3 itself does not implement assets.Presigner, so that a
// type assertion cannot find one on a store that can give no usable URL.
func (s *S3) Presigner() assets.Presigner {
	if s.public == nil {
		return nil
	}
	return presigner{client: s.public, bucket: s.bucket}
}

// presigner signs URLs for the public endpoint. Signing is local (the
// region is configured), so it neither calls nor needs that endpoint.
type presigner struct {
	client *minio.Client
	bucket string
}

// PresignGet returns a GET URL valid for ttl (1 s to 7 days) whose response
// has the given Content-Type and Content-Disposition (when not empty). It
// does not check that the blob exists.
func (p presigner) PresignGet(ctx context.Context, key string, ttl time.Duration, contentType, disposition string) (string, error) {
	if err := validKey(key); err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	q := url.Values{}
	if contentType != "" {
		q.Set("response-content-type", contentType)
	}
	if disposition != "" {
		q.Set("response-content-disposition", disposition)
	}
	u, err := p.client.PresignedGetObject(ctx, p.bucket, key, ttl, q)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return u.String(), nil
}

// s3Err maps a client error: NoSuchKey and NoSuchUpload are
// pathways.ErrNotFound; network failures, time-outs, 5xx and throttling,
// a missing bucket and refused credentials are pathways.ErrUnavailable
// (the store cannot serve); anything else (a bad request) is neither.
func s3Err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	switch resp := minio.ToErrorResponse(err); {
	case resp.Code == minio.NoSuchKey || resp.Code == minio.NoSuchUpload:
		return notFound(op, key, err)
	case s3Unavailable(err, resp):
		return unavailable(op, key, err)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

func s3Unavailable(err error, resp minio.ErrorResponse) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var netErr net.Error // *url.Error, *net.OpError, *net.DNSError, time-outs
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) {
		return true
	}
	switch resp.Code {
	case minio.NoSuchBucket, minio.AccessDenied, minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch,
		minio.InternalError, "ServiceUnavailable", "SlowDown", "SlowDownRead", "SlowDownWrite",
		"RequestTimeout", "XMinioServerNotInitialized":
		return true
	}
	return resp.StatusCode >= http.StatusInternalServerError
}
