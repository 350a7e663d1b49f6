package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/assets"
)

// Real files of each accepted kind, made here.

// pngFile is a real PNG of w×h pixels, with noise so that files differ by seed.
func pngFile(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wavFile is a real PCM WAV of n samples of a tone.
func wavFile(n int) []byte {
	var b bytes.Buffer
	le := func(v uint32, size int) {
		for i := 0; i < size; i++ {
			b.WriteByte(byte(v >> (8 * i)))
		}
	}
	b.WriteString("RIFF")
	le(uint32(36+2*n), 4)
	b.WriteString("WAVEfmt ")
	le(16, 4)
	le(1, 2)     // PCM
	le(1, 2)     // mono
	le(8000, 4)  // sample rate
	le(16000, 4) // byte rate
	le(2, 2)     // block align
	le(16, 2)    // bits per sample
	b.WriteString("data")
	le(uint32(2*n), 4)
	for i := 0; i < n; i++ {
		le(uint32(int16((i%40)*800-16000)), 2)
	}
	return b.Bytes()
}

const vttFile = "WEBVTT\n\n00:00.000 --> 00:02.000\nمرحبا — hello\n"

// bigPNG is a PNG header followed by n bytes of noise: the type is decided
// from the start, and the noise makes it any size.
func bigPNG(t testing.TB, n int, seed uint64) []byte {
	head := pngFile(t, 4, 4, seed)
	out := make([]byte, n)
	copy(out, head)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := len(head); i < n; i++ {
		out[i] = byte(r.Uint32())
	}
	return out
}

// file is one part of a multipart upload.
type formFile struct {
	name, contentType string
	data              []byte
}

// multipartBody encodes fields (in order) then the file.
func multipartBody(t testing.TB, fields [][2]string, f *formFile) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if f != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": f.name}))
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// upload sends a multipart upload and returns the answer.
func (e *env) upload(token string, fields [][2]string, f formFile, header ...string) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, fields, &f)
	h := map[string]string{"Content-Type": ct}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return e.do(req{method: "POST", path: "/api/v1/media", body: body, token: token, header: h})
}

// mustUpload uploads and returns the new asset's JSON.
func (e *env) mustUpload(token string, f formFile, fields ...[2]string) map[string]any {
	e.t.Helper()
	r := e.upload(token, fields, f)
	if r.status != 201 {
		e.t.Fatalf("upload %s: %d %s", f.name, r.status, r.body)
	}
	return r.json(e.t)
}

