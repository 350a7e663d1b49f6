package assets

import (
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// Field error codes of this package; each has a "field.<code>" message in
// the UI catalogue. Assets also use the generic codes of package pathways.
const (
	CodeEmpty             = "empty"
	CodeTypeRefused       = "type_refused"
	CodeTypeUnsupported   = "type_unsupported"
	CodeTypeMismatch      = "type_mismatch"
	CodeExtensionMismatch = "extension_mismatch"
	CodeChunkSize         = "chunk_size"
	// CodeUnknownMedia: a course or question names an asset that is not
	// in its organisation's library; CodeMediaKind: one of the wrong kind.
	CodeUnknownMedia = "unknown_media"
	CodeMediaKind    = "media_kind"
)

// FieldCodes lists every field error code assets produces, for the
// catalogue test.
var FieldCodes = []string{
	CodeEmpty, CodeTypeRefused, CodeTypeUnsupported, CodeTypeMismatch, CodeExtensionMismatch,
	CodeChunkSize, CodeUnknownMedia, CodeMediaKind,
}

// Limits on what a client says about a file.
const (
	NameMax       = 255
	AltTextMax    = 1000
	TranscriptMax = 100000
)

// sniffLen is how much of a file's start decides its type.
const sniffLen = 3072

// fileType is one accepted file type.
type fileType struct {
	contentType string   // what is stored and served
	kind        Kind     //
	detected    []string // what the sniffer may call it
	declared    []string // further names a client may declare it as
	exts        []string // file name extensions it may carry
}

// fileTypes are the accepted types: formats every phone browser plays or
// shows. SVG and HTML are not among them: they can carry scripts.
var fileTypes = []fileType{
	{"image/png", KindImage, []string{"image/png", "image/vnd.mozilla.apng"}, nil, []string{".png"}},
	{"image/jpeg", KindImage, []string{"image/jpeg"}, []string{"image/jpg", "image/pjpeg"}, []string{".jpg", ".jpeg", ".jpe"}},
	{"image/webp", KindImage, []string{"image/webp"}, nil, []string{".webp"}},
	{"image/gif", KindImage, []string{"image/gif"}, nil, []string{".gif"}},
	{"audio/mpeg", KindAudio, []string{"audio/mpeg"}, []string{"audio/mp3", "audio/x-mpeg", "audio/mpeg3", "audio/x-mp3"}, []string{".mp3"}},
	{"audio/ogg", KindAudio, []string{"audio/ogg"}, []string{"application/ogg", "audio/opus", "audio/vorbis"}, []string{".ogg", ".oga", ".opus"}},
	{"audio/mp4", KindAudio, []string{"audio/x-m4a", "audio/mp4"}, []string{"audio/x-m4a", "audio/m4a"}, []string{".m4a", ".mp4"}},
	{"audio/wav", KindAudio, []string{"audio/wav"}, []string{"audio/x-wav", "audio/wave", "audio/vnd.wave"}, []string{".wav"}},
	{"video/mp4", KindVideo, []string{"video/mp4", "video/x-m4v"}, []string{"video/x-m4v"}, []string{".mp4", ".m4v"}},
	{"video/webm", KindVideo, []string{"video/webm"}, []string{"audio/webm"}, []string{".webm"}},
	{"text/vtt", KindSubtitle, []string{"text/vtt"}, nil, []string{".vtt"}},
	{"application/pdf", KindDocument, []string{"application/pdf"}, []string{"application/x-pdf"}, []string{".pdf"}},
}

// refusedTypes can run scripts when a browser opens them; they are refused
// whatever the client declares.
var refusedTypes = []string{"image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/javascript", "application/x-shockwave-flash"}

// refusedExts are refused in a file name even if the content is fine, so
// no one is tricked into saving "photo.html".
var refusedExts = map[string]bool{".svg": true, ".svgz": true, ".html": true, ".htm": true, ".xhtml": true, ".xml": true, ".js": true, ".mjs": true}

// ContentTypes lists the accepted content types, for documentation.
func ContentTypes() []string {
	out := make([]string, len(fileTypes))
	for i, t := range fileTypes {
		out[i] = t.contentType
	}
	return out
}

// sniff decides a file's type from its first bytes (at least sniffLen of
// them, or the whole file if shorter), then checks that what the client
// said about it agrees: the declared content type, if given and not the
// generic application/octet-stream, and the file name's extension, if
// any. Everything refused is a ValidationError on field "file".
func sniff(head []byte, name, declared string) (fileType, error) {
	mt := mimetype.Detect(head)
	for m := mt; m != nil; m = m.Parent() {
		for _, r := range refusedTypes {
			if m.Is(r) {
				return fileType{}, pathways.Invalid("file", CodeTypeRefused)
			}
		}
	}
	ft, ok := lookup(mt)
	if !ok {
		return fileType{}, (&pathways.ValidationError{}).Add("file", CodeTypeUnsupported,
			map[string]any{"Type": mt.String(), "Types": strings.Join(ContentTypes(), ", ")})
	}
	v := &pathways.ValidationError{}
	if d := normaliseType(declared); d != "" && d != "application/octet-stream" && !ft.accepts(d) {
		v.Add("file", CodeTypeMismatch, map[string]any{"Declared": d, "Type": ft.contentType})
	}
	if ext := strings.ToLower(path.Ext(name)); ext != "" && !ft.hasExt(ext) {
		v.Add("name", CodeExtensionMismatch, map[string]any{"Extension": ext, "Type": ft.contentType})
	}
	return ft, v.Err()
}

// lookup finds the accepted type the sniffer's result names.
func lookup(mt *mimetype.MIME) (fileType, bool) {
	for _, ft := range fileTypes {
		for _, d := range ft.detected {
			if mt.Is(d) {
				return ft, true
			}
		}
	}
	return fileType{}, false
}

func (ft fileType) accepts(declared string) bool {
	if declared == ft.contentType {
		return true
	}
	for _, d := range append(ft.detected, ft.declared...) {
		if declared == d {
			return true
		}
	}
	return false
}

func (ft fileType) hasExt(ext string) bool {
	for _, e := range ft.exts {
		if e == ext {
			return true
		}
	}
	return false
}

// normaliseType returns a declared content type without parameters,
// lower-cased; "" if there is none or it is malformed.
func normaliseType(s string) string {
	if s == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return mt
}

// CleanName makes a client's file name safe to keep and to send back in a
// Content-Disposition header: the last path element only, NFC, without
// control or format characters (which could reorder text or split headers), and
// at most NameMax bytes, keeping the extension.
func CleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '"' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(strings.Trim(s, "."))
	if len(s) > NameMax {
		ext := path.Ext(s)
		if len(ext) > 16 {
			ext = ""
		}
		base := s[:NameMax-len(ext)]
		for !utf8.ValidString(base) {
			base = base[:len(base)-1]
		}
		s = base + ext
	}
	return s
}

