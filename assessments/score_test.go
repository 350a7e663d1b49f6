package assessments_test

import (
	"math"
	"slices"
	"testing"

	"github.com/pathways-lms/pathways/assessments"
)

func TestScore(t *testing.T) {
	type Q = assessments.Question
	type A = assessments.Answer
	none := func(q *Q) { q.Partial = "" }
	proportional := func(q *Q) { q.Partial = assessments.PartialProportional }
	cafe := func(q *Q) { q.Accepted = map[string][]string{"*": {"Café"}} }
	tests := []struct {
		name     string
		q        assessments.Question
		a        assessments.Answer
		locale   string
		points   float64
		correct  bool
		answered bool
		feedback []string // checked if set
	}{
		// single
		{"single, right", sample(assessments.TypeSingle), A{Option: "b"}, "en", 1, true, true, []string{"q.capital.b.fb", "q.capital.fb"}},
		{"single, wrong", sample(assessments.TypeSingle), A{Option: "a"}, "en", 0, false, true, []string{"q.capital.a.fb", "q.capital.fb"}},
		{"single, wrong without feedback", sample(assessments.TypeSingle), A{Option: "c"}, "en", 0, false, true, []string{"q.capital.fb"}},
		{"single, unanswered", sample(assessments.TypeSingle), A{}, "en", 0, false, false, []string{"q.capital.fb"}},
		{"single, unknown option", sample(assessments.TypeSingle), A{Option: "z"}, "en", 0, false, true, []string{"q.capital.fb"}},
		{"single, 5 points", sample(assessments.TypeSingle, func(q *Q) { q.Points = 5 }), A{Option: "b"}, "en", 5, true, true, nil},
		{"single ignores partial", sample(assessments.TypeSingle, proportional), A{Option: "a"}, "en", 0, false, true, nil},

		// true/false
		{"true/false, right", sample(assessments.TypeTrueFalse), A{Option: "true"}, "en", 1, true, true, []string{}},
		{"true/false, wrong", sample(assessments.TypeTrueFalse), A{Option: "false"}, "en", 0, false, true, []string{"q.fake.false.fb"}},
		{"true/false, unanswered", sample(assessments.TypeTrueFalse), A{}, "en", 0, false, false, []string{}},

		// multiple: 3 points, 3 correct of 4 (long, mixed, unique; birthday wrong)
		{"multiple, all right", sample(assessments.TypeMultiple), A{Options: []string{"unique", "mixed", "long"}}, "en", 3, true, true,
			[]string{"q.pw.unique.fb"}},
		{"multiple, two of three", sample(assessments.TypeMultiple), A{Options: []string{"long", "mixed"}}, "en", 2, false, true, nil},
		{"multiple, two right one wrong", sample(assessments.TypeMultiple), A{Options: []string{"long", "mixed", "birthday"}}, "en", 1, false, true,
			[]string{"q.pw.birthday.fb"}},
		{"multiple, everything", sample(assessments.TypeMultiple), A{Options: []string{"long", "mixed", "birthday", "unique"}}, "en", 2, false, true,
			[]string{"q.pw.birthday.fb", "q.pw.unique.fb"}},
		{"multiple, one right one wrong", sample(assessments.TypeMultiple), A{Options: []string{"birthday", "long"}}, "en", 0, false, true, nil},
		{"multiple, only wrong", sample(assessments.TypeMultiple), A{Options: []string{"birthday"}}, "en", 0, false, true, nil},
		{"multiple, unknown counts as wrong", sample(assessments.TypeMultiple), A{Options: []string{"long", "mixed", "unique", "other"}}, "en", 2, false, true, nil},
		{"multiple, repeated counts once", sample(assessments.TypeMultiple), A{Options: []string{"long", "long", "long"}}, "en", 1, false, true, nil},
		{"multiple, unanswered", sample(assessments.TypeMultiple), A{}, "en", 0, false, false, []string{}},
		{"multiple, all or nothing", sample(assessments.TypeMultiple, none), A{Options: []string{"long", "mixed"}}, "en", 0, false, true, nil},
		{"multiple, all or nothing, right", sample(assessments.TypeMultiple, none), A{Options: []string{"long", "mixed", "unique"}}, "en", 3, true, true, nil},

		// ordering: 4 points, all or nothing by default
		{"ordering, right", sample(assessments.TypeOrdering), A{Order: []string{"one", "two", "three", "four"}}, "en", 4, true, true, nil},
		{"ordering, two swapped", sample(assessments.TypeOrdering), A{Order: []string{"one", "two", "four", "three"}}, "en", 0, false, true, nil},
		{"ordering, proportional", sample(assessments.TypeOrdering, proportional), A{Order: []string{"one", "two", "four", "three"}}, "en", 2, false, true, nil},
		{"ordering, proportional, reversed", sample(assessments.TypeOrdering, proportional), A{Order: []string{"four", "three", "two", "one"}}, "en", 0, false, true, nil},
		{"ordering, proportional, short", sample(assessments.TypeOrdering, proportional), A{Order: []string{"one"}}, "en", 1, false, true, nil},
		{"ordering, unanswered", sample(assessments.TypeOrdering), A{}, "en", 0, false, false, nil},

		// matching: 1 point, proportional, 3 options
		{"matching, right", sample(assessments.TypeMatching), A{Pairs: map[string]string{"exit": "x", "stop": "y", "help": "z"}}, "en", 1, true, true, nil},
		{"matching, two of three", sample(assessments.TypeMatching), A{Pairs: map[string]string{"exit": "x", "stop": "y", "help": "w"}}, "en", 2.0 / 3, false, true, nil},
		{"matching, one of three, rest unpaired", sample(assessments.TypeMatching), A{Pairs: map[string]string{"help": "z"}}, "en", 1.0 / 3, false, true, nil},
		{"matching, all or nothing", sample(assessments.TypeMatching, none), A{Pairs: map[string]string{"exit": "x", "stop": "y"}}, "en", 0, false, true, nil},
		{"matching, unanswered", sample(assessments.TypeMatching), A{Pairs: map[string]string{"exit": ""}}, "en", 0, false, false, nil},

		// short answers
		{"short, right", sample(assessments.TypeShort), A{Text: "hello"}, "en", 1, true, true, nil},
		{"short, case and spaces", sample(assessments.TypeShort), A{Text: "  HeLLo\t"}, "en", 1, true, true, nil},
		{"short, second answer", sample(assessments.TypeShort), A{Text: "Hi"}, "en", 1, true, true, nil},
		{"short, wrong", sample(assessments.TypeShort), A{Text: "bye"}, "en", 0, false, true, nil},
		{"short, another locale's answer", sample(assessments.TypeShort), A{Text: "hello"}, "fr", 0, false, true, nil},
		{"short, any locale's answer", sample(assessments.TypeShort), A{Text: "Salam"}, "fr", 1, true, true, nil},
		{"short, parent locale", sample(assessments.TypeShort), A{Text: "سلام"}, "fa-AF", 1, true, true, nil},
		{"short, locale not canonical", sample(assessments.TypeShort), A{Text: "سلام"}, "fa-af", 1, true, true, nil},
		{"short, no locale", sample(assessments.TypeShort), A{Text: "salam"}, "", 1, true, true, nil},
		{"short, unanswered", sample(assessments.TypeShort), A{Text: "   "}, "en", 0, false, false, nil},
		{"short, Café as cafe", sample(assessments.TypeShort, cafe), A{Text: "cafe"}, "fr", 1, true, true, nil},
		{"short, Café as CAFÉ", sample(assessments.TypeShort, cafe), A{Text: "CAFÉ"}, "fr", 1, true, true, nil},
		{"short, Café decomposed", sample(assessments.TypeShort, cafe), A{Text: "Cafe\u0301"}, "fr", 1, true, true, nil},
		{"short, Café, diacritics count", sample(assessments.TypeShort, cafe, func(q *Q) { q.DiacriticSensitive = true }), A{Text: "cafe"}, "fr", 0, false, true, nil},
		{"short, Café, diacritics count, right", sample(assessments.TypeShort, cafe, func(q *Q) { q.DiacriticSensitive = true }), A{Text: "café"}, "fr", 1, true, true, nil},
		{"short, Café, diacritics count, decomposed", sample(assessments.TypeShort, cafe, func(q *Q) { q.DiacriticSensitive = true }), A{Text: "cafe\u0301"}, "fr", 1, true, true, nil},
		{"short, Café, case counts", sample(assessments.TypeShort, cafe, func(q *Q) { q.CaseSensitive = true }), A{Text: "cafe"}, "fr", 0, false, true, nil},
		{"short, Café, case counts, right", sample(assessments.TypeShort, cafe, func(q *Q) { q.CaseSensitive = true }), A{Text: "Cafe"}, "fr", 1, true, true, nil},
		{"short, full-width letters", sample(assessments.TypeShort, cafe), A{Text: "ＣＡＦＥ"}, "fr", 1, true, true, nil},
		{"short, German sharp s", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"de": {"Straße"}} }), A{Text: "STRASSE"}, "de", 1, true, true, nil},
		{"short, Ukrainian", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"uk": {"Привіт"}} }), A{Text: "привіт"}, "uk", 1, true, true, nil},
		{"short, Ukrainian й is not и", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"uk": {"мій"}}; q.DiacriticSensitive = true }), A{Text: "мии"}, "uk", 0, false, true, nil},
		{"short, Arabic harakat", sample(assessments.TypeShort), A{Text: "مَرْحَبًا"}, "ar", 1, true, true, nil},
		{"short, Arabic harakat in the key", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"ar": {"مَرْحَبًا"}} }), A{Text: "مرحبا"}, "ar", 1, true, true, nil},
		{"short, Arabic tatweel", sample(assessments.TypeShort), A{Text: "مرحـــبا"}, "ar", 1, true, true, nil},
		{"short, Arabic in direction marks", sample(assessments.TypeShort), A{Text: "\u200fمرحبا\u200f"}, "ar", 1, true, true, nil},
		{"short, Dari typed on an Arabic keyboard", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"fa": {"کتاب یک"}} }), A{Text: "كتاب يك"}, "fa", 1, true, true, nil},
		{"short, Persian zero-width non-joiner", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"fa": {"می\u200cروم"}} }), A{Text: "میروم"}, "fa", 1, true, true, nil},
		{"short, Arabic presentation forms", sample(assessments.TypeShort), A{Text: "\ufee3\ufeae\ufea3\ufe91\ufe8e"}, "ar", 1, true, true, nil},
		{"short, Arabic hamza", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"ar": {"أحمد"}} }), A{Text: "احمد"}, "ar", 1, true, true, nil},
		{"short, Arabic harakat count", sample(assessments.TypeShort, func(q *Q) { q.DiacriticSensitive = true }), A{Text: "مَرْحَبًا"}, "ar", 0, false, true, nil},
		{"short, Arabic harakat count, tatweel still not", sample(assessments.TypeShort, func(q *Q) { q.DiacriticSensitive = true }), A{Text: "مرحـبا"}, "ar", 1, true, true, nil},
		{"short, Arabic wrong word", sample(assessments.TypeShort), A{Text: "مرحب"}, "ar", 0, false, true, nil},

		// numeric: 3.5, 2 points
		{"numeric, right", sample(assessments.TypeNumeric), A{Number: ptr(3.5)}, "en", 2, true, true, nil},
		{"numeric, wrong", sample(assessments.TypeNumeric), A{Number: ptr(3.6)}, "en", 0, false, true, nil},
		{"numeric, float rounding", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Value = 0.3 }), A{Number: ptr(0.1 + 0.2)}, "en", 2, true, true, nil},
		{"numeric, within tolerance", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Tolerance = 0.1 }), A{Number: ptr(3.6)}, "en", 2, true, true, nil},
		{"numeric, at tolerance below", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Tolerance = 0.1 }), A{Number: ptr(3.4)}, "en", 2, true, true, nil},
		{"numeric, beyond tolerance", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Tolerance = 0.1 }), A{Number: ptr(3.61)}, "en", 0, false, true, nil},
		{"numeric, large value", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Value = 1e12 }), A{Number: ptr(1e12 + 1e-4)}, "en", 2, true, true, nil},
		{"numeric, NaN", sample(assessments.TypeNumeric), A{Number: ptr(math.NaN())}, "en", 0, false, true, nil},
		{"numeric, unanswered", sample(assessments.TypeNumeric), A{}, "en", 0, false, false, nil},

		// blanks: 2 points, proportional
		{"blanks, right", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": "kabul", "river": "Amu  Darya"}}, "en", 2, true, true, nil},
		{"blanks, right in Persian", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": "Kabul", "river": "آمودریا"}}, "fa", 2, true, true, nil},
		{"blanks, English answer in Persian", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": "Kabul", "river": "Oxus"}}, "fa", 1, false, true, nil},
		{"blanks, one of two", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": "Herat", "river": "oxus"}}, "en", 1, false, true, nil},
		{"blanks, one left", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": "Kabul"}}, "en", 1, false, true, nil},
		{"blanks, all or nothing", sample(assessments.TypeBlanks, none), A{Blanks: map[string]string{"city": "Kabul"}}, "en", 0, false, true, nil},
		{"blanks, case counts", sample(assessments.TypeBlanks, func(q *Q) { q.CaseSensitive = true }), A{Blanks: map[string]string{"city": "kabul", "river": "Oxus"}}, "en", 1, false, true, nil},
		{"blanks, unanswered", sample(assessments.TypeBlanks), A{Blanks: map[string]string{"city": " "}}, "en", 0, false, false, nil},

		// surveys
		{"likert", sample(assessments.TypeLikert), A{Value: ptr(4)}, "en", 0, false, true, nil},
		{"likert, unanswered", sample(assessments.TypeLikert), A{}, "en", 0, false, false, nil},
		{"free", sample(assessments.TypeFree), A{Text: "I ask a friend."}, "en", 0, false, true, nil},
		{"free, blank", sample(assessments.TypeFree), A{Text: "\n "}, "en", 0, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := assessments.Score(tt.q, tt.a, tt.locale)
			if math.Abs(r.Points-tt.points) > 1e-9 || r.Correct != tt.correct || r.Answered != tt.answered {
				t.Errorf("Score = %+v, want %v points, correct %v, answered %v", r, tt.points, tt.correct, tt.answered)
			}
			if r.Max != tt.q.MaxPoints() {
				t.Errorf("Max = %v, want %v", r.Max, tt.q.MaxPoints())
			}
			if tt.feedback != nil && !slices.Equal(r.Feedback, tt.feedback) && (len(r.Feedback) > 0 || len(tt.feedback) > 0) {
				t.Errorf("Feedback = %q, want %q", r.Feedback, tt.feedback)
			}
		})
	}
}

// TestScoreDecoded: what learners type reaches the right score through
// DecodeAnswer: the brief's own examples.
func TestScoreDecoded(t *testing.T) {
	tests := []struct {
		q      assessments.Question
		raw    string
		locale string
		points float64
	}{
		{sample(assessments.TypeNumeric), `{"number":"۳٫۵"}`, "fa", 2},
		{sample(assessments.TypeNumeric), `{"number":"3,5"}`, "fr", 2},
		{sample(assessments.TypeNumeric), `{"number":"٣٫٦"}`, "ar", 0},
		{sample(assessments.TypeShort), `{"text":"مَرْحَبًا"}`, "ar", 1},
		{sample(assessments.TypeShort, func(q *assessments.Question) { q.Accepted = map[string][]string{"fr": {"Café"}} }), `{"text":"cafe"}`, "fr", 1},
		{sample(assessments.TypeMultiple), `{"options":["long","unique"]}`, "en", 2},
	}
	for _, tt := range tests {
		a, err := assessments.DecodeAnswer(tt.q, []byte(tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		if r := assessments.Score(tt.q, a, tt.locale); math.Abs(r.Points-tt.points) > 1e-9 {
			t.Errorf("%s in %s: %v points, want %v", tt.raw, tt.locale, r.Points, tt.points)
		}
	}
}

// TestScoreInvalidQuestions: a question CheckQuestion refuses still
// scores without a panic.
func TestScoreInvalidQuestions(t *testing.T) {
	answers := []assessments.Answer{
		{}, {Option: "a"}, {Options: []string{"a", "a"}}, {Order: []string{"a"}}, {Pairs: map[string]string{"a": "b"}},
		{Text: "x"}, {Number: ptr(1.0)}, {Blanks: map[string]string{"a": "x"}}, {Value: ptr(3)},
	}
	for _, typ := range assessments.Types {
		for _, q := range []assessments.Question{
			{Type: typ},
			{Type: typ, Points: math.NaN(), Partial: assessments.PartialProportional, Options: []assessments.Option{{}}, Blanks: []assessments.Blank{{}}},
		} {
			for _, a := range answers {
				r := assessments.Score(q, a, "en")
				if r.Points < 0 || r.Points > r.Max && !math.IsNaN(r.Max) {
					t.Errorf("%s: %+v scores %+v", typ, a, r)
				}
			}
		}
	}
}
