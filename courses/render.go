package courses

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways/i18n"
)

// Views are what learners receive. They carry JSON names because they are
// the delivery API's shape, rendered once and served from cache; the
// server encodes them as they are.

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
	HTML       *i18n.Text  `json:"html,omitempty"` // text blocks: sanitised HTML from Markdown
	Text       *i18n.Text  `json:"text,omitempty"` // caption, prompt, note, resource title
	Alt        *i18n.Text  `json:"alt,omitempty"`
	Transcript *i18n.Text  `json:"transcript,omitempty"`
	Media      *MediaView  `json:"media,omitempty"`
	Subtitles  []MediaView `json:"subtitles,omitempty"`
	URL        *i18n.Text  `json:"url,omitempty"`
	HelpURL    *i18n.Text  `json:"helpUrl,omitempty"`
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
	Title     i18n.Text   `json:"title"`
	Minutes   int         `json:"minutes"`
	Blocks    []BlockView `json:"blocks"`
	Previous  string      `json:"previous,omitempty"` // lesson IDs, in course order
	Next      string      `json:"next,omitempty"`
}

// LessonSummary is a lesson's line in an outline.
type LessonSummary struct {
	ID      string    `json:"id"`
	Title   i18n.Text `json:"title"`
	Minutes int       `json:"minutes"`
}

// ModuleView is a module in an outline.
type ModuleView struct {
	ID       string          `json:"id"`
	Title    i18n.Text       `json:"title"`
	Summary  *i18n.Text      `json:"summary,omitempty"`
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
	Title     i18n.Text    `json:"title"`
	Summary   *i18n.Text   `json:"summary,omitempty"`
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

// content is a course version made ready to render.
type content struct {
	*i18n.Texts
	course  Course
	version int
	media   map[string]MediaInfo
	chains  chainCache
}

// chainKey is wantedKey(ct.Chain(wanted)), remembered for the readers'
// first four languages: resolving a chain parses and matches each tag
// (golang.org/x/text/language), which was a third of the server's work
// on a cached lesson read, and readers of a version want a handful of
// distinct lists. A list of more than four is resolved each time.
func (ct *content) chainKey(wanted []string) string {
	var k [4]string
	if len(wanted) > len(k) {
		return wantedKey(ct.Chain(wanted))
	}
	// Unused entries are "", which Chain skips as it skips any tag it
	// cannot parse, so ["ar"] and ["ar", ""] rightly share a key.
	copy(k[:], wanted)
	return ct.chains.get(k, func() string { return wantedKey(ct.Chain(wanted)) })
}

// chainCache maps wanted lists to their resolved chain key, bounded: a
// full cache starts again empty, so odd Accept-Language values cannot
// grow a cached version.
type chainCache struct {
	mu sync.RWMutex
	m  map[[4]string]string
}

const maxChains = 64

func (cc *chainCache) get(k [4]string, resolve func() string) string {
	cc.mu.RLock()
	v, ok := cc.m[k]
	cc.mu.RUnlock()
	if ok {
		return v
	}
	v = resolve()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) >= maxChains {
		cc.m = make(map[[4]string]string)
	}
	cc.m[k] = v
	return v
}

func newContent(c Course, version int, media map[string]MediaInfo) (*content, error) {
	t, err := i18n.NewTexts(c.DefaultLocale, c.Locales, c.Messages)
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
func (r *renderer) text(id string, count any) i18n.Text {
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

func (r *renderer) optional(id string) *i18n.Text {
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
