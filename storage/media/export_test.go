package media

import (
	"context"
	"os"
	"path/filepath"

	"github.com/pathways-lms/pathways/assets"
)

// Leftovers lists what writes to key left behind that the store should have
// removed: for Disk, any temporary file or upload directory; for S3, the
// incomplete multipart uploads of key. The contract tests use it.
func Leftovers(ctx context.Context, b assets.Blobs, key string) ([]string, error) {
	var out []string
	switch s := b.(type) {
	case *Disk:
		for _, sub := range []string{tmpDir, multipartDir} {
			entries, err := os.ReadDir(filepath.Join(s.dir, sub))
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				out = append(out, sub+"/"+e.Name())
			}
		}
	case *S3:
		for u := range s.client.ListIncompleteUploads(ctx, s.bucket, key, true) {
			if u.Err != nil {
				return nil, u.Err
			}
			out = append(out, "upload "+u.Key+" "+u.UploadID)
		}
	}
	return out, nil
}
