package courses

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// sample is a small valid course with texts in en (default), fr and ar.
func sample() Course {
	return Course{
		ID: "0190f1e2-0000-7000-8000-000000000001", OrgID: "org", Slug: "talking", Shared: true,
		Topic: TopicSoftSkills, Audiences: []Audience{AudienceYoungRefugees}, Level: LevelBeginner,
		DefaultLocale: "en", Locales: []string{"en", "fr", "ar", "uk"}, Title: "course.title",
		Modules: []Module{
			{ID: "one", Title: "one.title", Lessons: []Lesson{{ID: "hello", Title: "hello.title", Minutes: 5, Blocks: []Block{
				{ID: "intro", Kind: BlockText, Text: "hello.intro"},
				{ID: "pic", Kind: BlockImage, Media: "img", Alt: "hello.pic.alt"},
				{ID: "days", Kind: BlockText, Text: "hello.days"},
			}}}},
			{ID: "two", Title: "two.title", Requires: []string{"one"}, Lessons: []Lesson{{ID: "bye", Title: "bye.title", Minutes: 7, Blocks: []Block{
				{ID: "think", Kind: BlockReflection, Text: "bye.think"},
				{ID: "help", Kind: BlockNote, Text: "bye.note", HelpURL: "bye.help"},
			}}}},
		},
		Messages: i18n.Messages{
			"en": {
				"course.title": {Other: "Talking"}, "one.title": {Other: "Start"}, "hello.title": {Other: "Hello"},
				"hello.intro":   {Other: "**Hi** <script>alert(1)</script> [site](https://example.org)"},
				"hello.pic.alt": {Other: "Two people"}, "two.title": {Other: "End"}, "bye.title": {Other: "Bye"},
				"bye.think": {Other: "What did you learn?"}, "bye.note": {Other: "Take care"},
				"bye.help":   {Other: "https://help.unhcr.org/"},
				"hello.days": {One: "{{.Count}} day", Other: "{{.Count}} days"},
			},
			"fr": {"course.title": {Other: "Parler"}, "hello.title": {Other: "Bonjour"}},
			"ar": {
				"course.title": {Other: "التحدث"}, "hello.title": {Other: "مرحبا"},
				"hello.days": {Zero: "لا أيام", One: "يوم واحد", Two: "يومان", Few: "{{.Count}} أيام", Many: "{{.Count}} يومًا", Other: "{{.Count}} يوم"},
			},
			"uk": {"hello.days": {One: "{{.Count}} день", Few: "{{.Count}} дні", Many: "{{.Count}} днів", Other: "{{.Count}} дня"}},
		},
	}
}

func fieldCodes(err error) map[string]string {
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Code
	}
	return out
}

func TestSampleIsValid(t *testing.T) {
	c := sample()
	if err := errors.Join(CheckStructure(c), CheckPublishable(c), CheckMessages(c, true)); err != nil {
		t.Fatal(err)
	}
}

func TestCheckStructureRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Course)
		field string
		code  string
	}{
		{"bad slug", func(c *Course) { c.Slug = "Not OK" }, "slug", CodeSlug},
		{"unknown locale", func(c *Course) { c.Locales = append(c.Locales, "xx-nope") }, "locales/4", i18n.CodeLocale},
		{"non-canonical locale", func(c *Course) { c.Locales = append(c.Locales, "fa_af") }, "locales/4", i18n.CodeLocale},
		{"default not offered", func(c *Course) { c.DefaultLocale = "de" }, "locales", i18n.CodeNotOffered},
		{"topic", func(c *Course) { c.Topic = "cooking" }, "topic", pathways.CodeEnum},
		{"duplicate lesson", func(c *Course) { c.Modules[1].Lessons[0].ID = "hello" }, "modules/1/lessons/0/id", pathways.CodeDuplicate},
		{"unknown prerequisite", func(c *Course) { c.Modules[1].Requires = []string{"zero"} }, "modules/1/requires/0", CodeUnknownModule},
		{"self prerequisite", func(c *Course) { c.Modules[0].Requires = []string{"one"} }, "modules/0/requires/0", CodeCycle},
		{"cycle", func(c *Course) { c.Modules[0].Requires = []string{"two"} }, "modules/0/requires", CodeCycle},
		{"field not for kind", func(c *Course) { c.Modules[0].Lessons[0].Blocks[0].Media = "img" }, "modules/0/lessons/0/blocks/0/media", pathways.CodeNotAllowed},
		{"missing alt", func(c *Course) { c.Modules[0].Lessons[0].Blocks[1].Alt = "" }, "modules/0/lessons/0/blocks/1/alt", pathways.CodeRequired},
		{"unknown kind", func(c *Course) { c.Modules[0].Lessons[0].Blocks[0].Kind = "poll" }, "modules/0/lessons/0/blocks/0/kind", pathways.CodeEnum},
		{"minutes", func(c *Course) { c.Modules[0].Lessons[0].Minutes = 0 }, "modules/0/lessons/0/minutes", pathways.CodeRange},
		{"message id", func(c *Course) { c.Title = "bad id!" }, "title", i18n.CodeMessageID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample().Clone()
			tt.edit(&c)
			got := fieldCodes(CheckStructure(c))
			if got[tt.field] != tt.code {
				t.Errorf("errors %v, want %s at %s", got, tt.code, tt.field)
			}
		})
	}
}

