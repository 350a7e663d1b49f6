package assessments

import (
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// Type is the kind of a question: what the learner does and how it is
// scored.
type Type string

// Question types.
const (
	TypeSingle    Type = "single"    // choose one option
	TypeMultiple  Type = "multiple"  // choose every correct option
	TypeTrueFalse Type = "truefalse" // options "true" and "false"
	TypeShort     Type = "short"     // type a word or a few
	TypeNumeric   Type = "numeric"   // type a number
	TypeMatching  Type = "matching"  // pair each option with a match
	TypeOrdering  Type = "ordering"  // put the options in order
	TypeBlanks    Type = "blanks"    // fill the blanks of a text
	TypeLikert    Type = "likert"    // pick a point on a scale (survey)
	TypeFree      Type = "free"      // write freely (survey, reflection)
)

// Types lists every question type.
var Types = []Type{
	TypeSingle, TypeMultiple, TypeTrueFalse, TypeShort, TypeNumeric,
	TypeMatching, TypeOrdering, TypeBlanks, TypeLikert, TypeFree,
}

// Scored reports whether answers of this type get points: likert and free
// text are survey types, unscored. An unknown type is not scored.
func (t Type) Scored() bool {
	switch t {
	case TypeLikert, TypeFree:
		return false
	}
	return slices.Contains(Types, t)
}

// Partial says whether a question with several parts gives points for
// some of them right.
type Partial string

// Partial credit rules.
const (
	// PartialNone gives the points only if every part is right. It is
	// the default ("").
	PartialNone Partial = "none"
	// PartialProportional gives the share of the parts that are right:
	// for multiple choice, (right chosen − wrong chosen) / correct options,
	// never below 0; for matching, ordering and blanks, the share of right
	// pairs, positions and blanks.
	PartialProportional Partial = "proportional"
)

// Partials lists every partial credit rule.
var Partials = []Partial{PartialNone, PartialProportional}

// Option is a choice of a single, multiple or true/false question, an
// item to put in order, or the left-hand item of a matching question.
// Text and Feedback are message IDs, Image and Audio asset IDs. A
// learner who chooses the option is shown its Feedback once the quiz
// reveals feedback.
type Option struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Image    string `json:"image,omitempty"`
	Audio    string `json:"audio,omitempty"`
	Correct  bool   `json:"correct,omitempty"`
	Feedback string `json:"feedback,omitempty"`
}

// Match is a right-hand item of a matching question. Text is a message
// ID, Image and Audio asset IDs.
type Match struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Image string `json:"image,omitempty"`
	Audio string `json:"audio,omitempty"`
}

// Blank is one gap of a fill-in-the-blanks question; the prompt's text
// marks where it goes with [[ID]]. Accepted lists the accepted answers per
// locale, "*" holding those accepted in any locale.
type Blank struct {
	ID       string              `json:"id"`
	Accepted map[string][]string `json:"accepted"`
}

// Numeric is the answer of a numeric question: any number within
// Tolerance of Value is right.
type Numeric struct {
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance"`
}

// Likert is the scale of a likert question, from Min to Max; Labels names
// some of its points (message IDs), typically both ends.
type Likert struct {
	Min    int            `json:"min"`
	Max    int            `json:"max"`
	Labels map[int]string `json:"labels,omitempty"`
}

