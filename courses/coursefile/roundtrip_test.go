package coursefile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/i18n"
)

// mediaFile is a media file of a package built in a test.
func mediaFile(path, content string) coursefile.File {
	return coursefile.File{
		Path: path,
		Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil },
	}
}

// richPackage uses every block kind and field, plural messages with all
// six forms, descriptions, hashes and characters JSON would escape.
func richPackage() *coursefile.Package {
	en := map[string]i18n.Message{
		"course.title":           {Description: "Name of the course in the catalogue", Other: "Talking at work"},
		"course.summary":         {Other: "Say what you need, & understand what others <mean>."},
		"listening.title":        {Other: "Listening"},
		"listening.active.title": {Other: "Active listening"},
		"listening.active.intro": {
			Description: "Markdown; {{.Count}} is a number of colleagues",
			One:         "When **one colleague** speaks to you, look at them.",
			Other:       "When {{.Count}} colleagues speak to you, look at them.",
		},
		"listening.active.picture.alt":          {Other: "Two people talking at a market stall"},
		"listening.active.picture.caption":      {Other: "At the market"},
		"listening.active.narration.transcript": {Other: "Listen first, then answer."},
		"listening.active.film.transcript":      {Other: "A film about listening.\nTwo lines."},
		"listening.active.checklist.title":      {Other: "Checklist"},
		"listening.active.checklist.url":        {Other: "https://example.org/checklist?lang=en&x=1"},
		"listening.active.think.prompt":         {Other: "When did someone really listen to you?"},
		"speaking.title":                        {Other: "Speaking up"},
		"speaking.summary":                      {Other: "Asking for help"},
		"speaking.asking.title":                 {Other: "Asking"},
		"stress.note.text":                      {Other: "The next film shows an argument."},
		"stress.note.help":                      {Other: "tel:+33123456789"},
	}
	fr := map[string]i18n.Message{
		"course.title":    {Hash: i18n.Hash(en["course.title"]), Other: "Communiquer au travail"},
		"listening.title": {Hash: i18n.Hash(en["listening.title"]), Other: "Écouter"},
		"listening.active.intro": {
			Hash:  i18n.Hash(en["listening.active.intro"]),
			One:   "Quand **un collègue** vous parle, regardez-le.",
			Other: "Quand {{.Count}} collègues vous parlent, regardez-les.",
		},
	}
	ar := map[string]i18n.Message{
		"listening.active.intro": {
			Hash:  i18n.Hash(en["listening.active.intro"]),
			Zero:  "لا أحد يتحدث إليك.",
			One:   "عندما يتحدث إليك زميل واحد، انظر إليه.",
			Two:   "عندما يتحدث إليك زميلان، انظر إليهما.",
			Few:   "عندما يتحدث إليك {{.Count}} زملاء، انظر إليهم.",
			Many:  "عندما يتحدث إليك {{.Count}} زميلًا، انظر إليهم.",
			Other: "عندما يتحدث إليك {{.Count}} زميل، انظر إليهم.",
		},
		"course.title": {Other: "التواصل في العمل"},
	}
	c := courses.Course{
		Slug:          "talking-at-work",
		Shared:        true,
		Topic:         courses.TopicSoftSkills,
		Audiences:     []courses.Audience{courses.AudienceYoungRefugees, courses.AudienceProfessionals},
		Level:         courses.LevelBeginner,
		DefaultLocale: "en",
		Locales:       []string{"en", "fr", "ar"},
		Title:         "course.title",
		Summary:       "course.summary",
		Modules: []courses.Module{
			{
				ID:    "listening",
				Title: "listening.title",
				Lessons: []courses.Lesson{{
					ID: "active-listening", Title: "listening.active.title", Minutes: 8,
					Blocks: []courses.Block{
						{ID: "intro", Kind: courses.BlockText, Text: "listening.active.intro"},
						{ID: "picture", Kind: courses.BlockImage, Media: "media/two-people.png",
							MediaBy: map[string]string{"ar": "media/two-people.ar.png"},
							Alt:     "listening.active.picture.alt", Text: "listening.active.picture.caption"},
						{ID: "narration", Kind: courses.BlockAudio, Media: "media/active-listening.en.ogg",
							MediaBy:    map[string]string{"fr": "media/active-listening.fr.ogg"},
							Transcript: "listening.active.narration.transcript"},
						{ID: "warning", Kind: courses.BlockNote, Text: "stress.note.text", HelpURL: "stress.note.help"},
						{ID: "film", Kind: courses.BlockVideo, Media: "media/film.mp4",
							MediaBy:    map[string]string{"fr": "media/films/Réunion 10:30 fr.mp4"},
							Subtitles:  map[string]string{"en": "media/film.en.vtt", "ar": "media/film.ar.vtt"},
							Transcript: "listening.active.film.transcript"},
						{ID: "checklist", Kind: courses.BlockResource, Text: "listening.active.checklist.title",
							Media: "media/checklist.pdf", URL: "listening.active.checklist.url"},
						{ID: "think", Kind: courses.BlockReflection, Text: "listening.active.think.prompt"},
						{ID: "check", Kind: courses.BlockQuiz, Quiz: "0b5e4f2c-8d1a-4c3e-9f00-123456789abc"},
					},
				}},
			},
			{
				ID:       "speaking",
				Title:    "speaking.title",
				Summary:  "speaking.summary",
				Requires: []string{"listening"},
				Lessons: []courses.Lesson{{
					ID: "asking", Title: "speaking.asking.title", Minutes: 600,
					Blocks: []courses.Block{
						{ID: "again", Kind: courses.BlockImage, Media: "media/two-people.png", Alt: "listening.active.picture.alt"},
						{ID: "link-only", Kind: courses.BlockResource, Text: "listening.active.checklist.title", URL: "listening.active.checklist.url"},
					},
				}},
			},
			{ID: "empty-for-now", Title: "speaking.title"},
		},
		Messages: i18n.Messages{"en": en, "fr": fr, "ar": ar},
	}
	return &coursefile.Package{
		Course: c,
		Media: []coursefile.File{
			mediaFile("media/active-listening.en.ogg", "OggS english narration"),
			mediaFile("media/active-listening.fr.ogg", "OggS narration française"),
			mediaFile("media/checklist.pdf", "%PDF-1.4 checklist"),
			mediaFile("media/film.ar.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nمرحبا\n"),
			mediaFile("media/film.en.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"),
			mediaFile("media/film.mp4", strings.Repeat("\x00\x00\x00\x18ftypmp42", 1000)),
			mediaFile("media/films/Réunion 10:30 fr.mp4", "\x00\x00\x00\x18ftypmp42 fr"),
			mediaFile("media/two-people.ar.png", "\x89PNG ar"),
			mediaFile("media/two-people.png", "\x89PNG\r\n\x1a\n"),
		},
	}
}