// CheckMeta checks what a client says about a file it uploads, except
// the file: the ids, the name, locale, alt text and transcript. It
// returns a *pathways.ValidationError listing every problem.
func CheckMeta(m Meta) error { return checkMeta(&m) }

// CheckUpload checks the announcement of a resumable upload: its Meta and
// a positive size (the size limits are not validation: TooLargeError).
func CheckUpload(m Meta, size int64) error {
	v := &pathways.ValidationError{}
	_ = v.Merge("", CheckMeta(m))
	if size <= 0 {
		v.Add("size", CodeEmpty, nil)
	}
	return v.Err()
}

// checkMeta validates what a client says about a file, except the file,
// and cleans its name and locale.
func checkMeta(m *Meta) error {
	v := &pathways.ValidationError{}
	if m.ID != "" && !accounts.ValidID(m.ID) {
		v.Add("id", pathways.CodeID, nil)
	}
	if m.OrgID != "" && !accounts.ValidID(m.OrgID) {
		v.Add("orgId", pathways.CodeID, nil)
	}
	m.Name = CleanName(m.Name)
	if ext := strings.ToLower(path.Ext(m.Name)); refusedExts[ext] {
		v.Add("name", CodeTypeRefused, nil)
	}
	if m.Locale != "" {
		tag, err := language.Parse(m.Locale)
		if err != nil || len(m.Locale) > 35 {
			v.Add("locale", i18n.CodeLocale, nil)
		} else {
			m.Locale = tag.String()
		}
	}
	checkLen(v, "altText", m.AltText, AltTextMax)
	checkLen(v, "transcript", m.Transcript, TranscriptMax)
	return v.Err()
}

func checkLen(v *pathways.ValidationError, field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, pathways.CodeInvalid, nil)
	case utf8.RuneCountInString(s) > max:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": max})
	}
}

// typeOf returns the accepted type with the given content type.
func typeOf(contentType string) (fileType, bool) {
	for _, ft := range fileTypes {
		if ft.contentType == contentType {
			return ft, true
		}
	}
	return fileType{}, false
}

// guessKind is the kind a file will likely have, from its declared type or
// else its name, before any byte of it is seen; ok is false without a clue.
func guessKind(declared, name string) (Kind, bool) {
	if ft, ok := typeOf(normaliseType(declared)); ok {
		return ft.kind, true
	}
	ext := strings.ToLower(path.Ext(name))
	for _, ft := range fileTypes {
		if ft.hasExt(ext) {
			return ft.kind, true
		}
	}
	return "", false
}
