package coursefile

import (
	"archive/zip"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
)

// TestCodesDescribed: every code has an English message of its own, and
// this package's codes are distinct from each other.
func TestCodesDescribed(t *testing.T) {
	for _, code := range slices.Concat(FieldCodes, courses.FieldCodes, assessments.FieldCodes) {
		if msg := describe(code, map[string]any{}); msg == code || msg == "" {
			t.Errorf("code %q has no message", code)
		}
	}
	seen := map[string]bool{}
	for _, code := range FieldCodes {
		if seen[code] {
			t.Errorf("code %q listed twice", code)
		}
		seen[code] = true
	}
}

// endless is an fs.File that never ends, counting what it gives out.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) { e.n += int64(len(p)); return len(p), nil }
func (e *endless) Stat() (fs.FileInfo, error) { return nil, errors.New("no stat") }
func (e *endless) Close() error               { return nil }

// TestLimitedFile: whatever the entry underneath does, a read never yields
// more than the declared size, and pulls at most one byte more from it.
func TestLimitedFile(t *testing.T) {
	inner := &endless{}
	f := &limitedFile{File: inner, name: "media/x", size: 1000, left: 1000}
	n, err := io.Copy(io.Discard, f)
	if !errors.Is(err, zip.ErrFormat) || n != 1000 {
		t.Errorf("copied %d bytes, error %v; want 1000 and zip.ErrFormat", n, err)
	}
	if inner.n > 1001 {
		t.Errorf("pulled %d bytes from the entry", inner.n)
	}
}
