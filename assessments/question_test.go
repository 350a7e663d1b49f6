package assessments_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

const (
	picture = "0190f1e2-0000-7000-8000-0000000000a1"
	sound   = "0190f1e2-0000-7000-8000-0000000000a2"
)

// sampleQuestions holds a valid question of every type, by type.
func sampleQuestions() map[assessments.Type]assessments.Question {
	return map[assessments.Type]assessments.Question{
		assessments.TypeSingle: {
			ID: "capital", Prompt: "q.capital", Hint: "q.capital.hint", Feedback: "q.capital.fb", Image: picture,
			Type: assessments.TypeSingle,
			Options: []assessments.Option{
				{ID: "a", Text: "q.capital.a", Feedback: "q.capital.a.fb"},
				{ID: "b", Text: "q.capital.b", Correct: true, Feedback: "q.capital.b.fb"},
				{ID: "c", Image: picture, Audio: sound},
			},
		},
		assessments.TypeMultiple: {
			ID: "safe-password", Prompt: "q.pw", Type: assessments.TypeMultiple, Points: 3,
			Partial: assessments.PartialProportional,
			Options: []assessments.Option{
				{ID: "long", Text: "q.pw.long", Correct: true},
				{ID: "mixed", Text: "q.pw.mixed", Correct: true},
				{ID: "birthday", Text: "q.pw.birthday", Feedback: "q.pw.birthday.fb"},
				{ID: "unique", Text: "q.pw.unique", Correct: true, Feedback: "q.pw.unique.fb"},
			},
		},
		assessments.TypeTrueFalse: {
			ID: "fake-news", Prompt: "q.fake", Type: assessments.TypeTrueFalse,
			Options: []assessments.Option{
				{ID: "true", Correct: true},
				{ID: "false", Feedback: "q.fake.false.fb"},
			},
		},
		assessments.TypeShort: {
			ID: "greeting", Prompt: "q.greeting", Type: assessments.TypeShort,
			Accepted: map[string][]string{"ar": {"مرحبا"}, "en": {"hello", "hi"}, "fa": {"سلام"}, "*": {"salam"}},
		},
		assessments.TypeNumeric: {
			ID: "half-past", Prompt: "q.half", Type: assessments.TypeNumeric, Points: 2,
			Numeric: &assessments.Numeric{Value: 3.5},
		},
		assessments.TypeMatching: {
			ID: "signs", Prompt: "q.signs", Type: assessments.TypeMatching, Partial: assessments.PartialProportional,
			Options: []assessments.Option{{ID: "exit", Text: "q.signs.exit"}, {ID: "stop", Image: picture}, {ID: "help", Text: "q.signs.help"}},
			Matches: []assessments.Match{{ID: "x", Text: "q.signs.x"}, {ID: "y", Text: "q.signs.y"}, {ID: "z", Audio: sound}, {ID: "w", Text: "q.signs.w"}},
			Pairs:   map[string]string{"exit": "x", "stop": "y", "help": "z"},
		},
		assessments.TypeOrdering: {
			ID: "steps", Prompt: "q.steps", Type: assessments.TypeOrdering, Points: 4,
			Options: []assessments.Option{{ID: "one", Text: "q.steps.1"}, {ID: "two", Text: "q.steps.2"}, {ID: "three", Text: "q.steps.3"}, {ID: "four", Text: "q.steps.4"}},
		},
		assessments.TypeBlanks: {
			ID: "geo", Prompt: "q.geo", Type: assessments.TypeBlanks, Partial: assessments.PartialProportional, Points: 2,
			Blanks: []assessments.Blank{
				{ID: "city", Accepted: map[string][]string{"*": {"Kabul"}}},
				{ID: "river", Accepted: map[string][]string{"en": {"Amu Darya", "Oxus"}, "fa": {"آمودریا"}}},
			},
		},
		assessments.TypeLikert: {
			ID: "confidence", Prompt: "q.conf", Type: assessments.TypeLikert,
			Scale: &assessments.Likert{Min: 1, Max: 5, Labels: map[int]string{1: "scale.not-at-all", 5: "scale.very"}},
		},
		assessments.TypeFree: {ID: "reflect", Prompt: "q.reflect", Type: assessments.TypeFree, MaxLength: 100},
	}
}

