package main

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

func TestMediaConfig(t *testing.T) {
	env := map[string]string{
		"S3_ENDPOINT": "https://s3.example.org", "S3_USE_SSL": "maybe", "PATHWAYS_MEDIA_LIMITS": "video=2GB,hologram=1MB,image=lots",
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad media configuration accepted")
	}
	for _, want := range []string{"S3_ENDPOINT", "S3_USE_SSL", "S3_ACCESS_KEY", "hologram=1MB", "image=lots"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	env = map[string]string{"PATHWAYS_DATA_DIR": "/srv/p", "PATHWAYS_MEDIA_LIMITS": "video=2GB, image=5MiB", "S3_PUBLIC_ENDPOINT": "cdn.example.org"}
	if _, err := loadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "S3_PUBLIC_ENDPOINT") {
		t.Errorf("S3_PUBLIC_ENDPOINT without S3_ENDPOINT: %v", err)
	}
	delete(env, "S3_PUBLIC_ENDPOINT")
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.MediaDir != filepath.Join("/srv/p", "media") || c.MediaLimits[assets.KindVideo] != 2e9 || c.MediaLimits[assets.KindImage] != 5<<20 || c.S3.Endpoint != "" {
		t.Errorf("media config: %+v", c)
	}
}

// uploadPNG signs in as the admin, uploads a picture to a new organisation
// and downloads it again through the running command.
func uploadPNG(t *testing.T, in *instance, password string) {
	t.Helper()
	status, sess := in.post(t, "/api/v1/auth/login", map[string]string{"username": "admin", "password": password}, "")
	if status != 200 {
		t.Fatalf("login: %d %v", status, sess)
	}
	token := sess["accessToken"].(string)
	status, org := in.post(t, "/api/v1/organisations", map[string]string{"slug": "media-ngo", "name": "Media NGO"}, token)
	if status != 201 {
		t.Fatalf("organisation: %d %v", status, org)
	}
	var img bytes.Buffer
	_ = png.Encode(&img, image.NewGray(image.Rect(0, 0, 10, 10)))
	req, _ := http.NewRequest("POST", in.base+"/api/v1/media?name=grey.png&orgId="+org["id"].(string), bytes.NewReader(img.Bytes()))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+token)
	status, a := do(t, req)
	if status != 201 || a["contentType"] != "image/png" {
		t.Fatalf("upload: %d %v", status, a)
	}
	req, _ = http.NewRequest("GET", in.base+"/media/"+a["id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, img.Bytes()) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(got))
	}
}

// TestServeMediaOnDisk: by default media go under the data directory.
func TestServeMediaOnDisk(t *testing.T) {
	dir := t.TempDir()
	in := start(t, map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_LOG_LEVEL": "warn", "PATHWAYS_ADMIN_PASSWORD": "a long admin passphrase",
		"PATHWAYS_DEMO": "false"})
	uploadPNG(t, in, "a long admin passphrase")
	var files int
	_ = filepath.WalkDir(filepath.Join(dir, "media", "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files != 1 {
		t.Errorf("%d files under data/media/blobs, want 1", files)
	}
}

// TestServeMediaOnS3: with S3_* set, media go to S3 (a real MinIO; the
// bucket is created), /readyz checks it, and the clean-up job runs.
func TestServeMediaOnS3(t *testing.T) {
	cfg := miniotest.Config(t)
	in := start(t, map[string]string{
		"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "info", "PATHWAYS_ADMIN_PASSWORD": "a long admin passphrase",
		"S3_ENDPOINT": cfg.Endpoint, "S3_BUCKET": cfg.Bucket, "S3_ACCESS_KEY": cfg.AccessKey, "S3_SECRET_KEY": cfg.SecretKey,
		"S3_USE_SSL": "false", "PATHWAYS_MEDIA_CLEAN_INTERVAL": "50ms",
	})
	if status, _ := in.get(t, "/readyz", ""); status != 200 {
		t.Fatalf("readyz: %d", status)
	}
	uploadPNG(t, in, "a long admin passphrase")
	if !strings.Contains(in.stderr.String(), `"msg":"media on S3"`) {
		t.Errorf("S3 not used:\n%s", in.stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(in.stderr.String(), `"msg":"media cleaned"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no clean-up run logged:\n%s", in.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
