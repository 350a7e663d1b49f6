package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

// mediaStores runs a test on the disk store and on S3 (a real MinIO).
func mediaStores(t *testing.T, cfg assets.Config, test func(t *testing.T, e *env)) {
	t.Run("disk", func(t *testing.T) { test(t, newMediaEnv(t, nil, nil, cfg)) })
	t.Run("s3", func(t *testing.T) { test(t, newMediaEnv(t, miniotest.NewS3(t), nil, cfg)) })
}

// rawRequest sends a request head announcing n body bytes, then sent,
// then closes the connection: a link that drops mid-transfer.
func rawRequest(t *testing.T, base, method, path string, header map[string]string, n int, sent []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n", method, path, n)
	for k, v := range header {
		head += k + ": " + v + "\r\n"
	}
	if _, err := conn.Write(append([]byte(head+"\r\n"), sent...)); err != nil {
		t.Fatal(err)
	}
}

func (e *env) chunk(token, id string, offset int, data []byte, header ...string) response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(offset)}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return e.do(req{method: "PATCH", path: "/api/v1/media/uploads/" + id, body: data, token: token, header: h})
}

// TestResumableUpload: a large file sent in chunks survives a retried
// start, a lost answer, a dropped connection mid-chunk and a wrong offset,
// and becomes an asset with the right checksum; on disk and on S3.
func TestResumableUpload(t *testing.T) {
	cfg := assets.DefaultConfig
	cfg.Limits = map[assets.Kind]int64{assets.KindImage: 20 << 20}
	mediaStores(t, cfg, func(t *testing.T, e *env) {
		base := e.listen()
		tok := e.token("a-trainer")
		const mib = 1 << 20
		data := bigPNG(t, 11*mib, 9)
		id := "0194f7d2-7c3a-7d7e-9a1b-000000000001"
		start := map[string]any{"id": id, "name": "poster.png", "type": "image/png", "size": len(data), "altText": "A poster"}
		r := e.do(req{method: "POST", path: "/api/v1/media/uploads", body: start, token: tok})
		if r.status != 201 || r.header.Get("Location") != "/api/v1/media/uploads/"+id || r.header.Get("Upload-Offset") != "0" {
			t.Fatalf("start: %d %v %s", r.status, r.header, r.body)
		}
		if u := r.json(t); u["chunkMin"] != float64(assets.MinPartSize) || u["size"] != float64(len(data)) {
			t.Errorf("upload: %v", u)
		}
		if r := e.do(req{method: "POST", path: "/api/v1/media/uploads", body: start, token: tok}); r.status != 200 {
			t.Errorf("retried start: %d %s", r.status, r.body)
		}

		p := wantProblem(t, e.chunk(tok, id, 0, data[:mib]), 422, "validation")
		if codes := fieldCodes(p); len(codes) != 1 || codes[0] != "chunk:chunk_size" {
			t.Errorf("small chunk: %v", codes)
		}
		if r := e.chunk(tok, id, 0, data[:5*mib]); r.status != 204 || r.header.Get("Upload-Offset") != strconv.Itoa(5*mib) {
			t.Fatalf("chunk 1: %d %v %s", r.status, r.header, r.body)
		}
		// The answer was lost and the client sends the chunk again.
		r = e.chunk(tok, id, 0, data[:5*mib])
		wantProblem(t, r, 409, "upload-offset")
		if r.header.Get("Upload-Offset") != strconv.Itoa(5*mib) {
			t.Errorf("409 without the offset: %v", r.header)
		}
		// The link drops two MiB into chunk 2: nothing of it counts.
		rawRequest(t, base, "PATCH", "/api/v1/media/uploads/"+id, map[string]string{
			"Authorization": "Bearer " + tok, "Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(5 * mib),
		}, 5*mib, data[5*mib:7*mib])
		e.waitLogged("/api/v1/media/uploads/"+id, 400)
		st := e.do(req{method: "GET", path: "/api/v1/media/uploads/" + id, token: tok})
		if st.status != 200 || st.json(t)["offset"] != float64(5*mib) || st.header.Get("Upload-Length") != strconv.Itoa(len(data)) {
			t.Fatalf("status after the drop: %d %s", st.status, st.body)
		}
		if r := e.chunk(tok, id, 5*mib, data[5*mib:10*mib]); r.status != 204 {
			t.Fatalf("chunk 2: %d %s", r.status, r.body)
		}
		r = e.chunk(tok, id, 10*mib, data[10*mib:])
		if r.status != 201 {
			t.Fatalf("last chunk: %d %s", r.status, r.body)
		}
		a := r.json(t)
		if a["id"] != id || a["sha256"] != sha(data) || a["size"] != float64(len(data)) || a["altText"] != "A poster" || a["kind"] != "image" {
			t.Errorf("asset: %v", a)
		}
		got := e.do(req{method: "GET", path: "/media/" + id, token: tok})
		if got.status != 200 || sha(got.body) != sha(data) {
			t.Errorf("download: %d, %d bytes", got.status, len(got.body))
		}
		wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media/uploads/" + id, token: tok}), 404, "not-found")
		if keys := e.blobKeys(); len(keys) != 1 {
			t.Errorf("blobs: %v", keys)
		}
	})
}

