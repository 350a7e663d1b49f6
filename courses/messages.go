package courses

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"text/template"

	"github.com/pathways-lms/pathways"
)

// Ref is one place in a course's structure that names a message.
type Ref struct {
	Field string // the field path, e.g. "modules/0/lessons/1/title"
	ID    string // the message ID
	// Link is set for fields whose text is a URL (resource links, help).
	Link bool
	// Markdown is set for text blocks.
	Markdown bool
}

// Refs lists every message a course's structure names, in document order.
func (c Course) Refs() []Ref {
	var refs []Ref
	add := func(field, id string, link, md bool) {
		if id != "" {
			refs = append(refs, Ref{Field: field, ID: id, Link: link, Markdown: md})
		}
	}
	add("title", c.Title, false, false)
	add("summary", c.Summary, false, false)
	for i, m := range c.Modules {
		mp := path("modules", i)
		add(mp+"/title", m.Title, false, false)
		add(mp+"/summary", m.Summary, false, false)
		for j, l := range m.Lessons {
			lp := path(mp, "lessons", j)
			add(lp+"/title", l.Title, false, false)
			for k, b := range l.Blocks {
				bp := path(lp, "blocks", k)
				for _, f := range messageFields {
					add(bp+"/"+f, b.messageField(f), f == "url" || f == "helpUrl", f == "text" && b.Kind == BlockText)
				}
			}
		}
	}
	return refs
}

// MessageIDs is the set of message IDs the structure names.
func (c Course) MessageIDs() map[string]bool {
	ids := map[string]bool{}
	for _, r := range c.Refs() {
		ids[r.ID] = true
	}
	return ids
}

// Hash is the hash a translation records of the source message it was
// made from: "sha1-" and the hex SHA-1 of the description followed by the
// "other" text, exactly as `goi18n merge` computes it, so files that tool
// wrote keep their status here.
func Hash(m Message) string {
	h := sha1.New()
	h.Write([]byte(m.Description))
	h.Write([]byte(m.Other))
	return "sha1-" + hex.EncodeToString(h.Sum(nil))
}

// forms returns the plural forms a message sets, by CLDR category.
func (m Message) forms() map[string]string {
	f := map[string]string{}
	for _, p := range []struct{ name, text string }{
		{"zero", m.Zero}, {"one", m.One}, {"two", m.Two}, {"few", m.Few}, {"many", m.Many}, {"other", m.Other},
	} {
		if p.text != "" {
			f[p.name] = p.text
		}
	}
	return f
}

// Plural reports whether the message has plural forms beyond "other".
func (m Message) Plural() bool { return len(m.forms()) > 1 }

// Size is the number of bytes of text a message holds.
func (m Message) Size() int {
	n := len(m.Description) + len(m.Hash)
	for _, t := range m.forms() {
		n += len(t)
	}
	return n
}

// CheckMessages checks a course's texts against its structure: every
// locale is one the course offers, every message ID is well formed, every
// message has an "other" form within the length limit, plural messages
// parse as templates, links are http(s) URLs, the default locale holds a
// text for every message the structure names, and the texts fit the
// course's size limit. With strict set, a message the structure does not
// name is an error too (package imports); otherwise it is left alone (a
// draft may be mid-edit).
func CheckMessages(c Course, strict bool) error {
	return CheckTexts(c.DefaultLocale, c.Locales, c.Messages, c.Refs(), strict)
}

