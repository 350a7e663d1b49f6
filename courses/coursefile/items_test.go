package coursefile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/i18n"
)

// quizPackage is richPackage with quizzes and banks: a posttest drawing
// from two banks whose questions show media, its pretest, an outline of
// a quiz the exporter may not edit, and a bank nothing picks from.
func quizPackage() *coursefile.Package {
	p := richPackage()
	p.Course.Modules[0].Lessons[0].Blocks = append(p.Course.Modules[0].Lessons[0].Blocks,
		courses.Block{ID: "final", Kind: courses.BlockQuiz, Quiz: "final-check"},
		courses.Block{ID: "shared", Kind: courses.BlockQuiz, Quiz: "0190f1e2-9d3a-7c4e-8f00-0000000000aa"},
	)
	qmsgs := func(prefix string) i18n.Messages {
		return i18n.Messages{
			"en": {prefix + ".title": {Other: "Check yourself"}, prefix + ".intro": {Description: "shown first", Other: "Five questions."}},
			"fr": {prefix + ".title": {Hash: i18n.Hash(i18n.Message{Other: "Check yourself"}), Other: "Vérifiez"}},
		}
	}
	basics := assessments.Bank{
		Name: "Basics", DefaultLocale: "en", Locales: []string{"en", "fr"},
		Questions: []assessments.BankQuestion{
			{Question: assessments.Question{ID: "greet", Prompt: "greet.prompt", Type: assessments.TypeSingle, Image: "media/two-people.png", Points: 2.5,
				Options: []assessments.Option{
					{ID: "a", Text: "greet.a", Correct: true, Feedback: "greet.a.fb", Audio: "media/active-listening.fr.ogg"},
					{ID: "b", Text: "greet.b"},
				}}, Tags: []string{"manners", "start"}, Difficulty: 2},
			{Question: assessments.Question{ID: "cafe", Prompt: "cafe.prompt", Type: assessments.TypeShort,
				Accepted: map[string][]string{"*": {"café"}, "fr": {"cafe", "Café"}}}, Tags: []string{"manners"}},
			{Question: assessments.Question{ID: "order", Prompt: "order.prompt", Type: assessments.TypeOrdering, Partial: assessments.PartialProportional,
				Options: []assessments.Option{{ID: "one", Text: "order.1"}, {ID: "two", Text: "order.2"}, {ID: "three", Text: "order.3"}}}},
			{Question: assessments.Question{ID: "scale", Prompt: "scale.prompt", Type: assessments.TypeLikert,
				Scale: &assessments.Likert{Min: -2, Max: 2, Labels: map[int]string{-2: "scale.no", 2: "scale.yes"}}}},
		},
		Messages: i18n.Messages{
			"en": {"greet.prompt": {Other: "How do you greet?"}, "greet.a": {Other: "Hello"}, "greet.a.fb": {Other: "Yes"},
				"greet.b": {Other: "Go away"}, "cafe.prompt": {Other: "Where do you drink coffee?"},
				"order.prompt": {Other: "Put in order"}, "order.1": {Other: "one"}, "order.2": {Other: "two"}, "order.3": {Other: "three"},
				"scale.prompt": {Other: "Agree?"}, "scale.no": {Other: "No"}, "scale.yes": {Other: "Yes"}},
			"fr": {"greet.prompt": {Hash: i18n.Hash(i18n.Message{Other: "How do you greet?"}), Other: "Comment saluer ?"}},
		},
	}
	numbers := assessments.Bank{
		Name: "Numbers", DefaultLocale: "en", Locales: []string{"en"},
		Questions: []assessments.BankQuestion{
			{Question: assessments.Question{ID: "sum", Prompt: "sum", Type: assessments.TypeNumeric, Numeric: &assessments.Numeric{Value: 4, Tolerance: 0.5}}},
			{Question: assessments.Question{ID: "tf", Prompt: "tf", Type: assessments.TypeTrueFalse,
				Options: []assessments.Option{{ID: "true", Correct: true}, {ID: "false"}}}},
		},
		Messages: i18n.Messages{"en": {"sum": {Other: "2 + 2?"}, "tf": {Other: "The sky is blue."}}},
	}
	due := time.Date(2026, 6, 30, 18, 0, 0, 0, time.UTC)
	p.Quizzes = []coursefile.Quiz{
		{Key: "0190f1e2-9d3a-7c4e-8f00-0000000000aa", Keys: false, Published: true, Quiz: assessments.Quiz{
			Kind: assessments.KindSurvey, Shared: true, DefaultLocale: "en", Locales: []string{"en", "fr"},
			Title: "s.title", Intro: "s.intro", Messages: qmsgs("s")}},
		{Key: "before", Keys: true, Published: true, Quiz: assessments.Quiz{
			Kind: assessments.KindPretest, DefaultLocale: "en", Locales: []string{"en", "fr"}, Title: "p.title", Messages: qmsgs("p"),
			Picks:    []assessments.Pick{{Bank: "numbers", Questions: []string{"sum", "tf"}}},
			Feedback: assessments.FeedbackNever, Grade: assessments.GradeFirst}},
		{Key: "final-check", Keys: true, Published: true, Quiz: assessments.Quiz{
			Kind: assessments.KindPosttest, DefaultLocale: "en", Locales: []string{"en", "fr"}, Title: "f.title", Intro: "f.intro",
			Messages: qmsgs("f"), Picks: []assessments.Pick{
				{Bank: "basics", Tags: []string{"manners"}, Difficulty: 0, Count: 2},
				{Bank: "basics", Questions: []string{"order"}},
				{Bank: "numbers", Questions: []string{"sum"}},
			},
			ShuffleQuestions: true, ShuffleOptions: true, PassMark: 0.75, AttemptLimit: 3, TimeLimitSeconds: 600,
			Feedback: assessments.FeedbackAfterDue, Due: due, Grade: assessments.GradeHighest, Pretest: "before"}},
	}
	p.Banks = []coursefile.Bank{{Key: "basics", Bank: basics}, {Key: "numbers", Bank: numbers}}
	return p
}

