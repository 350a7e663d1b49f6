// Package coursefile reads and writes course packages, the folder (or zip)
// of plain files that docs/COURSE-FORMAT.md specifies: course.yaml for the
// structure, locales/<locale>.json for the texts, media/ for the files the
// structure names.
//
// Read checks a package whole and reports every problem with its file, line
// and field, or returns the package; it never returns a part of one.
// OpenZip opens an uploaded zip for Read, refusing archives that are unsafe
// to unpack. WriteZip and WriteDir write a package so that Read gives it
// back unchanged, in a deterministic form that diffs well in Git.
//
// The package knows neither the media library nor the database: media
// fields hold package paths ("media/market.png"), and the caller turns
// them into asset IDs (on import) or asset IDs into paths (on export).
package coursefile

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// FormatVersion is the version of docs/COURSE-FORMAT.md this package reads
// and writes (course.yaml's "format").
const FormatVersion = 1

// Limits on the text files of a package, which Read holds in memory. A
// course's texts are at most i18n.MaxTextBytes in all; the margin is
// for JSON escapes and indentation.
const (
	MaxCourseFile = 16 << 20 // course.yaml
	MaxLocaleFile = 16 << 20 // each locales/*.json
)

const (
	courseFile = "course.yaml"
	localesDir = "locales"
	mediaDir   = "media"
)

// Package is a course read from, or to be written as, a package: the
// course with its media fields (Block.Media, MediaBy and Subtitles)
// holding package paths such as "media/market.png" instead of asset IDs,
// and the media files those paths name.
//
// Only what the package format carries is set: Slug, Shared, Topic,
// Audiences, Level, DefaultLocale, Locales, Title, Summary, Modules and
// Messages. ID, OrgID, Revision, Published, Archived, CreatedBy and the
// times are zero. Empty lists and maps of the structure are nil; Messages
// has a map for each locale file, empty if the file holds no message.
type Package struct {
	Course courses.Course
	// Media holds every file under media/ that the structure names, each
	// once, sorted by path. Files under media/ that nothing names are
	// left out.
	Media []File
}

// File is one media file of a package.
type File struct {
	Path string // "media/…", as the structure names it
	Size int64  // in bytes (as declared, for a zip entry)
	// Open opens the content for reading. For a package read from a zip,
	// the reader fails once the content is longer than Size, and a damaged
	// entry fails at its end (checksum).
	Open func() (io.ReadCloser, error)
}