// sample returns the sample question of type t, changed by each change.
func sample(t assessments.Type, change ...func(*assessments.Question)) assessments.Question {
	q := sampleQuestions()[t]
	for _, c := range change {
		c(&q)
	}
	return q
}

// fieldErrors returns the field errors of err, failing the test if err is
// not a validation error.
func fieldErrors(t *testing.T, err error) []pathways.FieldError {
	t.Helper()
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want a *pathways.ValidationError", err, err)
	}
	return ve.Fields
}

// hasFieldError reports whether fields hold one with this field and code.
func hasFieldError(fields []pathways.FieldError, field, code string) bool {
	return slices.ContainsFunc(fields, func(f pathways.FieldError) bool { return f.Field == field && f.Code == code })
}

func TestCheckQuestionAcceptsSamples(t *testing.T) {
	for typ, q := range sampleQuestions() {
		if err := assessments.CheckQuestion(q); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	if len(sampleQuestions()) != len(assessments.Types) {
		t.Errorf("%d sample questions for %d types", len(sampleQuestions()), len(assessments.Types))
	}
}

// TestCheckQuestionTakesPartialNone: "none", the documented default of
// partial, is what a type without partial credit does, so every type
// takes it (it was not_for_type on single, true/false, short, numeric,
// likert and free).
func TestCheckQuestionTakesPartialNone(t *testing.T) {
	for typ, q := range sampleQuestions() {
		q.Partial = assessments.PartialNone
		if err := assessments.CheckQuestion(q); err != nil {
			t.Errorf("%s with partial none: %v", typ, err)
		}
	}
}

func TestCheckQuestionRefuses(t *testing.T) {
	type Q = assessments.Question
	tests := []struct {
		name   string
		q      assessments.Question
		field  string
		code   string
		params map[string]any // checked if set
	}{
		{"no id", sample(assessments.TypeSingle, func(q *Q) { q.ID = "" }), "id", pathways.CodeRequired, nil},
		{"id upper case", sample(assessments.TypeSingle, func(q *Q) { q.ID = "Capital" }), "id", pathways.CodeKey, nil},
		{"id too long", sample(assessments.TypeSingle, func(q *Q) { q.ID = strings.Repeat("a", 65) }), "id", pathways.CodeTooLong, nil},
		{"no prompt", sample(assessments.TypeSingle, func(q *Q) { q.Prompt = "" }), "prompt", pathways.CodeRequired, nil},
		{"prompt not a message id", sample(assessments.TypeSingle, func(q *Q) { q.Prompt = "What is it?" }), "prompt", i18n.CodeMessageID, nil},
		{"hint not a message id", sample(assessments.TypeSingle, func(q *Q) { q.Hint = "-x" }), "hint", i18n.CodeMessageID, nil},
		{"image not an asset id", sample(assessments.TypeSingle, func(q *Q) { q.Image = "cat.png" }), "image", pathways.CodeID, nil},
		{"unknown type", sample(assessments.TypeSingle, func(q *Q) { q.Type = "essay" }), "type", pathways.CodeEnum, nil},
		{"no type", sample(assessments.TypeSingle, func(q *Q) { q.Type = "" }), "type", pathways.CodeRequired, nil},
		{"negative points", sample(assessments.TypeSingle, func(q *Q) { q.Points = -1 }), "points", pathways.CodeRange, map[string]any{"Min": 0, "Max": assessments.PointsMax}},
		{"NaN points", sample(assessments.TypeSingle, func(q *Q) { q.Points = math.NaN() }), "points", pathways.CodeRange, nil},
		{"infinite points", sample(assessments.TypeSingle, func(q *Q) { q.Points = math.Inf(1) }), "points", pathways.CodeRange, nil},

		// What each type needs and forbids.
		{"single without options", sample(assessments.TypeSingle, func(q *Q) { q.Options = nil }), "options", pathways.CodeRequired, nil},
		{"single with accepted answers", sample(assessments.TypeSingle, func(q *Q) { q.Accepted = map[string][]string{"*": {"x"}} }), "accepted", assessments.CodeNotForType, map[string]any{"Value": "single"}},
		{"single with partial credit", sample(assessments.TypeSingle, func(q *Q) { q.Partial = assessments.PartialProportional }), "partial", assessments.CodeNotForType, nil},
		{"numeric with options", sample(assessments.TypeNumeric, func(q *Q) { q.Options = sample(assessments.TypeSingle).Options }), "options", assessments.CodeNotForType, nil},
		{"numeric without value", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric = nil }), "numeric", pathways.CodeRequired, nil},
		{"likert with points", sample(assessments.TypeLikert, func(q *Q) { q.Points = 2 }), "points", assessments.CodeNotForType, nil},
		{"free with case sensitivity", sample(assessments.TypeFree, func(q *Q) { q.CaseSensitive = true }), "caseSensitive", assessments.CodeNotForType, nil},
		{"short with a scale", sample(assessments.TypeShort, func(q *Q) { q.Scale = &assessments.Likert{Min: 1, Max: 5} }), "scale", assessments.CodeNotForType, nil},
		{"unknown partial rule", sample(assessments.TypeMultiple, func(q *Q) { q.Partial = "half" }), "partial", pathways.CodeEnum, nil},

		// Options.
		{"one option", sample(assessments.TypeSingle, func(q *Q) { q.Options = q.Options[1:2] }), "options", assessments.CodeTooFew, map[string]any{"Count": 2}},
		{"too many options", sample(assessments.TypeOrdering, func(q *Q) {
			for i := range assessments.OptionsMax {
				q.Options = append(q.Options, assessments.Option{ID: "more-" + string(rune('a'+i)), Text: "x"})
			}
		}), "options", pathways.CodeTooMany, map[string]any{"Count": assessments.OptionsMax}},
		{"duplicate option id", sample(assessments.TypeSingle, func(q *Q) { q.Options[2].ID = "a" }), "options/2/id", pathways.CodeDuplicate, nil},
		{"option id malformed", sample(assessments.TypeSingle, func(q *Q) { q.Options[0].ID = "a b" }), "options/0/id", pathways.CodeKey, nil},
		{"option without id", sample(assessments.TypeSingle, func(q *Q) { q.Options[0].ID = "" }), "options/0/id", pathways.CodeRequired, nil},
		{"option shows nothing", sample(assessments.TypeSingle, func(q *Q) { q.Options[2] = assessments.Option{ID: "c"} }), "options/2/text", pathways.CodeRequired, nil},
		{"option text not a message id", sample(assessments.TypeSingle, func(q *Q) { q.Options[0].Text = "Kabul" + " city" }), "options/0/text", i18n.CodeMessageID, nil},
		{"option audio not an asset id", sample(assessments.TypeSingle, func(q *Q) { q.Options[2].Audio = "1234" }), "options/2/audio", pathways.CodeID, nil},
		{"option feedback not a message id", sample(assessments.TypeSingle, func(q *Q) { q.Options[0].Feedback = "é" }), "options/0/feedback", i18n.CodeMessageID, nil},
		{"single with two correct", sample(assessments.TypeSingle, func(q *Q) { q.Options[0].Correct = true }), "options", assessments.CodeOneCorrect, nil},
		{"single with none correct", sample(assessments.TypeSingle, func(q *Q) { q.Options[1].Correct = false }), "options", assessments.CodeOneCorrect, nil},
		{"multiple with none correct", sample(assessments.TypeMultiple, func(q *Q) {
			for i := range q.Options {
				q.Options[i].Correct = false
			}
		}), "options", assessments.CodeNoCorrect, nil},
		{"true/false with three options", sample(assessments.TypeTrueFalse, func(q *Q) {
			q.Options = append(q.Options, assessments.Option{ID: "maybe"})
		}), "options", pathways.CodeTooMany, map[string]any{"Count": 2}},
		{"true/false with one option", sample(assessments.TypeTrueFalse, func(q *Q) { q.Options = q.Options[:1] }), "options", assessments.CodeTooFew, nil},
		{"true/false with other ids", sample(assessments.TypeTrueFalse, func(q *Q) { q.Options[1].ID = "no" }), "options/1/id", pathways.CodeEnum, nil},
		{"true/false both correct", sample(assessments.TypeTrueFalse, func(q *Q) { q.Options[1].Correct = true }), "options", assessments.CodeOneCorrect, nil},
		{"ordering option marked correct", sample(assessments.TypeOrdering, func(q *Q) { q.Options[0].Correct = true }), "options/0/correct", assessments.CodeNotForType, nil},
		{"ordering option with feedback", sample(assessments.TypeOrdering, func(q *Q) { q.Options[1].Feedback = "fb" }), "options/1/feedback", assessments.CodeNotForType, nil},

		// Matching.
		{"matching without matches", sample(assessments.TypeMatching, func(q *Q) { q.Matches = nil }), "matches", pathways.CodeRequired, nil},
		{"matching without key", sample(assessments.TypeMatching, func(q *Q) { q.Pairs = nil }), "pairs", pathways.CodeRequired, nil},
		{"option left unpaired", sample(assessments.TypeMatching, func(q *Q) { delete(q.Pairs, "help") }), "pairs/help", pathways.CodeRequired, nil},
		{"pair of an unknown option", sample(assessments.TypeMatching, func(q *Q) { q.Pairs["fire"] = "w" }), "pairs/fire", assessments.CodeUnknownOption, map[string]any{"Value": "fire"}},
		{"pair to an unknown match", sample(assessments.TypeMatching, func(q *Q) { q.Pairs["help"] = "v" }), "pairs/help", assessments.CodeUnknownMatch, map[string]any{"Value": "v"}},
		{"pair to no match", sample(assessments.TypeMatching, func(q *Q) { q.Pairs["help"] = "" }), "pairs/help", pathways.CodeRequired, nil},
		{"two options, one match", sample(assessments.TypeMatching, func(q *Q) { q.Pairs["stop"] = "x" }), "pairs/stop", pathways.CodeDuplicate, nil},
		{"duplicate match id", sample(assessments.TypeMatching, func(q *Q) { q.Matches[3].ID = "x" }), "matches/3/id", pathways.CodeDuplicate, nil},
		{"match shows nothing", sample(assessments.TypeMatching, func(q *Q) { q.Matches[3] = assessments.Match{ID: "w"} }), "matches/3/text", pathways.CodeRequired, nil},
		{"match image not an asset id", sample(assessments.TypeMatching, func(q *Q) { q.Matches[0].Image = "x.png" }), "matches/0/image", pathways.CodeID, nil},

		// Short answers and blanks.
		{"short without answers", sample(assessments.TypeShort, func(q *Q) { q.Accepted = nil }), "accepted", pathways.CodeRequired, nil},
		{"short with an empty list", sample(assessments.TypeShort, func(q *Q) { q.Accepted = map[string][]string{"en": {}} }), "accepted", pathways.CodeRequired, nil},
		{"accepted answer blank", sample(assessments.TypeShort, func(q *Q) { q.Accepted["en"] = []string{"hello", "  \u0640 "} }), "accepted/en/1", pathways.CodeRequired, nil},
		{"accepted answer too long", sample(assessments.TypeShort, func(q *Q) {
			q.Accepted["en"] = []string{strings.Repeat("é", assessments.AnswerTextMax+1)}
		}), "accepted/en/0", pathways.CodeTooLong, map[string]any{"Count": assessments.AnswerTextMax}},
		{"accepted answer not UTF-8", sample(assessments.TypeShort, func(q *Q) { q.Accepted["en"] = []string{"\xff"} }), "accepted/en/0", pathways.CodeRequired, nil},
		{"accepted answers under a bad locale", sample(assessments.TypeShort, func(q *Q) { q.Accepted["english"] = []string{"hello"} }), "accepted/english", i18n.CodeLocale, nil},
		{"accepted answers under a locale not canonical", sample(assessments.TypeShort, func(q *Q) { q.Accepted["fa_af"] = []string{"سلام"} }), "accepted/fa_af", i18n.CodeLocale, nil},
		{"too many accepted answers", sample(assessments.TypeShort, func(q *Q) {
			q.Accepted["en"] = slices.Repeat([]string{"hello"}, assessments.AcceptedMax+1)
		}), "accepted/en", pathways.CodeTooMany, nil},
		{"blanks without blanks", sample(assessments.TypeBlanks, func(q *Q) { q.Blanks = nil }), "blanks", pathways.CodeRequired, nil},
		{"blank without answers", sample(assessments.TypeBlanks, func(q *Q) { q.Blanks[1].Accepted = nil }), "blanks/1/accepted", pathways.CodeRequired, nil},
		{"blank id malformed", sample(assessments.TypeBlanks, func(q *Q) { q.Blanks[0].ID = "[[city]]" }), "blanks/0/id", pathways.CodeKey, nil},
		{"duplicate blank id", sample(assessments.TypeBlanks, func(q *Q) { q.Blanks[1].ID = "city" }), "blanks/1/id", pathways.CodeDuplicate, nil},
		{"blank answers under a bad locale", sample(assessments.TypeBlanks, func(q *Q) { q.Blanks[0].Accepted["a/b"] = []string{"x"} }), "blanks/0/accepted/a~1b", i18n.CodeLocale, nil},

		// Numeric.
		{"negative tolerance", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Tolerance = -0.1 }), "numeric/tolerance", assessments.CodeNegative, nil},
		{"NaN tolerance", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Tolerance = math.NaN() }), "numeric/tolerance", pathways.CodeInvalid, nil},
		{"infinite value", sample(assessments.TypeNumeric, func(q *Q) { q.Numeric.Value = math.Inf(-1) }), "numeric/value", pathways.CodeInvalid, nil},

		// Likert.
		{"likert without a scale", sample(assessments.TypeLikert, func(q *Q) { q.Scale = nil }), "scale", pathways.CodeRequired, nil},
		{"likert min = max", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Max = 1 }), "scale/max", pathways.CodeRange, map[string]any{"Min": 2, "Max": 11}},
		{"likert upside down", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Min, q.Scale.Max = 5, 1; q.Scale.Labels = nil }), "scale/max", pathways.CodeRange, nil},
		{"likert of 12 points", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Min, q.Scale.Max = 0, 11 }), "scale/max", pathways.CodeRange, map[string]any{"Min": 1, "Max": 10}},
		{"likert far out", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Min, q.Scale.Max = math.MinInt, math.MaxInt }), "scale/min", pathways.CodeRange, nil},
		{"likert label off the scale", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Labels[6] = "scale.more" }), "scale/labels/6", pathways.CodeRange, nil},
		{"likert label empty", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Labels[3] = "" }), "scale/labels/3", pathways.CodeRequired, nil},
		{"likert label not a message id", sample(assessments.TypeLikert, func(q *Q) { q.Scale.Labels[3] = "so so" }), "scale/labels/3", i18n.CodeMessageID, nil},

		// Free text.
		{"free text too long a limit", sample(assessments.TypeFree, func(q *Q) { q.MaxLength = assessments.FreeTextMax + 1 }), "maxLength", pathways.CodeRange, nil},
		{"free text negative limit", sample(assessments.TypeFree, func(q *Q) { q.MaxLength = -1 }), "maxLength", pathways.CodeRange, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := fieldErrors(t, assessments.CheckQuestion(tt.q))
			i := slices.IndexFunc(fields, func(f pathways.FieldError) bool { return f.Field == tt.field && f.Code == tt.code })
			if i < 0 {
				t.Fatalf("want %s: %s among %v", tt.field, tt.code, fields)
			}
			for k, want := range tt.params {
				if got := fields[i].Params[k]; got != want {
					t.Errorf("param %s = %v, want %v", k, got, want)
				}
			}
		})
	}
}

