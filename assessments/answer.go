package assessments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
)

// Answer is a learner's answer to one question. Each type uses one field:
// Option (single, truefalse), Options (multiple), Order (ordering, option
// IDs from first to last), Pairs (matching: option ID → match ID), Text
// (short, free), Number (numeric), Blanks (blank ID → text) or Value
// (likert). The zero Answer is no answer.
type Answer struct {
	Option  string            `json:"option,omitempty"`
	Options []string          `json:"options,omitempty"`
	Order   []string          `json:"order,omitempty"`
	Pairs   map[string]string `json:"pairs,omitempty"`
	Text    string            `json:"text,omitempty"`
	Number  *float64          `json:"number,omitempty"`
	Blanks  map[string]string `json:"blanks,omitempty"`
	Value   *int              `json:"value,omitempty"`
}

// answerKeys names, per type, the one key of an answer's JSON object.
var answerKeys = map[Type]string{
	TypeSingle: "option", TypeTrueFalse: "option", TypeMultiple: "options",
	TypeOrdering: "order", TypeMatching: "pairs", TypeShort: "text", TypeFree: "text",
	TypeNumeric: "number", TypeBlanks: "blanks", TypeLikert: "value",
}

// Limits on decoding.
const (
	// NumberTextMax is the longest number a learner may type.
	NumberTextMax = 64
)

// DecodeAnswer decodes a learner's answer to q from JSON, strictly. The
// JSON is one object whose one key depends on q's type:
//
//	single, truefalse  {"option": "b"}
//	multiple           {"options": ["a", "c"]}
//	ordering           {"order": ["c", "a", "b"]}
//	matching           {"pairs": {"a": "x", "b": "y"}}
//	short, free        {"text": "..."}
//	numeric            {"number": 3.5} or {"number": "3,5"}
//	blanks             {"blanks": {"city": "Kabul"}}
//	likert             {"value": 4}
//
// A number may come as text, as learners type it on their own keyboards:
// a dot, a comma or the Arabic decimal separator "٫", Western, Arabic-Indic
// (٠-٩) or Persian (۰-۹) digits, an optional sign, no thousands separator.
// The empty object, an empty value ("", [] or {}) and a matching pair
// with an empty match ID mean "not answered" (in part).
//
// What is not such an answer is a *pathways.ValidationError, with field
// paths into the object ("options/1", "pairs/a") or "$" for the whole: not
// UTF-8 (CodeEncoding), not one well-formed JSON value (CodeMalformed), not
// an object or a value of the wrong type (pathways.CodeType), an unknown or repeated
// key (pathways.CodeUnknown, pathways.CodeDuplicateKey), an unknown option, match or blank ID
// (CodeUnknownOption, CodeUnknownMatch, CodeUnknownBlank), an ID chosen
// twice (pathways.CodeDuplicate), more choices than options (pathways.CodeTooMany), an
// ordering that is not a permutation of the options (CodeNotPermutation),
// text that is not a number (CodeNumber), a likert value off the scale
// (pathways.CodeRange), text longer than AnswerTextMax or, for free text, than the
// question's MaxLength (pathways.CodeTooLong). Like every validation error it lists at
// most pathways.MaxFieldErrors problems and counts the rest (Omitted),
// and stops looking once its list is full. DecodeAnswer never panics, whatever raw holds; a question of
// an unknown type is an error of its own, not a validation error.
func DecodeAnswer(q Question, raw []byte) (Answer, error) {
	key, ok := answerKeys[q.Type]
	if !ok {
		return Answer{}, fmt.Errorf("decode answer to question %s: unknown type %q", q.ID, q.Type)
	}
	if !utf8.Valid(raw) {
		return Answer{}, pathways.Invalid("$", CodeEncoding)
	}
	if !json.Valid(raw) {
		return Answer{}, pathways.Invalid("$", CodeMalformed)
	}
	members, ok := asObject(raw)
	if !ok {
		return Answer{}, typeError("$", "object")
	}
	var a Answer
	v := &pathways.ValidationError{}
	seen := map[string]bool{}
	for _, m := range members {
		field := pathways.EscapeToken(clip(m.key))
		switch {
		case seen[m.key]:
			v.Add(field, pathways.CodeDuplicateKey, nil)
		case m.key != key:
			v.Add(field, pathways.CodeUnknown, nil)
		default:
			decodeValue(v, q, key, m.value, &a)
		}
		seen[m.key] = true
		if v.Full() {
			break
		}
	}
	if err := v.Err(); err != nil {
		return Answer{}, err
	}
	return a, nil
}

