package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

// TestMediaOnS3: uploads and ranged downloads through the server with the
// bytes on S3.
func TestMediaOnS3(t *testing.T) {
	e := newMediaEnv(t, miniotest.NewS3(t), nil, assets.DefaultConfig)
	tok := e.token("a-trainer")
	data := bigPNG(t, 300000, 11)
	id := e.mustUpload(tok, formFile{"s3.png", "", data})["id"].(string)
	r := e.do(req{method: "GET", path: "/media/" + id, token: tok, header: map[string]string{"Range": "bytes=1000-1999"}})
	if r.status != 206 || !bytes.Equal(r.body, data[1000:2000]) {
		t.Errorf("range from S3: %d, %d bytes", r.status, len(r.body))
	}
	if r := e.do(req{method: "GET", path: "/media/" + id, token: tok}); r.status != 200 || sha(r.body) != sha(data) {
		t.Errorf("whole from S3: %d", r.status)
	}
}

// TestPresignedRedirect: with a public S3 endpoint, the server answers
// with a short-lived redirect that a plain client follows to the bytes.
func TestPresignedRedirect(t *testing.T) {
	cfg := miniotest.Config(t)
	cfg.PublicEndpoint = cfg.Endpoint
	s3, err := media.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newMediaEnv(t, s3, s3.Presigner(), assets.DefaultConfig)
	tok := e.token("a-trainer")
	img := pngFile(t, 16, 16, 12)
	id := e.mustUpload(tok, formFile{"direct.png", "", img})["id"].(string)

	r := e.do(req{method: "GET", path: "/media/" + id + "?download=1", token: tok})
	loc := r.header.Get("Location")
	if r.status != 307 || loc == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("redirect: %d %v", r.status, r.header)
	}
	resp, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, img) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=direct.png` {
		t.Errorf("presigned download: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
	}
	// Not for someone who may not read it.
	wantProblem(t, e.do(req{method: "GET", path: "/media/" + id, token: e.token("b-learner")}), 404, "not-found")
	// A matching ETag still answers 304 without a redirect.
	if r := e.do(req{method: "GET", path: "/media/" + id, token: tok, header: map[string]string{"If-None-Match": `"` + sha(img) + `"`}}); r.status != 304 {
		t.Errorf("If-None-Match: %d", r.status)
	}
}

// TestMediaStorageDown: when the blob store cannot be reached, uploads and
// downloads answer 503 problems, /readyz names the store, and nothing
// half-written stays: no metadata without bytes.
func TestMediaStorageDown(t *testing.T) {
	t.Run("s3", func(t *testing.T) {
		cfg := miniotest.Config(t)
		rl := newRelay(t, cfg.Endpoint)
		cfg.Endpoint = rl.addr()
		s3, err := media.NewS3(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		e := newMediaEnv(t, s3, nil, assets.DefaultConfig)
		storageDown(t, e, rl.close)
	})
	t.Run("disk", func(t *testing.T) {
		dir := t.TempDir()
		disk, err := media.NewDisk(dir)
		if err != nil {
			t.Fatal(err)
		}
		e := newMediaEnv(t, disk, nil, assets.DefaultConfig)
		storageDown(t, e, func() {
			// The disk is gone (an unmounted volume): a file where the
			// directory was.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(dir) })
		})
	})
}

func storageDown(t *testing.T, e *env, cut func()) {
	tok := e.token("a-trainer")
	id := e.mustUpload(tok, formFile{"before.png", "", pngFile(t, 8, 8, 13)})["id"].(string)
	cut()
	for _, lang := range []string{"en", "fr"} {
		r := e.upload(tok, nil, formFile{"after.png", "", pngFile(t, 8, 8, 14)}, "Accept-Language", lang)
		wantProblem(t, r, 503, "unavailable")
		if r.header.Get("Content-Language") != lang {
			t.Errorf("503 in %q, want %s", r.header.Get("Content-Language"), lang)
		}
	}
	wantProblem(t, e.do(req{method: "GET", path: "/media/" + id, token: tok}), 503, "unavailable")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/media/uploads", body: map[string]any{"name": "x.png", "size": 100}, token: tok}), 503, "unavailable")
	ready := e.do(req{method: "GET", path: "/readyz"})
	p := wantProblem(t, ready, 503, "unavailable")
	if checks, _ := p["checks"].(map[string]any); checks["media"] == "ok" || checks["database"] != "ok" {
		t.Errorf("readyz checks: %v", p["checks"])
	}
	lib := e.do(req{method: "GET", path: "/api/v1/media", token: tok}).json(t)
	if lib["total"] != float64(1) {
		t.Errorf("failed uploads left metadata: %v", lib)
	}
}
