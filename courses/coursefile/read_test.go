package coursefile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/i18n"
)

const baseYAML = `format: 1
slug: talking-at-work
defaultLocale: en
locales: [en, fr]
topic: soft-skills
audiences: [young-refugees]
level: beginner
title: course.title
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
            alt: listening.active.picture.alt
  - id: speaking
    title: speaking.title
    requires: [listening]
    lessons:
      - id: asking
        title: speaking.asking.title
        minutes: 5
        blocks:
          - id: think
            kind: reflection
            text: speaking.asking.think
`

const baseEN = `{
  "course.title": "Talking at work",
  "listening.title": "Listening",
  "listening.active.title": "Active listening",
  "listening.active.intro": "When someone speaks to you, **look at them**.",
  "listening.active.picture.alt": "Two people talking",
  "speaking.title": "Speaking up",
  "speaking.asking.title": "Asking",
  "speaking.asking.think": "Whom do you ask for help?"
}
`

const baseFR = `{
  "course.title": "Communiquer au travail",
  "listening.title": {
    "description": "Module title",
    "other": "Écouter"
  }
}
`

// basePackage is a valid package as files.
func basePackage() fstest.MapFS {
	return fstest.MapFS{
		"course.yaml":          {Data: []byte(baseYAML)},
		"locales/en.json":      {Data: []byte(baseEN)},
		"locales/fr.json":      {Data: []byte(baseFR)},
		"media/two-people.png": {Data: []byte("\x89PNG\r\n\x1a\n")},
		"media/unused.png":     {Data: []byte("\x89PNG\r\n\x1a\n")},
	}
}

// edit returns a copy of files with file's text changed: each pair of
// strings replaces the first by the second (which must be found).
func edit(t *testing.T, files fstest.MapFS, file string, pairs ...string) {
	t.Helper()
	s := string(files[file].Data)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s does not contain %q", file, pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	files[file] = &fstest.MapFile{Data: []byte(s)}
}

// lineOf returns the line of the first occurrence of what in the file.
func lineOf(t *testing.T, files fstest.MapFS, file, what string) int {
	t.Helper()
	s := string(files[file].Data)
	i := strings.Index(s, what)
	if i < 0 {
		t.Fatalf("%s does not contain %q", file, what)
	}
	return strings.Count(s[:i], "\n") + 1
}

// want is an expected problem; line is found by text (at) unless given.
type want struct {
	file, at string
	line     int
	field    string
	code     string
}

func TestReadValid(t *testing.T) {
	files := basePackage()
	files[".git/config"] = &fstest.MapFile{Data: []byte("[core]")}
	files[".DS_Store"] = &fstest.MapFile{Data: []byte{0}}
	files["locales/.DS_Store"] = &fstest.MapFile{Data: []byte{0}}
	p, err := coursefile.Read(files)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(p.Media) != 1 || p.Media[0].Path != "media/two-people.png" || p.Media[0].Size != 8 {
		t.Errorf("media = %+v, want only media/two-people.png (unused media left out)", p.Media)
	}
	if got := p.Course.Messages["fr"]["listening.title"]; got != (i18n.Message{Description: "Module title", Other: "Écouter"}) {
		t.Errorf("fr listening.title = %+v", got)
	}
	if p.Course.Modules[1].Requires[0] != "listening" || p.Course.Modules[0].Lessons[0].Blocks[1].Media != "media/two-people.png" {
		t.Errorf("course = %+v", p.Course)
	}

	// The same folder zipped with its name: read from inside the folder.
	nested := fstest.MapFS{}
	for name, f := range basePackage() {
		nested["talking-at-work/"+name] = f
	}
	nested["__MACOSX/talking-at-work/._course.yaml"] = &fstest.MapFile{Data: []byte{0}}
	p2, err := coursefile.Read(nested)
	if err != nil {
		t.Fatalf("Read of a nested folder: %v", err)
	}
	if p2.Course.Slug != "talking-at-work" || len(p2.Media) != 1 || readAll(t, p2.Media[0]) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("nested package = %+v", p2)
	}
}

