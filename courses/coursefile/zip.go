package coursefile

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"unicode/utf8"
)

// Limits bound what OpenZip accepts. A zero field takes DefaultLimits'
// value.
type Limits struct {
	Files int   // entries, folders included
	File  int64 // declared unpacked bytes of one entry
	Total int64 // declared unpacked bytes of all entries together
	// Ratio is the largest unpacked/packed size ratio of an entry that
	// unpacks to more than 1 MiB; beyond it the entry is taken for a zip
	// bomb.
	Ratio int
}

// DefaultLimits are docs/COURSE-FORMAT.md's: 1,000 files, 1 GiB a file
// (the largest media file the library takes, a video), 2 GiB in all, and a
// ratio of 200 (text compresses 3 to 10 times, media barely).
var DefaultLimits = Limits{Files: 1000, File: 1 << 30, Total: 2 << 30, Ratio: 200}

// ratioFrom is the unpacked size from which Limits.Ratio applies: small
// files of repeated text may compress very well.
const ratioFrom = 1 << 20

func (l Limits) withDefaults() Limits {
	if l.Files <= 0 {
		l.Files = DefaultLimits.Files
	}
	if l.File <= 0 {
		l.File = DefaultLimits.File
	}
	if l.Total <= 0 {
		l.Total = DefaultLimits.Total
	}
	if l.Ratio <= 0 {
		l.Ratio = DefaultLimits.Ratio
	}
	return l
}

// OpenZip opens a zip package of size bytes for Read, refusing archives
// that are unsafe to unpack. It returns an *Error listing every refused
// entry if the archive holds more than lim.Files entries (too_many_files:
// counted before the central directory is loaded, so a huge one costs no
// memory), an entry whose name is absolute, holds "..", a backslash,
// control characters or empty parts, a symbolic link or other non-regular
// file, two entries of one name or a name that is both a file and a folder
// (zip_unsafe), an entry whose declared unpacked size exceeds lim.File or
// declared sizes that add up to more than lim.Total (zip_too_large), an
// entry over 1 MiB compressed more than lim.Ratio times (zip_unsafe), or
// an encrypted entry, an unknown compression method or a damaged archive
// (zip_invalid).
//
// Reads through the returned fs.FS never yield more bytes than an entry's
// header declares: one more byte fails with an error wrapping
// zip.ErrFormat, so a header that lies about its size cannot make a
// reader unpack unbounded data. A damaged entry fails at its end
// (checksum). r must stay readable while the fs.FS is used.
func OpenZip(r io.ReaderAt, size int64, lim Limits) (fs.FS, error) {
	lim = lim.withDefaults()
	var pr collector
	tooMany := func() (fs.FS, error) {
		pr.add("", 0, "", CodeTooManyFiles, map[string]any{"Count": lim.Files},
			fmt.Sprintf("the archive holds more than %d files", lim.Files))
		return nil, pr.err()
	}
	if n, ok := countEntries(r, size, lim.Files); ok && n > lim.Files {
		return tooMany()
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		pr.add("", 0, "", CodeZipInvalid, nil, "not a zip file this server reads: "+err.Error())
		return nil, pr.err()
	}
	if len(zr.File) > lim.Files {
		return tooMany()
	}
	names := map[string]bool{} // without a folder's trailing slash
	files := map[string]bool{}
	var total uint64
	for _, f := range zr.File {
		name := f.Name
		if reason := unsafeName(name); reason != "" {
			pr.add(name, 0, "", CodeZipUnsafe, map[string]any{"Value": name}, reason)
			continue
		}
		clean := strings.TrimSuffix(name, "/")
		if names[clean] {
			pr.add(name, 0, "", CodeZipUnsafe, map[string]any{"Value": name}, "more than one entry has this name")
			continue
		}
		names[clean] = true
		mode := f.Mode()
		switch {
		case mode.Type()&^fs.ModeDir != 0:
			pr.add(name, 0, "", CodeZipUnsafe, map[string]any{"Value": name},
				"a symbolic link or special file: a package holds only plain files and folders")
			continue
		case mode.IsDir():
			continue
		}
		files[clean] = true
		u, c := f.UncompressedSize64, f.CompressedSize64
		switch {
		case f.Flags&0x1 != 0:
			pr.add(name, 0, "", CodeZipInvalid, nil, "encrypted: a package is not encrypted")
		case f.Method != zip.Store && f.Method != zip.Deflate:
			pr.add(name, 0, "", CodeZipInvalid, nil, fmt.Sprintf("compressed with method %d: only stored and deflated entries are read", f.Method))
		case c > uint64(size):
			pr.add(name, 0, "", CodeZipInvalid, nil, "damaged: the entry is said to be larger than the archive")
		case u > uint64(lim.File):
			pr.add(name, 0, "", CodeZipTooLarge, map[string]any{"Count": lim.File >> 20},
				fmt.Sprintf("unpacks to %d bytes, more than the limit of %d", u, lim.File))
		case u > ratioFrom && (c == 0 || u/c > uint64(lim.Ratio)):
			pr.add(name, 0, "", CodeZipUnsafe, map[string]any{"Ratio": lim.Ratio},
				fmt.Sprintf("compressed more than %d times: refused as a possible zip bomb", lim.Ratio))
		}
		if u > math.MaxUint64-total {
			total = math.MaxUint64
		} else {
			total += u
		}
	}
	for name := range files {
		for dir := name; ; {
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[:i]
			if files[dir] {
				pr.add(dir, 0, "", CodeZipUnsafe, map[string]any{"Value": dir}, "both a file and a folder")
			}
		}
	}
	if total > uint64(lim.Total) {
		pr.add("", 0, "", CodeZipTooLarge, map[string]any{"Count": lim.Total >> 20},
			fmt.Sprintf("the archive unpacks to %d bytes, more than the limit of %d", total, lim.Total))
	}
	if !pr.empty() {
		return nil, pr.err()
	}
	return zipFS{zr}, nil
}