// CheckTexts is CheckMessages for any set of texts: messages offered in
// locales, def the source locale, refs the places that name them.
func CheckTexts(def string, locales []string, messages Messages, refs []Ref, strict bool) error {
	v := &pathways.ValidationError{}
	named := map[string]bool{}
	links := map[string]bool{}
	for _, r := range refs {
		named[r.ID] = true
		links[r.ID] = links[r.ID] || r.Link
	}
	total := 0
	for _, loc := range slices.Sorted(maps.Keys(messages)) {
		lp := path("messages", loc)
		if !slices.Contains(locales, loc) {
			v.Add(lp, CodeNotOffered, map[string]any{"Value": loc})
			continue
		}
		msgs := messages[loc]
		if len(msgs) > MaxMessages {
			v.Add(lp, CodeTooMany, map[string]any{"Count": MaxMessages})
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(msgs)) {
			m := msgs[id]
			mp := lp + "/" + EscapeToken(id)
			total += m.Size() + len(id)
			CheckMessageID(v, mp, id, true)
			if strict && !named[id] {
				v.Add(mp, CodeUnusedMessage, map[string]any{"Value": id})
			}
			checkMessage(v, mp, m, links[id])
		}
	}
	if total > MaxCourseBytes {
		v.Add("messages", CodeTooBig, map[string]any{"Count": MaxCourseBytes >> 20})
	}
	src := messages[def]
	for _, r := range refs {
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
	checkLength(v, mp+"/description", m.Description, MaxDescriptionLen)
	forms := m.forms()
	for _, name := range slices.Sorted(maps.Keys(forms)) {
		checkLength(v, mp+"/"+name, forms[name], MaxMessageLen)
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

// EscapeToken escapes one step of a field path (a message ID, a locale)
// as a JSON Pointer token (RFC 6901): "~" becomes "~0", "/" becomes "~1".
func EscapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
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

// TranslationStatus returns the status of each locale the course offers,
// in the order of Locales, for the messages the structure names.
func TranslationStatus(c Course) []LocaleStatus {
	ids := slices.Sorted(maps.Keys(c.MessageIDs()))
	src := c.Messages[c.DefaultLocale]
	out := make([]LocaleStatus, 0, len(c.Locales))
	for _, loc := range c.Locales {
		st := LocaleStatus{Locale: loc, Default: loc == c.DefaultLocale}
		for _, id := range ids {
			switch stateOf(c, src, loc, id) {
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

func stateOf(c Course, src map[string]Message, loc, id string) TranslationState {
	m, ok := c.Messages[loc][id]
	switch {
	case !ok:
		return Missing
	case loc == c.DefaultLocale:
		return Translated
	case m.Hash != "" && m.Hash != Hash(src[id]):
		return Outdated
	}
	return Translated
}

// CompleteLocales lists the locales whose every text is translated and
// current, in the order of Locales.
func CompleteLocales(c Course) []string {
	var out []string
	for _, s := range TranslationStatus(c) {
		if s.Complete() {
			out = append(out, s.Locale)
		}
	}
	return out
}

// stampHashes records, on every translation that has no hash, the hash of
// the current source text; see StampHashes.
func stampHashes(c *Course) { StampHashes(c.DefaultLocale, c.Messages) }

// StampHashes records, on every translation in messages that has no hash,
// the hash of the current source text in locale def: a translation given
// without one is taken as made from the text as it is now. Source texts
// carry no hash.
func StampHashes(def string, messages Messages) {
	src := messages[def]
	for loc, msgs := range messages {
		for id, m := range msgs {
			switch {
			case loc == def && m.Hash != "":
				m.Hash = ""
			case loc != def && m.Hash == "":
				s, ok := src[id]
				if !ok {
					continue
				}
				m.Hash = Hash(s)
			default:
				continue
			}
			msgs[id] = m
		}
	}
}

// prune drops the messages the structure no longer names, so a published
// version holds only what it shows.
func prune(c *Course) {
	named := c.MessageIDs()
	for _, msgs := range c.Messages {
		for id := range msgs {
			if !named[id] {
				delete(msgs, id)
			}
		}
	}
}

// Clone returns a deep copy of the messages.
func (ms Messages) Clone() Messages {
	out := make(Messages, len(ms))
	for loc, msgs := range ms {
		cp := make(map[string]Message, len(msgs))
		for id, m := range msgs {
			cp[id] = m
		}
		out[loc] = cp
	}
	return out
}

// String names a state for logs.
func (s LocaleStatus) String() string {
	return fmt.Sprintf("%s: %d translated, %d missing, %d outdated", s.Locale, s.Translated, len(s.Missing), len(s.Outdated))
}