func TestReadErrors(t *testing.T) {
	const y, en, fr = "course.yaml", "locales/en.json", "locales/fr.json"
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, files fstest.MapFS)
		want   []want
	}{
		{"YAML syntax error", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "    title: listening.title\n", "    title: listening.title: oops\n")
		}, []want{{file: y, at: "listening.title: oops", code: coursefile.CodeSyntax}}},

		{"unknown key", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "    title: listening.title\n", "    title: listening.title\n    colour: blue\n")
		}, []want{{file: y, at: "colour: blue", field: "modules/0/colour", code: pathways.CodeUnknown}}},

		{"wrong type", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "minutes: 8", "minutes: eight", "audiences: [young-refugees]", "audiences: young-refugees",
				"level: beginner", "level: beginner\nshared: \"true\"", "requires: [listening]", "requires: [[listening]]",
				"- id: think", "- id: {think: 1}")
		}, []want{
			{file: y, at: "audiences: young", field: "audiences", code: pathways.CodeType},
			{file: y, at: "shared:", field: "shared", code: pathways.CodeType},
			{file: y, at: "minutes: eight", field: "modules/0/lessons/0/minutes", code: pathways.CodeType},
			{file: y, at: "requires: [[", field: "modules/1/requires/0", code: pathways.CodeType},
			{file: y, at: "- id: {think", field: "modules/1/lessons/0/blocks/0/id", code: pathways.CodeType},
		}},

		{"unknown block kind", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "kind: reflection", "kind: essay")
		}, []want{{file: y, at: "kind: essay", field: "modules/1/lessons/0/blocks/0/kind", code: pathways.CodeEnum}}},

		{"field not allowed for the kind", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "            text: listening.active.intro\n",
				"            text: listening.active.intro\n            transcript: listening.title\n")
		}, []want{{file: y, at: "transcript: listening.title", field: "modules/0/lessons/0/blocks/0/transcript", code: pathways.CodeNotAllowed}}},

		{"missing required field", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "            alt: listening.active.picture.alt\n", "")
			edit(t, f, en, `  "listening.active.picture.alt": "Two people talking",`+"\n", "")
		}, []want{{file: y, at: "- id: picture", field: "modules/0/lessons/0/blocks/1/alt", code: pathways.CodeRequired}}},

		{"prerequisite cycle", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "    title: listening.title\n", "    title: listening.title\n    requires: [speaking]\n")
		}, []want{{file: y, at: "requires: [speaking]", field: "modules/0/requires", code: courses.CodeCycle}}},

		{"unknown module in requires", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "requires: [listening]", "requires: [listening, writing]")
		}, []want{{file: y, at: "requires: [listening, writing]", field: "modules/1/requires/1", code: courses.CodeUnknownModule}}},

		{"duplicate lesson id", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "- id: asking", "- id: active-listening")
		}, []want{{file: y, at: "- id: active-listening\n        title: speaking", field: "modules/1/lessons/0/id", code: pathways.CodeDuplicate}}},

		{"media file missing", func(t *testing.T, f fstest.MapFS) {
			delete(f, "media/two-people.png")
		}, []want{{file: y, at: "media: media/two-people.png", field: "modules/0/lessons/0/blocks/1/media", code: coursefile.CodeMissingFile}}},

		{"media path outside media/", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "media: media/two-people.png",
				"media: ../x\n            mediaBy: {fr: /etc/passwd, ar: media/../course.yaml, uk: course.yaml}")
		}, []want{
			{file: y, at: "media: ../x", field: "modules/0/lessons/0/blocks/1/media", code: coursefile.CodePath},
			{file: y, at: "mediaBy:", field: "modules/0/lessons/0/blocks/1/mediaBy/ar", code: coursefile.CodePath},
			{file: y, at: "mediaBy:", field: "modules/0/lessons/0/blocks/1/mediaBy/fr", code: coursefile.CodePath},
			{file: y, at: "mediaBy:", field: "modules/0/lessons/0/blocks/1/mediaBy/uk", code: coursefile.CodePath},
		}},

		{"JSON syntax error", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, fr, `"Communiquer au travail",`, `"Communiquer au travail"`)
		}, []want{{file: fr, at: `  "listening.title"`, code: coursefile.CodeSyntax}}},

		{"JSON truncated", func(t *testing.T, f fstest.MapFS) {
			f[fr].Data = f[fr].Data[:len(f[fr].Data)-4]
		}, []want{{file: fr, at: `    "other"`, code: coursefile.CodeSyntax}}},

		{"message missing in the default locale", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, en, `  "speaking.asking.think": "Whom do you ask for help?"`, `  "other.id": "x"`)
		}, []want{
			{file: y, at: "text: speaking.asking.think", field: "modules/1/lessons/0/blocks/0/text", code: i18n.CodeMissingText},
			{file: en, at: `"other.id"`, field: "other.id", code: i18n.CodeUnusedMessage},
		}},

		{"unused message", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, fr, `  "listening.title": {`, `  "old.title": "Ancien",`+"\n"+`  "listening.title": {`)
		}, []want{{file: fr, at: `"old.title"`, field: "old.title", code: i18n.CodeUnusedMessage}}},

		{"message shape", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, fr, `    "description": "Module title",`, `    "description": 3, "colour": "blue", "one": ["x"],`,
				`"Communiquer au travail"`, `{"one": "Communiquer"}`)
		}, []want{
			{file: fr, at: `"course.title"`, field: "course.title/other", code: i18n.CodeNoPluralOther},
			{file: fr, at: `"description": 3`, field: "listening.title/description", code: pathways.CodeType},
			{file: fr, at: `"description": 3`, field: "listening.title/colour", code: pathways.CodeUnknown},
			{file: fr, at: `"description": 3`, field: "listening.title/one", code: pathways.CodeType},
		}},

		{"locale not offered", func(t *testing.T, f fstest.MapFS) {
			f["locales/de.json"] = &fstest.MapFile{Data: []byte(`{"course.title": "Reden bei der Arbeit"}`)}
		}, []want{{file: "locales/de.json", code: i18n.CodeNotOffered}}},

		{"invalid locale file names", func(t *testing.T, f fstest.MapFS) {
			f["locales/french.json"] = &fstest.MapFile{Data: []byte(`{}`)}
			f["locales/fa_af.json"] = &fstest.MapFile{Data: []byte(`{}`)}
			f["locales/en.yaml"] = &fstest.MapFile{Data: []byte(`{}`)}
			f["locales/old/en.json"] = &fstest.MapFile{Data: []byte(`{}`)}
		}, []want{
			{file: "locales/en.yaml", code: coursefile.CodeLocaleFile},
			{file: "locales/fa_af.json", code: coursefile.CodeLocaleFile},
			{file: "locales/french.json", code: coursefile.CodeLocaleFile},
			{file: "locales/old/", code: coursefile.CodeLocaleFile},
		}},

		{"default locale file missing", func(t *testing.T, f fstest.MapFS) {
			delete(f, en)
		}, []want{{file: en, code: coursefile.CodeMissingFile}}},

		{"stray files", func(t *testing.T, f fstest.MapFS) {
			f["README.md"] = &fstest.MapFile{Data: []byte("# Course")}
			f["drafts/old.yaml"] = &fstest.MapFile{Data: []byte("x")}
			f["drafts/older.yaml"] = &fstest.MapFile{Data: []byte("x")}
		}, []want{
			{file: "README.md", code: coursefile.CodeStrayFile},
			{file: "drafts/", code: coursefile.CodeStrayFile},
		}},

		{"no course.yaml", func(t *testing.T, f fstest.MapFS) {
			f["course.yml"] = f[y]
			delete(f, y)
		}, []want{
			{file: y, code: coursefile.CodeMissingFile},
			{file: "course.yml", code: coursefile.CodeStrayFile},
		}},

		{"unknown format", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "format: 1", "format: 3", "minutes: 8", "minutes: eight")
		}, []want{{file: y, at: "format: 3", field: "format", code: coursefile.CodeFormatVersion}}},

		{"duplicate key and alias", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "level: beginner", "level: beginner\nlevel: advanced", "title: listening.title", "title: &t listening.title",
				"title: speaking.title", "title: *t")
			edit(t, f, en, `  "speaking.title": "Speaking up",`+"\n", "")
		}, []want{
			{file: y, at: "level: advanced", field: "level", code: pathways.CodeDuplicateKey},
			{file: y, at: "title: *t", field: "modules/1/title", code: coursefile.CodeAlias},
		}},

		{"duplicate keys at every depth", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "        minutes: 8\n", "        minutes: 8\n        minutes: 9\n",
				"            kind: text\n", "            kind: text\n            kind: note\n",
				"            media: media/two-people.png\n", "            media: media/two-people.png\n            mediaBy: {fr: media/two-people.png, fr: media/unused.png}\n")
			edit(t, f, en, `  "speaking.title": "Speaking up",`, `  "speaking.title": "Speaking up",`+"\n"+`  "speaking.title": "Speak up",`)
			edit(t, f, fr, `    "other": "Écouter"`, `    "other": "Écouter",`+"\n"+`    "other": "Entendre"`)
		}, []want{
			{file: y, at: "minutes: 9", field: "modules/0/lessons/0/minutes", code: pathways.CodeDuplicateKey},
			{file: y, at: "kind: note", field: "modules/0/lessons/0/blocks/0/kind", code: pathways.CodeDuplicateKey},
			{file: y, at: "mediaBy:", field: "modules/0/lessons/0/blocks/1/mediaBy/fr", code: pathways.CodeDuplicateKey},
			{file: en, at: `"speaking.title": "Speak up"`, field: "speaking.title", code: pathways.CodeDuplicateKey},
			{file: fr, at: `"other": "Entendre"`, field: "listening.title/other", code: pathways.CodeDuplicateKey},
		}},

		{"lists longer than their limits", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "locales: [en, fr]", "locales: [en, fr"+strings.Repeat(", fr", courses.MaxLocales)+"]",
				"    requires: [listening]\n", "    requires: [listening]\n    lessons: ["+strings.Repeat("{}, ", courses.MaxLessons)+"{}]\n    colour: blue\n")
		}, []want{
			{file: y, at: "locales:", field: "locales", code: pathways.CodeTooMany},
			{file: y, at: "lessons: [{}", field: "modules/1/lessons", code: pathways.CodeTooMany},
			{file: y, at: "colour: blue", field: "modules/1/colour", code: pathways.CodeUnknown},
			{file: y, at: "    lessons:\n      - id: asking", field: "modules/1/lessons", code: pathways.CodeDuplicateKey},
		}},

		{"a locale file longer than its limit", func(t *testing.T, f fstest.MapFS) {
			var more strings.Builder
			for i := range i18n.MaxMessages {
				fmt.Fprintf(&more, "\n  \"extra.%d\": \"x\",", i)
			}
			edit(t, f, fr, `"Communiquer au travail",`, `"Communiquer au travail",`+more.String())
		}, []want{{file: fr, at: fmt.Sprintf(`"extra.%d"`, i18n.MaxMessages-1), code: pathways.CodeTooMany}}},

		{"not UTF-8", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, fr, "Écouter", "\xc9couter")
		}, []want{{file: fr, at: "couter", code: coursefile.CodeSyntax}}},

		{"several problems at once", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "    title: listening.title\n", "    title: listening.title\n    colour: blue\n",
				"minutes: 5", "minutes: 601", "kind: reflection", "kind: essay")
			edit(t, f, fr, `"Communiquer au travail",`, `"Communiquer au travail"`)
			delete(f, "media/two-people.png")
			f["notes.txt"] = &fstest.MapFile{Data: []byte("todo")}
		}, []want{
			{file: y, at: "colour: blue", field: "modules/0/colour", code: pathways.CodeUnknown},
			{file: y, at: "media: media/two-people.png", field: "modules/0/lessons/0/blocks/1/media", code: coursefile.CodeMissingFile},
			{file: y, at: "minutes: 601", field: "modules/1/lessons/0/minutes", code: pathways.CodeRange},
			{file: y, at: "kind: essay", field: "modules/1/lessons/0/blocks/0/kind", code: pathways.CodeEnum},
			{file: fr, at: `  "listening.title"`, code: coursefile.CodeSyntax},
			{file: "notes.txt", code: coursefile.CodeStrayFile},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := basePackage()
			tc.change(t, files)
			p, err := coursefile.Read(files)
			if p != nil {
				t.Errorf("Read returned a package along with %v", err)
			}
			var e *coursefile.Error
			if !errors.As(err, &e) {
				t.Fatalf("Read: %v, want *coursefile.Error", err)
			}
			var wantList []string
			for _, w := range tc.want {
				line := w.line
				if w.at != "" {
					line = lineOf(t, files, w.file, w.at)
				}
				wantList = append(wantList, fmt.Sprintf("%s:%d %s [%s]", w.file, line, w.field, w.code))
			}
			var got []string
			for _, p := range e.Problems {
				got = append(got, fmt.Sprintf("%s:%d %s [%s]", p.File, p.Line, p.Field, p.Code))
				if p.Message == "" || p.Message == p.Code {
					t.Errorf("problem %+v has no message", p)
				}
			}
			if !slices.Equal(got, wantList) {
				t.Errorf("problems:\n%s\nwant:\n%s\nerror:\n%v", strings.Join(got, "\n"), strings.Join(wantList, "\n"), err)
			}
		})
	}
}