// decodeValue decodes the value of the answer's key into a.
func decodeValue(v *pathways.ValidationError, q Question, key string, raw []byte, a *Answer) {
	switch q.Type {
	case TypeSingle, TypeTrueFalse:
		s, ok := asString(raw)
		switch {
		case !ok:
			v.Add(key, pathways.CodeType, map[string]any{"Expected": "string"})
		case s != "" && optionIndex(q, s) < 0:
			v.Add(key, CodeUnknownOption, map[string]any{"Value": clip(s)})
		default:
			a.Option = s
		}
	case TypeMultiple:
		a.Options = decodeIDs(v, q, key, raw)
	case TypeOrdering:
		order := decodeIDs(v, q, key, raw)
		if len(order) > 0 && len(order) < len(q.Options) {
			v.Add(key, CodeNotPermutation, nil)
		}
		a.Order = order
	case TypeMatching:
		a.Pairs = decodePairs(v, q, key, raw)
	case TypeShort, TypeFree:
		s, ok := asString(raw)
		limit := AnswerTextMax
		if q.Type == TypeFree {
			limit = q.maxLength()
		}
		switch {
		case !ok:
			v.Add(key, pathways.CodeType, map[string]any{"Expected": "string"})
		case utf8.RuneCountInString(s) > limit:
			v.Add(key, pathways.CodeTooLong, map[string]any{"Count": limit})
		default:
			a.Text = s
		}
	case TypeNumeric:
		a.Number = decodeNumber(v, key, raw)
	case TypeBlanks:
		a.Blanks = decodeBlanks(v, q, key, raw)
	case TypeLikert:
		a.Value = decodeScale(v, q, key, raw)
	}
}

// decodeIDs decodes a list of option IDs, each known and given once. A
// list longer than the options is refused whole.
func decodeIDs(v *pathways.ValidationError, q Question, key string, raw []byte) []string {
	items, ok := asArray(raw)
	switch {
	case !ok:
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "array"})
		return nil
	case len(items) == 0:
		return nil
	case len(items) > len(q.Options) && q.Type == TypeOrdering:
		v.Add(key, CodeNotPermutation, nil)
		return nil
	case len(items) > len(q.Options):
		v.Add(key, pathways.CodeTooMany, map[string]any{"Count": len(q.Options)})
		return nil
	}
	ids := make([]string, 0, len(items))
	seen := map[string]bool{}
	for i, item := range items {
		ip := pathways.Path(key, i)
		s, ok := asString(item)
		switch {
		case !ok:
			v.Add(ip, pathways.CodeType, map[string]any{"Expected": "string"})
		case optionIndex(q, s) < 0:
			v.Add(ip, CodeUnknownOption, map[string]any{"Value": clip(s)})
		case seen[s]:
			v.Add(ip, pathways.CodeDuplicate, nil)
		}
		seen[s] = true
		ids = append(ids, s)
	}
	return ids
}

// decodePairs decodes a matching answer: known options, each paired with
// a known match used once; an empty match leaves the option unpaired.
func decodePairs(v *pathways.ValidationError, q Question, key string, raw []byte) map[string]string {
	members, ok := asObject(raw)
	switch {
	case !ok:
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "object"})
		return nil
	case len(members) > len(q.Options):
		v.Add(key, pathways.CodeTooMany, map[string]any{"Count": len(q.Options)})
		return nil
	}
	var pairs map[string]string
	keys, used := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		mp := pathways.Path(key, pathways.EscapeToken(clip(m.key)))
		s, isString := asString(m.value)
		switch {
		case optionIndex(q, m.key) < 0:
			v.Add(mp, CodeUnknownOption, map[string]any{"Value": clip(m.key)})
		case keys[m.key]:
			v.Add(mp, pathways.CodeDuplicateKey, nil)
		case !isString:
			v.Add(mp, pathways.CodeType, map[string]any{"Expected": "string"})
		case s == "":
			// unpaired
		case matchIndex(q, s) < 0:
			v.Add(mp, CodeUnknownMatch, map[string]any{"Value": clip(s)})
		case used[s]:
			v.Add(mp, pathways.CodeDuplicate, nil)
		default:
			if pairs == nil {
				pairs = map[string]string{}
			}
			pairs[m.key] = s
		}
		keys[m.key] = true
		if isString && s != "" {
			used[s] = true
		}
	}
	return pairs
}

// decodeBlanks decodes a blanks answer: known blanks, each given once, of
// text no longer than AnswerTextMax.
func decodeBlanks(v *pathways.ValidationError, q Question, key string, raw []byte) map[string]string {
	members, ok := asObject(raw)
	switch {
	case !ok:
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "object"})
		return nil
	case len(members) > len(q.Blanks):
		v.Add(key, pathways.CodeTooMany, map[string]any{"Count": len(q.Blanks)})
		return nil
	}
	var blanks map[string]string
	seen := map[string]bool{}
	for _, m := range members {
		mp := pathways.Path(key, pathways.EscapeToken(clip(m.key)))
		s, isString := asString(m.value)
		switch {
		case !blankKnown(q, m.key):
			v.Add(mp, CodeUnknownBlank, map[string]any{"Value": clip(m.key)})
		case seen[m.key]:
			v.Add(mp, pathways.CodeDuplicateKey, nil)
		case !isString:
			v.Add(mp, pathways.CodeType, map[string]any{"Expected": "string"})
		case utf8.RuneCountInString(s) > AnswerTextMax:
			v.Add(mp, pathways.CodeTooLong, map[string]any{"Count": AnswerTextMax})
		case s == "":
			// not answered
		default:
			if blanks == nil {
				blanks = map[string]string{}
			}
			blanks[m.key] = s
		}
		seen[m.key] = true
	}
	return blanks
}