// Question is one question as its author wrote it. Texts are message IDs
// of the bank or quiz that holds it; Image and Audio are asset IDs. Which
// of the type-specific fields a question uses, and must use, depends on
// its Type; CheckQuestion says.
type Question struct {
	// ID is stable across versions (lower-case letters, digits, dashes).
	ID string `json:"id"`
	// Prompt is the question's text. For blanks, the text holds a
	// marker [[blank-id]] where each blank goes.
	Prompt   string `json:"prompt"`
	Hint     string `json:"hint,omitempty"`
	Feedback string `json:"feedback,omitempty"` // shown whatever the answer, once feedback is revealed
	Image    string `json:"image,omitempty"`
	Audio    string `json:"audio,omitempty"`
	Type     Type   `json:"type"`
	// Points is what a right answer is worth; 0 means 1. Survey types
	// have none.
	Points float64 `json:"points,omitempty"`

	// Options are the choices (single, multiple, truefalse), the items
	// in their correct order (ordering) or the left-hand items (matching).
	Options []Option `json:"options,omitempty"`
	// Matches are the right-hand items of a matching question, and Pairs
	// its key: option ID → match ID. Matches may outnumber options.
	Matches []Match           `json:"matches,omitempty"`
	Pairs   map[string]string `json:"pairs,omitempty"`
	// Accepted lists the accepted answers of a short-answer question per
	// locale, "*" holding those accepted in any locale.
	Accepted map[string][]string `json:"accepted,omitempty"`
	// CaseSensitive and DiacriticSensitive make short answers and blanks
	// compare case or diacritics (accents, Arabic harakat and hamza
	// marks); by default "Café" is "cafe" and "مَرْحَبًا" is "مرحبا". Either
	// way, spaces around and between words, the Arabic tatweel, direction
	// marks and compatibility forms (full-width letters, Arabic
	// presentation forms) do not count.
	CaseSensitive      bool     `json:"caseSensitive,omitempty"`
	DiacriticSensitive bool     `json:"diacriticSensitive,omitempty"`
	Numeric            *Numeric `json:"numeric,omitempty"`
	Blanks             []Blank  `json:"blanks,omitempty"`
	// Partial applies to multiple, matching, ordering and blanks.
	Partial Partial `json:"partial,omitempty"`
	Scale   *Likert `json:"scale,omitempty"`
	// MaxLength is the longest free text a learner may give, in
	// characters; 0 means FreeTextDefault.
	MaxLength int `json:"maxLength,omitempty"`
}

// MaxPoints is what q is worth: its Points (1 if unset) for scored types,
// 0 for survey types.
func (q Question) MaxPoints() float64 {
	if !q.Type.Scored() {
		return 0
	}
	if q.Points == 0 {
		return 1
	}
	return q.Points
}

// optionIDs lists q's option IDs in the authored order (for ordering,
// the right order).
func (q Question) optionIDs() []string {
	ids := make([]string, len(q.Options))
	for i, o := range q.Options {
		ids[i] = o.ID
	}
	return ids
}

// maxLength is the longest free text q takes, in characters.
func (q Question) maxLength() int {
	if q.MaxLength <= 0 {
		return FreeTextDefault
	}
	return q.MaxLength
}

// Limits on questions and answers.
const (
	KeyMax          = pathways.KeyMax // question, option, match and blank IDs
	PointsMax       = 1000
	OptionsMax      = 20 // options of a question, and matches
	BlanksMax       = 20
	AcceptedMax     = 20  // accepted answers per locale
	LocalesMax      = 21  // locales of accepted answers, "*" included
	AnswerTextMax   = 500 // characters of a short answer, a blank or an accepted answer
	FreeTextDefault = 5000
	FreeTextMax     = 20000
	ScaleBound      = 100 // likert points lie within ±ScaleBound
	ScalePointsMax  = 11  // points of a likert scale
)

// Field error codes of this package; each needs a "field.<code>" message
// in the UI catalogue. Questions also use the generic codes of package
// pathways (required, invalid, too_long, too_many, key, id, enum, range,
// duplicate_value) and i18n's locale and message_id.
const (
	CodeTooFew        = "too_few"        // Params: Count
	CodeNegative      = "negative"       // a tolerance below zero
	CodeNotForType    = "not_for_type"   // a field the type does not use; Params: Value (the type)
	CodeOneCorrect    = "one_correct"    // single and true/false need exactly one correct option
	CodeNoCorrect     = "no_correct"     // multiple choice needs a correct option
	CodeUnknownOption = "unknown_option" // Params: Value (the ID)
	CodeUnknownMatch  = "unknown_match"  // Params: Value (the ID)
	CodeUnknownBlank  = "unknown_blank"  // Params: Value (the ID)

	// Codes of DecodeAnswer only.
	CodeMalformed      = "malformed"       // not one well-formed JSON value
	CodeEncoding       = "encoding"        // not UTF-8
	CodeNumber         = "number"          // text that is not a number
	CodeNotPermutation = "not_permutation" // an ordering that does not hold every item once
)

// FieldCodes lists every field error code assessments' questions and
// answers produce, for the catalogue test.
var FieldCodes = []string{
	CodeTooFew, CodeNegative, CodeNotForType,
	CodeOneCorrect, CodeNoCorrect, CodeUnknownOption, CodeUnknownMatch, CodeUnknownBlank,
	CodeMalformed, CodeEncoding, CodeNumber, CodeNotPermutation,
	CodeUnknownBank, CodeUnknownQuestion, CodeNoQuestions, CodeUnknownPretest, CodeTimedOnline,
}