// TestCheckQuestionListsEveryProblem: one call reports the problems of
// every part of a question, not the first only.
func TestCheckQuestionListsEveryProblem(t *testing.T) {
	q := sample(assessments.TypeMatching, func(q *assessments.Question) {
		q.ID = "Signs"
		q.Prompt = ""
		q.Options[1].ID = "exit"
		q.Matches[2].Text = "not an id"
		q.Pairs["help"] = "nowhere"
	})
	fields := fieldErrors(t, assessments.CheckQuestion(q))
	for _, want := range []struct{ field, code string }{
		{"id", pathways.CodeKey},
		{"prompt", pathways.CodeRequired},
		{"options/1/id", pathways.CodeDuplicate},
		{"matches/2/text", i18n.CodeMessageID},
		{"pairs/help", assessments.CodeUnknownMatch},
	} {
		if !hasFieldError(fields, want.field, want.code) {
			t.Errorf("missing %s: %s in %v", want.field, want.code, fields)
		}
	}
}

// TestMessageIDsAsInCourses: a question's texts follow courses' rule for
// message IDs, since the two share texts and tools.
func TestMessageIDsAsInCourses(t *testing.T) {
	valid := []string{"q.x", "Q_1-a", "9", "a" + strings.Repeat("b", i18n.MessageIDMax-1)}
	invalid := []string{"a" + strings.Repeat("b", i18n.MessageIDMax), ".x", "-x", "a b", "é", "a/b", "a:b", "a\n"}
	for i, id := range slices.Concat(valid, invalid) {
		c := courses.Course{Title: id}
		courseOK := !hasFieldError(fieldErrorsOf(courses.CheckStructure(c)), "title", i18n.CodeMessageID) &&
			!hasFieldError(fieldErrorsOf(courses.CheckStructure(c)), "title", pathways.CodeTooLong)
		q := sample(assessments.TypeFree, func(q *assessments.Question) { q.Prompt = id })
		questionOK := assessments.CheckQuestion(q) == nil
		if courseOK != questionOK || questionOK != (i < len(valid)) {
			t.Errorf("%q: valid in a course %v, in a question %v", id, courseOK, questionOK)
		}
	}
}