// decodeNumber decodes a numeric answer, a JSON number or text a learner
// typed; empty text is no answer.
func decodeNumber(v *pathways.ValidationError, key string, raw []byte) *float64 {
	var (
		x  float64
		ok bool
	)
	switch jsonKind(raw) {
	case "number":
		var err error
		x, err = strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		ok = err == nil
	case "string":
		s, _ := asString(raw)
		if strings.TrimFunc(s, ignorable) == "" {
			return nil
		}
		x, ok = parseNumber(s)
	default:
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "number"})
		return nil
	}
	if !ok {
		v.Add(key, CodeNumber, nil)
		return nil
	}
	return &x
}

// decodeScale decodes a likert answer, an integer on q's scale.
func decodeScale(v *pathways.ValidationError, q Question, key string, raw []byte) *int {
	if jsonKind(raw) != "number" {
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "integer"})
		return nil
	}
	text := string(bytes.TrimSpace(raw))
	n, err := strconv.Atoi(text)
	if err != nil && strings.ContainsAny(text, ".eE") {
		v.Add(key, pathways.CodeType, map[string]any{"Expected": "integer"})
		return nil
	}
	var lo, hi int
	if q.Scale != nil {
		lo, hi = q.Scale.Min, q.Scale.Max
	}
	if err != nil || n < lo || n > hi {
		v.Add(key, pathways.CodeRange, map[string]any{"Min": lo, "Max": hi})
		return nil
	}
	return &n
}

// parseNumber reads a number as a learner types it: an optional sign ("-",
// "+" or "−"), digits (Western, Arabic-Indic ٠-٩ or Persian ۰-۹, mixed
// if need be) and at most one decimal separator ("." "," or the Arabic
// "٫"), with spaces and direction marks around it ignored. It refuses
// thousands separators, exponents and anything else, numbers longer than
// NumberTextMax characters and numbers too large for a float64: ok is
// false then.
func parseNumber(s string) (x float64, ok bool) {
	s = strings.TrimFunc(s, ignorable)
	if s == "" || utf8.RuneCountInString(s) > NumberTextMax {
		return 0, false
	}
	var b strings.Builder
	digits, seps := 0, 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r == '.' || r == ',' || r == '٫':
			seps++
			b.WriteByte('.')
			continue
		case i == 0 && (r == '-' || r == '−'):
			b.WriteByte('-')
			continue
		case i == 0 && r == '+':
			continue
		case isBidiMark(r):
			continue
		default:
			return 0, false
		}
		digits++
	}
	if digits == 0 || seps > 1 {
		return 0, false
	}
	x, err := strconv.ParseFloat(b.String(), 64)
	return x, err == nil
}

// ignorable reports whether r may surround a typed number: white space
// and the invisible marks phones add around right-to-left text.
func ignorable(r rune) bool { return unicode.IsSpace(r) || isBidiMark(r) }

// isBidiMark reports whether r is an invisible direction mark (LRM, RLM,
// ALM).
func isBidiMark(r rune) bool { return r == '\u200e' || r == '\u200f' || r == '\u061c' }

func optionIndex(q Question, id string) int {
	for i, o := range q.Options {
		if o.ID == id {
			return i
		}
	}
	return -1
}

func matchIndex(q Question, id string) int {
	for i, m := range q.Matches {
		if m.ID == id {
			return i
		}
	}
	return -1
}

func blankKnown(q Question, id string) bool {
	for _, b := range q.Blanks {
		if b.ID == id {
			return true
		}
	}
	return false
}

func typeError(field, expected string) error {
	return (&pathways.ValidationError{}).Add(field, pathways.CodeType, map[string]any{"Expected": expected})
}

// member is one key and value of a JSON object, in the order given.
type member struct {
	key   string
	value json.RawMessage
}

// jsonKind names the kind of a well-formed JSON value.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// asObject reads a well-formed JSON value as an object, keeping every
// member in order, repeated keys included (encoding/json would keep only
// the last); ok is false if it is not an object.
func asObject(raw []byte) (members []member, ok bool) {
	if jsonKind(raw) != "object" {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		members = append(members, member{key, value})
	}
	return members, true
}

// asArray reads a well-formed JSON value as an array; ok is false if it
// is not one.
func asArray(raw []byte) (items []json.RawMessage, ok bool) {
	if jsonKind(raw) != "array" {
		return nil, false
	}
	return items, json.Unmarshal(raw, &items) == nil
}

// asString reads a well-formed JSON value as a string; ok is false if it
// is not one (null included).
func asString(raw []byte) (s string, ok bool) {
	if jsonKind(raw) != "string" {
		return "", false
	}
	return s, json.Unmarshal(raw, &s) == nil
}