// roundTrip writes p as a zip and reads it back.
func roundTrip(t *testing.T, p *coursefile.Package) (*coursefile.Package, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := coursefile.WriteZip(&buf, p); err != nil {
		t.Fatal(err)
	}
	fsys, err := coursefile.OpenZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()), coursefile.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	got, err := coursefile.Read(fsys)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got, buf.Bytes()
}

// TestRoundTripQuizzes: quizzes and banks come back as they were written,
// answer keys, media paths and texts included; the package is format 2.
func TestRoundTripQuizzes(t *testing.T) {
	want := quizPackage()
	got, _ := roundTrip(t, want)
	samePackage(t, got, want)
	if !reflect.DeepEqual(got.Quizzes, want.Quizzes) {
		t.Errorf("quizzes differ:\n got %#v\nwant %#v", got.Quizzes, want.Quizzes)
	}
	if !reflect.DeepEqual(got.Banks, want.Banks) {
		t.Errorf("banks differ:\n got %#v\nwant %#v", got.Banks, want.Banks)
	}
	// Format 2 with quizzes; without, format 1, which older servers read.
	for p, format := range map[*coursefile.Package]string{quizPackage(): "format: 2\n", richPackage(): "format: 1\n"} {
		dir := t.TempDir()
		if err := coursefile.WriteDir(dir, p); err != nil {
			t.Fatal(err)
		}
		if yml := readTree(t, dir)["course.yaml"]; !strings.HasPrefix(yml, format) {
			t.Errorf("%d quizzes: course.yaml starts %q, want %q", len(p.Quizzes), yml[:10], format)
		}
	}
}