// blobKeys lists the keys in the blob store.
func (e *env) blobKeys() []string {
	e.t.Helper()
	var keys []string
	if err := e.blobs.List(context.Background(), "", func(b assets.BlobInfo) error {
		keys = append(keys, b.Key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestUploadAndDeliver: a trainer uploads a picture; it is described,
// stored once and served with its validators and safe headers.
func TestUploadAndDeliver(t *testing.T) {
	e := newEnv(t)
	tok := e.token("a-trainer")
	img := pngFile(t, 32, 32, 1)
	r := e.upload(tok, [][2]string{{"altText", "Two people shaking hands"}, {"locale", "ar"}}, formFile{"صورة.png", "image/png", img})
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	a := r.json(t)
	id := a["id"].(string)
	if r.header.Get("Location") != "/api/v1/media/"+id {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	for k, want := range map[string]any{
		"kind": "image", "contentType": "image/png", "size": float64(len(img)), "sha256": sha(img),
		"name": "صورة.png", "locale": "ar", "altText": "Two people shaking hands", "url": "/media/" + id,
		"orgId": e.orgA.ID, "ownerId": e.trainerA.ID, "inUse": false,
	} {
		if a[k] != want {
			t.Errorf("%s = %v, want %v", k, a[k], want)
		}
	}

	got := e.do(req{method: "GET", path: "/media/" + id, token: tok})
	if got.status != 200 || !bytes.Equal(got.body, img) {
		t.Fatalf("download: %d, %d bytes", got.status, len(got.body))
	}
	for h, want := range map[string]string{
		"Content-Type":            "image/png",
		"ETag":                    `"` + sha(img) + `"`,
		"Cache-Control":           "private, max-age=31536000, immutable",
		"Accept-Ranges":           "bytes",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Content-Length":          strconv.Itoa(len(img)),
	} {
		if got.header.Get(h) != want {
			t.Errorf("%s: %q, want %q", h, got.header.Get(h), want)
		}
	}
	if _, p, err := mime.ParseMediaType(got.header.Get("Content-Disposition")); err != nil || p["filename"] != "صورة.png" {
		t.Errorf("Content-Disposition %q: %v %v", got.header.Get("Content-Disposition"), p, err)
	}
	dl := e.do(req{method: "GET", path: "/media/" + id + "/picture.png?download=1", token: tok})
	if !strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") || !bytes.Equal(dl.body, img) {
		t.Errorf("download variant: %q", dl.header.Get("Content-Disposition"))
	}

	// The same bytes again: a second asset, one stored blob.
	b := e.mustUpload(tok, formFile{"copy.png", "", img})
	if b["id"] == id || b["sha256"] != sha(img) {
		t.Errorf("second upload: %v", b)
	}
	if keys := e.blobKeys(); len(keys) != 1 {
		t.Errorf("blobs after identical uploads: %v", keys)
	}

	meta := e.do(req{method: "GET", path: "/api/v1/media/" + id, token: tok})
	if meta.status != 200 || meta.json(t)["altText"] != "Two people shaking hands" {
		t.Errorf("metadata: %d %s", meta.status, meta.body)
	}
}

// TestUploadRawAndIdempotent: the body may be the file itself; a retry
// with the same client id returns the first asset and stores nothing new.
func TestUploadRawAndIdempotent(t *testing.T) {
	e := newEnv(t)
	tok := e.token("a-trainer")
	wav := wavFile(4000)
	id := "0194f7d2-7c3a-7d7e-9a1b-3c4d5e6f7a8b"
	send := func() response {
		return e.do(req{method: "POST", path: "/api/v1/media?id=" + id + "&name=greeting.wav&locale=fa-AF&transcript=" + "%D8%B3%D9%84%D8%A7%D9%85",
			body: wav, token: tok, header: map[string]string{"Content-Type": "audio/wav"}})
	}
	first := send()
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	a := first.json(t)
	if a["id"] != id || a["kind"] != "audio" || a["contentType"] != "audio/wav" || a["transcript"] != "سلام" || a["locale"] != "fa-AF" {
		t.Errorf("asset: %v", a)
	}
	again := send()
	if again.status != 200 || again.json(t)["id"] != id {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	if keys := e.blobKeys(); len(keys) != 1 {
		t.Errorf("blobs: %v", keys)
	}
	// The id is taken in organisation A: another organisation cannot have it.
	root := e.token("root")
	r := e.do(req{method: "POST", path: "/api/v1/media?id=" + id + "&orgId=" + e.orgB.ID, body: wav, token: root, header: map[string]string{"Content-Type": "audio/wav"}})
	wantProblem(t, r, 409, "conflict")
	// What is wrong with the query is reported as parameters.
	r = e.do(req{method: "POST", path: "/api/v1/media?id=nope&locale=x!", body: wav, token: tok, header: map[string]string{"Content-Type": "audio/wav"}})
	p := wantProblem(t, r, 422, "validation")
	for _, fp := range p["errors"].([]any) {
		if m := fp.(map[string]any); m["parameter"] == nil || m["pointer"] != nil {
			t.Errorf("query error not a parameter: %v", m)
		}
	}
	if codes := fieldCodes(p); !slices.Equal(codes, []string{"id:id", "locale:locale"}) {
		t.Errorf("codes %v", codes)
	}
	// Unknown query parameters are named.
	r = e.do(req{method: "POST", path: "/api/v1/media?colour=red", body: wav, token: tok, header: map[string]string{"Content-Type": "audio/wav"}})
	if p := wantProblem(t, r, 422, "validation"); !slices.Equal(fieldCodes(p), []string{"colour:unknown"}) {
		t.Errorf("codes %v", fieldCodes(p))
	}
}

// TestUploadRefused: the type is decided by the content; what the client
// says must agree; script carriers, empty files and oversized files are
// refused, in the caller's language, and nothing is stored.
func TestUploadRefused(t *testing.T) {
	cfg := assets.DefaultConfig
	cfg.Limits = map[assets.Kind]int64{assets.KindImage: 4096}
	e := newMediaEnv(t, nil, nil, cfg)
	tok := e.token("a-trainer")
	img := pngFile(t, 8, 8, 2)
	cases := []struct {
		name   string
		file   formFile
		fields [][2]string
		status int
		typ    string
		codes  []string
	}{
		{"svg", formFile{"logo.svg", "image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, nil, 422, "validation", []string{"name:type_refused"}},
		{"svg named png", formFile{"logo.png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`)}, nil, 422, "validation", []string{"file:type_refused"}},
		{"html", formFile{"page.png", "", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")}, nil, 422, "validation", []string{"file:type_refused"}},
		{"zip", formFile{"x.png", "", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00" + strings.Repeat("z", 100))}, nil, 422, "validation", []string{"file:type_unsupported"}},
		{"declared type lies", formFile{"photo.png", "audio/mpeg", img}, nil, 422, "validation", []string{"file:type_mismatch"}},
		{"extension lies", formFile{"song.mp3", "", img}, nil, 422, "validation", []string{"name:extension_mismatch"}},
		{"html name", formFile{"photo.html", "", img}, nil, 422, "validation", []string{"name:type_refused"}},
		{"empty", formFile{"nothing.png", "image/png", nil}, nil, 422, "validation", []string{"file:empty"}},
		{"too large", formFile{"big.png", "image/png", bigPNG(t, 5000, 3)}, nil, 413, "media-too-large", nil},
		{"bad locale", formFile{"a.png", "", img}, [][2]string{{"locale", "not a locale!"}}, 422, "validation", []string{"locale:locale"}},
		{"unknown field", formFile{"a.png", "", img}, [][2]string{{"colour", "red"}}, 422, "validation", []string{"colour:unknown"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.upload(tok, c.fields, c.file)
			p := wantProblem(t, r, c.status, c.typ)
			if c.codes != nil {
				got := fieldCodes(p)
				slices.Sort(got)
				want := slices.Clone(c.codes)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("codes %v, want %v", got, want)
				}
			}
		})
	}
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("refused uploads left blobs: %v", keys)
	}
	lib := e.do(req{method: "GET", path: "/api/v1/media", token: tok})
	if lib.json(t)["total"] != float64(0) {
		t.Errorf("refused uploads listed: %s", lib.body)
	}

	// In French, with the limit in words.
	r := e.upload(tok, nil, formFile{"big.png", "", bigPNG(t, 5000, 3)}, "Accept-Language", "fr")
	p := wantProblem(t, r, 413, "media-too-large")
	if d := p["detail"].(string); !strings.Contains(d, "4 KB") || r.header.Get("Content-Language") != "fr" {
		t.Errorf("French detail %q", d)
	}
	// A field after the file would come too late: refused, nothing kept.
	body, ct := multipartBody(t, nil, &formFile{"a.png", "", img})
	body = bytes.Replace(body, []byte("--\r\n"), []byte("\r\nContent-Disposition: form-data; name=\"altText\"\r\n\r\nlate\r\n--"+strings.TrimPrefix(ct, "multipart/form-data; boundary=")+"--\r\n"), 1)
	r = e.do(req{method: "POST", path: "/api/v1/media", body: body, token: tok, header: map[string]string{"Content-Type": ct}})
	if p := wantProblem(t, r, 422, "validation"); !slices.Equal(fieldCodes(p), []string{"altText:after_file"}) {
		t.Errorf("codes %v", fieldCodes(p))
	}
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("blobs after a late field: %v", keys)
	}
	r = e.do(req{method: "POST", path: "/api/v1/media", body: "--x\r\ngarbage", token: tok, header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}})
	wantProblem(t, r, 400, "malformed-multipart")
}

// TestMediaAccess: who may upload, read, edit and delete.
func TestMediaAccess(t *testing.T) {
	e := newEnv(t)
	trainer, learner, edu, lrnB, root := e.token("a-trainer"), e.token("a-learner"), e.token("a-edu"), e.token("b-learner"), e.token("root")
	img := pngFile(t, 8, 8, 4)
	for _, tok := range []string{learner, edu} {
		wantProblem(t, e.upload(tok, nil, formFile{"a.png", "", img}), 403, "forbidden")
	}
	wantProblem(t, e.upload(root, nil, formFile{"a.png", "", img}), 422, "validation") // a global admin names the organisation
	nowhere := "0194f7d2-0000-7000-8000-0000000000ee"
	// An organisation that does not exist is a field not valid, as in every create.
	if p := wantProblem(t, e.upload(root, [][2]string{{"orgId", nowhere}}, formFile{"a.png", "", img}), 422, "validation"); !slices.Equal(fieldCodes(p), []string{"orgId:invalid"}) {
		t.Errorf("upload to no organisation: %v", fieldCodes(p))
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media?orgId=" + nowhere, token: root}), 404, "not-found")
	wantProblem(t, e.upload(trainer, [][2]string{{"orgId", e.orgB.ID}}, formFile{"a.png", "", img}), 404, "not-found")
	a := e.mustUpload(trainer, formFile{"draft.png", "", img})
	id := a["id"].(string)

	// A draft asset: its authors only.
	for _, tok := range []string{learner, edu, lrnB} {
		wantProblem(t, e.do(req{method: "GET", path: "/media/" + id, token: tok}), 404, "not-found")
		wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media/" + id, token: tok}), 404, "not-found")
	}
	wantProblem(t, e.do(req{method: "GET", path: "/media/" + id}), 401, "unauthenticated")
	if r := e.do(req{method: "GET", path: "/media/" + id, token: root}); r.status != 200 {
		t.Errorf("global admin: %d", r.status)
	}

	// Published in a course of organisation A: A's members read it.
	ctx := context.Background()
	if _, err := e.media.AddUse(ctx, id, assets.Use{Ref: "course:c1@1", OrgID: e.orgA.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "GET", path: "/media/" + id, token: learner})
	if r.status != 200 || !bytes.Equal(r.body, img) {
		t.Errorf("learner A, published: %d", r.status)
	}
	m := e.do(req{method: "GET", path: "/api/v1/media/" + id, token: learner}).json(t)
	if m["sha256"] != nil || m["ownerId"] != nil || m["url"] != "/media/"+id {
		t.Errorf("a learner sees author fields: %v", m)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/media/" + id, token: lrnB}), 404, "not-found")
	wantProblem(t, e.do(req{method: "DELETE", path: "/api/v1/media/" + id, token: learner}), 403, "forbidden")
	wantProblem(t, e.do(req{method: "PATCH", path: "/api/v1/media/" + id, token: learner, body: map[string]string{"altText": "x"}}), 403, "forbidden")

	// Shared with every organisation: B's learners too.
	if _, err := e.media.AddUse(ctx, id, assets.Use{Ref: "course:c2@1"}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "GET", path: "/media/" + id, token: lrnB}); r.status != 200 {
		t.Errorf("learner B, shared: %d", r.status)
	}

	// Deleting is refused while a published version uses it.
	wantProblem(t, e.do(req{method: "DELETE", path: "/api/v1/media/" + id, token: trainer}), 409, "in-use")
	for _, ref := range []string{"course:c1@1", "course:c2@1"} {
		if _, err := e.media.RemoveUse(ctx, id, ref); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do(req{method: "DELETE", path: "/api/v1/media/" + id, token: trainer}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/media/" + id, token: trainer}), 404, "not-found")
	wantProblem(t, e.do(req{method: "DELETE", path: "/api/v1/media/" + id, token: trainer}), 404, "not-found")
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("blob kept after its only asset was deleted: %v", keys)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/media/not-an-id", token: trainer}), 404, "not-found")
}

// TestMediaRanges: single, suffix, open and multiple ranges; conditional
// requests; HEAD; bad ranges answer 416 problems.
func TestMediaRanges(t *testing.T) {
	e := newEnv(t)
	tok := e.token("a-trainer")
	data := bigPNG(t, 100000, 5)
	id := e.mustUpload(tok, formFile{"big.png", "", data})["id"].(string)
	etag := `"` + sha(data) + `"`
	get := func(h map[string]string) response {
		return e.do(req{method: "GET", path: "/media/" + id, token: tok, header: h})
	}
	for rng, want := range map[string][2]int{"bytes=0-99": {0, 100}, "bytes=99990-": {99990, 100000}, "bytes=-10": {99990, 100000}, "bytes=500-500": {500, 501}, "bytes=99000-200000": {99000, 100000}} {
		r := get(map[string]string{"Range": rng})
		if r.status != 206 || !bytes.Equal(r.body, data[want[0]:want[1]]) {
			t.Errorf("%s: %d, %d bytes", rng, r.status, len(r.body))
			continue
		}
		if cr := fmt.Sprintf("bytes %d-%d/%d", want[0], want[1]-1, len(data)); r.header.Get("Content-Range") != cr {
			t.Errorf("%s: Content-Range %q, want %q", rng, r.header.Get("Content-Range"), cr)
		}
	}
	// Two ranges: multipart/byteranges.
	r := get(map[string]string{"Range": "bytes=0-9, 50000-50009"})
	mt, params, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if r.status != 206 || mt != "multipart/byteranges" {
		t.Fatalf("two ranges: %d %q", r.status, r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	for _, want := range [][2]int{{0, 10}, {50000, 50010}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, data[want[0]:want[1]]) || p.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", want[0], want[1]-1, len(data)) {
			t.Errorf("part %v: %q", want, p.Header.Get("Content-Range"))
		}
	}
	// Validators.
	if r := get(map[string]string{"If-None-Match": etag}); r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %d", r.status)
	}
	if r := get(map[string]string{"If-None-Match": `W/"other", ` + etag}); r.status != 304 {
		t.Errorf("If-None-Match list: %d", r.status)
	}
	if r := get(map[string]string{"Range": "bytes=0-9", "If-Range": `"stale"`}); r.status != 200 || len(r.body) != len(data) {
		t.Errorf("If-Range mismatch: %d", r.status)
	}
	if r := get(map[string]string{"Range": "bytes=0-9", "If-Range": etag}); r.status != 206 {
		t.Errorf("If-Range match: %d", r.status)
	}
	// An overlap trick asks for more than the whole: served whole.
	if r := get(map[string]string{"Range": "bytes=0-99999, 0-99999"}); r.status != 200 {
		t.Errorf("overlapping ranges: %d", r.status)
	}
	// Bad ranges.
	for _, rng := range []string{"bytes=100000-", "bytes=abc", "bytes=5-1", "bytes", "bytes=-0", strings.Repeat("bytes=0-1,", 20) + "0-1"} {
		r := get(map[string]string{"Range": rng})
		wantProblem(t, r, 416, "range-not-satisfiable")
		if r.header.Get("Content-Range") != "bytes */100000" {
			t.Errorf("%q: Content-Range %q", rng, r.header.Get("Content-Range"))
		}
	}
	// HEAD: the headers, no body.
	h := e.do(req{method: "HEAD", path: "/media/" + id, token: tok})
	if h.status != 200 || len(h.body) != 0 || h.header.Get("Content-Length") != "100000" || h.header.Get("ETag") != etag {
		t.Errorf("HEAD: %d %v", h.status, h.header)
	}
}

// TestMediaLibrary: listing with filters, editing, usage.
func TestMediaLibrary(t *testing.T) {
	e := newEnv(t)
	tok, admin, edu := e.token("a-trainer"), e.token("a-admin"), e.token("a-edu")
	img := e.mustUpload(tok, formFile{"Handshake.png", "", pngFile(t, 8, 8, 6)}, [2]string{"locale", "en"})
	e.clock.Advance(time.Second)
	wav := e.mustUpload(admin, formFile{"greeting.wav", "", wavFile(1000)}, [2]string{"locale", "ar"})
	e.clock.Advance(time.Second)
	vtt := e.mustUpload(tok, formFile{"subs.vtt", "text/vtt", []byte(vttFile)})
	ids := func(path string) []string {
		r := e.do(req{method: "GET", path: path, token: tok})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	all := []string{vtt["id"].(string), wav["id"].(string), img["id"].(string)}
	for path, want := range map[string][]string{
		"/api/v1/media":                        all,
		"/api/v1/media?kind=audio":             {wav["id"].(string)},
		"/api/v1/media?locale=en":              {img["id"].(string)},
		"/api/v1/media?q=hand":                 {img["id"].(string)},
		"/api/v1/media?ownerId=" + e.adminA.ID: {wav["id"].(string)},
		"/api/v1/media?limit=1&offset=1":       {wav["id"].(string)},
		"/api/v1/media?unused=true":            all,
	} {
		if got := ids(path); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media?kind=hologram", token: tok}), 422, "validation")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media", token: edu}), 403, "forbidden")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/media?orgId=" + e.orgB.ID, token: tok}), 404, "not-found")

	// Edit the description; the subtitles file cannot be renamed .png.
	r := e.do(req{method: "PATCH", path: "/api/v1/media/" + vtt["id"].(string), token: tok, body: map[string]string{"locale": "uk", "name": "субтитри.vtt"}})
	if r.status != 200 || r.json(t)["locale"] != "uk" || r.json(t)["name"] != "субтитри.vtt" {
		t.Errorf("edit: %d %s", r.status, r.body)
	}
	r = e.do(req{method: "PATCH", path: "/api/v1/media/" + vtt["id"].(string), token: tok, body: map[string]string{"name": "subs.png"}})
	wantProblem(t, r, 422, "validation")
	if got := ids("/api/v1/media?locale=uk"); !slices.Equal(got, []string{vtt["id"].(string)}) {
		t.Errorf("library not updated after edit: %v", got)
	}
	served := e.do(req{method: "GET", path: "/media/" + vtt["id"].(string), token: tok})
	if served.header.Get("Content-Type") != "text/vtt; charset=utf-8" || string(served.body) != vttFile {
		t.Errorf("subtitles served as %q", served.header.Get("Content-Type"))
	}

	u := e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/media/usage", token: tok}).json(t)
	wantBytes := img["size"].(float64) + wav["size"].(float64) + vtt["size"].(float64)
	if u["count"] != float64(3) || u["bytes"] != wantBytes || u["byKind"].(map[string]any)["audio"].(map[string]any)["count"] != float64(1) {
		t.Errorf("usage: %v", u)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgB.ID + "/media/usage", token: tok}), 404, "not-found")
	if r := e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgB.ID + "/media/usage", token: e.token("root")}); r.status != 200 || r.json(t)["count"] != float64(0) {
		t.Errorf("root, empty library: %d %s", r.status, r.body)
	}
}

// waitLogged waits until the server logged a request to path with status.
func (e *env) waitLogged(path string, status int) {
	e.t.Helper()
	want := fmt.Sprintf(`"path":%q`, path)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(e.logText(), "\n") {
			if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, want) && strings.Contains(line, fmt.Sprintf(`"status":%d`, status)) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no request to %s with status %d logged:\n%s", path, status, e.logText())
}

// TestTruncatedUpload: a connection that drops mid-file stores nothing.
func TestTruncatedUpload(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	tok := e.token("a-trainer")
	data := bigPNG(t, 200000, 8)
	rawRequest(t, base, "POST", "/api/v1/media?name=cut.png", map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "image/png"}, len(data), data[:70000])
	e.waitLogged("/api/v1/media", 400)
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("a truncated upload left blobs: %v", keys)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/media", token: tok}); r.json(t)["total"] != float64(0) {
		t.Errorf("a truncated upload was listed: %s", r.body)
	}
}
