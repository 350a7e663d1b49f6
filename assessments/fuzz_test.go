package assessments_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
)

// fuzzQuestions are the questions FuzzDecodeAnswer tries every input on:
// the samples of every type and variants of their settings.
func fuzzQuestions() []assessments.Question {
	type Q = assessments.Question
	qs := []Q{}
	for _, typ := range assessments.Types {
		qs = append(qs, sample(typ))
	}
	return append(qs,
		sample(assessments.TypeMultiple, func(q *Q) { q.Partial = "" }),
		sample(assessments.TypeOrdering, func(q *Q) { q.Partial = assessments.PartialProportional; q.Points = 0.1 }),
		sample(assessments.TypeMatching, func(q *Q) { q.Partial = assessments.PartialNone; q.Points = 7 }),
		sample(assessments.TypeShort, func(q *Q) { q.CaseSensitive, q.DiacriticSensitive = true, true }),
		sample(assessments.TypeBlanks, func(q *Q) { q.DiacriticSensitive = true }),
		sample(assessments.TypeNumeric, func(q *Q) { q.Numeric = &assessments.Numeric{Value: -1e6, Tolerance: 0.5} }),
		sample(assessments.TypeLikert, func(q *Q) { q.Scale = &assessments.Likert{Min: -3, Max: 3} }),
		sample(assessments.TypeFree, func(q *Q) { q.MaxLength = 0 }),
	)
}