// Read reads a package from a folder (os.DirFS) or an opened zip (OpenZip).
// It checks everything a package can hold wrong before returning: course.yaml
// (YAML syntax, unknown keys, wrong types, format version, then
// courses.CheckStructure), every locale file (JSON syntax, name, the shape
// of each message, then courses.CheckMessages in strict mode, so messages
// the structure does not name are errors), the media paths (under media/
// and present), and files outside course.yaml, locales/ and media/.
//
// On any problem it returns a nil package and an *Error listing every
// problem with its file, line and field. It returns another error only if
// the root of fsys cannot be listed.
//
// Names starting with "." (.git, .DS_Store) are ignored outside media/, as
// is a __MACOSX folder at the root. If the root holds no course.yaml but a
// single folder that does (a folder zipped with its name), that folder is
// read as the package; problems then name files with the folder's prefix.
// Unused media files are ignored and not returned. Media content is not
// read: the caller checks each file's type and size when storing it.
func Read(fsys fs.FS) (*Package, error) {
	r := &reader{
		fsys:      fsys,
		locales:   map[string]string{},
		media:     map[string]bool{},
		yamlLines: map[string]int{},
		jsonLines: map[string]int{},
		bad:       map[string]bool{},
	}
	if err := r.findRoot(); err != nil {
		return nil, err
	}
	r.walk()

	c, ok := r.readCourse()
	r.readLocales(&c, ok)
	if ok {
		r.validate(c)
	}
	if !r.probs.empty() {
		return nil, r.probs.err()
	}
	p := &Package{Course: c}
	for _, name := range r.used {
		st, err := fs.Stat(r.fsys, name)
		if err != nil {
			r.probs.add(r.file(name), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
			continue
		}
		fsys := r.fsys
		p.Media = append(p.Media, File{
			Path: name,
			Size: st.Size(),
			Open: func() (io.ReadCloser, error) { return fsys.Open(name) },
		})
	}
	if !r.probs.empty() {
		return nil, r.probs.err()
	}
	return p, nil
}

type reader struct {
	fsys   fs.FS
	prefix string // the folder the package sits in, "" or "name/"
	probs  collector

	hasCourse bool
	locales   map[string]string // locale → file path, for well-named locale files
	media     map[string]bool   // regular files under media/
	used      []string          // media paths the structure names, sorted

	yamlLines map[string]int  // course field path → line in course.yaml
	jsonLines map[string]int  // "messages/<locale>/<escaped id>[/<key>]" → line in its file
	bad       map[string]bool // field paths (as courses names them) already reported while decoding

	noDefaultTexts bool // the default locale's file is missing or unreadable
}

// file names a package path in problems.
func (r *reader) file(p string) string { return r.prefix + p }

// ignored reports whether a name outside media/ is left alone.
func ignored(name string) bool { return strings.HasPrefix(name, ".") }

// findRoot descends into the single folder a zipped folder holds.
func (r *reader) findRoot() error {
	entries, err := fs.ReadDir(r.fsys, ".")
	if err != nil {
		return fmt.Errorf("read course package: %w", err)
	}
	var visible []fs.DirEntry
	for _, e := range entries {
		if e.Name() == courseFile {
			return nil
		}
		if !ignored(e.Name()) && e.Name() != "__MACOSX" {
			visible = append(visible, e)
		}
	}
	if len(visible) != 1 || !visible[0].IsDir() {
		return nil
	}
	name := visible[0].Name()
	if st, err := fs.Stat(r.fsys, name+"/"+courseFile); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	sub, err := fs.Sub(r.fsys, name)
	if err != nil {
		return nil
	}
	r.fsys, r.prefix = sub, name+"/"
	return nil
}

// walk lists the package's files and reports those out of place.
func (r *reader) walk() {
	err := fs.WalkDir(r.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.probs.add(r.file(p), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
			if d != nil && d.IsDir() && p != "." {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		top, rest, _ := strings.Cut(p, "/")
		if top != mediaDir && (ignored(d.Name()) || p == "__MACOSX") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			r.probs.add(r.file(p), 0, "", CodePath, map[string]any{"Value": p},
				"a symbolic link or special file: a package holds only plain files and folders")
			return nil
		}
		switch {
		case p == courseFile && !d.IsDir():
			r.hasCourse = true
		case top == localesDir && d.IsDir() && rest == "":
		case top == localesDir && rest != "":
			r.localeFile(p, rest, d.IsDir())
			if d.IsDir() {
				return fs.SkipDir
			}
		case top == mediaDir && (d.IsDir() || rest != ""):
			if !d.IsDir() {
				r.media[p] = true
			}
		default:
			name := p
			if d.IsDir() {
				name += "/"
			}
			r.probs.add(r.file(name), 0, "", CodeStrayFile, map[string]any{"Value": name})
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		r.probs.add(r.prefix, 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
	}
	if !r.hasCourse {
		r.probs.add(r.file(courseFile), 0, "", CodeMissingFile, map[string]any{"Value": courseFile},
			"no course.yaml at the root of the package")
	}
}

// localeFile checks the name of a file in locales/.
func (r *reader) localeFile(p, name string, dir bool) {
	base, isJSON := strings.CutSuffix(name, ".json")
	switch {
	case dir:
		r.probs.add(r.file(p+"/"), 0, "", CodeLocaleFile, nil, "a folder in locales/: locales/ holds only <locale>.json files")
	case !isJSON:
		r.probs.add(r.file(p), 0, "", CodeLocaleFile, nil, "not a .json file: locales/ holds only <locale>.json files")
	case !i18n.ValidLocale(base):
		msg := "not named after a locale: " + strconv.Quote(base) + " is not a canonical BCP 47 tag such as fr or fa-AF"
		var params map[string]any
		if t, err := language.Parse(strings.ReplaceAll(base, "_", "-")); err == nil && i18n.ValidLocale(t.String()) {
			params = map[string]any{"Value": t.String() + ".json"}
			msg += "; did you mean " + t.String() + ".json?"
		}
		r.probs.add(r.file(p), 0, "", CodeLocaleFile, params, msg)
	default:
		r.locales[base] = p
	}
}

// readFile reads one text file whole, up to max bytes.
func (r *reader) readFile(p string, max int64) ([]byte, bool) {
	f, err := r.fsys.Open(p)
	if err != nil {
		r.probs.add(r.file(p), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	switch {
	case err != nil:
		r.probs.add(r.file(p), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
		return nil, false
	case int64(len(data)) > max:
		r.probs.add(r.file(p), 0, "", CodeFileTooLarge, map[string]any{"Count": max >> 20})
		return nil, false
	}
	return data, true
}

// readCourse decodes course.yaml; ok reports whether the structure could be
// decoded far enough to be checked.
func (r *reader) readCourse() (courses.Course, bool) {
	if !r.hasCourse {
		return courses.Course{}, false
	}
	data, ok := r.readFile(courseFile, MaxCourseFile)
	if !ok {
		return courses.Course{}, false
	}
	y := &yamlReader{file: r.file(courseFile), pr: &r.probs, lines: r.yamlLines, bad: r.bad}
	return y.decode(data)
}

// readLocales reads the locale files of the locales the course offers (of
// every well-named one if course.yaml could not be read, to report their
// syntax errors too).
func (r *reader) readLocales(c *courses.Course, courseOK bool) {
	checkOffered := courseOK && !r.bad["locales"]
	for _, loc := range slices.Sorted(maps.Keys(r.locales)) {
		p := r.locales[loc]
		if checkOffered && !slices.Contains(c.Locales, loc) && loc != c.DefaultLocale {
			r.probs.add(r.file(p), 0, "", i18n.CodeNotOffered, map[string]any{"Value": loc},
				loc+" is not one of the course's locales (locales in course.yaml)")
			continue
		}
		data, ok := r.readFile(p, MaxLocaleFile)
		var msgs map[string]i18n.Message
		if ok {
			j := &jsonReader{file: r.file(p), locale: loc, data: data, pr: &r.probs, lines: r.jsonLines, bad: r.bad}
			msgs, ok = j.decode()
		}
		if !ok {
			if loc == c.DefaultLocale {
				r.noDefaultTexts = true
			}
			continue
		}
		if c.Messages == nil {
			c.Messages = i18n.Messages{}
		}
		c.Messages[loc] = msgs
	}
	if courseOK && i18n.ValidLocale(c.DefaultLocale) && r.locales[c.DefaultLocale] == "" {
		name := localesDir + "/" + c.DefaultLocale + ".json"
		r.probs.add(r.file(name), 0, "", CodeMissingFile, map[string]any{"Value": name},
			"no file for the default locale: it must hold every text course.yaml names")
		r.noDefaultTexts = true
	}
}

// validate runs the checks of courses on the decoded course and checks its
// media paths.
func (r *reader) validate(c courses.Course) {
	structure, omitted := fieldErrors(courses.CheckStructure(c))
	for _, fe := range structure {
		r.fieldProblem(fe.Field, fe.Code, fe.Params)
	}
	texts, more := fieldErrors(courses.CheckMessages(c, true))
	for _, fe := range texts {
		if fe.Code == i18n.CodeMissingText && r.noDefaultTexts || fe.Code == i18n.CodeNotOffered && r.bad["locales"] {
			continue // reported once, for the file or the list of locales
		}
		r.fieldProblem(fe.Field, fe.Code, fe.Params)
	}
	r.probs.omitted += omitted + more // found by courses, not listed by it
	used := map[string]bool{}
	check := func(field, p string) {
		switch {
		case p == "" || r.isBad(field):
		case !validMediaPath(p):
			r.fieldProblem(field, CodePath, map[string]any{"Value": p})
		case !r.media[p]:
			r.fieldProblem(field, CodeMissingFile, map[string]any{"Value": p})
		default:
			used[p] = true
		}
	}
	for i, m := range c.Modules {
		for j, l := range m.Lessons {
			for k, b := range l.Blocks {
				bp := fmt.Sprintf("modules/%d/lessons/%d/blocks/%d", i, j, k)
				check(bp+"/media", b.Media)
				for _, loc := range slices.Sorted(maps.Keys(b.MediaBy)) {
					check(bp+"/mediaBy/"+pathways.EscapeToken(loc), b.MediaBy[loc])
				}
				for _, loc := range slices.Sorted(maps.Keys(b.Subtitles)) {
					check(bp+"/subtitles/"+pathways.EscapeToken(loc), b.Subtitles[loc])
				}
			}
		}
	}
	r.used = slices.Sorted(maps.Keys(used))
}

// isBad reports whether field, or a field holding it, was reported while
// decoding (so a check of its zero value would only repeat it).
func (r *reader) isBad(field string) bool {
	for p := field; ; {
		if r.bad[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// fieldProblem records a problem with a field path as courses names it,
// in the file and at the line it comes from: "messages/<locale>/…" in
// locales/<locale>.json, everything else in course.yaml.
func (r *reader) fieldProblem(field, code string, params map[string]any) {
	if r.isBad(field) {
		return
	}
	rest, isMsg := strings.CutPrefix(field, "messages")
	if !isMsg || (rest != "" && rest[0] != '/') {
		r.probs.add(r.file(courseFile), lookupLine(r.yamlLines, field), field, code, params)
		return
	}
	loc, inFile, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if loc == "" {
		r.probs.add(r.file(localesDir+"/"), 0, "", code, params)
		return
	}
	file := localesDir + "/" + loc + ".json"
	if p, ok := r.locales[loc]; ok {
		file = p
	}
	line := 0
	if inFile != "" {
		line = lookupLine(r.jsonLines, field)
	}
	r.probs.add(r.file(file), line, inFile, code, params)
}

// lookupLine returns the line of field, or of the nearest field holding it
// that has one (a missing field is reported on its parent's line).
func lookupLine(lines map[string]int, field string) int {
	for p := field; ; {
		if l, ok := lines[p]; ok {
			return l
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return 0
		}
		p = p[:i]
	}
}

// validMediaPath reports whether p is a clean, relative path of a file
// under media/: no "..", ".", empty or absolute parts, no backslash, no
// control characters. (A colon is allowed: media/ keeps it from naming a
// drive, and the library's cleaned file names may hold one.)
func validMediaPath(p string) bool {
	rest, ok := strings.CutPrefix(p, mediaDir+"/")
	return ok && rest != "" && fs.ValidPath(p) && !strings.Contains(p, `\`) && !hasControl(p)
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
