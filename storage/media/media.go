// Package media holds the two stores of media bytes behind assets.Blobs: Disk,
// files under a local directory (the default), and S3, a bucket on any
// S3-compatible server (MinIO, AWS). Both behave alike, down to S3's
// multipart limits, and one contract test suite runs against each.
//
// Errors: a missing blob (or upload) wraps pathways.ErrNotFound; a store that
// cannot serve (I/O failure, full disk, network down, 5xx, bad credentials)
// wraps pathways.ErrUnavailable. Both keep the cause in the message and in
// the chain. A failure of the caller's reader, a wrong size or an ended ctx
// wraps neither: it is the caller's own error, returned so that errors.Is
// still finds it (io.ErrUnexpectedEOF for a short input, context.Canceled…).
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
)

// maxKeyLen is S3's limit on a key, in bytes; the disk store uses it too.
const maxKeyLen = 1024

// Disk-internal directories at the root of a store; no key may begin with them.
const (
	tmpDir       = ".tmp"
	multipartDir = ".multipart"
)

// RangeError is returned by Open when offset lies beyond the end of the blob.
// An offset equal to the size is not an error: it reads nothing.
type RangeError struct {
	Key          string
	Offset, Size int64
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("open %s: offset %d beyond end of blob (%d bytes)", e.Key, e.Offset, e.Size)
}

// validKey accepts slash-separated relative paths of [A-Za-z0-9._-] segments,
// so that a key maps to one file under the store's directory and nowhere
// else, and is a plain S3 key needing no escaping.
func validKey(key string) error {
	if key == "" {
		return errors.New("invalid key: empty")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("invalid key: longer than %d bytes", maxKeyLen)
	}
	if err := validChars(key); err != nil {
		return err
	}
	for i, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("invalid key %q: empty path segment", key)
		case seg == "." || seg == "..":
			return fmt.Errorf("invalid key %q: %q segment", key, seg)
		case i == 0 && (seg == tmpDir || seg == multipartDir):
			return fmt.Errorf("invalid key %q: %q is reserved", key, seg)
		}
	}
	return nil
}

// validPrefix accepts the start of a valid key ("" lists everything).
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "//") {
		return fmt.Errorf("invalid prefix %q: empty path segment", prefix)
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == ".." {
			return fmt.Errorf("invalid prefix %q: %q segment", prefix, seg)
		}
	}
	return validChars(prefix)
}

func validChars(s string) error {
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '-', c == '/':
		default:
			return fmt.Errorf("invalid key %q: character %q not allowed", s, c)
		}
	}
	return nil
}

// validRange rejects what neither store can serve: a negative offset, or a
// length below -1 (-1 means "to the end").
func validRange(offset, length int64) error {
	if offset < 0 || length < -1 {
		return fmt.Errorf("invalid range: offset %d, length %d", offset, length)
	}
	return nil
}

// validPartNumber checks n against S3's range of part numbers.
func validPartNumber(n int) error {
	if n < 1 || n > assets.MaxParts {
		return fmt.Errorf("invalid part number %d: not in 1..%d", n, assets.MaxParts)
	}
	return nil
}

// checkParts rejects part lists S3 would refuse whatever is stored: empty,
// too long, or not in strictly ascending order of part number.
func checkParts(parts []assets.Part) error {
	if len(parts) == 0 {
		return errors.New("no parts")
	}
	if len(parts) > assets.MaxParts {
		return fmt.Errorf("%d parts, more than %d", len(parts), assets.MaxParts)
	}
	for i, p := range parts {
		if err := validPartNumber(p.N); err != nil {
			return err
		}
		if i > 0 && p.N <= parts[i-1].N {
			return fmt.Errorf("part %d after part %d: parts must be in ascending order", p.N, parts[i-1].N)
		}
	}
	return nil
}

// notFound wraps cause as a missing blob, keeping cause in the message.
func notFound(op, key string, cause error) error {
	return fmt.Errorf("%s %s: %w: %w", op, key, pathways.ErrNotFound, cause)
}

// unavailable wraps cause as a store that cannot serve. An ended ctx is the
// caller's doing, not the store's, and stays a plain ctx error.
func unavailable(op, key string, cause error) error {
	if errors.Is(cause, context.Canceled) {
		return fmt.Errorf("%s %s: %w", op, key, cause)
	}
	return fmt.Errorf("%s %s: %w: %w", op, key, pathways.ErrUnavailable, cause)
}

// source is the reader a store consumes in Put and PutPart. It enforces the
// contract on the caller's reader: exactly size bytes (any number if size is
// -1), ctx checked before every read. Its first failure is kept in err, so a
// store can tell the caller's fault (r failed, wrong size, ctx ended) from
// its own, whatever the store's client made of the failed read.
//
// The read that completes size bytes first checks that r has nothing more;
// if it has, the read fails instead of returning the last bytes, so a store
// never receives a complete body for a too-long input.
type source struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	n    int64 // bytes handed out
	eof  bool  // r has reported io.EOF
	err  error // first failure, returned by every later Read
}

func newSource(ctx context.Context, r io.Reader, size int64) *source {
	return &source{ctx: ctx, r: r, size: size}
}

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		return 0, s.fail(err)
	}
	if s.size < 0 {
		n, err := s.r.Read(p)
		s.n += int64(n)
		if err != nil && err != io.EOF {
			return n, s.fail(fmt.Errorf("read input: %w", err))
		}
		return n, err
	}
	left := s.size - s.n
	if left == 0 {
		if err := s.drained(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case s.n == s.size:
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return 0, s.fail(fmt.Errorf("read input: %w", err))
		}
		if err := s.drained(); err != nil {
			return 0, err
		}
		return n, nil
	case err == io.EOF:
		return 0, s.fail(fmt.Errorf("input ended after %d of %d bytes: %w", s.n, s.size, io.ErrUnexpectedEOF))
	case err != nil:
		return 0, s.fail(fmt.Errorf("read input: %w", err))
	}
	return n, nil
}

// drained checks that r is at its end once size bytes were read.
func (s *source) drained() error {
	if s.eof {
		return nil
	}
	var b [1]byte
	n, err := io.ReadFull(s.r, b[:])
	switch {
	case n > 0:
		return s.fail(fmt.Errorf("input longer than %d bytes", s.size))
	case err == io.EOF:
		s.eof = true
		return nil
	default:
		return s.fail(fmt.Errorf("read input: %w", err))
	}
}

func (s *source) fail(err error) error {
	s.err = err
	return err
}

// emptyReader is the reader of a zero-length range.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyReader) Close() error             { return nil }