// FuzzDecodeAnswer: whatever the bytes, DecodeAnswer does not panic and
// either refuses them with a bounded *pathways.ValidationError of known
// codes, or returns an answer that fits the question, whose JSON form
// decodes to itself, and that scores from 0 to Max without a panic.
func FuzzDecodeAnswer(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"option":"b"}`, `{"option":"true"}`, `{"option":""}`, `{"option":"z"}`, `{"option":1}`,
		`{"options":["long","mixed","unique"]}`, `{"options":["long","long"]}`, `{"options":[]}`,
		`{"order":["one","two","three","four"]}`, `{"order":["four","three","two","one"]}`, `{"order":["one","one","two","three"]}`,
		`{"pairs":{"exit":"x","stop":"y","help":"z"}}`, `{"pairs":{"exit":"x","stop":"x"}}`, `{"pairs":{"exit":""}}`,
		`{"text":"hello"}`, `{"text":"مَرْحَبًا"}`, `{"text":"Café"}`, `{"text":"\u0640\u200f"}`,
		`{"number":3.5}`, `{"number":"۳٫۵"}`, `{"number":"٣,٥"}`, `{"number":"-1e6"}`, `{"number":1e400}`, `{"number":"−.5"}`,
		`{"blanks":{"city":"Kabul","river":"آمودریا"}}`, `{"blanks":{"city":"","city":"x"}}`,
		`{"value":3}`, `{"value":-3}`, `{"value":2.0}`, `{"value":99999999999999999999}`,
		`{"option":"a","option":"b"}`, `{"a/b":1}`, `[]`, `null`, `{"text":"caf` + "\xe9" + `"}`, `{"option"`, "\ufeff{}",
		// Values alone, which the fuzz function also tries under the
		// question's key.
		`"b"`, `["one","two","three","four"]`, `{"exit":"x","help":"z"}`, `{"city":"kabul"}`, `"\u0645\u0631\u062d\u0628\u0627"`,
		`"۳٫۵"`, `-0.5`, `3`, `""`, `[""]`,
	} {
		f.Add([]byte(seed))
	}
	questions := fuzzQuestions()
	for _, q := range questions {
		if err := assessments.CheckQuestion(q); err != nil {
			f.Fatalf("question %s: %v", q.ID, err)
		}
	}
	known := map[string]bool{}
	for _, c := range slices.Concat(assessments.FieldCodes, pathways.FieldCodes, i18n.FieldCodes) {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, q := range questions {
			// The input as it is, and as the value of the question's own
			// key, which takes the fuzzer straight into the decoding of
			// values.
			checkDecode(t, q, raw, known)
			checkDecode(t, q, slices.Concat([]byte(`{"`+answerKeys[q.Type]+`":`), raw, []byte(`}`)), known)
		}
	})
}

// answerKeys is the key of an answer to each type.
var answerKeys = map[assessments.Type]string{
	assessments.TypeSingle: "option", assessments.TypeTrueFalse: "option", assessments.TypeMultiple: "options",
	assessments.TypeOrdering: "order", assessments.TypeMatching: "pairs", assessments.TypeShort: "text",
	assessments.TypeFree: "text", assessments.TypeNumeric: "number", assessments.TypeBlanks: "blanks",
	assessments.TypeLikert: "value",
}

// checkDecode decodes raw as an answer to q and checks what comes out:
// a bounded validation error of known codes, or an answer that fits q and
// scores from 0 to Max.
func checkDecode(t *testing.T, q assessments.Question, raw []byte, known map[string]bool) {
	t.Helper()
	a, err := assessments.DecodeAnswer(q, raw)
	if err != nil {
		var ve *pathways.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) == 0 || len(ve.Fields) > pathways.MaxFieldErrors {
			t.Fatalf("%s (%s): error %#v", q.ID, q.Type, err)
		}
		for _, fe := range ve.Fields {
			if !known[fe.Code] || len(fe.Field) > 3*assessments.KeyMax {
				t.Fatalf("%s (%s): field error %+v", q.ID, q.Type, fe)
			}
		}
		return
	}
	checkFits(t, q, a)
	// An answer's JSON form is the one DecodeAnswer reads.
	again, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("%s: marshal %+v: %v", q.ID, a, err)
	}
	if b, err := assessments.DecodeAnswer(q, again); err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("%s: %+v encodes as %s, which decodes to %+v, %v", q.ID, a, again, b, err)
	}
	r := assessments.Score(q, a, "fa-AF")
	switch {
	case r.Max != q.MaxPoints():
		t.Fatalf("%s: Max %v, want %v", q.ID, r.Max, q.MaxPoints())
	case !(r.Points >= 0 && r.Points <= r.Max):
		t.Fatalf("%s: %+v scores %v of %v", q.ID, a, r.Points, r.Max)
	case r.Correct && (r.Points != r.Max || !r.Answered):
		t.Fatalf("%s: %+v is correct with %+v", q.ID, a, r)
	case !r.Answered && r.Points != 0:
		t.Fatalf("%s: %+v is unanswered with %+v", q.ID, a, r)
	}
}

// checkFits fails the test if an accepted answer does not fit q: fields of
// other types set, unknown or repeated IDs, an ordering that is not a
// permutation, a value off the scale, text too long.
func checkFits(t *testing.T, q assessments.Question, a assessments.Answer) {
	t.Helper()
	var ids []string
	for _, o := range q.Options {
		ids = append(ids, o.ID)
	}
	var other assessments.Answer
	switch q.Type {
	case assessments.TypeSingle, assessments.TypeTrueFalse:
		if a.Option != "" && !slices.Contains(ids, a.Option) {
			t.Fatalf("%s: unknown option %q", q.ID, a.Option)
		}
		other = a
		other.Option = ""
	case assessments.TypeMultiple, assessments.TypeOrdering:
		list := a.Options
		if q.Type == assessments.TypeOrdering {
			list = a.Order
			if len(list) != 0 && len(list) != len(ids) {
				t.Fatalf("%s: order %q is not a permutation", q.ID, list)
			}
		}
		for i, id := range list {
			if !slices.Contains(ids, id) || slices.Index(list, id) != i {
				t.Fatalf("%s: options %q", q.ID, list)
			}
		}
		other = a
		other.Options, other.Order = nil, nil
	case assessments.TypeMatching:
		used := map[string]bool{}
		for o, m := range a.Pairs {
			if !slices.Contains(ids, o) || m == "" || used[m] || !slices.ContainsFunc(q.Matches, func(x assessments.Match) bool { return x.ID == m }) {
				t.Fatalf("%s: pairs %q", q.ID, a.Pairs)
			}
			used[m] = true
		}
		other = a
		other.Pairs = nil
	case assessments.TypeShort, assessments.TypeFree:
		limit := assessments.AnswerTextMax
		if q.Type == assessments.TypeFree {
			limit = q.MaxLength
			if limit == 0 {
				limit = assessments.FreeTextDefault
			}
		}
		if !utf8.ValidString(a.Text) || utf8.RuneCountInString(a.Text) > limit {
			t.Fatalf("%s: text of %d characters", q.ID, utf8.RuneCountInString(a.Text))
		}
		other = a
		other.Text = ""
	case assessments.TypeNumeric:
		if a.Number != nil && (math.IsNaN(*a.Number) || math.IsInf(*a.Number, 0)) {
			t.Fatalf("%s: number %v", q.ID, *a.Number)
		}
		other = a
		other.Number = nil
	case assessments.TypeBlanks:
		for id, s := range a.Blanks {
			if !slices.ContainsFunc(q.Blanks, func(b assessments.Blank) bool { return b.ID == id }) || s == "" || utf8.RuneCountInString(s) > assessments.AnswerTextMax {
				t.Fatalf("%s: blanks %q", q.ID, a.Blanks)
			}
		}
		other = a
		other.Blanks = nil
	case assessments.TypeLikert:
		if a.Value != nil && (*a.Value < q.Scale.Min || *a.Value > q.Scale.Max) {
			t.Fatalf("%s: value %d off the scale", q.ID, *a.Value)
		}
		other = a
		other.Value = nil
	}
	if other.Option != "" || other.Options != nil || other.Order != nil || other.Pairs != nil || other.Text != "" ||
		other.Number != nil || other.Blanks != nil || other.Value != nil {
		t.Fatalf("%s (%s): fields of other types set: %+v", q.ID, q.Type, a)
	}
}