// TestErrorText: Error() gives one "file:line field: message" line per
// problem.
func TestErrorText(t *testing.T) {
	files := basePackage()
	delete(files, "media/two-people.png")
	_, err := coursefile.Read(files)
	want := "course.yaml:22 modules/0/lessons/0/blocks/1/media: media/two-people.png: no such file in the package"
	if err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

// TestProblemsCapped: a package with very many problems lists the first
// MaxProblems, in file and line order, and counts the rest.
func TestProblemsCapped(t *testing.T) {
	files := basePackage()
	var b strings.Builder
	b.WriteString(baseYAML)
	for i := range 150 {
		fmt.Fprintf(&b, "extra%d: x\n", i)
	}
	files["course.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	files["stray.txt"] = &fstest.MapFile{Data: []byte("x")}
	_, err := coursefile.Read(files)
	var e *coursefile.Error
	if !errors.As(err, &e) {
		t.Fatalf("Read: %v", err)
	}
	if len(e.Problems) != coursefile.MaxProblems || e.Omitted != 51 {
		t.Fatalf("%d problems listed, %d omitted; want %d and 51", len(e.Problems), e.Omitted, coursefile.MaxProblems)
	}
	if p := e.Problems[0]; p.Field != "extra0" || p.Line != strings.Count(baseYAML, "\n")+1 {
		t.Errorf("first problem %+v", p)
	}
	if !strings.HasSuffix(err.Error(), "… and 51 more problems") {
		t.Errorf("error text ends %q", err.Error()[len(err.Error())-40:])
	}
}

// TestReadFolderSymlink: a symbolic link in a folder is refused, even one
// the structure does not name.
func TestReadFolderSymlink(t *testing.T) {
	dir := t.TempDir()
	for name, f := range basePackage() {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "media", "passwd")); err != nil {
		t.Fatal("create a symbolic link:", err)
	}
	_, err := coursefile.Read(os.DirFS(dir))
	var e *coursefile.Error
	if !errors.As(err, &e) || len(e.Problems) != 1 || e.Problems[0].File != "media/passwd" || e.Problems[0].Code != coursefile.CodePath {
		t.Errorf("Read: %v, want one path problem for media/passwd", err)
	}
}
