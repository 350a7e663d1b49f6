package paper

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// CodeUnprintable is the field error code of a text holding characters
// that none of the embedded fonts has (Chinese, emoji, …): printed, they
// would come out as empty boxes. Params: Chars, the characters refused.
const CodeUnprintable = "unprintable"

// FieldCodes lists every field error code paper produces, for the
// catalogue test.
var FieldCodes = []string{CodeUnprintable}

// Limits on what a document prints.
const (
	MaxCards    = 500 // cards in one sheet
	NameMax     = 100 // characters of a learner's or holder's name
	UsernameMax = 64
	PINMax      = 32
	LabelMax    = 120 // characters of a label, heading, title or organisation
	CourseMax   = 200
	DateMax     = 60
	URLMax      = 300 // bytes of a printed or encoded address
)

// checker collects the problems of one document's fields.
type checker struct {
	v  *pathways.ValidationError
	fs *fontSet
}

// text checks a text to be printed: present, at most max characters,
// UTF-8 without control characters or bidi overrides and isolates (they
// would reorder what the learner reads), and printable with the fonts.
func (c checker) text(field, s string, max int) {
	switch {
	case strings.TrimSpace(s) == "":
		c.v.Add(field, pathways.CodeRequired, nil)
	case utf8.RuneCountInString(s) > max:
		c.v.Add(field, pathways.CodeTooLong, map[string]any{"Count": max})
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || bidiControl(r) }):
		c.v.Add(field, pathways.CodeInvalid, nil)
	default:
		if miss := c.fs.missing(s); len(miss) > 0 {
			c.v.Add(field, CodeUnprintable, map[string]any{"Chars": listChars(miss)})
		}
	}
}

// bidiControl reports the explicit direction formatting characters
// (embeddings, overrides, isolates); marks such as RLM stay allowed.
func bidiControl(r rune) bool { return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 }

// listChars names up to ten characters for a message: "李 (U+674E), …".
func listChars(rs []rune) string {
	parts := make([]string, 0, min(len(rs), 10))
	for _, r := range rs[:min(len(rs), 10)] {
		parts = append(parts, fmt.Sprintf("%c (U+%04X)", r, r))
	}
	if len(rs) > 10 {
		parts = append(parts, "…")
	}
	return strings.Join(parts, ", ")
}

// url checks an absolute http or https address of at most URLMax bytes.
func (c checker) url(field, s string) {
	if s == "" {
		c.v.Add(field, pathways.CodeRequired, nil)
		return
	}
	if len(s) > URLMax {
		c.v.Add(field, pathways.CodeTooLong, map[string]any{"Count": URLMax})
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || bidiControl(r) }) {
		c.v.Add(field, pathways.CodeInvalid, nil)
	}
}

// locale checks a canonical BCP 47 language tag, as courses' are.
func (c checker) locale(field, s string) { i18n.CheckLocale(c.v, field, s, true) }
