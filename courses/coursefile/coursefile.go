// Package coursefile reads and writes course packages, the folder (or zip)
// of plain files that docs/COURSE-FORMAT.md specifies: course.yaml for the
// structure, locales/<locale>.json for the texts, media/ for the files the
// structure names and, from format 2, quizzes/ and banks/ for the quizzes
// the course shows and the question banks they draw from.
//
// Read checks a package whole and reports every problem with its file, line
// and field, or returns the package; it never returns a part of one.
// OpenZip opens an uploaded zip for Read, refusing archives that are unsafe
// to unpack. WriteZip and WriteDir write a package so that Read gives it
// back unchanged, in a deterministic form that diffs well in Git.
//
// The package knows neither the media library nor the database: media
// fields hold package paths ("media/market.png"), and the caller turns
// them into asset IDs (on import) or asset IDs into paths (on export);
// quizzes and banks are named by their keys (on export, their IDs).
package coursefile

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// FormatVersion is the latest version of docs/COURSE-FORMAT.md (course.yaml's
// "format"): Read reads every version from 1; a package is written in
// format 1 while it has no quizzes and banks (which format 2 added), so
// that servers reading only format 1 still read it.
const FormatVersion = 2

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
//
// A quiz block names a quiz of Quizzes by its key, or (as in format 1) a
// quiz outside the package by its ID.
type Package struct {
	Course courses.Course
	// Quizzes are the quizzes the course's quiz blocks name, and the
	// pretests of those, sorted by key; Banks the banks their picks draw
	// from. Quizzes and banks the course does not reach are left out.
	Quizzes []Quiz
	Banks   []Bank
	// Media holds every file under media/ that the structure or a bank
	// taken names, each once, sorted by path. Files under media/ that
	// nothing names are left out.
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
		fsys:   fsys,
		media:  map[string]bool{},
		used:   map[string]bool{},
		course: newPlace("", courseFile),
		items:  map[string]map[string]*place{quizzesDir: {}, banksDir: {}},
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
	p := &Package{Course: c}
	if ok {
		p.Quizzes, p.Banks = r.readItems(c)
	}
	if !r.probs.empty() {
		return nil, r.probs.err()
	}
	for _, name := range slices.Sorted(maps.Keys(r.used)) {
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
	media     map[string]bool // regular files under media/
	used      map[string]bool // media paths the structure (or a bank taken) names

	course place
	// items are the quizzes and banks of the package (format 2): folder
	// (quizzes, banks) → key → its files.
	items     map[string]map[string]*place
	textBytes int64 // read from the items' files so far (MaxItemText)
	format    int   // course.yaml's
}

// place is a YAML file of structure and the locale files of its texts:
// the course's (course.yaml, locales/), or a quiz's or bank's of a format
// 2 package (quizzes/<key>/quiz.yaml, quizzes/<key>/locales/), with what
// problems need to find their lines.
type place struct {
	dir     string            // "" for the course, "quizzes/<key>/" for an item
	main    string            // dir + course.yaml, quiz.yaml or bank.yaml
	locales map[string]string // locale → file path, for well-named locale files
	hasMain bool

	yamlLines map[string]int  // field path → line in the YAML file
	jsonLines map[string]int  // "messages/<locale>/<escaped id>[/<key>]" → line in its file
	bad       map[string]bool // field paths (as the domain names them) already reported while decoding

	noDefaultTexts bool // the default locale's file is missing or unreadable
}

func newPlace(dir, main string) place {
	return place{dir: dir, main: dir + main, locales: map[string]string{},
		yamlLines: map[string]int{}, jsonLines: map[string]int{}, bad: map[string]bool{}}
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
			if loc, ok := r.localeFile(p, rest, d.IsDir()); ok {
				r.course.locales[loc] = p
			}
			if d.IsDir() {
				return fs.SkipDir
			}
		case (top == quizzesDir || top == banksDir) && (d.IsDir() || rest != ""):
			if rest != "" && !r.itemFile(top, p, rest, d.IsDir()) && d.IsDir() {
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

// localeFile checks the name of a file in a locales/ folder and returns
// its locale.
func (r *reader) localeFile(p, name string, dir bool) (string, bool) {
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
		return base, true
	}
	return "", false
}

// readFile reads one text file whole, up to max bytes. The files of
// quizzes and banks also count against MaxItemText together: past it,
// one problem is reported and no more of them is read.
func (r *reader) readFile(p string, max int64) ([]byte, bool) {
	top, _, _ := strings.Cut(p, "/")
	item := top == quizzesDir || top == banksDir
	limit := max
	if item {
		if r.textBytes > MaxItemText {
			return nil, false // reported
		}
		limit = min(max, MaxItemText-r.textBytes)
	}
	f, err := r.fsys.Open(p)
	if err != nil {
		r.probs.add(r.file(p), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if item {
		r.textBytes += int64(len(data))
	}
	switch {
	case err != nil:
		r.probs.add(r.file(p), 0, "", CodeUnreadable, nil, "cannot be read: "+err.Error())
		return nil, false
	case int64(len(data)) > max:
		r.probs.add(r.file(p), 0, "", CodeFileTooLarge, map[string]any{"Count": max >> 20})
		return nil, false
	case int64(len(data)) > limit:
		r.probs.add("", 0, "", CodeTextTooLarge, map[string]any{"Count": MaxItemText >> 20},
			fmt.Sprintf("the files of quizzes/ and banks/ hold more than %d MiB in all", MaxItemText>>20))
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
	y := r.yamlOf(&r.course)
	c, ok := y.decode(data)
	r.format = y.format
	return c, ok
}

// yamlOf is the YAML reader of a place's structure file.
func (r *reader) yamlOf(pl *place) *yamlReader {
	return &yamlReader{file: r.file(pl.main), pr: &r.probs, lines: pl.yamlLines, bad: pl.bad}
}

// readLocales reads the locale files of the locales the course offers (of
// every well-named one if course.yaml could not be read, to report their
// syntax errors too).
func (r *reader) readLocales(c *courses.Course, courseOK bool) {
	c.Messages = r.readTexts(&r.course, c.DefaultLocale, c.Locales, courseOK, MaxLocaleFile, "the course's locales (locales in course.yaml)")
}

// readTexts reads the locale files of a place: of the locales offered
// (when known, the structure could be read), each up to max bytes. It
// returns nil if no file could be read.
func (r *reader) readTexts(pl *place, defaultLocale string, offered []string, known bool, max int64, whose string) i18n.Messages {
	var out i18n.Messages
	checkOffered := known && !pl.bad["locales"]
	for _, loc := range slices.Sorted(maps.Keys(pl.locales)) {
		p := pl.locales[loc]
		if checkOffered && !slices.Contains(offered, loc) && loc != defaultLocale {
			r.probs.add(r.file(p), 0, "", i18n.CodeNotOffered, map[string]any{"Value": loc},
				loc+" is not one of "+whose)
			continue
		}
		data, ok := r.readFile(p, max)
		var msgs map[string]i18n.Message
		if ok {
			j := &jsonReader{file: r.file(p), locale: loc, data: data, pr: &r.probs, lines: pl.jsonLines, bad: pl.bad}
			msgs, ok = j.decode()
		}
		if !ok {
			if loc == defaultLocale {
				pl.noDefaultTexts = true
			}
			continue
		}
		if out == nil {
			out = i18n.Messages{}
		}
		out[loc] = msgs
	}
	if known && i18n.ValidLocale(defaultLocale) && pl.locales[defaultLocale] == "" {
		name := pl.dir + localesDir + "/" + defaultLocale + ".json"
		r.probs.add(r.file(name), 0, "", CodeMissingFile, map[string]any{"Value": name},
			"no file for the default locale: it must hold every text "+path.Base(pl.main)+" names")
		pl.noDefaultTexts = true
	}
	return out
}

// validate runs the checks of courses on the decoded course and checks its
// media paths.
func (r *reader) validate(c courses.Course) {
	r.report(&r.course, courses.CheckStructure(c))
	r.report(&r.course, courses.CheckMessages(c, true))
	check := func(field, p string) { r.checkMedia(&r.course, field, p, r.used) }
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
}

// report records the problems a domain check found in a place's files.
func (r *reader) report(pl *place, err error) {
	found, omitted := fieldErrors(err)
	for _, fe := range found {
		if fe.Code == i18n.CodeMissingText && pl.noDefaultTexts || fe.Code == i18n.CodeNotOffered && pl.bad["locales"] {
			continue // reported once, for the file or the list of locales
		}
		r.fieldProblem(pl, fe.Field, fe.Code, fe.Params)
	}
	r.probs.omitted += omitted // found by the domain, not listed by it
}

// checkMedia checks a media path the structure of pl names at field: a
// clean path under media/ of a file in the package; used collects it.
func (r *reader) checkMedia(pl *place, field, p string, used map[string]bool) {
	switch {
	case p == "" || pl.isBad(field):
	case !validMediaPath(p):
		r.fieldProblem(pl, field, CodePath, map[string]any{"Value": p})
	case !r.media[p]:
		r.fieldProblem(pl, field, CodeMissingFile, map[string]any{"Value": p})
	default:
		used[p] = true
	}
}

// isBad reports whether field, or a field holding it, was reported while
// decoding (so a check of its zero value would only repeat it).
func (pl *place) isBad(field string) bool {
	for p := field; ; {
		if pl.bad[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// fieldProblem records a problem with a field path as the domain names
// it, in the file of pl and at the line it comes from: "messages/<locale>/…"
// in its locales/<locale>.json, everything else in its YAML file.
func (r *reader) fieldProblem(pl *place, field, code string, params map[string]any) {
	if pl.isBad(field) {
		return
	}
	rest, isMsg := strings.CutPrefix(field, "messages")
	if !isMsg || (rest != "" && rest[0] != '/') {
		r.probs.add(r.file(pl.main), lookupLine(pl.yamlLines, field), field, code, params)
		return
	}
	loc, inFile, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if loc == "" {
		r.probs.add(r.file(pl.dir+localesDir+"/"), 0, "", code, params)
		return
	}
	file := pl.dir + localesDir + "/" + loc + ".json"
	if p, ok := pl.locales[loc]; ok {
		file = p
	}
	line := 0
	if inFile != "" {
		line = lookupLine(pl.jsonLines, field)
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