// typeFields says, per type, which of the type-specific fields a
// question must set and which it may; the others it may not.
var typeFields = map[Type]struct{ required, optional []string }{
	TypeSingle:    {required: []string{"options"}, optional: []string{"points"}},
	TypeMultiple:  {required: []string{"options"}, optional: []string{"partial", "points"}},
	TypeTrueFalse: {required: []string{"options"}, optional: []string{"points"}},
	TypeShort:     {required: []string{"accepted"}, optional: []string{"caseSensitive", "diacriticSensitive", "points"}},
	TypeNumeric:   {required: []string{"numeric"}, optional: []string{"points"}},
	TypeMatching:  {required: []string{"options", "matches", "pairs"}, optional: []string{"partial", "points"}},
	TypeOrdering:  {required: []string{"options"}, optional: []string{"partial", "points"}},
	TypeBlanks:    {required: []string{"blanks"}, optional: []string{"caseSensitive", "diacriticSensitive", "partial", "points"}},
	TypeLikert:    {required: []string{"scale"}},
	TypeFree:      {optional: []string{"maxLength"}},
}

// present lists the type-specific fields q sets, by their names in field
// paths. A field set to its documented default is not set: "partial":
// "none" is what every question without partial credit does, so any type
// takes it.
func (q Question) present() map[string]bool {
	return map[string]bool{
		"options": len(q.Options) > 0, "matches": len(q.Matches) > 0, "pairs": len(q.Pairs) > 0,
		"accepted": len(q.Accepted) > 0, "caseSensitive": q.CaseSensitive,
		"diacriticSensitive": q.DiacriticSensitive, "numeric": q.Numeric != nil,
		"blanks": len(q.Blanks) > 0, "partial": q.Partial != "" && q.Partial != PartialNone, "scale": q.Scale != nil,
		"maxLength": q.MaxLength != 0, "points": q.Points != 0,
	}
}

// CheckQuestion checks a question's definition on its own. It checks
// that IDs are well formed (pathways.CodeKey) and unique (pathways.CodeDuplicate),
// texts are message IDs (i18n.CodeMessageID) and media asset IDs (pathways.CodeID); that
// the question sets the fields its type needs (pathways.CodeRequired) and no other
// (CodeNotForType); and that these make sense: 2 to OptionsMax options,
// each showing a text, an image or audio (true/false options may leave
// their text to the client); exactly one correct option for single and
// true/false (CodeOneCorrect), whose two options are "true" and "false";
// at least one for multiple (CodeNoCorrect); correct marks and feedback
// only on choices; every matching option paired with an existing match of
// its own (CodeUnknownOption, CodeUnknownMatch); accepted answers, keyed
// by locale or "*", for a short answer and every blank; a finite value
// and a tolerance of at least 0 (CodeNegative); a likert scale Min < Max
// of at most ScalePointsMax points, labels on the scale; points from 0 to
// PointsMax (pathways.CodeRange). It does not look at texts, nor at media (whether
// the message and asset IDs exist is the caller's to check), so neither
// does it check the [[markers]] of a blanks prompt. It returns a
// *pathways.ValidationError listing every problem, with field paths such
// as "options/2/text" and "pairs/exit".
func CheckQuestion(q Question) error {
	v := &pathways.ValidationError{}
	pathways.CheckKey(v, "id", q.ID)
	i18n.CheckMessageID(v, "prompt", q.Prompt, true)
	i18n.CheckMessageID(v, "hint", q.Hint, false)
	i18n.CheckMessageID(v, "feedback", q.Feedback, false)
	checkAsset(v, "image", q.Image)
	checkAsset(v, "audio", q.Audio)
	if math.IsNaN(q.Points) || q.Points < 0 || q.Points > PointsMax {
		v.Add("points", pathways.CodeRange, map[string]any{"Min": 0, "Max": PointsMax})
	}

	rule, ok := typeFields[q.Type]
	if !ok {
		pathways.CheckEnum(v, "type", q.Type, Types)
		return v.Err()
	}
	has := q.present()
	for _, f := range rule.required {
		if !has[f] {
			v.Add(f, pathways.CodeRequired, nil)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(has)) {
		if has[f] && !slices.Contains(rule.required, f) && !slices.Contains(rule.optional, f) {
			v.Add(f, CodeNotForType, map[string]any{"Value": string(q.Type)})
		}
	}
	if has["partial"] {
		pathways.CheckEnum(v, "partial", q.Partial, Partials)
	}

	switch q.Type {
	case TypeSingle, TypeMultiple, TypeTrueFalse, TypeOrdering, TypeMatching:
		checkOptions(v, q)
	}
	switch q.Type {
	case TypeMatching:
		checkMatching(v, q)
	case TypeShort:
		if has["accepted"] {
			checkAccepted(v, "accepted", q.Accepted, q)
		}
	case TypeBlanks:
		checkBlanks(v, q)
	case TypeNumeric:
		if n := q.Numeric; n != nil {
			if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
				v.Add("numeric/value", pathways.CodeInvalid, nil)
			}
			switch {
			case math.IsNaN(n.Tolerance) || math.IsInf(n.Tolerance, 0):
				v.Add("numeric/tolerance", pathways.CodeInvalid, nil)
			case n.Tolerance < 0:
				v.Add("numeric/tolerance", CodeNegative, nil)
			}
		}
	case TypeLikert:
		checkScale(v, q.Scale)
	case TypeFree:
		if q.MaxLength < 0 || q.MaxLength > FreeTextMax {
			v.Add("maxLength", pathways.CodeRange, map[string]any{"Min": 1, "Max": FreeTextMax})
		}
	}
	return v.Err()
}

