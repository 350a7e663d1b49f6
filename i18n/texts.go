package i18n

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
)

// Content texts. Every text a trainer writes (a course's, a question's) is
// a message with an ID, kept with the object in each of its locales in
// go-i18n's shape, and rendered for a reader along a fallback chain. This
// file holds the messages and their rendering; check.go their rules and
// translation status.

// Message is one text in one locale, in go-i18n's shape: plural forms by
// CLDR category (Other is always set; the rest as the language needs) and,
// for a translation, the hash of the source text it was translated from.
type Message struct {
	Description                      string // for translators
	Hash                             string // "sha1-…" of the source text, on translations
	Zero, One, Two, Few, Many, Other string
}

// Messages holds a set of texts: locale → message ID → message.
type Messages map[string]map[string]Message

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

// Text is one text in the language it was found in: the requested one, or
// the next of the reader's fallback chain that has it. It carries JSON
// names because the delivery views that hold it are encoded as they are.
type Text struct {
	Value string `json:"value"`
	Lang  string `json:"lang"`
	Dir   string `json:"dir"`
}

// Texts are a set of messages in several locales, loaded into a go-i18n
// bundle, with the fallback chain that finds each text for a reader:
// what courses render, and what assessments render their questions with.
// Texts are immutable and safe for concurrent use.
type Texts struct {
	def      string
	locales  []string
	messages Messages
	bundle   *goi18n.Bundle
	tags     map[string]language.Tag // locale → parsed tag
	matcher  language.Matcher
	size     int64 // rough bytes held, for cache budgets
}

// NewTexts loads messages offered in locales, def among them. It fails on
// a locale that does not parse.
func NewTexts(def string, locales []string, messages Messages) (*Texts, error) {
	defTag, err := language.Parse(def)
	if err != nil {
		return nil, fmt.Errorf("default locale %q: %w", def, err)
	}
	t := &Texts{def: def, locales: locales, messages: messages, bundle: goi18n.NewBundle(defTag), tags: map[string]language.Tag{}}
	size := int64(4096)
	var offered []language.Tag
	for _, loc := range locales {
		tag, err := language.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("locale %q: %w", loc, err)
		}
		t.tags[loc] = tag
		offered = append(offered, tag)
		msgs := make([]*goi18n.Message, 0, len(messages[loc]))
		for id, m := range messages[loc] {
			msgs = append(msgs, &goi18n.Message{
				ID: id, Description: m.Description, Hash: m.Hash,
				Zero: m.Zero, One: m.One, Two: m.Two, Few: m.Few, Many: m.Many, Other: m.Other,
			})
			size += int64(len(id)+m.Size()) * 2 // the message, and go-i18n's template of it
		}
		if err := t.bundle.AddMessages(tag, msgs...); err != nil {
			return nil, fmt.Errorf("messages of %s: %w", loc, err)
		}
	}
	t.matcher = language.NewMatcher(offered)
	t.size = size
	return t, nil
}

// Size is roughly how many bytes the texts hold.
func (t *Texts) Size() int64 { return t.size }

// Default is the source locale, in which every text exists.
func (t *Texts) Default() string { return t.def }

// Chain resolves a reader's languages, most wanted first, to the locales
// offered, ending with the default: the fallback chain of every text.
// "fr-CA" finds "fr", "prs" (Dari) finds "fa-AF" or "fa".
func (t *Texts) Chain(wanted []string) []string {
	var out []string
	for _, w := range wanted {
		tag, err := language.Parse(w)
		if err != nil {
			continue
		}
		tag = alias(tag)
		_, i, conf := t.matcher.Match(tag)
		if conf < language.High {
			continue
		}
		if loc := t.locales[i]; !slices.Contains(out, loc) {
			out = append(out, loc)
		}
	}
	if !slices.Contains(out, t.def) {
		out = append(out, t.def)
	}
	return out
}

// Find returns message id in the first locale of chain that has it.
// Messages with plural forms take count and choose their CLDR form;
// other texts are literal (no template runs on an author's text). ok is
// false if no locale of the chain has it; the Text then holds the ID.
func (t *Texts) Find(chain []string, id string, count any) (txt Text, ok bool, err error) {
	for _, loc := range chain {
		m, has := t.messages[loc][id]
		if !has {
			continue
		}
		cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateParser: template.IdentityParser{}}
		if count != nil && m.Plural() {
			cfg.PluralCount = count
			cfg.TemplateParser = nil
			cfg.TemplateData = map[string]any{"Count": count}
		}
		s, _, lErr := goi18n.NewLocalizer(t.bundle, loc).LocalizeWithTag(cfg)
		if lErr != nil {
			err = errors.Join(err, fmt.Errorf("message %s in %s: %w", id, loc, lErr))
			continue
		}
		return Text{Value: s, Lang: loc, Dir: t.Dir(loc)}, true, err
	}
	return Text{Value: id, Lang: t.def, Dir: t.Dir(t.def)}, false, err
}

// Dir is the direction of one of the locales.
func (t *Texts) Dir(locale string) string { return Direction(t.tags[locale]) }

// Plural renders message id with count for a reader with languages
// wanted.
func (t *Texts) Plural(wanted []string, id string, count any) Text {
	txt, _, _ := t.Find(t.Chain(wanted), id, count)
	return txt
}
