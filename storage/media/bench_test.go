package media_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/pathways-lms/pathways/assets"
)

// benchSize is a typical chunk of video, and the S3 store's part size.
const benchSize = 8 << 20

func BenchmarkPut(b *testing.B) {
	for _, s := range []struct {
		name string
		open func(testing.TB) assets.Blobs
	}{{"Disk", openDisk}, {"S3", openS3}} {
		b.Run(s.name, func(b *testing.B) {
			store := s.open(b)
			data := randomBytes(b, benchSize)
			ctx := context.Background()
			b.SetBytes(benchSize)
			for b.Loop() {
				if err := store.Put(ctx, "blobs/bench", bytes.NewReader(data), benchSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, s := range []struct {
		name string
		open func(testing.TB) assets.Blobs
	}{{"Disk", openDisk}, {"S3", openS3}} {
		b.Run(s.name, func(b *testing.B) {
			store := s.open(b)
			put(b, store, "blobs/bench", randomBytes(b, benchSize))
			ctx := context.Background()
			b.SetBytes(benchSize)
			for b.Loop() {
				r, err := store.Open(ctx, "blobs/bench", 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				r.Close()
				if err != nil || n != benchSize {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}
