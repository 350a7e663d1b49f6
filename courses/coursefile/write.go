package coursefile

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// outFile is one file of a package to write: data, or content to copy
// from open.
type outFile struct {
	path string
	data []byte
	open func() (io.ReadCloser, error)
}

func (f outFile) writeTo(w io.Writer) error {
	if f.open == nil {
		_, err := w.Write(f.data)
		return err
	}
	rc, err := f.open()
	if err != nil {
		return fmt.Errorf("open %s: %w", f.path, err)
	}
	_, err = io.Copy(w, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", f.path, err)
	}
	return nil
}

// prepare checks what writing needs (safe media paths, each once, with
// content; locales that make valid file names; quiz and bank keys that
// make valid folder names, each once) and encodes course.yaml, the
// quizzes, the banks and the locale files. It does not check the course itself: Read reports
// what is wrong with the written package.
func prepare(p *Package) ([]outFile, error) {
	if p == nil {
		return nil, errors.New("write course package: no package")
	}
	var pr collector
	for _, loc := range slices.Sorted(maps.Keys(p.Course.Messages)) {
		if !i18n.ValidLocale(loc) {
			pr.add(localesDir+"/"+loc+".json", 0, "", CodeLocaleFile, map[string]any{"Value": loc},
				strconv.Quote(loc)+" is not a canonical BCP 47 tag, so it cannot name a locale file")
		}
	}
	seen := map[string]bool{}
	for _, m := range p.Media {
		switch {
		case !validMediaPath(m.Path):
			pr.add(m.Path, 0, "", CodePath, map[string]any{"Value": m.Path})
		case seen[m.Path]:
			pr.add(m.Path, 0, "", pathways.CodeDuplicate, map[string]any{"Value": m.Path}, "more than one media file has this path")
		case m.Open == nil:
			pr.add(m.Path, 0, "", CodeMissingFile, map[string]any{"Value": m.Path}, "no content (File.Open is nil)")
		}
		seen[m.Path] = true
	}
	for _, m := range p.Media {
		if !validMediaPath(m.Path) {
			continue
		}
		for dir := path.Dir(m.Path); dir != mediaDir; dir = path.Dir(dir) {
			if seen[dir] {
				pr.add(dir, 0, "", CodePath, map[string]any{"Value": dir}, "both a file and a folder")
			}
		}
	}
	items, err := itemFiles(p, &pr)
	if err != nil {
		return nil, err
	}
	if !pr.empty() {
		return nil, pr.err()
	}
	yml, err := encodeCourse(p.Course, p.format())
	if err != nil {
		return nil, fmt.Errorf("encode course.yaml: %w", err)
	}
	files := []outFile{{path: courseFile, data: yml}}
	for _, loc := range slices.Sorted(maps.Keys(p.Course.Messages)) {
		data, err := encodeMessages(p.Course.Messages[loc])
		if err != nil {
			return nil, fmt.Errorf("encode locales/%s.json: %w", loc, err)
		}
		files = append(files, outFile{path: localesDir + "/" + loc + ".json", data: data})
	}
	files = append(files, items...)
	media := make(map[string]File, len(p.Media))
	for _, m := range p.Media {
		media[m.Path] = m
	}
	for _, name := range slices.Sorted(maps.Keys(media)) {
		files = append(files, outFile{path: name, open: media[name].Open})
	}
	return files, nil
}

// zipTime is the modification time of every entry WriteZip writes, so the
// same package gives the same bytes.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// storedExts are already compressed formats, stored as they are.
var storedExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".jpe": true, ".webp": true, ".gif": true,
	".mp3": true, ".ogg": true, ".oga": true, ".opus": true, ".m4a": true, ".mp4": true, ".m4v": true, ".webm": true,
}

// WriteZip writes p to w as a zip package: course.yaml, then the locale
// files, the quizzes, the banks and the media files, each sorted, with a
// fixed time, so the same package always gives the same bytes. Media paths are written as p gives
// them. It returns an *Error if a media path is not a clean path under
// media/ or given twice, a media file has no Open, a locale of the
// messages is not a valid locale, or a quiz or bank key is not a key or
// given twice; otherwise the error of encoding, of
// opening or copying a media file, or of w. It does not check the course:
// Read reports what is wrong with it.
func WriteZip(w io.Writer, p *Package) error {
	files, err := prepare(p)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.path, Method: zip.Deflate, Modified: zipTime}
		if storedExts[strings.ToLower(path.Ext(f.path))] {
			h.Method = zip.Store
		}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("write course package: %w", err)
		}
		if err := f.writeTo(fw); err != nil {
			return fmt.Errorf("write course package: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write course package: %w", err)
	}
	return nil
}

// WriteDir writes p into the folder dir, creating it (and its parents) if
// needed; it refuses a folder that exists and is not empty (an error
// wrapping fs.ErrExist). Files are written through an os.Root, so nothing
// lands outside dir. It returns the same *Error as WriteZip for a package
// it cannot write, and removes what it wrote if writing fails midway.
func WriteDir(dir string, p *Package) (err error) {
	files, err := prepare(p)
	if err != nil {
		return err
	}
	created := false
	switch entries, err := os.ReadDir(dir); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write course package: %w", err)
		}
		created = true
	case err != nil:
		return fmt.Errorf("write course package: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("write course package: %s is not empty: %w", dir, fs.ErrExist)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("write course package: %w", err)
	}
	defer root.Close()
	var written []string // top-level names, to remove on failure
	defer func() {
		if err == nil {
			return
		}
		if created {
			os.RemoveAll(dir)
			return
		}
		for _, name := range written {
			root.RemoveAll(name)
		}
	}()
	for _, f := range files {
		top, _, _ := strings.Cut(f.path, "/")
		if len(written) == 0 || written[len(written)-1] != top {
			written = append(written, top)
		}
		if d := path.Dir(f.path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("write course package: %w", err)
			}
		}
		out, err := root.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("write course package: %w", err)
		}
		err = f.writeTo(out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write course package: %w", err)
		}
	}
	return nil
}
