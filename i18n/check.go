package i18n

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
)

// Field error codes of content texts; each has a "field.<code>" message in
// the UI catalogue.
const (
	CodeLocale         = "locale"
	CodeMessageID      = "message_id"
	CodeMissingText    = "missing_text"
	CodeUnusedMessage  = "unused_message"
	CodeNotOffered     = "not_offered"
	CodeURL            = "url"
	CodeTooBig         = "too_big"
	CodeNoPluralOther  = "plural_other"
	CodeTemplateSyntax = "template"
)

// FieldCodes lists the codes above, for the catalogue test.
var FieldCodes = []string{
	CodeLocale, CodeMessageID, CodeMissingText, CodeUnusedMessage, CodeNotOffered, CodeURL,
	CodeTooBig, CodeNoPluralOther, CodeTemplateSyntax,
}

// Limits on one set of texts (a course's, a bank's, a quiz's): they keep
// the object that holds them a bounded document.
const (
	MaxMessages       = 5000    // per locale
	MaxMessageLen     = 20000   // characters of one form
	MaxDescriptionLen = 500     // characters of a description for translators
	MaxTextBytes      = 4 << 20 // all texts of all locales
	MessageIDMax      = 128
	MaxLocales        = 20 // languages one set of texts offers
)

var messageIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Ref is one place in an object's structure that names a message.
type Ref struct {
	Field string // the field path, e.g. "modules/0/lessons/1/title"
	ID    string // the message ID
	// Link is set for fields whose text is a URL (resource links, help).
	Link bool
	// Markdown is set for text blocks.
	Markdown bool
}

// CheckLocales checks the languages a set of texts offers: at most
// MaxLocales, each a ValidLocale once, the default locale def among them.
// Field paths are "defaultLocale" and "locales/<i>".
func CheckLocales(v *pathways.ValidationError, def string, locales []string) {
	CheckLocale(v, "defaultLocale", def, true)
	if !pathways.CheckCount(v, "locales", len(locales), MaxLocales) {
		return
	}
	for i, l := range locales {
		CheckLocale(v, pathways.Path("locales", i), l, true)
		if slices.Index(locales, l) < i {
			v.Add(pathways.Path("locales", i), pathways.CodeDuplicate, nil)
		}
	}
	if def != "" && !slices.Contains(locales, def) {
		v.Add("locales", CodeNotOffered, map[string]any{"Value": def})
	}
}

// CheckTexts checks a set of texts against the places that name them:
// messages offered in locales, def the source locale, refs the places.
// Every locale is one offered, every message ID is well formed, every
// message has an "other" form within the length limit, plural messages
// parse as templates, links are http(s) or tel: URLs, the source locale
// holds a text for every ref, and the texts fit MaxTextBytes. With strict
// set, a message no ref names is an error too (package imports);
// otherwise it is left alone (a draft may be mid-edit). It returns a
// *pathways.ValidationError.
func CheckTexts(def string, locales []string, messages Messages, refs []Ref, strict bool) error {
	v := &pathways.ValidationError{}
	named := map[string]bool{}
	links := map[string]bool{}
	for _, r := range refs {
		named[r.ID] = true
		links[r.ID] = links[r.ID] || r.Link
	}
	// Messages hold only offered locales, at most MaxLocales: count them
	// before sorting or looking at any.
	if !pathways.CheckCount(v, "messages", len(messages), MaxLocales) {
		return v.Err()
	}
	total := 0
	for _, loc := range slices.Sorted(maps.Keys(messages)) {
		if v.Full() {
			return v.Err()
		}
		lp := pathways.Path("messages", pathways.EscapeToken(pathways.Clip(loc)))
		if !slices.Contains(locales, loc) {
			v.Add(lp, CodeNotOffered, map[string]any{"Value": pathways.Clip(loc)})
			continue
		}
		msgs := messages[loc]
		if !pathways.CheckCount(v, lp, len(msgs), MaxMessages) {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(msgs)) {
			if v.Full() {
				return v.Err()
			}
			m := msgs[id]
			mp := lp + "/" + pathways.EscapeToken(pathways.Clip(id))
			total += m.Size() + len(id)
			CheckMessageID(v, mp, id, true)
			if strict && !named[id] {
				v.Add(mp, CodeUnusedMessage, map[string]any{"Value": pathways.Clip(id)})
			}
			checkMessage(v, mp, m, links[id])
		}
	}
	if total > MaxTextBytes {
		v.Add("messages", CodeTooBig, map[string]any{"Count": MaxTextBytes >> 20})
	}
	src := messages[def]
	for _, r := range refs {
		if v.Full() {
			break
		}
		if _, ok := src[r.ID]; !ok {
			v.Add(r.Field, CodeMissingText, map[string]any{"Value": r.ID, "Locale": def})
		}
	}
	return v.Err()
}

