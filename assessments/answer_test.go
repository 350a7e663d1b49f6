package assessments_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
)

func ptr[T any](v T) *T { return &v }

func TestDecodeAnswerAccepts(t *testing.T) {
	tests := []struct {
		name string
		typ  assessments.Type
		raw  string
		want assessments.Answer
	}{
		{"single", assessments.TypeSingle, `{"option":"b"}`, assessments.Answer{Option: "b"}},
		{"single, spaced out", assessments.TypeSingle, " {\n\t\"option\" : \"a\" } \n", assessments.Answer{Option: "a"}},
		{"single, empty option", assessments.TypeSingle, `{"option":""}`, assessments.Answer{}},
		{"true/false", assessments.TypeTrueFalse, `{"option":"false"}`, assessments.Answer{Option: "false"}},
		{"multiple", assessments.TypeMultiple, `{"options":["unique","long"]}`, assessments.Answer{Options: []string{"unique", "long"}}},
		{"multiple, none", assessments.TypeMultiple, `{"options":[]}`, assessments.Answer{}},
		{"ordering", assessments.TypeOrdering, `{"order":["two","one","four","three"]}`, assessments.Answer{Order: []string{"two", "one", "four", "three"}}},
		{"ordering, not yet", assessments.TypeOrdering, `{"order":[]}`, assessments.Answer{}},
		{"matching", assessments.TypeMatching, `{"pairs":{"exit":"x","stop":"w"}}`, assessments.Answer{Pairs: map[string]string{"exit": "x", "stop": "w"}}},
		{"matching, one unpaired", assessments.TypeMatching, `{"pairs":{"exit":"x","stop":""}}`, assessments.Answer{Pairs: map[string]string{"exit": "x"}}},
		{"short", assessments.TypeShort, `{"text":"  Hello "}`, assessments.Answer{Text: "  Hello "}},
		{"short, escaped", assessments.TypeShort, `{"text":"\u0645\u0631\u062d\u0628\u0627"}`, assessments.Answer{Text: "مرحبا"}},
		{"short, at the limit", assessments.TypeShort, `{"text":"` + strings.Repeat("ب", assessments.AnswerTextMax) + `"}`,
			assessments.Answer{Text: strings.Repeat("ب", assessments.AnswerTextMax)}},
		{"free", assessments.TypeFree, `{"text":"I learnt to\nask for help."}`, assessments.Answer{Text: "I learnt to\nask for help."}},
		{"numeric", assessments.TypeNumeric, `{"number":3.5}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric, exponent", assessments.TypeNumeric, `{"number":35e-1}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric, negative", assessments.TypeNumeric, `{"number":-2}`, assessments.Answer{Number: ptr(-2.0)}},
		{"numeric text, dot", assessments.TypeNumeric, `{"number":"3.5"}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric text, comma", assessments.TypeNumeric, `{"number":" 3,5 "}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric text, Persian", assessments.TypeNumeric, `{"number":"۳٫۵"}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric text, Arabic-Indic", assessments.TypeNumeric, `{"number":"٣٫٥"}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric text, Arabic-Indic with a comma", assessments.TypeNumeric, `{"number":"٣,٥"}`, assessments.Answer{Number: ptr(3.5)}},
		{"numeric text, Persian integer", assessments.TypeNumeric, `{"number":"۱۲"}`, assessments.Answer{Number: ptr(12.0)}},
		{"numeric text, in direction marks", assessments.TypeNumeric, "{\"number\":\"\u200f-\u200e۲\u200f\"}", assessments.Answer{Number: ptr(-2.0)}},
		{"numeric text, minus sign", assessments.TypeNumeric, `{"number":"−0,5"}`, assessments.Answer{Number: ptr(-0.5)}},
		{"numeric text, plus and leading point", assessments.TypeNumeric, `{"number":"+.5"}`, assessments.Answer{Number: ptr(0.5)}},
		{"numeric text, empty", assessments.TypeNumeric, `{"number":"  "}`, assessments.Answer{}},
		{"blanks", assessments.TypeBlanks, `{"blanks":{"city":"kabul","river":"Oxus"}}`, assessments.Answer{Blanks: map[string]string{"city": "kabul", "river": "Oxus"}}},
		{"blanks, one left", assessments.TypeBlanks, `{"blanks":{"city":"","river":"Oxus"}}`, assessments.Answer{Blanks: map[string]string{"river": "Oxus"}}},
		{"likert", assessments.TypeLikert, `{"value":5}`, assessments.Answer{Value: ptr(5)}},
		{"likert, lowest", assessments.TypeLikert, `{"value":1}`, assessments.Answer{Value: ptr(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := assessments.DecodeAnswer(sample(tt.typ), []byte(tt.raw))
			if err != nil {
				t.Fatalf("DecodeAnswer(%s): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeAnswer(%s) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

// TestDecodeAnswerEmpty: {} is "not answered" for every type.
func TestDecodeAnswerEmpty(t *testing.T) {
	for typ, q := range sampleQuestions() {
		a, err := assessments.DecodeAnswer(q, []byte(`{}`))
		if err != nil || !reflect.DeepEqual(a, assessments.Answer{}) {
			t.Errorf("%s: {} gives %+v, %v", typ, a, err)
		}
		if r := assessments.Score(q, a, "en"); r.Answered || r.Points != 0 {
			t.Errorf("%s: {} scores %+v", typ, r)
		}
	}
}

func TestDecodeAnswerRefuses(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name   string
		typ    assessments.Type
		raw    string
		field  string
		code   string
		params map[string]any // checked if set
	}{
		// Any type.
		{"not UTF-8", assessments.TypeShort, "{\"text\":\"caf\xe9\"}", "$", assessments.CodeEncoding, nil},
		{"truncated", assessments.TypeSingle, `{"option":"a"`, "$", assessments.CodeMalformed, nil},
		{"empty body", assessments.TypeSingle, ``, "$", assessments.CodeMalformed, nil},
		{"two values", assessments.TypeSingle, `{"option":"a"}{}`, "$", assessments.CodeMalformed, nil},
		{"trailing garbage", assessments.TypeSingle, `{"option":"a"} x`, "$", assessments.CodeMalformed, nil},
		{"byte order mark", assessments.TypeSingle, "\ufeff{}", "$", assessments.CodeMalformed, nil},
		{"array", assessments.TypeMultiple, `["a"]`, "$", pathways.CodeType, map[string]any{"Expected": "object"}},
		{"null", assessments.TypeSingle, `null`, "$", pathways.CodeType, nil},
		{"string", assessments.TypeShort, `"hello"`, "$", pathways.CodeType, nil},
		{"unknown key", assessments.TypeSingle, `{"option":"a","confidence":3}`, "confidence", pathways.CodeUnknown, nil},
		{"key of another type", assessments.TypeSingle, `{"options":["a"]}`, "options", pathways.CodeUnknown, nil},
		{"key in other case", assessments.TypeSingle, `{"Option":"a"}`, "Option", pathways.CodeUnknown, nil},
		{"key with a slash", assessments.TypeSingle, `{"a/b~":1}`, "a~1b~0", pathways.CodeUnknown, nil},
		{"key twice", assessments.TypeSingle, `{"option":"a","option":"b"}`, "option", pathways.CodeDuplicateKey, nil},

		// single, truefalse
		{"single, unknown option", assessments.TypeSingle, `{"option":"z"}`, "option", assessments.CodeUnknownOption, map[string]any{"Value": "z"}},
		{"single, number", assessments.TypeSingle, `{"option":1}`, "option", pathways.CodeType, map[string]any{"Expected": "string"}},
		{"single, null", assessments.TypeSingle, `{"option":null}`, "option", pathways.CodeType, nil},
		{"single, list", assessments.TypeSingle, `{"option":["a"]}`, "option", pathways.CodeType, nil},
		{"true/false, boolean", assessments.TypeTrueFalse, `{"option":true}`, "option", pathways.CodeType, nil},
		{"true/false, other", assessments.TypeTrueFalse, `{"option":"yes"}`, "option", assessments.CodeUnknownOption, nil},

		// multiple
		{"multiple, a string", assessments.TypeMultiple, `{"options":"long"}`, "options", pathways.CodeType, map[string]any{"Expected": "array"}},
		{"multiple, unknown option", assessments.TypeMultiple, `{"options":["long","short"]}`, "options/1", assessments.CodeUnknownOption, map[string]any{"Value": "short"}},
		{"multiple, empty id", assessments.TypeMultiple, `{"options":[""]}`, "options/0", assessments.CodeUnknownOption, nil},
		{"multiple, duplicate", assessments.TypeMultiple, `{"options":["long","mixed","long"]}`, "options/2", pathways.CodeDuplicate, nil},
		{"multiple, a number inside", assessments.TypeMultiple, `{"options":["long",2]}`, "options/1", pathways.CodeType, map[string]any{"Expected": "string"}},
		{"multiple, more than the options", assessments.TypeMultiple, `{"options":["long","long","long","long","long"]}`, "options", pathways.CodeTooMany, map[string]any{"Count": 4}},

		// ordering
		{"ordering, too short", assessments.TypeOrdering, `{"order":["one","two","three"]}`, "order", assessments.CodeNotPermutation, nil},
		{"ordering, too long", assessments.TypeOrdering, `{"order":["one","two","three","four","one"]}`, "order", assessments.CodeNotPermutation, nil},
		{"ordering, repeated", assessments.TypeOrdering, `{"order":["one","two","two","four"]}`, "order/2", pathways.CodeDuplicate, nil},
		{"ordering, unknown", assessments.TypeOrdering, `{"order":["one","two","three","five"]}`, "order/3", assessments.CodeUnknownOption, nil},
		{"ordering, an object", assessments.TypeOrdering, `{"order":{"one":1}}`, "order", pathways.CodeType, nil},

		// matching
		{"matching, a list", assessments.TypeMatching, `{"pairs":[["exit","x"]]}`, "pairs", pathways.CodeType, map[string]any{"Expected": "object"}},
		{"matching, unknown option", assessments.TypeMatching, `{"pairs":{"fire":"x"}}`, "pairs/fire", assessments.CodeUnknownOption, nil},
		{"matching, unknown match", assessments.TypeMatching, `{"pairs":{"exit":"v"}}`, "pairs/exit", assessments.CodeUnknownMatch, map[string]any{"Value": "v"}},
		{"matching, a match used twice", assessments.TypeMatching, `{"pairs":{"exit":"x","stop":"x"}}`, "pairs/stop", pathways.CodeDuplicate, nil},
		{"matching, an option twice", assessments.TypeMatching, `{"pairs":{"exit":"x","exit":"y"}}`, "pairs/exit", pathways.CodeDuplicateKey, nil},
		{"matching, a number", assessments.TypeMatching, `{"pairs":{"exit":1}}`, "pairs/exit", pathways.CodeType, nil},
		{"matching, more pairs than options", assessments.TypeMatching, `{"pairs":{"a":"x","b":"x","c":"x","d":"x"}}`, "pairs", pathways.CodeTooMany, nil},

		// short, free
		{"short, a number", assessments.TypeShort, `{"text":42}`, "text", pathways.CodeType, nil},
		{"short, too long", assessments.TypeShort, `{"text":"` + strings.Repeat("é", assessments.AnswerTextMax+1) + `"}`, "text", pathways.CodeTooLong, map[string]any{"Count": assessments.AnswerTextMax}},
		{"free, longer than the question allows", assessments.TypeFree, `{"text":"` + long + `"}`, "text", pathways.CodeTooLong, map[string]any{"Count": 100}},

		// numeric
		{"numeric, boolean", assessments.TypeNumeric, `{"number":true}`, "number", pathways.CodeType, map[string]any{"Expected": "number"}},
		{"numeric, null", assessments.TypeNumeric, `{"number":null}`, "number", pathways.CodeType, nil},
		{"numeric, words", assessments.TypeNumeric, `{"number":"three"}`, "number", assessments.CodeNumber, nil},
		{"numeric, two separators", assessments.TypeNumeric, `{"number":"1,000.5"}`, "number", assessments.CodeNumber, nil},
		{"numeric, thousands", assessments.TypeNumeric, `{"number":"1 000"}`, "number", assessments.CodeNumber, nil},
		{"numeric, Arabic thousands separator", assessments.TypeNumeric, `{"number":"١٬٠٠٠"}`, "number", assessments.CodeNumber, nil},
		{"numeric, sign after", assessments.TypeNumeric, `{"number":"3-"}`, "number", assessments.CodeNumber, nil},
		{"numeric, only a sign", assessments.TypeNumeric, `{"number":"-"}`, "number", assessments.CodeNumber, nil},
		{"numeric, only a separator", assessments.TypeNumeric, `{"number":"٫"}`, "number", assessments.CodeNumber, nil},
		{"numeric, text exponent", assessments.TypeNumeric, `{"number":"1e3"}`, "number", assessments.CodeNumber, nil},
		{"numeric, infinity", assessments.TypeNumeric, `{"number":"Inf"}`, "number", assessments.CodeNumber, nil},
		{"numeric, NaN", assessments.TypeNumeric, `{"number":"NaN"}`, "number", assessments.CodeNumber, nil},
		{"numeric, too large", assessments.TypeNumeric, `{"number":1e400}`, "number", assessments.CodeNumber, nil},
		{"numeric, too many digits", assessments.TypeNumeric, `{"number":"` + strings.Repeat("9", assessments.NumberTextMax+1) + `"}`, "number", assessments.CodeNumber, nil},

		// blanks
		{"blanks, a string", assessments.TypeBlanks, `{"blanks":"Kabul"}`, "blanks", pathways.CodeType, nil},
		{"blanks, unknown blank", assessments.TypeBlanks, `{"blanks":{"mountain":"Hindu Kush"}}`, "blanks/mountain", assessments.CodeUnknownBlank, map[string]any{"Value": "mountain"}},
		{"blanks, a blank twice", assessments.TypeBlanks, `{"blanks":{"city":"Kabul","city":"Herat"}}`, "blanks/city", pathways.CodeDuplicateKey, nil},
		{"blanks, a number", assessments.TypeBlanks, `{"blanks":{"city":1}}`, "blanks/city", pathways.CodeType, nil},
		{"blanks, too long", assessments.TypeBlanks, `{"blanks":{"city":"` + strings.Repeat("k", assessments.AnswerTextMax+1) + `"}}`, "blanks/city", pathways.CodeTooLong, nil},
		{"blanks, more than the blanks", assessments.TypeBlanks, `{"blanks":{"a":"","b":"","c":""}}`, "blanks", pathways.CodeTooMany, nil},

		// likert
		{"likert, above", assessments.TypeLikert, `{"value":6}`, "value", pathways.CodeRange, map[string]any{"Min": 1, "Max": 5}},
		{"likert, below", assessments.TypeLikert, `{"value":0}`, "value", pathways.CodeRange, nil},
		{"likert, huge", assessments.TypeLikert, `{"value":100000000000000000000000}`, "value", pathways.CodeRange, nil},
		{"likert, fraction", assessments.TypeLikert, `{"value":2.5}`, "value", pathways.CodeType, map[string]any{"Expected": "integer"}},
		{"likert, exponent", assessments.TypeLikert, `{"value":1e0}`, "value", pathways.CodeType, nil},
		{"likert, text", assessments.TypeLikert, `{"value":"3"}`, "value", pathways.CodeType, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := assessments.DecodeAnswer(sample(tt.typ), []byte(tt.raw))
			if err == nil {
				t.Fatalf("DecodeAnswer(%s) = %+v, want an error", tt.raw, a)
			}
			fields := fieldErrors(t, err)
			i := -1
			for j, f := range fields {
				if f.Field == tt.field && f.Code == tt.code {
					i = j
				}
			}
			if i < 0 {
				t.Fatalf("DecodeAnswer(%s): want %s: %s among %v", tt.raw, tt.field, tt.code, fields)
			}
			for k, want := range tt.params {
				if got := fields[i].Params[k]; got != want {
					t.Errorf("param %s = %v, want %v", k, got, want)
				}
			}
			if !reflect.DeepEqual(a, assessments.Answer{}) {
				t.Errorf("refused, yet returned %+v", a)
			}
		})
	}
}

// TestDecodeAnswerBoundsProblems: however much a client sends, the error
// lists a bounded number of problems and echoes bounded values.
func TestDecodeAnswerBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + strings.Repeat("k", 1000) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString("}")
	_, err := assessments.DecodeAnswer(sample(assessments.TypeSingle), []byte(b.String()))
	fields := fieldErrors(t, err)
	var ve *pathways.ValidationError
	if len(fields) == 0 || len(fields) > pathways.MaxFieldErrors || !errors.As(err, &ve) || ve.Omitted == 0 {
		t.Fatalf("%d problems (%v): want at most %d listed and the rest counted", len(fields), ve, pathways.MaxFieldErrors)
	}
	for _, f := range fields {
		if len(f.Field) > 2*assessments.KeyMax {
			t.Errorf("field path of %d bytes", len(f.Field))
		}
	}
	_, err = assessments.DecodeAnswer(sample(assessments.TypeSingle), []byte(`{"option":"`+strings.Repeat("é", 5000)+`"}`))
	for _, f := range fieldErrors(t, err) {
		if v, _ := f.Params["Value"].(string); len(v) > 2*assessments.KeyMax {
			t.Errorf("echoed a value of %d bytes", len(v))
		}
	}
}

// TestDecodeAnswerUnknownType: a question of an unknown type is the
// caller's mistake, not the learner's.
func TestDecodeAnswerUnknownType(t *testing.T) {
	_, err := assessments.DecodeAnswer(assessments.Question{ID: "x", Type: "essay"}, []byte(`{}`))
	if err == nil || fieldErrorsOf(err) != nil {
		t.Errorf("error %v, want one that is not a validation error", err)
	}
}
