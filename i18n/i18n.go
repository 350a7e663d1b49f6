// Package i18n owns every user-facing text: the server's own UI messages
// (an embedded go-i18n catalogue, one file per locale), locale negotiation
// from Accept-Language and text direction; and the content-text machinery
// every domain uses for what trainers write (texts.go, check.go): messages
// per locale in go-i18n's shape, their fallback chains, plurals, checks and
// translation status.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/active.*.json
var localeFS embed.FS

// Default is the language every message exists in and every chain ends with.
var Default = language.English

// Catalog is the loaded UI catalogue. It is immutable after New and safe for
// concurrent use.
type Catalog struct {
	bundle  *goi18n.Bundle
	tags    []language.Tag
	matcher language.Matcher
}

// New loads every embedded locale file. It fails if a file does not parse,
// so a broken translation stops the server at start, not at the first request.
func New() (*Catalog, error) {
	b := goi18n.NewBundle(Default)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/active.*.json")
	if err != nil {
		return nil, fmt.Errorf("list locale files: %w", err)
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(localeFS, f); err != nil {
			return nil, fmt.Errorf("load locale file %s: %w", path.Base(f), err)
		}
	}
	// The matcher prefers the first tag on a tie, so English goes first.
	tags := []language.Tag{Default}
	for _, t := range b.LanguageTags() {
		if t != Default {
			tags = append(tags, t)
		}
	}
	return &Catalog{bundle: b, tags: tags, matcher: language.NewMatcher(tags)}, nil
}

// Languages lists the locales the catalogue has, English first.
func (c *Catalog) Languages() []language.Tag {
	return append([]language.Tag(nil), c.tags...)
}

// Negotiate picks the best supported locale for an Accept-Language header
// value and, optionally, the user's own preferences (tried first). Unknown or
// malformed input falls back to English; it never fails.
func (c *Catalog) Negotiate(acceptLanguage string, preferred ...string) *Localizer {
	var want []language.Tag
	for _, p := range preferred {
		if t, err := language.Parse(p); err == nil {
			want = append(want, alias(t))
		}
	}
	if accepted, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
		for _, t := range accepted {
			want = append(want, alias(t))
		}
	}
	tag := Default
	if len(want) > 0 {
		_, idx, conf := c.matcher.Match(want...)
		if conf != language.No {
			tag = c.tags[idx]
		}
	}
	return &Localizer{tag: tag, loc: goi18n.NewLocalizer(c.bundle, tag.String(), Default.String())}
}

// aliases maps languages x/text does not relate to the locale that serves
// them: Dari (prs) is written and read as Persian of Afghanistan.
var aliases = map[string]language.Tag{"prs": language.MustParse("fa-AF")}

func alias(t language.Tag) language.Tag {
	base, _ := t.Base()
	if a, ok := aliases[base.String()]; ok {
		return a
	}
	return t
}

// Localizer renders messages in one negotiated locale.
type Localizer struct {
	tag language.Tag
	loc *goi18n.Localizer
}

// Tag is the negotiated locale, for Content-Language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Dir is "rtl" or "ltr" for the negotiated locale.
func (l *Localizer) Dir() string { return Direction(l.tag) }

// T renders message id with data. A count in data under "Count" selects the
// CLDR plural form. A message missing from the locale falls back to English;
// an id missing everywhere is a programming error caught by the catalogue
// test, and renders as the id itself rather than failing a response.
func (l *Localizer) T(id string, data map[string]any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if n, ok := data["Count"]; ok {
		cfg.PluralCount = n
	}
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}

// rtlScripts are the scripts written right to left.
var rtlScripts = map[string]bool{
	"Arab": true, "Hebr": true, "Thaa": true, "Syrc": true, "Nkoo": true, "Adlm": true, "Rohg": true,
}

// Direction says how text in tag is written: "rtl" for Arabic, Dari/Farsi,
// Pashto, Urdu, Sorani and Arabic-script Kurdish, Hebrew and the like; "ltr"
// otherwise. The script is inferred when the tag does not name it, so "ku"
// (Latin by default) is ltr while "ku-Arab" and "ckb" are rtl.
func Direction(tag language.Tag) string {
	script, conf := tag.Script()
	if rtlScripts[script.String()] {
		return "rtl"
	}
	if conf == language.Exact {
		return "ltr" // the tag names a script that is not right to left
	}
	// x/text does not infer a script for every language (Dari, "prs").
	base, _ := tag.Base()
	if rtlLanguages[base.String()] {
		return "rtl"
	}
	return "ltr"
}

// rtlLanguages are languages usually written right to left whose script
// x/text may not infer.
var rtlLanguages = map[string]bool{
	"ar": true, "fa": true, "prs": true, "ps": true, "ur": true, "ckb": true, "sd": true,
	"ug": true, "dv": true, "he": true, "yi": true, "syr": true, "pnb": true, "bal": true,
}

// IsRTL is Direction for a tag given as a string; unparseable tags are ltr.
func IsRTL(tag string) bool {
	t, err := language.Parse(strings.TrimSpace(tag))
	return err == nil && Direction(t) == "rtl"
}