func checkMessage(v *pathways.ValidationError, mp string, m Message, link bool) {
	if strings.TrimSpace(m.Other) == "" {
		v.Add(mp+"/other", CodeNoPluralOther, nil)
	}
	pathways.CheckLength(v, mp+"/description", m.Description, MaxDescriptionLen)
	forms := m.forms()
	for _, name := range slices.Sorted(maps.Keys(forms)) {
		pathways.CheckLength(v, mp+"/"+name, forms[name], MaxMessageLen)
		if m.Plural() {
			if _, err := template.New("").Parse(forms[name]); err != nil {
				v.Add(mp+"/"+name, CodeTemplateSyntax, nil)
			}
		}
	}
	if link && m.Other != "" && !validLink(m.Other) {
		v.Add(mp+"/other", CodeURL, nil)
	}
}

// validLink accepts absolute http and https URLs, and tel: links (a help
// line is often a phone number).
func validLink(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "tel":
		return u.Opaque != ""
	}
	return false
}

// CheckMessageID checks a message ID (letters, digits, ".", "_", "-", at
// most MessageIDMax) and adds what is wrong to v; an empty one only if
// required.
func CheckMessageID(v *pathways.ValidationError, field, id string, required bool) {
	switch {
	case id == "":
		if required {
			v.Add(field, pathways.CodeRequired, nil)
		}
	case len(id) > MessageIDMax:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": MessageIDMax})
	case !messageIDRE.MatchString(id):
		v.Add(field, CodeMessageID, nil)
	}
}

// ValidLocale reports whether tag is a well-formed BCP 47 tag of a real
// language, in its canonical form ("fa-AF", not "fa_af").
func ValidLocale(tag string) bool {
	if tag == "" || len(tag) > 35 {
		return false
	}
	t, err := language.Parse(tag)
	if err != nil || t.String() != tag {
		return false
	}
	base, conf := t.Base()
	return conf != language.No && base.String() != "und"
}

// CheckLocale adds "locale" to v if tag is not a ValidLocale, and
// "required" if it is empty and required.
func CheckLocale(v *pathways.ValidationError, field, tag string, required bool) {
	switch {
	case tag == "":
		if required {
			v.Add(field, pathways.CodeRequired, nil)
		}
	case !ValidLocale(tag):
		v.Add(field, CodeLocale, nil)
	}
}

// TranslationState is where one message stands in one locale.
type TranslationState string

// Translation states.
const (
	Translated TranslationState = "translated"
	Missing    TranslationState = "missing"
	Outdated   TranslationState = "outdated" // translated from an older source text
)

// LocaleStatus is how far one locale's translation is.
type LocaleStatus struct {
	Locale     string
	Default    bool
	Translated int
	Missing    []string // message IDs, sorted
	Outdated   []string
}

// Complete reports whether every text is translated and current.
func (s LocaleStatus) Complete() bool { return len(s.Missing) == 0 && len(s.Outdated) == 0 }

// String names a state for logs.
func (s LocaleStatus) String() string {
	return fmt.Sprintf("%s: %d translated, %d missing, %d outdated", s.Locale, s.Translated, len(s.Missing), len(s.Outdated))
}

// TranslationStatus returns the status of each of locales, in their
// order, for the messages ids (the ones a structure names), def being the
// source locale.
func TranslationStatus(def string, locales []string, messages Messages, ids map[string]bool) []LocaleStatus {
	sorted := slices.Sorted(maps.Keys(ids))
	src := messages[def]
	out := make([]LocaleStatus, 0, len(locales))
	for _, loc := range locales {
		st := LocaleStatus{Locale: loc, Default: loc == def}
		for _, id := range sorted {
			switch stateOf(messages, src, def, loc, id) {
			case Translated:
				st.Translated++
			case Missing:
				st.Missing = append(st.Missing, id)
			case Outdated:
				st.Outdated = append(st.Outdated, id)
			}
		}
		out = append(out, st)
	}
	return out
}

func stateOf(messages Messages, src map[string]Message, def, loc, id string) TranslationState {
	m, ok := messages[loc][id]
	switch {
	case !ok:
		return Missing
	case loc == def:
		return Translated
	case m.Hash != "" && m.Hash != Hash(src[id]):
		return Outdated
	}
	return Translated
}

// CompleteLocales lists the locales of st whose every text is translated
// and current, in order.
func CompleteLocales(st []LocaleStatus) []string {
	var out []string
	for _, s := range st {
		if s.Complete() {
			out = append(out, s.Locale)
		}
	}
	return out
}