// TestResumableUploadRefused: bad chunks and bad uploads get problems,
// a wrong file is refused at its first chunk, uploads are personal.
func TestResumableUploadRefused(t *testing.T) {
	e := newEnv(t)
	tok, admin := e.token("a-trainer"), e.token("a-admin")
	start := func(body map[string]any) response {
		return e.do(req{method: "POST", path: "/api/v1/media/uploads", body: body, token: tok})
	}
	wantProblem(t, start(map[string]any{"name": "a.png", "size": 0}), 422, "validation")
	wantProblem(t, start(map[string]any{"name": "a.png", "type": "image/png", "size": 11 << 20}), 413, "media-too-large")
	wantProblem(t, start(map[string]any{"name": "a.png", "size": 2 << 30}), 413, "media-too-large")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/media/uploads", body: map[string]any{"name": "a.png", "size": 10}, token: e.token("a-learner")}), 403, "forbidden")

	r := start(map[string]any{"name": "notes.png", "size": 300})
	id := r.json(t)["id"].(string)
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media/uploads/" + id, token: admin}), 404, "not-found")
	wantProblem(t, e.chunk(admin, id, 0, make([]byte, 300)), 404, "not-found")
	p := wantProblem(t, e.chunk(tok, id, 0, make([]byte, 300), "Content-Type", "application/json"), 415, "unsupported-media-type")
	if !strings.Contains(p["detail"].(string), "application/offset+octet-stream") {
		t.Errorf("415 detail: %v", p["detail"])
	}
	wantProblem(t, e.chunk(tok, id, 0, make([]byte, 300), "Upload-Offset", "minus one"), 422, "validation")
	wantProblem(t, e.chunk(tok, id, 0, make([]byte, 301)), 422, "validation")
	zip := append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), bytes.Repeat([]byte("z"), 290)...)
	p = wantProblem(t, e.chunk(tok, id, 0, zip), 422, "validation")
	if codes := fieldCodes(p); len(codes) != 1 || codes[0] != "file:type_unsupported" {
		t.Errorf("codes %v", codes)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media/uploads/" + id, token: tok}), 404, "not-found")

	r = start(map[string]any{"name": "b.png", "size": 300})
	id = r.json(t)["id"].(string)
	if r := e.do(req{method: "DELETE", path: "/api/v1/media/uploads/" + id, token: tok}); r.status != 204 {
		t.Errorf("cancel: %d", r.status)
	}
	wantProblem(t, e.chunk(tok, id, 0, pngFile(t, 2, 2, 1)), 404, "not-found")
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("blobs: %v", keys)
	}
}

// relay forwards TCP connections to a target until closed: a blob store
// reached through it becomes unreachable when the test closes it.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newRelay(t *testing.T, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
}
