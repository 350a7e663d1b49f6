package pathways

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Field error codes every domain uses; each has a "field.<code>" message in
// the UI catalogue. Domains add codes of their own beside their rules.
const (
	CodeRequired   = "required"
	CodeInvalid    = "invalid"
	CodeTooShort   = "too_short"
	CodeTooLong    = "too_long"
	CodeTooMany    = "too_many"
	CodeRange      = "range"
	CodeEnum       = "enum"
	CodeDuplicate  = "duplicate_value"
	CodeNotAllowed = "not_allowed"
	CodeKey        = "key"
	CodeID         = "id"
	// CodeReadOnly is a field the server keeps (an id, a timestamp, a
	// version number) sent with a value other than the stored one.
	CodeReadOnly = "read_only"
	// The codes of structured input (JSON bodies, answers, course
	// packages): a key the format does not define, a value of the wrong
	// type (Params: Expected), a key given twice.
	CodeUnknown      = "unknown"
	CodeType         = "type"
	CodeDuplicateKey = "duplicate"
)

// FieldCodes lists the codes above, for the catalogue test.
var FieldCodes = []string{
	CodeRequired, CodeInvalid, CodeTooShort, CodeTooLong, CodeTooMany, CodeRange, CodeEnum,
	CodeDuplicate, CodeNotAllowed, CodeKey, CodeID, CodeReadOnly, CodeUnknown, CodeType, CodeDuplicateKey,
}

// KeyMax is the longest stable key (module, lesson, block, question and
// option IDs).
const KeyMax = 64

var keyRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Path joins the steps of a field path, a JSON Pointer without its leading
// slash: Path("modules", 1, "title") is "modules/1/title". Steps that are
// strings chosen by users (message IDs, locales) must be escaped first
// (EscapeToken).
func Path(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, "/")
}

// EscapeToken escapes one step of a field path as a JSON Pointer token
// (RFC 6901): "~" becomes "~0", "/" becomes "~1".
func EscapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// ClipMax is how much of a client's string a field path or an error
// message echoes (an unknown key, a value that names nothing).
const ClipMax = KeyMax

// Clip shortens what a client sent to echo it in an error: at most
// ClipMax bytes, cut on a character boundary and marked with "…", so that
// an answer listing a hundred problems stays small whatever the input.
func Clip(s string) string {
	if len(s) <= ClipMax {
		return s
	}
	s = s[:ClipMax]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// CheckKey checks a stable key — lower-case letters, digits and single
// dashes, at most KeyMax — adds what is wrong to v and reports whether it
// is usable.
func CheckKey(v *ValidationError, field, s string) bool {
	switch {
	case s == "":
		v.Add(field, CodeRequired, nil)
	case len(s) > KeyMax:
		v.Add(field, CodeTooLong, map[string]any{"Count": KeyMax})
	case !keyRE.MatchString(s):
		v.Add(field, CodeKey, nil)
	default:
		return true
	}
	return false
}

// CheckEnum checks that x is one of allowed, adding "required" or "enum"
// (with the allowed values) to v.
func CheckEnum[T ~string](v *ValidationError, field string, x T, allowed []T) {
	switch {
	case x == "":
		v.Add(field, CodeRequired, nil)
	case !slices.Contains(allowed, x):
		v.Add(field, CodeEnum, map[string]any{"Value": JoinValues(allowed)})
	}
}

// JoinValues lists allowed values for a message: "a, b, c".
func JoinValues[T ~string](allowed []T) string {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// CheckLength adds "too_long" to v if s has more than maxLen characters.
func CheckLength(v *ValidationError, field, s string, maxLen int) {
	if utf8.RuneCountInString(s) > maxLen {
		v.Add(field, CodeTooLong, map[string]any{"Count": maxLen})
	}
}

// CheckCount adds "too_many" to v and reports false if a list has more
// than maxLen items. Validators call it before looking at the items, so
// an oversized list costs one problem, not one per item.
func CheckCount(v *ValidationError, field string, n, maxLen int) bool {
	if n > maxLen {
		v.Add(field, CodeTooMany, map[string]any{"Count": maxLen})
		return false
	}
	return true
}