// unsafeName says what is wrong with an entry's name, or "".
func unsafeName(name string) string {
	clean := strings.TrimSuffix(name, "/")
	switch {
	case name == "" || clean == "":
		return "an entry without a name"
	case !utf8.ValidString(name):
		return "the name is not UTF-8"
	case strings.Contains(name, `\`):
		return "a backslash in the name: zip names use forward slashes"
	case strings.HasPrefix(name, "/") || len(name) > 1 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z'):
		return "an absolute path"
	case name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(clean, "/.."):
		return `".." in the path`
	case hasControl(name):
		return "control characters in the name"
	case !fs.ValidPath(clean):
		return "not a clean path (empty or \".\" parts)"
	}
	return ""
}

// Signatures and sizes of the zip records countEntries reads.
const (
	eocdSig       = 0x06054b50
	eocdLen       = 22
	eocd64LocSig  = 0x07064b50
	eocd64LocLen  = 20
	eocd64Sig     = 0x06064b50
	eocd64Len     = 56
	centralSig    = 0x02014b50
	centralHdrLen = 46
)

// countEntries counts the central directory's entries the way archive/zip
// will read them (it reads headers until one is not valid, whatever the
// end record says), stopping past limit, so that a huge directory is refused
// before zip.NewReader loads it. ok is false if the end record cannot be
// found; zip.NewReader then reports the damage.
func countEntries(r io.ReaderAt, size int64, limit int) (n int, ok bool) {
	var buf []byte
	end := int64(-1)
	for _, bl := range []int64{1024, 65 * 1024} {
		bl = min(bl, size)
		buf = make([]byte, bl)
		if _, err := r.ReadAt(buf, size-bl); err != nil && err != io.EOF {
			return 0, false
		}
		if p := findEOCD(buf); p >= 0 {
			buf, end = buf[p:], size-bl+int64(p)
			break
		}
		if bl == size {
			break
		}
	}
	if end < 0 {
		return 0, false
	}
	le := binary.LittleEndian
	records := uint64(le.Uint16(buf[10:]))
	dirSize := uint64(le.Uint32(buf[12:]))
	dirOff := uint64(le.Uint32(buf[16:]))
	if records == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		loc := make([]byte, eocd64LocLen)
		if end >= eocd64LocLen {
			if _, err := r.ReadAt(loc, end-eocd64LocLen); err == nil && le.Uint32(loc) == eocd64LocSig &&
				le.Uint32(loc[4:]) == 0 && le.Uint32(loc[16:]) == 1 {
				p := le.Uint64(loc[8:])
				rec := make([]byte, eocd64Len)
				if p > uint64(size) {
					return 0, false
				}
				if _, err := r.ReadAt(rec, int64(p)); err != nil || le.Uint32(rec) != eocd64Sig {
					return 0, false
				}
				end = int64(p)
				records, dirSize, dirOff = le.Uint64(rec[32:]), le.Uint64(rec[40:]), le.Uint64(rec[48:])
			}
		}
	}
	if records > uint64(limit) {
		return int(min(records, uint64(limit)+1)), true
	}
	if dirSize > uint64(size) || dirOff > uint64(size) {
		return 0, false
	}
	base := end - int64(dirSize) - int64(dirOff)
	for _, start := range []int64{base + int64(dirOff), int64(dirOff)} {
		if start < 0 || start >= size {
			continue
		}
		br := bufio.NewReader(io.NewSectionReader(r, start, size-start))
		hdr := make([]byte, centralHdrLen)
		count := 0
		for count <= limit {
			if _, err := io.ReadFull(br, hdr); err != nil || le.Uint32(hdr) != centralSig {
				break
			}
			skip := int(le.Uint16(hdr[28:])) + int(le.Uint16(hdr[30:])) + int(le.Uint16(hdr[32:]))
			if _, err := br.Discard(skip); err != nil {
				break
			}
			count++
		}
		n = max(n, count)
	}
	return n, true
}

// findEOCD finds the end of central directory record in the tail of an
// archive, as archive/zip does.
func findEOCD(b []byte) int {
	for i := len(b) - eocdLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(b[i:]) == eocdSig {
			n := int(binary.LittleEndian.Uint16(b[i+eocdLen-2:]))
			if n+eocdLen+i > len(b) {
				return -1
			}
			return i
		}
	}
	return -1
}

// zipFS is a checked archive as an fs.FS whose files yield at most their
// declared size.
type zipFS struct{ zr *zip.Reader }

func (z zipFS) Open(name string) (fs.File, error) {
	f, err := z.zr.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		return f, nil
	}
	return &limitedFile{File: f, name: name, size: st.Size(), left: st.Size()}, nil
}

// limitedFile reads at most size bytes of an entry, and fails if there
// are more.
type limitedFile struct {
	fs.File
	name       string
	size, left int64
}

func (f *limitedFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		// At the declared end: anything more is a lie; EOF (or the
		// checksum error) comes from the entry itself.
		var one [1]byte
		n, err := f.File.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("zip entry %s holds more than the %d bytes its header declares: %w", f.name, f.size, zip.ErrFormat)
		}
		return 0, err
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.File.Read(p)
	f.left -= int64(n)
	return n, err
}