func readAll(t *testing.T, f coursefile.File) string {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatalf("open %s: %v", f.Path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", f.Path, err)
	}
	return string(b)
}

// samePackage compares the course deeply and the media by path, size and
// content.
func samePackage(t *testing.T, got, want *coursefile.Package) {
	t.Helper()
	if !reflect.DeepEqual(got.Course, want.Course) {
		t.Errorf("course differs:\n got %#v\nwant %#v", got.Course, want.Course)
	}
	if len(got.Media) != len(want.Media) {
		t.Fatalf("got %d media files, want %d: %v", len(got.Media), len(want.Media), got.Media)
	}
	for i := range want.Media {
		g, w := got.Media[i], want.Media[i]
		if g.Path != w.Path || g.Size != w.Size {
			t.Errorf("media %d = %s (%d bytes), want %s (%d bytes)", i, g.Path, g.Size, w.Path, w.Size)
			continue
		}
		if readAll(t, g) != readAll(t, w) {
			t.Errorf("%s: content differs", g.Path)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	want := richPackage()
	if err := courses.CheckStructure(want.Course); err != nil {
		t.Fatalf("test package is not valid: %v", err)
	}
	if err := courses.CheckMessages(want.Course, true); err != nil {
		t.Fatalf("test package is not valid: %v", err)
	}
	for _, tc := range []struct {
		name string
		open func(t *testing.T) fs.FS
	}{
		{"zip", func(t *testing.T) fs.FS {
			var buf bytes.Buffer
			if err := coursefile.WriteZip(&buf, want); err != nil {
				t.Fatal(err)
			}
			fsys, err := coursefile.OpenZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()), coursefile.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			return fsys
		}},
		{"dir", func(t *testing.T) fs.FS {
			dir := filepath.Join(t.TempDir(), "talking-at-work")
			if err := coursefile.WriteDir(dir, want); err != nil {
				t.Fatal(err)
			}
			return os.DirFS(dir)
		}},
		{"existing empty dir", func(t *testing.T) fs.FS {
			dir := t.TempDir()
			if err := coursefile.WriteDir(dir, want); err != nil {
				t.Fatal(err)
			}
			return os.DirFS(dir)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := coursefile.Read(tc.open(t))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			samePackage(t, got, want)
		})
	}
}

// TestWriteDeterministic: the same package gives the same bytes, and the
// files look as docs/COURSE-FORMAT.md shows them.
func TestWriteDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := coursefile.WriteZip(&a, richPackage()); err != nil {
		t.Fatal(err)
	}
	if err := coursefile.WriteZip(&b, richPackage()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of one package differ")
	}

	dir := t.TempDir()
	if err := coursefile.WriteDir(dir, richPackage()); err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile(filepath.Join(dir, "course.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantStart := `format: 1
slug: talking-at-work
defaultLocale: en
locales: [en, fr, ar]
topic: soft-skills
audiences: [young-refugees, ngo-professionals]
level: beginner
shared: true
title: course.title
summary: course.summary
modules:
  - id: listening
    title: listening.title
    lessons:
      - id: active-listening
        title: listening.active.title
        minutes: 8
        blocks:
          - id: intro
            kind: text
            text: listening.active.intro
          - id: picture
            kind: image
            media: media/two-people.png
            mediaBy: {ar: media/two-people.ar.png}
            alt: listening.active.picture.alt
            text: listening.active.picture.caption
          - id: narration
            kind: audio
            media: media/active-listening.en.ogg
            mediaBy: {fr: media/active-listening.fr.ogg}
            transcript: listening.active.narration.transcript
          - id: warning
            kind: note
            text: stress.note.text
            helpUrl: stress.note.help
          - id: film
            kind: video
            media: media/film.mp4
            mediaBy: {fr: 'media/films/Réunion 10:30 fr.mp4'}
            subtitles: {ar: media/film.ar.vtt, en: media/film.en.vtt}
            transcript: listening.active.film.transcript
          - id: checklist
            kind: resource
            text: listening.active.checklist.title
            media: media/checklist.pdf
            url: listening.active.checklist.url
`
	if !strings.HasPrefix(string(yml), wantStart) {
		t.Errorf("course.yaml starts\n%s\nwant\n%s", yml, wantStart)
	}
	if !strings.Contains(string(yml), "    requires: [listening]\n") || strings.Contains(string(yml), "requires: []") {
		t.Errorf("requires written wrongly:\n%s", yml)
	}

	fr, err := os.ReadFile(filepath.Join(dir, "locales", "fr.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantFr := `{
  "course.title": {
    "hash": "` + i18n.Hash(i18n.Message{Description: "Name of the course in the catalogue", Other: "Talking at work"}) + `",
    "other": "Communiquer au travail"
  },
  "listening.active.intro": {
    "hash": "` + i18n.Hash(richPackage().Course.Messages["en"]["listening.active.intro"]) + `",
    "one": "Quand **un collègue** vous parle, regardez-le.",
    "other": "Quand {{.Count}} collègues vous parlent, regardez-les."
  },
  "listening.title": {
    "hash": "sha1-` + i18n.Hash(i18n.Message{Other: "Listening"})[5:] + `",
    "other": "Écouter"
  }
}
`
	if string(fr) != wantFr {
		t.Errorf("locales/fr.json =\n%s\nwant\n%s", fr, wantFr)
	}
	en, err := os.ReadFile(filepath.Join(dir, "locales", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`  "course.summary": "Say what you need, & understand what others <mean>.",` + "\n",
		`  "listening.title": "Listening",` + "\n",
	} {
		if !strings.Contains(string(en), line) {
			t.Errorf("locales/en.json lacks %q:\n%s", line, en)
		}
	}
}

func TestWriteDirRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := coursefile.WriteDir(dir, richPackage())
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteDir into a non-empty folder: %v, want fs.ErrExist", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder now holds %d entries", len(entries))
	}
}

// TestWriteRefuses: a package that cannot be written safely is refused
// before anything is written.
func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *coursefile.Package)
		file   string
		code   string
	}{
		{"path out of media", func(p *coursefile.Package) { p.Media[0].Path = "../evil.ogg" }, "../evil.ogg", coursefile.CodePath},
		{"absolute path", func(p *coursefile.Package) { p.Media[0].Path = "/etc/cron.d/evil" }, "/etc/cron.d/evil", coursefile.CodePath},
		{"path not under media", func(p *coursefile.Package) { p.Media[0].Path = "course.yaml" }, "course.yaml", coursefile.CodePath},
		{"duplicate path", func(p *coursefile.Package) { p.Media[1].Path = p.Media[0].Path }, "media/active-listening.en.ogg", pathways.CodeDuplicate},
		{"no content", func(p *coursefile.Package) { p.Media[0].Open = nil }, "media/active-listening.en.ogg", coursefile.CodeMissingFile},
		{"bad locale", func(p *coursefile.Package) { p.Course.Messages["../x"] = nil }, "locales/../x.json", coursefile.CodeLocaleFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := richPackage()
			tc.change(p)
			var buf bytes.Buffer
			err := coursefile.WriteZip(&buf, p)
			checkOneProblem(t, err, tc.file, tc.code)
			if buf.Len() != 0 {
				t.Errorf("WriteZip wrote %d bytes", buf.Len())
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			checkOneProblem(t, coursefile.WriteDir(dir, p), tc.file, tc.code)
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("WriteDir left %v", entries)
			}
		})
	}
}

func checkOneProblem(t *testing.T, err error, file, code string) {
	t.Helper()
	var e *coursefile.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want *coursefile.Error", err)
	}
	if len(e.Problems) != 1 || e.Problems[0].File != file || e.Problems[0].Code != code {
		t.Errorf("problems %v, want one %s in %s", e.Problems, code, file)
	}
}

// TestWriteDirCleansUp: a media file that fails to open leaves nothing
// behind.
func TestWriteDirCleansUp(t *testing.T) {
	p := richPackage()
	p.Media[3].Open = func() (io.ReadCloser, error) { return nil, errors.New("blob store down") }
	parent := t.TempDir()
	err := coursefile.WriteDir(filepath.Join(parent, "out"), p)
	if err == nil || !strings.Contains(err.Error(), "blob store down") {
		t.Fatalf("WriteDir: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("WriteDir left %v", entries)
	}
	empty := t.TempDir()
	if err := coursefile.WriteDir(empty, p); err == nil {
		t.Fatal("WriteDir succeeded")
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("WriteDir left %v in a folder that existed", entries)
	}
}