func fieldErrorsOf(err error) []pathways.FieldError {
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return nil
}

func TestFieldCodesDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range assessments.FieldCodes {
		if c == "" || seen[c] {
			t.Errorf("code %q empty or listed twice", c)
		}
		seen[c] = true
	}
}

func TestScoredAndMaxPoints(t *testing.T) {
	for typ, q := range sampleQuestions() {
		survey := typ == assessments.TypeLikert || typ == assessments.TypeFree
		if typ.Scored() == survey {
			t.Errorf("%s: Scored() = %v", typ, typ.Scored())
		}
		want := q.Points
		switch {
		case survey:
			want = 0
		case want == 0:
			want = 1
		}
		if got := q.MaxPoints(); got != want {
			t.Errorf("%s: MaxPoints() = %v, want %v", typ, got, want)
		}
	}
	if assessments.Type("essay").Scored() {
		t.Error("an unknown type is scored")
	}
}

// TestChecksCountBeforeItems: a list or map over its limit is one
// problem and its items are not looked at, in questions, banks and quizzes
// (issue 11, item 7: a bank of 340,000 empty questions got a problem per
// question).
func TestChecksCountBeforeItems(t *testing.T) {
	const many = 10_000
	keys := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprint("k", i)] = ""
		}
		return m
	}
	questions := []struct {
		name string
		q    assessments.Question
		want string
	}{
		{"options", sample(assessments.TypeSingle, func(q *assessments.Question) { q.Options = make([]assessments.Option, many) }), "options:too_many"},
		{"true/false options", sample(assessments.TypeTrueFalse, func(q *assessments.Question) { q.Options = make([]assessments.Option, many) }), "options:too_many"},
		{"matches", sample(assessments.TypeMatching, func(q *assessments.Question) { q.Matches = make([]assessments.Match, many) }), "matches:too_many"},
		{"pairs", sample(assessments.TypeMatching, func(q *assessments.Question) { q.Pairs = keys(many) }), "pairs:too_many"},
		{"blanks", sample(assessments.TypeBlanks, func(q *assessments.Question) { q.Blanks = make([]assessments.Blank, many) }), "blanks:too_many"},
		{"accepted locales", sample(assessments.TypeShort, func(q *assessments.Question) {
			q.Accepted = map[string][]string{}
			for k := range keys(many) {
				q.Accepted[k] = nil
			}
		}), "accepted:too_many"},
		{"accepted answers", sample(assessments.TypeShort, func(q *assessments.Question) {
			q.Accepted = map[string][]string{"*": make([]string, many)}
		}), "accepted/*:too_many"},
		{"scale labels", sample(assessments.TypeLikert, func(q *assessments.Question) {
			q.Scale.Labels = map[int]string{}
			for i := range many {
				q.Scale.Labels[i] = ""
			}
		}), "scale/labels:too_many"},
	}
	for _, tt := range questions {
		t.Run(tt.name, func(t *testing.T) {
			if got := codesOf(assessments.CheckQuestion(tt.q)); !slices.Equal(got, []string{tt.want}) {
				t.Fatalf("problems %v, want only %s", got, tt.want)
			}
		})
	}

	bank := assessments.Bank{Name: "b", DefaultLocale: "en", Questions: make([]assessments.BankQuestion, many)}
	if got := codesOf(assessments.CheckBank(bank)); !slices.Equal(got, []string{"questions:too_many"}) {
		t.Errorf("bank: problems %v, want only questions:too_many", got)
	}
	bank = assessments.Bank{Name: "b", DefaultLocale: "en", Locales: slices.Repeat([]string{"en"}, many)}
	if got := codesOf(assessments.CheckBank(bank)); !slices.Equal(got, []string{"locales:too_many"}) {
		t.Errorf("bank: problems %v, want only locales:too_many", got)
	}
	quiz := assessments.Quiz{
		Kind: assessments.KindQuiz, Feedback: assessments.FeedbackAfterSubmit, Grade: assessments.GradeHighest,
		DefaultLocale: "en", Title: "t", Messages: i18n.Messages{"en": {"t": {Other: "T"}}},
		Picks: make([]assessments.Pick, many),
	}
	if got := codesOf(assessments.CheckQuiz(quiz)); !slices.Equal(got, []string{"picks:too_many"}) {
		t.Errorf("quiz: problems %v, want only picks:too_many", got)
	}
	quiz.Picks = []assessments.Pick{{Bank: "0190f1e2-0000-7000-8000-000000000001", Questions: make([]string, many), Tags: make([]string, many)}}
	if got := codesOf(assessments.CheckQuiz(quiz)); !slices.Contains(got, "picks/0/questions:too_many") || !slices.Contains(got, "picks/0/tags:too_many") {
		t.Errorf("quiz: problems %v, want picks/0/questions and picks/0/tags too_many", got)
	}
}

// TestCheckBankStopsWhenFull: a bank of questions with problems each
// lists MaxFieldErrors, counts the rest and stops.
func TestCheckBankStopsWhenFull(t *testing.T) {
	bank := assessments.Bank{Name: "b", DefaultLocale: "en", Questions: make([]assessments.BankQuestion, assessments.MaxQuestions)}
	var ve *pathways.ValidationError
	if !errors.As(assessments.CheckBank(bank), &ve) || len(ve.Fields) != pathways.MaxFieldErrors || ve.Omitted == 0 || ve.Omitted > 10 {
		t.Fatalf("%v: want %d listed and a few counted before it stopped", ve, pathways.MaxFieldErrors)
	}
}

func codesOf(err error) []string {
	var out []string
	for _, f := range fieldErrorsOf(err) {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}
