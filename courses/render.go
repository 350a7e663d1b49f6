package courses

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"github.com/yuin/goldmark"
	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways/i18n"
)

// Views are what learners receive. They carry JSON names because they are
// the delivery API's shape, rendered once and served from cache; the
// server encodes them as they are.

// Text is one text in the language it was found in: the requested one, or
// the next of the learner's fallback chain that has it.
type Text struct {
	Value string `json:"value"`
	Lang  string `json:"lang"`
	Dir   string `json:"dir"`
}

// MediaView is a media file a block shows.
type MediaView struct {
	ID   string `json:"id"`
	URL  string `json:"url"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	Lang string `json:"lang,omitempty"` // the language spoken or subtitled, if any
}

// BlockView is one rendered block.
type BlockView struct {
	ID         string      `json:"id"`
	Kind       BlockKind   `json:"kind"`
	HTML       *Text       `json:"html,omitempty"` // text blocks: sanitised HTML from Markdown
	Text       *Text       `json:"text,omitempty"` // caption, prompt, note, resource title
	Alt        *Text       `json:"alt,omitempty"`
	Transcript *Text       `json:"transcript,omitempty"`
	Media      *MediaView  `json:"media,omitempty"`
	Subtitles  []MediaView `json:"subtitles,omitempty"`
	URL        *Text       `json:"url,omitempty"`
	HelpURL    *Text       `json:"helpUrl,omitempty"`
	Quiz       string      `json:"quiz,omitempty"`
}

// LessonView is a lesson as a learner reads it.
type LessonView struct {
	CourseID  string      `json:"courseId"`
	Version   int         `json:"version"` // 0 in a draft preview
	ModuleID  string      `json:"moduleId"`
	ID        string      `json:"id"`
	Lang      string      `json:"lang"` // the language most of it is in
	Dir       string      `json:"dir"`
	Languages []string    `json:"languages"` // every language it uses, Lang first
	Title     Text        `json:"title"`
	Minutes   int         `json:"minutes"`
	Blocks    []BlockView `json:"blocks"`
	Previous  string      `json:"previous,omitempty"` // lesson IDs, in course order
	Next      string      `json:"next,omitempty"`
}

// LessonSummary is a lesson's line in an outline.
type LessonSummary struct {
	ID      string `json:"id"`
	Title   Text   `json:"title"`
	Minutes int    `json:"minutes"`
}

// ModuleView is a module in an outline.
type ModuleView struct {
	ID       string          `json:"id"`
	Title    Text            `json:"title"`
	Summary  *Text           `json:"summary,omitempty"`
	Requires []string        `json:"requires"`
	Lessons  []LessonSummary `json:"lessons"`
}

// OutlineView is a published course as a learner first sees it.
type OutlineView struct {
	CourseID  string       `json:"id"`
	Slug      string       `json:"slug"`
	Version   int          `json:"version"`
	Lang      string       `json:"lang"`
	Dir       string       `json:"dir"`
	Languages []string     `json:"languages"`
	Locales   []string     `json:"locales"` // languages it is fully translated into
	Title     Text         `json:"title"`
	Summary   *Text        `json:"summary,omitempty"`
	Topic     Topic        `json:"topic"`
	Audiences []Audience   `json:"audiences"`
	Level     Level        `json:"level"`
	Minutes   int          `json:"minutes"`
	Lessons   int          `json:"lessons"`
	Modules   []ModuleView `json:"modules,omitempty"`
}

// MediaInfo is what a version records of each media file it shows, so
// rendering never asks the library.
type MediaInfo struct {
	Type   string
	Size   int64
	Name   string
	Locale string
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
		if base, _ := tag.Base(); base.String() == "prs" {
			tag = language.MustParse("fa-AF")
		}
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
func (t *Texts) Dir(locale string) string { return i18n.Direction(t.tags[locale]) }

// Plural renders message id with count for a reader with languages
// wanted.
func (t *Texts) Plural(wanted []string, id string, count any) Text {
	txt, _, _ := t.Find(t.Chain(wanted), id, count)
	return txt
}

// content is a course version made ready to render.
type content struct {
	*Texts
	course  Course
	version int
	media   map[string]MediaInfo
}

func newContent(c Course, version int, media map[string]MediaInfo) (*content, error) {
	t, err := NewTexts(c.DefaultLocale, c.Locales, c.Messages)
	if err != nil {
		return nil, err
	}
	return &content{Texts: t, course: c, version: version, media: media}, nil
}

// renderer renders one view for one fallback chain, noting which
// languages it used.
type renderer struct {
	ct    *content
	chain []string
	used  []string
	err   error
}

// text returns message id in the first language of the chain that has
// it; see Texts.Find.
func (r *renderer) text(id string, count any) Text {
	t, ok, err := r.ct.Find(r.chain, id, count)
	r.err = errors.Join(r.err, err)
	if !ok {
		// Only a draft can miss a text everywhere: its preview shows the ID.
		r.err = errors.Join(r.err, fmt.Errorf("message %s: in no language", id))
		return t
	}
	if !slices.Contains(r.used, t.Lang) {
		r.used = append(r.used, t.Lang)
	}
	return t
}

func (r *renderer) optional(id string) *Text {
	if id == "" {
		return nil
	}
	t := r.text(id, nil)
	return &t
}

// markdown and policy render text blocks: CommonMark without raw HTML,
// then sanitised, so a trainer's text can never carry script.
var (
	markdown = goldmark.New()
	policy   = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		return p
	}()
)

// RenderMarkdown turns a trainer's Markdown into safe HTML.
func RenderMarkdown(src string) (string, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return policy.Sanitize(buf.String()), nil
}

// mediaFor picks the file for the first language of the chain that has
// its own, else the block's default file.
func (r *renderer) mediaFor(b Block) *MediaView {
	id := b.Media
	for _, loc := range r.chain {
		if a, ok := b.MediaBy[loc]; ok {
			id = a
			break
		}
	}
	return r.mediaView(id)
}

func (r *renderer) mediaView(id string) *MediaView {
	if id == "" {
		return nil
	}
	info := r.ct.media[id]
	return &MediaView{ID: id, URL: "/media/" + id, Type: info.Type, Size: info.Size, Lang: info.Locale}
}

func (r *renderer) block(b Block) (BlockView, error) {
	v := BlockView{ID: b.ID, Kind: b.Kind, Quiz: b.Quiz}
	switch b.Kind {
	case BlockText:
		t := r.text(b.Text, nil)
		html, err := RenderMarkdown(t.Value)
		if err != nil {
			return v, err
		}
		t.Value = html
		v.HTML = &t
	default:
		v.Text = r.optional(b.Text)
	}
	v.Alt = r.optional(b.Alt)
	v.Transcript = r.optional(b.Transcript)
	v.URL = r.optional(b.URL)
	v.HelpURL = r.optional(b.HelpURL)
	if b.Media != "" || len(b.MediaBy) > 0 {
		v.Media = r.mediaFor(b)
	}
	for _, loc := range slices.Sorted(maps.Keys(b.Subtitles)) {
		m := r.mediaView(b.Subtitles[loc])
		m.Lang = loc
		v.Subtitles = append(v.Subtitles, *m)
	}
	return v, nil
}

// primary is the language a view is mostly in: the first of the chain it
// used.
func (r *renderer) primary() (lang, dir string, langs []string) {
	for _, loc := range r.chain {
		if slices.Contains(r.used, loc) {
			langs = append(langs, loc)
		}
	}
	if len(langs) == 0 {
		langs = []string{r.ct.course.DefaultLocale}
	}
	return langs[0], r.ct.Dir(langs[0]), langs
}

// lesson renders lesson id for a learner whose languages are wanted.
func (ct *content) lesson(id string, wanted []string) (LessonView, error) {
	var flat []struct {
		module string
		lesson Lesson
	}
	for _, m := range ct.course.Modules {
		for _, l := range m.Lessons {
			flat = append(flat, struct {
				module string
				lesson Lesson
			}{m.ID, l})
		}
	}
	at := slices.IndexFunc(flat, func(x struct {
		module string
		lesson Lesson
	}) bool {
		return x.lesson.ID == id
	})
	if at < 0 {
		return LessonView{}, fmt.Errorf("lesson %s: %w", id, errNoLesson)
	}
	l := flat[at].lesson
	r := &renderer{ct: ct, chain: ct.Chain(wanted)}
	v := LessonView{
		CourseID: ct.course.ID, Version: ct.version, ModuleID: flat[at].module, ID: l.ID,
		Title: r.text(l.Title, nil), Minutes: l.Minutes, Blocks: make([]BlockView, 0, len(l.Blocks)),
	}
	if at > 0 {
		v.Previous = flat[at-1].lesson.ID
	}
	if at+1 < len(flat) {
		v.Next = flat[at+1].lesson.ID
	}
	for _, b := range l.Blocks {
		bv, err := r.block(b)
		if err != nil {
			return LessonView{}, err
		}
		v.Blocks = append(v.Blocks, bv)
	}
	v.Lang, v.Dir, v.Languages = r.primary()
	return v, r.err
}

// outline renders the course's outline.
func (ct *content) outline(wanted []string) (OutlineView, error) {
	c := ct.course
	r := &renderer{ct: ct, chain: ct.Chain(wanted)}
	v := OutlineView{
		CourseID: c.ID, Slug: c.Slug, Version: ct.version, Locales: CompleteLocales(c),
		Title: r.text(c.Title, nil), Summary: r.optional(c.Summary),
		Topic: c.Topic, Audiences: c.Audiences, Level: c.Level, Modules: make([]ModuleView, 0, len(c.Modules)),
	}
	for _, m := range c.Modules {
		mv := ModuleView{ID: m.ID, Title: r.text(m.Title, nil), Summary: r.optional(m.Summary),
			Requires: append([]string{}, m.Requires...), Lessons: make([]LessonSummary, 0, len(m.Lessons))}
		for _, l := range m.Lessons {
			mv.Lessons = append(mv.Lessons, LessonSummary{ID: l.ID, Title: r.text(l.Title, nil), Minutes: l.Minutes})
			v.Minutes += l.Minutes
			v.Lessons++
		}
		v.Modules = append(v.Modules, mv)
	}
	v.Lang, v.Dir, v.Languages = r.primary()
	return v, r.err
}

var errNoLesson = errors.New("no such lesson")

// wantedKey is a cache key for a fallback chain.
func wantedKey(chain []string) string { return strings.Join(chain, ",") }

// baseOf returns the language of a tag without region or script.
func baseOf(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	b, _ := t.Base()
	return b.String()
}
