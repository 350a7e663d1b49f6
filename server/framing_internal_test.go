package server

import (
	"strings"
	"testing"
)

// A typical API request head: a browser's fields and a bearer token.
var benchHead = []byte("POST /api/v1/attempts/0194f7d2-7c3a-7d7e-9a1b-000000000001/answers/q1 HTTP/1.1\r\n" +
	"Host: pathways.example.org\r\n" +
	"User-Agent: Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36\r\n" +
	"Accept: application/json\r\nAccept-Language: fa-IR,fa;q=0.9,en;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\n" +
	"Authorization: Bearer " + strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 12) + "\r\n" +
	"Content-Type: application/json\r\nContent-Length: 64\r\nX-Request-ID: 2f0c1c1e-5d7b-4c39-9d0c-8a4f0b6f2d11\r\n\r\n" +
	strings.Repeat("x", 64))

// BenchmarkFramingHead is the framing check's cost for one request
// (its head, about 700 bytes, and a small body).
func BenchmarkFramingHead(b *testing.B) {
	f := framer{num: 1}
	b.SetBytes(int64(len(benchHead)))
	b.ReportAllocs()
	for b.Loop() {
		if f.scan(benchHead) >= 0 {
			b.Fatal(f.err)
		}
	}
}

// BenchmarkFramingChunked is its cost on a chunked body, in 16 KiB chunks
// read 16 KiB at a time (fasthttp's read buffer).
func BenchmarkFramingChunked(b *testing.B) {
	const size = 16 << 10
	chunk := []byte("4000\r\n" + strings.Repeat("x", size) + "\r\n")
	f := framer{num: 1, state: stChunkSize}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if f.scan(chunk) >= 0 {
			b.Fatal(f.err)
		}
	}
}

// TestFramerSplit: the framer reads requests cut anywhere by the network
// as it reads them whole: it counts them, and refuses the same bytes.
func TestFramerSplit(t *testing.T) {
	valid := string(benchHead) +
		"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Text: caf\xc3\xa9\tau lait \r\n\r\n" +
		"POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3;a=\"b c\"\r\nabc\r\nA \t;x\r\n0123456789\r\n0\r\n\r\n" +
		"PUT /u HTTP/1.0\r\ncontent-length:\t 0 \r\n\r\n" +
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
	refused := []struct {
		in   string
		err  *framingError
		body bool
	}{
		{"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", errLengthAndChunked, false},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\nHost: x\r\n\r\n", errBareLF, false},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5zz\r\nhello\r\n0\r\n\r\n", errChunkSize, true},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n\r\n", errTrailer, true},
		{"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", errTwoLengths, false},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", errTransferEncoding, false},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunk\r\n\r\n", errTransferEncoding, false},
		{"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", errObsFold, false},
	}
	for _, step := range []int{1, 2, 3, 7, 64, 1 << 20} {
		f := framer{num: 1}
		for b := []byte(valid); len(b) > 0; b = b[min(step, len(b)):] {
			if i := f.scan(b[:min(step, len(b))]); i >= 0 {
				t.Fatalf("step %d: refused %v at %q", step, f.err, b[i:min(i+20, len(b))])
			}
		}
		if f.num != 6 || f.state != stStart {
			t.Errorf("step %d: at request %d, state %d, want request 6 at its start", step, f.num, f.state)
		}
		for _, r := range refused {
			f := framer{num: 1}
			for b := []byte(r.in); len(b) > 0 && f.err == nil; b = b[min(step, len(b)):] {
				f.scan(b[:min(step, len(b))])
			}
			if f.err != r.err || f.inBody != r.body {
				t.Errorf("step %d, %q: refused %v (in body: %v), want %v (%v)", step, r.in, f.err, f.inBody, r.err, r.body)
			}
		}
	}
}