// checkOptions checks the options of the types that have them.
func checkOptions(v *pathways.ValidationError, q Question) {
	switch n := len(q.Options); {
	case n == 0:
		// reported as required
	case q.Type == TypeTrueFalse && n != 2:
		if n < 2 {
			v.Add("options", CodeTooFew, map[string]any{"Count": 2})
		} else {
			v.Add("options", pathways.CodeTooMany, map[string]any{"Count": 2})
		}
		if n > OptionsMax {
			return
		}
	case n < 2:
		v.Add("options", CodeTooFew, map[string]any{"Count": 2})
	case n > OptionsMax:
		v.Add("options", pathways.CodeTooMany, map[string]any{"Count": OptionsMax})
		return // the items of an oversized list are not looked at
	}
	choice := q.Type == TypeSingle || q.Type == TypeMultiple || q.Type == TypeTrueFalse
	seen := map[string]bool{}
	correct := 0
	for i, o := range q.Options {
		op := pathways.Path("options", i)
		if pathways.CheckKey(v, op+"/id", o.ID) {
			if seen[o.ID] {
				v.Add(op+"/id", pathways.CodeDuplicate, nil)
			}
			seen[o.ID] = true
			if q.Type == TypeTrueFalse && o.ID != "true" && o.ID != "false" {
				v.Add(op+"/id", pathways.CodeEnum, map[string]any{"Value": "true, false"})
			}
		}
		// A true/false option may leave its text to the client's own
		// translated "True" and "False"; any other needs something to show.
		checkItem(v, op, o.Text, o.Image, o.Audio, q.Type != TypeTrueFalse)
		i18n.CheckMessageID(v, op+"/feedback", o.Feedback, false)
		if !choice {
			if o.Correct {
				v.Add(op+"/correct", CodeNotForType, map[string]any{"Value": string(q.Type)})
			}
			if o.Feedback != "" {
				v.Add(op+"/feedback", CodeNotForType, map[string]any{"Value": string(q.Type)})
			}
		}
		if o.Correct {
			correct++
		}
	}
	switch {
	case len(q.Options) == 0:
	case (q.Type == TypeSingle || q.Type == TypeTrueFalse) && correct != 1:
		v.Add("options", CodeOneCorrect, nil)
	case q.Type == TypeMultiple && correct == 0:
		v.Add("options", CodeNoCorrect, nil)
	}
}

// checkItem checks what an option or match shows: a text (message ID),
// an image and audio (asset IDs), at least one of them if required.
func checkItem(v *pathways.ValidationError, p, text, image, audio string, required bool) {
	i18n.CheckMessageID(v, p+"/text", text, required && image == "" && audio == "")
	checkAsset(v, p+"/image", image)
	checkAsset(v, p+"/audio", audio)
}