func TestCycleNamesItsPath(t *testing.T) {
	c := sample().Clone()
	c.Modules = append(c.Modules, Module{ID: "three", Title: "two.title", Requires: []string{"two"}})
	c.Modules[0].Requires = []string{"three"}
	var ve *pathways.ValidationError
	if !errors.As(CheckStructure(c), &ve) {
		t.Fatal("cycle accepted")
	}
	i := slices.IndexFunc(ve.Fields, func(f pathways.FieldError) bool { return f.Code == CodeCycle })
	if i < 0 || ve.Fields[i].Params["Value"] != "one → three → two → one" {
		t.Errorf("fields %+v, want the cycle one → three → two → one", ve.Fields)
	}
}

func TestCheckMessages(t *testing.T) {
	c := sample().Clone()
	delete(c.Messages["en"], "hello.title")
	c.Messages["de"] = map[string]i18n.Message{"course.title": {Other: "Reden"}}
	c.Messages["fr"]["stray"] = i18n.Message{Other: "x"}
	c.Messages["en"]["bye.help"] = i18n.Message{Other: "javascript:alert(1)"}
	c.Messages["ar"]["hello.days"] = i18n.Message{One: "{{.Count", Other: "x"}
	got := fieldCodes(CheckMessages(c, true))
	want := map[string]string{
		"modules/0/lessons/0/title":  i18n.CodeMissingText,
		"messages/de":                i18n.CodeNotOffered,
		"messages/fr/stray":          i18n.CodeUnusedMessage,
		"messages/en/bye.help/other": i18n.CodeURL,
		"messages/ar/hello.days/one": i18n.CodeTemplateSyntax,
	}
	for f, code := range want {
		if got[f] != code {
			t.Errorf("%s: got %q, want %q (all: %v)", f, got[f], code, got)
		}
	}
	if got := fieldCodes(CheckMessages(c, false)); got["messages/fr/stray"] != "" {
		t.Error("a draft may keep texts it no longer names")
	}
}

func TestTranslationStatus(t *testing.T) {
	c := sample().Clone()
	stampHashes(&c)
	c.Messages["en"]["course.title"] = i18n.Message{Other: "Talking at work"} // source changed
	st := TranslationStatus(c)
	if len(st) != 4 || st[0].Locale != "en" || !st[0].Complete() {
		t.Fatalf("status %v", st)
	}
	fr := st[1]
	if !slices.Equal(fr.Outdated, []string{"course.title"}) || fr.Translated != 1 || len(fr.Missing) != 9 {
		t.Errorf("fr: %v outdated %v missing %v", fr, fr.Outdated, fr.Missing)
	}
	if got := CompleteLocales(c); !slices.Equal(got, []string{"en"}) {
		t.Errorf("complete locales %v", got)
	}
}