// TestQuizFilesLookRight: the files read as docs/COURSE-FORMAT.md shows
// them.
func TestQuizFilesLookRight(t *testing.T) {
	dir := t.TempDir()
	if err := coursefile.WriteDir(dir, quizPackage()); err != nil {
		t.Fatal(err)
	}
	files := readTree(t, dir)
	for name, want := range map[string]string{
		"quizzes/final-check/quiz.yaml": `published: true
kind: posttest
defaultLocale: en
locales: [en, fr]
title: f.title
intro: f.intro
picks:
  - bank: basics
    tags: [manners]
    count: 2
  - bank: basics
    questions: [order]
  - bank: numbers
    questions: [sum]
shuffleQuestions: true
shuffleOptions: true
passMark: 0.75
attemptLimit: 3
timeLimitSeconds: 600
feedback: after-due
due: "2026-06-30T18:00:00Z"
grade: highest
pretest: before
`,
		"quizzes/0190f1e2-9d3a-7c4e-8f00-0000000000aa/quiz.yaml": `keys: false
published: true
kind: survey
shared: true
defaultLocale: en
locales: [en, fr]
title: s.title
intro: s.intro
`,
	} {
		if files[name] != want {
			t.Errorf("%s =\n%s\nwant\n%s", name, files[name], want)
		}
	}
	bank := files["banks/basics/bank.yaml"]
	for _, line := range []string{
		"name: Basics\n",
		"questions:\n  - id: greet\n    prompt: greet.prompt\n    image: media/two-people.png\n    type: single\n    points: 2.5\n",
		"      - id: a\n        text: greet.a\n        audio: media/active-listening.fr.ogg\n        correct: true\n        feedback: greet.a.fb\n",
		"    accepted:\n      '*': [café]\n      fr: [cafe, Café]\n",
		"    tags: [manners, start]\n    difficulty: 2\n",
		"      labels:\n        \"-2\": scale.no\n",
	} {
		if !strings.Contains(bank, line) {
			t.Errorf("bank.yaml lacks %q:\n%s", line, bank)
		}
	}
	for _, name := range []string{"quizzes/final-check/locales/en.json", "quizzes/final-check/locales/fr.json", "banks/basics/locales/fr.json"} {
		if files[name] == "" {
			t.Errorf("no %s in %v", name, slices.Sorted(func(yield func(string) bool) {
				for k := range files {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
}

// quizFiles is basePackage as format 2 with one quiz block, its quiz and
// its bank, as files.
func quizFiles() fstest.MapFS {
	f := basePackage()
	f["course.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(strings.Replace(baseYAML, "format: 1", "format: 2", 1),
		"          - id: think\n", "          - id: check\n            kind: quiz\n            quiz: final\n          - id: think\n", 1))}
	f["quizzes/final/quiz.yaml"] = &fstest.MapFile{Data: []byte(`published: true
kind: quiz
defaultLocale: en
locales: [en]
title: q.title
picks:
  - bank: basics
    questions: [greet]
feedback: after-submit
grade: highest
`)}
	f["quizzes/final/locales/en.json"] = &fstest.MapFile{Data: []byte(`{"q.title": "Check"}`)}
	f["banks/basics/bank.yaml"] = &fstest.MapFile{Data: []byte(`name: Basics
defaultLocale: en
locales: [en]
questions:
  - id: greet
    type: single
    prompt: greet.prompt
    image: media/two-people.png
    options:
      - {id: a, text: greet.a, correct: true}
      - {id: b, text: greet.b}
`)}
	f["banks/basics/locales/en.json"] = &fstest.MapFile{Data: []byte(`{"greet.prompt": "Hello?", "greet.a": "Hi", "greet.b": "Bye"}`)}
	return f
}

func TestReadQuizzes(t *testing.T) {
	p, err := coursefile.Read(quizFiles())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(p.Quizzes) != 1 || p.Quizzes[0].Key != "final" || !p.Quizzes[0].Keys || !p.Quizzes[0].Published ||
		p.Quizzes[0].Quiz.Picks[0].Bank != "basics" {
		t.Errorf("quizzes = %+v", p.Quizzes)
	}
	if len(p.Banks) != 1 || p.Banks[0].Bank.Questions[0].Image != "media/two-people.png" || !p.Banks[0].Bank.Questions[0].Options[0].Correct {
		t.Errorf("banks = %+v", p.Banks)
	}

	// What the course does not reach is checked, not returned; a bank's
	// media are returned only with the bank.
	f := quizFiles()
	edit(t, f, "course.yaml", "            quiz: final\n", "            quiz: 0190f1e2-9d3a-7c4e-8f00-0000000000ff\n")
	edit(t, f, "course.yaml", "          - id: picture\n            kind: image\n            media: media/two-people.png\n            alt: listening.active.picture.alt\n", "")
	edit(t, f, "locales/en.json", `  "listening.active.picture.alt": "Two people talking",`+"\n", "")
	p, err = coursefile.Read(f)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(p.Quizzes) != 0 || len(p.Banks) != 0 || len(p.Media) != 0 {
		t.Errorf("unreached: quizzes %v, banks %v, media %v", p.Quizzes, p.Banks, p.Media)
	}
}

func TestReadQuizErrors(t *testing.T) {
	const y, q, b, ql = "course.yaml", "quizzes/final/quiz.yaml", "banks/basics/bank.yaml", "quizzes/final/locales/en.json"
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, f fstest.MapFS)
		want   []want
	}{
		{"format 1 holds no quizzes", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, y, "format: 2", "format: 1")
		}, []want{{file: "quizzes/", code: coursefile.CodeNeedsFormat}, {file: "banks/", code: coursefile.CodeNeedsFormat}}},

		{"question fields and types", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, b, "    type: single\n", "    type: single\n    colour: red\n    points: many\n",
				"      - {id: b, text: greet.b}", "      - {id: b, text: greet.b, correct: maybe}")
		}, []want{
			{file: b, at: "colour: red", field: "questions/0/colour", code: pathways.CodeUnknown},
			{file: b, at: "points: many", field: "questions/0/points", code: pathways.CodeType},
			{file: b, at: "correct: maybe", field: "questions/0/options/1/correct", code: pathways.CodeType},
		}},

		{"the domain's rules, at their lines", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, b, "correct: true}", "correct: false}", "image: media/two-people.png", "image: media/missing.png")
			edit(t, f, q, "kind: quiz", "kind: exam", "title: q.title", "title: q.title\npassMark: 2")
		}, []want{
			{file: q, at: "kind: exam", field: "kind", code: pathways.CodeEnum},
			{file: q, at: "passMark: 2", field: "passMark", code: pathways.CodeRange},
			{file: b, at: "image: media/missing.png", field: "questions/0/image", code: coursefile.CodeMissingFile},
			{file: b, at: "options:", field: "questions/0/options", code: assessments.CodeOneCorrect},
		}},

		{"picks that cannot draw", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, q, "    questions: [greet]\n", "    questions: [greet, nope]\n  - bank: elsewhere\n    count: 1\n  - bank: basics\n    tags: [none]\n    count: 1\n")
		}, []want{
			{file: q, at: "[greet, nope]", field: "picks/0/questions/1", code: assessments.CodeUnknownQuestion},
			{file: q, at: "bank: elsewhere", field: "picks/1/bank", code: coursefile.CodeMissingFile},
			{file: q, at: "tags: [none]", field: "picks/2/tags", code: assessments.CodeNoQuestions},
		}},

		{"texts of a quiz", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, ql, `{"q.title": "Check"}`, `{"q.title": "Check", "q.title": "Again"}`)
		}, []want{{file: ql, line: 1, field: "q.title", code: pathways.CodeDuplicateKey}}},

		{"an outline holds no picks", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, q, "published: true\n", "keys: false\npublished: true\n")
		}, []want{
			{file: q, at: "picks:", field: "picks", code: coursefile.CodeOutline},
			{file: q, at: "feedback:", field: "feedback", code: coursefile.CodeOutline},
			{file: q, at: "grade:", field: "grade", code: coursefile.CodeOutline},
		}},

		{"a pretest of the package must be a pretest", func(t *testing.T, f fstest.MapFS) {
			edit(t, f, q, "kind: quiz", "kind: posttest\npretest: other")
			f["quizzes/other/quiz.yaml"] = f[q]
			edit(t, f, "quizzes/other/quiz.yaml", "kind: posttest\npretest: other", "kind: quiz")
			f["quizzes/other/locales/en.json"] = f[ql]
		}, []want{{file: q, at: "pretest: other", field: "pretest", code: assessments.CodeUnknownPretest}}},

		{"files out of place", func(t *testing.T, f fstest.MapFS) {
			f["quizzes/notes.txt"] = &fstest.MapFile{Data: []byte("x")}
			f["quizzes/final/extra.yaml"] = &fstest.MapFile{Data: []byte("x")}
			f["quizzes/Big Quiz/quiz.yaml"] = &fstest.MapFile{Data: []byte("x")}
			f["banks/empty/locales/en.json"] = &fstest.MapFile{Data: []byte("{}")}
		}, []want{
			{file: "quizzes/Big Quiz/", code: pathways.CodeKey},
			{file: "quizzes/final/extra.yaml", code: coursefile.CodeStrayFile},
			{file: "quizzes/notes.txt", code: coursefile.CodeStrayFile},
			{file: "banks/empty/bank.yaml", code: coursefile.CodeMissingFile},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := quizFiles()
			tc.change(t, files)
			checkProblems(t, files, tc.want)
		})
	}
}

