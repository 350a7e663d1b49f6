package media_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/media"
)

func TestDiskInvalidKeys(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	d, err := media.NewDisk(filepath.Join(parent, "media"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{
		"", "../x", "a/../../x", "/abs", "a//b", `a\b`, ".", "a/./b", "a/", "a b", "ä", "a:b",
		".tmp/x", ".multipart/x",
	} {
		if err := d.Put(ctx, key, bytes.NewReader([]byte("x")), 1); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if _, err := d.Open(ctx, key, 0, -1); err == nil || errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Open(%q): %v, want an invalid key error", key, err)
		}
		if _, err := d.Stat(ctx, key); err == nil || errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Stat(%q): %v, want an invalid key error", key, err)
		}
		if err := d.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
		if _, err := d.CreateMultipart(ctx, key); err == nil {
			t.Errorf("CreateMultipart(%q) succeeded", key)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key escaped the store's directory: %v", err)
	}
	for _, id := range []string{"../../x", "", "zz"} {
		if _, err := d.PutPart(ctx, "blobs/k", id, 1, bytes.NewReader(nil), 0); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("PutPart(upload %q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestDiskRemovesStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := media.NewDisk(dir); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, ".tmp", "put-stale"), filepath.Join(dir, ".tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := media.NewDisk(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
}

func TestDiskUnavailable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "media")
	d, err := media.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// The directory vanishes (an unmounted volume): the store cannot serve.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, pathways.ErrUnavailable) {
		t.Errorf("Ping: %v, want ErrUnavailable", err)
	}
	if err := d.Put(ctx, "blobs/x", bytes.NewReader([]byte("x")), 1); !errors.Is(err, pathways.ErrUnavailable) {
		t.Errorf("Put: %v, want ErrUnavailable", err)
	}
	if _, err := d.CreateMultipart(ctx, "blobs/x"); !errors.Is(err, pathways.ErrUnavailable) {
		t.Errorf("CreateMultipart: %v, want ErrUnavailable", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tmp"), nil, 0o600); err != nil { // a file where a directory belongs
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, pathways.ErrUnavailable) {
		t.Errorf("Ping with .tmp a file: %v, want ErrUnavailable", err)
	}
}