// checkMatching checks a matching question's matches and key.
func checkMatching(v *pathways.ValidationError, q Question) {
	if len(q.Options) > OptionsMax || !pathways.CheckCount(v, "matches", len(q.Matches), OptionsMax) ||
		!pathways.CheckCount(v, "pairs", len(q.Pairs), OptionsMax) {
		return // the items of an oversized list are not looked at
	}
	matches := map[string]bool{}
	for i, m := range q.Matches {
		mp := pathways.Path("matches", i)
		if pathways.CheckKey(v, mp+"/id", m.ID) {
			if matches[m.ID] {
				v.Add(mp+"/id", pathways.CodeDuplicate, nil)
			}
			matches[m.ID] = true
		}
		checkItem(v, mp, m.Text, m.Image, m.Audio, true)
	}
	options := map[string]bool{}
	for _, o := range q.Options {
		options[o.ID] = true
	}
	for _, o := range q.Options {
		if _, ok := q.Pairs[o.ID]; !ok && o.ID != "" && len(q.Pairs) > 0 {
			v.Add(pathways.Path("pairs", pathways.EscapeToken(o.ID)), pathways.CodeRequired, nil)
		}
	}
	used := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(q.Pairs)) {
		pp, m := pathways.Path("pairs", pathways.EscapeToken(clip(k))), q.Pairs[k]
		switch {
		case !options[k]:
			v.Add(pp, CodeUnknownOption, map[string]any{"Value": clip(k)})
		case m == "":
			v.Add(pp, pathways.CodeRequired, nil)
		case !matches[m]:
			v.Add(pp, CodeUnknownMatch, map[string]any{"Value": clip(m)})
		case used[m]:
			v.Add(pp, pathways.CodeDuplicate, nil)
		}
		used[m] = true
	}
}

// checkBlanks checks the blanks of a fill-in-the-blanks question.
func checkBlanks(v *pathways.ValidationError, q Question) {
	if !pathways.CheckCount(v, "blanks", len(q.Blanks), BlanksMax) {
		return
	}
	seen := map[string]bool{}
	for i, b := range q.Blanks {
		bp := pathways.Path("blanks", i)
		if pathways.CheckKey(v, bp+"/id", b.ID) {
			if seen[b.ID] {
				v.Add(bp+"/id", pathways.CodeDuplicate, nil)
			}
			seen[b.ID] = true
		}
		checkAccepted(v, bp+"/accepted", b.Accepted, q)
	}
}

// checkAccepted checks accepted answers: keys are locales or "*", there
// is at least one answer, and each is something a learner can type.
func checkAccepted(v *pathways.ValidationError, field string, accepted map[string][]string, q Question) {
	if !pathways.CheckCount(v, field, len(accepted), LocalesMax) {
		return
	}
	usable, problems := 0, v.Count()
	for _, loc := range slices.Sorted(maps.Keys(accepted)) {
		lp := pathways.Path(field, pathways.EscapeToken(clip(loc)))
		if loc != anyLocale && !i18n.ValidLocale(loc) {
			v.Add(lp, i18n.CodeLocale, nil)
		}
		answers := accepted[loc]
		if !pathways.CheckCount(v, lp, len(answers), AcceptedMax) {
			continue
		}
		for j, a := range answers {
			ap := pathways.Path(lp, j)
			switch {
			case !utf8.ValidString(a) || normalize(a, q.CaseSensitive, q.DiacriticSensitive) == "":
				v.Add(ap, pathways.CodeRequired, nil)
			case utf8.RuneCountInString(a) > AnswerTextMax:
				v.Add(ap, pathways.CodeTooLong, map[string]any{"Count": AnswerTextMax})
			default:
				usable++
			}
		}
	}
	if usable == 0 && v.Count() == problems {
		v.Add(field, pathways.CodeRequired, nil)
	}
}

// checkScale checks a likert scale.
func checkScale(v *pathways.ValidationError, s *Likert) {
	if s == nil {
		return
	}
	bounds := map[string]any{"Min": -ScaleBound, "Max": ScaleBound}
	minOK := s.Min >= -ScaleBound && s.Min <= ScaleBound
	if !minOK {
		v.Add("scale/min", pathways.CodeRange, bounds)
	}
	switch {
	case s.Max < -ScaleBound || s.Max > ScaleBound:
		v.Add("scale/max", pathways.CodeRange, bounds)
	case minOK && (s.Max <= s.Min || s.Max-s.Min+1 > ScalePointsMax):
		v.Add("scale/max", pathways.CodeRange, map[string]any{"Min": s.Min + 1, "Max": s.Min + ScalePointsMax - 1})
	}
	if !pathways.CheckCount(v, "scale/labels", len(s.Labels), ScalePointsMax) {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		lp := pathways.Path("scale/labels", k)
		if k < s.Min || k > s.Max {
			v.Add(lp, pathways.CodeRange, map[string]any{"Min": s.Min, "Max": s.Max})
		}
		i18n.CheckMessageID(v, lp, s.Labels[k], true)
	}
}

// clip shortens what a client sent to echo it in an error.
func clip(s string) string { return pathways.Clip(s) }

// checkAsset checks an optional asset ID.
func checkAsset(v *pathways.ValidationError, field, id string) {
	if id != "" && !accounts.ValidID(id) {
		v.Add(field, pathways.CodeID, nil)
	}
}