// checkProblems reads files and compares the problems with want.
func checkProblems(t *testing.T, files fstest.MapFS, wants []want) {
	t.Helper()
	p, err := coursefile.Read(files)
	if p != nil {
		t.Errorf("Read returned a package along with %v", err)
	}
	var e *coursefile.Error
	if !errors.As(err, &e) {
		t.Fatalf("Read: %v, want *coursefile.Error", err)
	}
	var wantList []string
	for _, w := range wants {
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
}

// TestQuizLimits: a package cannot make the server build more than the
// limits allow: folders, questions, text. Each is one clear problem.
func TestQuizLimits(t *testing.T) {
	t.Run("quizzes", func(t *testing.T) {
		f := quizFiles()
		for i := range coursefile.MaxQuizzes + 5 {
			f[fmt.Sprintf("quizzes/q%d/quiz.yaml", i)] = f["quizzes/final/quiz.yaml"]
			f[fmt.Sprintf("quizzes/q%d/locales/en.json", i)] = f["quizzes/final/locales/en.json"]
		}
		checkProblems(t, f, []want{{file: "quizzes/", code: pathways.CodeTooMany}})
	})
	t.Run("questions", func(t *testing.T) {
		f := quizFiles()
		var bank strings.Builder
		bank.WriteString("name: Many\ndefaultLocale: en\nlocales: [en]\nquestions:\n")
		for i := range assessments.MaxQuestions {
			fmt.Fprintf(&bank, "  - {id: q%d, type: free, prompt: p}\n", i)
		}
		for i := range coursefile.MaxQuestions/assessments.MaxQuestions + 1 {
			f[fmt.Sprintf("banks/many%d/bank.yaml", i)] = &fstest.MapFile{Data: []byte(bank.String())}
			f[fmt.Sprintf("banks/many%d/locales/en.json", i)] = &fstest.MapFile{Data: []byte(`{"p": "Say"}`)}
		}
		checkProblems(t, f, []want{{file: "banks/", code: pathways.CodeTooMany}})
	})
	t.Run("text", func(t *testing.T) {
		f := quizFiles()
		big := `{"q.title": "` + strings.Repeat("x", 15<<20) + `"}`
		for i := range coursefile.MaxItemText/(15<<20) + 1 {
			f[fmt.Sprintf("banks/b%d/bank.yaml", i)] = &fstest.MapFile{Data: []byte("name: B\ndefaultLocale: en\nlocales: [en]\nquestions: []\n")}
			f[fmt.Sprintf("banks/b%d/locales/en.json", i)] = &fstest.MapFile{Data: []byte(big)}
		}
		_, err := coursefile.Read(f)
		var e *coursefile.Error
		if !errors.As(err, &e) || !slices.ContainsFunc(e.Problems, func(p coursefile.Problem) bool { return p.Code == coursefile.CodeTextTooLarge }) {
			t.Fatalf("Read: %v, want a text_too_large problem", err)
		}
	})
}

// readTree reads every file under dir, by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
