package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestLengthRule: what the operation descriptions say of Content-Length,
// now that it is no header parameter. The course import and a resumable
// upload's chunk need to know their length before reading: a body sent
// with chunked transfer coding instead is 411 length-required, and a
// request with neither header has an empty body (RFC 9112 §6.3), refused
// as such. The same bytes with their length are taken. Every other body
// may be chunked: a media upload in one request, and JSON.
func TestLengthRule(t *testing.T) {
	e, trainer, image := courseEnv(t)
	base := e.listen()
	courseID := e.mustCreateCourse(trainer, draft("to-export", image, false))["id"].(string)
	pkg := e.do(req{method: "GET", path: "/api/v1/courses/" + courseID + "/export", token: trainer})
	if pkg.status != 200 {
		t.Fatalf("export: %d %s", pkg.status, pkg.body)
	}
	// send goes through Go's client, which sends a body it cannot measure
	// (an io.MultiReader) chunked, and one it can with Content-Length.
	send := func(method, path, ct string, body []byte, chunked bool, header ...string) response {
		t.Helper()
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r)
		}
		hr, err := http.NewRequest(method, base+path, r)
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", "Bearer "+trainer)
		hr.Header.Set("Content-Type", ct)
		for i := 0; i+1 < len(header); i += 2 {
			hr.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return e.readResponse(resp)
	}
	// bare sends a request with neither Content-Length nor
	// Transfer-Encoding over its own connection.
	bare := func(method, path, ct string, header ...string) response {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n", method, path, trainer, ct)
		for i := 0; i+1 < len(header); i += 2 {
			raw += header[i] + ": " + header[i+1] + "\r\n"
		}
		raw += "\r\n"
		if _, err := conn.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		r, _ := readAnswer(t, bufio.NewReader(conn), raw)
		return r
	}

	// The course import.
	const imp = "/api/v1/courses/import"
	// Chunked bodies stay small: the answer comes before the body is
	// read, and the server closes the connection after it, so a body
	// larger than what the server reads ahead could reset the connection
	// under the answer.
	wantProblem(t, send("POST", imp, "application/zip", pkg.body[:1024], true), 411, "length-required")
	if p := wantProblem(t, bare("POST", imp, "application/zip"), 422, "invalid-package"); !slices.Equal(fieldCodes(p), []string{":zip_invalid"}) {
		t.Errorf("import of no body: %v", fieldCodes(p))
	}
	wantProblem(t, e.importZip(trainer, pkg.body, ""), 409, "slug-taken") // read whole: its slug is this organisation's

	// A resumable upload's chunk.
	const mib = 1 << 20
	img := bigPNG(t, 6*mib, 7)
	id := "0194f7d2-7c3a-7d7e-9a1b-0000000000a1"
	start := fmt.Sprintf(`{"id":%q,"name":"big.png","type":"image/png","size":%d,"altText":"Big"}`, id, len(img))
	if r := send("POST", "/api/v1/media/uploads", "application/json", []byte(start), true); r.status != 201 {
		t.Fatalf("start, its JSON chunked: %d %s", r.status, r.body)
	}
	chunkPath := "/api/v1/media/uploads/" + id
	wantProblem(t, send("PATCH", chunkPath, "application/offset+octet-stream", img[:4096], true, "Upload-Offset", "0"), 411, "length-required")
	if p := wantProblem(t, bare("PATCH", chunkPath, "application/offset+octet-stream", "Upload-Offset", "0"), 422, "validation"); !slices.Equal(fieldCodes(p), []string{"chunk:chunk_size"}) {
		t.Errorf("chunk of no body: %v", fieldCodes(p))
	}
	if r := send("PATCH", chunkPath, "application/offset+octet-stream", img, false, "Upload-Offset", "0"); r.status != 201 || r.json(t)["sha256"] != sha(img) {
		t.Fatalf("chunk with its length: %d %s", r.status, r.body)
	}

	// A media upload in one request may be chunked.
	small := pngFile(t, 8, 8, 9)
	if r := send("POST", "/api/v1/media?name=small.png&altText=Small", "image/png", small, true); r.status != 201 || r.json(t)["size"] != float64(len(small)) {
		t.Fatalf("chunked raw upload: %d %s", r.status, r.body)
	}
}
