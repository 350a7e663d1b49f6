package media_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

// TestMinIOVersionPinnedOnce: scripts/test installs the MinIO version the
// harness looks for.
func TestMinIOVersionPinnedOnce(t *testing.T) {
	script, err := os.ReadFile("../../scripts/test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "minio_version="+miniotest.Version+"\n") {
		t.Errorf("scripts/test does not install MinIO %s", miniotest.Version)
	}
}