func render(t *testing.T, c Course) *content {
	t.Helper()
	ct, err := newContent(c, 1, map[string]MediaInfo{"img": {Type: "image/png", Size: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func TestFallbackChain(t *testing.T) {
	ct := render(t, sample())
	tests := []struct {
		wanted []string
		chain  []string
	}{
		{[]string{"ar"}, []string{"ar", "en"}},
		{[]string{"fr-CA", "ar"}, []string{"fr", "ar", "en"}},
		{[]string{"de", "uk"}, []string{"uk", "en"}},
		{[]string{"nonsense!!"}, []string{"en"}},
		{nil, []string{"en"}},
		{[]string{"ar", ""}, []string{"ar", "en"}},
		{[]string{"de", "it", "es", "pt", "fr"}, []string{"fr", "en"}}, // more than chainKey remembers
	}
	for range 2 { // the second time from the chain cache
		for _, tt := range tests {
			if got := ct.Chain(tt.wanted); !slices.Equal(got, tt.chain) {
				t.Errorf("chain(%v) = %v, want %v", tt.wanted, got, tt.chain)
			}
			if got, want := ct.chainKey(tt.wanted), wantedKey(tt.chain); got != want {
				t.Errorf("chainKey(%v) = %q, want %q", tt.wanted, got, want)
			}
		}
	}
	for i := range maxChains + 1 { // a full chain cache starts again
		ct.chainKey([]string{fmt.Sprintf("x-p%d", i), "ar"})
	}
	if n := len(ct.chains.m); n > maxChains {
		t.Errorf("%d chains kept, at most %d", n, maxChains)
	}
	v, err := ct.lesson("hello", []string{"fr", "ar"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Title.Value != "Bonjour" || v.Title.Lang != "fr" || v.Lang != "fr" || v.Dir != "ltr" {
		t.Errorf("title %+v, lesson lang %s %s", v.Title, v.Lang, v.Dir)
	}
	if b := v.Blocks[1]; b.Alt.Lang != "en" || b.Alt.Value != "Two people" {
		t.Errorf("alt fell back to %+v, want English", b.Alt)
	}
	if !slices.Equal(v.Languages, []string{"fr", "ar", "en"}) {
		t.Errorf("languages %v, want fr, ar (days), en", v.Languages)
	}
	if v.Next != "bye" || v.Previous != "" || v.ModuleID != "one" {
		t.Errorf("navigation %q %q %q", v.Previous, v.Next, v.ModuleID)
	}
	ar, _ := ct.lesson("hello", []string{"ar"})
	if ar.Dir != "rtl" || ar.Title.Dir != "rtl" || ar.Blocks[1].Alt.Dir != "ltr" {
		t.Errorf("directions: lesson %s, title %s, English alt %s", ar.Dir, ar.Title.Dir, ar.Blocks[1].Alt.Dir)
	}
}

func TestMarkdownIsSanitised(t *testing.T) {
	v, err := render(t, sample()).lesson("hello", []string{"en"})
	if err != nil {
		t.Fatal(err)
	}
	html := v.Blocks[0].HTML.Value
	if !strings.Contains(html, "<strong>Hi</strong>") || strings.Contains(html, "<script") {
		t.Errorf("html %q", html)
	}
	if !strings.Contains(html, `rel="nofollow noopener"`) && !strings.Contains(html, `rel="nofollow"`) {
		t.Errorf("link not marked nofollow: %q", html)
	}
}

// CLDR: Arabic has six plural categories, Ukrainian four (one, few, many
// for integers; other for fractions).
func TestPluralForms(t *testing.T) {
	ct := render(t, sample())
	tests := []struct {
		lang  string
		count any
		want  string
	}{
		{"ar", 0, "لا أيام"},
		{"ar", 1, "يوم واحد"},
		{"ar", 2, "يومان"},
		{"ar", 3, "3 أيام"},
		{"ar", 11, "11 يومًا"},
		{"ar", 100, "100 يوم"},
		{"uk", 1, "1 день"},
		{"uk", 21, "21 день"},
		{"uk", 3, "3 дні"},
		{"uk", 5, "5 днів"},
		{"uk", 11, "11 днів"},
		{"uk", "1.5", "1.5 дня"},
		{"en", 1, "1 day"},
		{"en", 2, "2 days"},
		{"fr", 2, "2 days"}, // no French text: the English, with English rules
	}
	for _, tt := range tests {
		got := ct.Plural([]string{tt.lang}, "hello.days", tt.count)
		if got.Value != tt.want {
			t.Errorf("%s %v: %q, want %q", tt.lang, tt.count, got.Value, tt.want)
		}
	}
}
