package coursefile_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/courses/coursefile"
)

// entry is one entry of a zip built in a test.
type entry struct {
	name string
	data string
	mode fs.FileMode // 0: a regular file (0o644)
}

func makeZip(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(cmpOr(e.mode, 0o644))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cmpOr(m, def fs.FileMode) fs.FileMode {
	if m == 0 {
		return def
	}
	return m
}

// baseEntries is the valid base package as zip entries.
func baseEntries() []entry {
	var out []entry
	files := basePackage()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, entry{name: name, data: string(files[name].Data)})
	}
	return out
}

func openZip(data []byte, lim coursefile.Limits) (fs.FS, error) {
	return coursefile.OpenZip(bytes.NewReader(data), int64(len(data)), lim)
}

func TestOpenZipValid(t *testing.T) {
	data := makeZip(t, append(baseEntries(), entry{name: "media/", mode: fs.ModeDir | 0o755})...)
	fsys, err := openZip(data, coursefile.Limits{})
	if err != nil {
		t.Fatalf("OpenZip: %v", err)
	}
	p, err := coursefile.Read(fsys)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(p.Media) != 1 || readAll(t, p.Media[0]) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("media = %+v", p.Media)
	}
}

func TestOpenZipRefuses(t *testing.T) {
	small := coursefile.Limits{Files: 10, File: 1 << 10, Total: 4 << 10, Ratio: 200}
	kib := strings.Repeat("x", 1<<10)
	for _, tc := range []struct {
		name    string
		entries []entry
		lim     coursefile.Limits
		file    string
		code    string
	}{
		{"path traversal", []entry{{name: "../evil.sh", data: "rm -rf /"}}, small, "../evil.sh", coursefile.CodeZipUnsafe},
		{"traversal inside", []entry{{name: "media/../../evil.sh", data: "x"}}, small, "media/../../evil.sh", coursefile.CodeZipUnsafe},
		{"absolute path", []entry{{name: "/etc/passwd", data: "root"}}, small, "/etc/passwd", coursefile.CodeZipUnsafe},
		{"drive letter", []entry{{name: "C:/evil.bat", data: "x"}}, small, "C:/evil.bat", coursefile.CodeZipUnsafe},
		{"backslash", []entry{{name: `media\evil.png`, data: "x"}}, small, `media\evil.png`, coursefile.CodeZipUnsafe},
		{"empty part", []entry{{name: "media//x.png", data: "x"}}, small, "media//x.png", coursefile.CodeZipUnsafe},
		{"symbolic link", []entry{{name: "media/passwd", data: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, small, "media/passwd", coursefile.CodeZipUnsafe},
		{"device", []entry{{name: "media/null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}}, small, "media/null", coursefile.CodeZipUnsafe},
		{"duplicate name", []entry{{name: "media/a.png", data: "1"}, {name: "media/a.png", data: "2"}}, small, "media/a.png", coursefile.CodeZipUnsafe},
		{"file and folder", []entry{{name: "media/a", data: "1"}, {name: "media/a/b.png", data: "2"}}, small, "media/a", coursefile.CodeZipUnsafe},
		{"too many files", manyEntries(11), small, "", coursefile.CodeTooManyFiles},
		{"file too large", []entry{{name: "media/big.png", data: kib + "x"}}, small, "media/big.png", coursefile.CodeZipTooLarge},
		{"total too large", []entry{{name: "media/1", data: kib}, {name: "media/2", data: kib}, {name: "media/3", data: kib},
			{name: "media/4", data: kib}, {name: "media/5", data: "x"}}, small, "", coursefile.CodeZipTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := openZip(makeZip(t, tc.entries...), tc.lim)
			if fsys != nil {
				t.Error("OpenZip returned a file system along with an error")
			}
			checkProblem(t, err, tc.file, tc.code)
		})
	}
}

func manyEntries(n int) []entry {
	out := make([]entry, n)
	for i := range out {
		out[i] = entry{name: fmt.Sprintf("media/%d", i), data: "x"}
	}
	return out
}

// checkProblem checks err is an *Error whose problems include one with
// file and code.
func checkProblem(t *testing.T, err error, file, code string) {
	t.Helper()
	var e *coursefile.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want *coursefile.Error", err)
	}
	for _, p := range e.Problems {
		if p.File == file && p.Code == code {
			return
		}
	}
	t.Errorf("problems %v, want %s in %q", e.Problems, code, file)
}

// TestZipBomb: 50 MiB of zeros pack into some 50 KiB: refused by the ratio
// although every size is within the limits.
func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("media/film.mp4")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 50 {
		w.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	lim := coursefile.Limits{Files: 10, File: 100 << 20, Total: 100 << 20, Ratio: 200}
	_, err = openZip(buf.Bytes(), lim)
	checkProblem(t, err, "media/film.mp4", coursefile.CodeZipUnsafe)

	// Under 1 MiB, a high ratio is fine (a VTT file of repeated cues).
	small := makeZip(t, entry{name: "media/a.vtt", data: strings.Repeat("a", 1<<20)})
	if _, err := openZip(small, lim); err != nil {
		t.Errorf("1 MiB of one letter refused: %v", err)
	}
}

// lyingZip holds one entry whose header declares 1,000 unpacked bytes but
// whose data unpack to 10 MiB.
func lyingZip(t *testing.T, method uint16) []byte {
	t.Helper()
	payload := bytes.Repeat([]byte("a"), 10<<20)
	data := payload
	if method == zip.Deflate {
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.BestCompression)
		fw.Write(payload)
		fw.Close()
		data = c.Bytes()
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{
		Name:               "media/liar.mp4",
		Method:             method,
		CRC32:              crc32.ChecksumIEEE(payload[:1000]),
		CompressedSize64:   uint64(len(data)),
		UncompressedSize64: 1000,
	}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestZipLyingHeader: reading an entry whose header understates its size
// stops with an error, never past the declared size.
func TestZipLyingHeader(t *testing.T) {
	for _, method := range []uint16{zip.Deflate, zip.Store} {
		t.Run(fmt.Sprint("method ", method), func(t *testing.T) {
			fsys, err := openZip(lyingZip(t, method), coursefile.Limits{})
			if err != nil {
				t.Fatalf("OpenZip: %v", err)
			}
			f, err := fsys.Open("media/liar.mp4")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var c countingWriter
			_, err = io.Copy(&c, f)
			if !errors.Is(err, zip.ErrFormat) {
				t.Errorf("read error %v, want zip.ErrFormat", err)
			}
			if c.n > 1000 {
				t.Errorf("read %d bytes, more than the declared 1000", c.n)
			}
		})
	}

	// The same lie in course.yaml is a problem of the package.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "course.yaml", Method: zip.Store,
		CompressedSize64: uint64(len(baseYAML)), UncompressedSize64: 10, CRC32: crc32.ChecksumIEEE([]byte(baseYAML[:10]))})
	io.WriteString(w, baseYAML)
	zw.Close()
	fsys, err := openZip(buf.Bytes(), coursefile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = coursefile.Read(fsys)
	checkProblem(t, err, "course.yaml", coursefile.CodeUnreadable)
}

// TestZipTooManyEntriesHidden: archive/zip reads central directory
// headers until one is invalid and compares the count with the end record
// modulo 65536 only, so an archive can claim 1 entry and hold 65,537.
// OpenZip counts the headers itself before zip.NewReader loads them.
func TestZipTooManyEntriesHidden(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 65,537-entry zip")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 65537 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("media/%d", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Zip64 end record: signature, then the entry counts at 24 and 32.
	at := bytes.LastIndex(data, []byte{0x50, 0x4b, 0x06, 0x06})
	if at < 0 {
		t.Fatal("no zip64 end record")
	}
	binary.LittleEndian.PutUint64(data[at+24:], 1)
	binary.LittleEndian.PutUint64(data[at+32:], 1)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) != 65537 {
		t.Fatalf("the crafted archive does not fool archive/zip (%v): the test is wrong", err)
	}
	r := &countingReaderAt{r: bytes.NewReader(data)}
	_, err = coursefile.OpenZip(r, int64(len(data)), coursefile.Limits{})
	checkProblem(t, err, "", coursefile.CodeTooManyFiles)
	if r.n > 200<<10 {
		t.Errorf("OpenZip read %d bytes of a %d-byte archive to refuse it", r.n, len(data))
	}
}

type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

func TestZipInvalid(t *testing.T) {
	_, err := openZip([]byte("this is not a zip file at all"), coursefile.Limits{})
	checkProblem(t, err, "", coursefile.CodeZipInvalid)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "media/x.png", Method: 99, CompressedSize64: 1, UncompressedSize64: 1})
	w.Write([]byte{0})
	zw.Close()
	_, err = openZip(buf.Bytes(), coursefile.Limits{})
	checkProblem(t, err, "media/x.png", coursefile.CodeZipInvalid)
}
