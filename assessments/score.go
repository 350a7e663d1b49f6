package assessments

import (
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Result is how one answer to one question scored.
type Result struct {
	Points float64 // from 0 to Max
	Max    float64 // the question's MaxPoints: 0 for survey types
	// Correct is set for full marks on a scored question.
	Correct  bool
	Answered bool
	// Feedback lists the message IDs of the feedback of each option the
	// learner chose, in the question's order, then the question's own
	// feedback if it has one (whatever the answer). The caller decides
	// whether the learner may see them yet.
	Feedback []string
}

// anyLocale keys the accepted answers that hold in every locale.
const anyLocale = "*"

// numericEpsilon absorbs the rounding of decimal numbers in binary
// (0.1 + 0.2 is not 0.3), relative to the magnitude of the value.
const numericEpsilon = 1e-9

// Score scores a decoded answer to q. The accepted answers of short
// answers and blanks are those of locale, of its parents ("fa" for
// "fa-AF") and of "*"; text is compared as Question.CaseSensitive and
// DiacriticSensitive say. A numeric answer is right within q's tolerance
// (and a rounding error of 1e-9 relative to the value).
// Matching, ordering, blanks and multiple choice give part of the points
// if q's Partial is proportional; every other answer gets all the points
// or none. Survey types (likert, free) get no points and a Max of 0.
//
// Score never panics, and for a question that passes CheckQuestion it
// gives from 0 to Max points, whatever the answer (it need not come from
// DecodeAnswer: unknown IDs count as wrong).
func Score(q Question, a Answer, locale string) Result {
	r := Result{Max: q.MaxPoints()}
	// right of parts are right; wrong choices count against multiple
	// choice.
	var right, wrong, parts int
	switch q.Type {
	case TypeSingle, TypeTrueFalse:
		r.Answered = a.Option != ""
		parts = 1
		for _, o := range q.Options {
			if r.Answered && o.ID == a.Option {
				if o.Correct {
					right = 1
				}
				r.Feedback = appendFeedback(r.Feedback, o.Feedback)
			}
		}
	case TypeMultiple:
		chosen := make(map[string]bool, len(a.Options))
		for _, id := range a.Options {
			chosen[id] = true
		}
		r.Answered = len(chosen) > 0
		for _, o := range q.Options {
			if o.Correct {
				parts++
			}
			if !chosen[o.ID] {
				continue
			}
			if o.Correct {
				right++
			} else {
				wrong++
			}
			r.Feedback = appendFeedback(r.Feedback, o.Feedback)
			delete(chosen, o.ID)
		}
		wrong += len(chosen) // IDs the question does not have
	case TypeOrdering:
		r.Answered = len(a.Order) > 0
		parts = len(q.Options)
		for i, o := range q.Options {
			if i < len(a.Order) && a.Order[i] == o.ID {
				right++
			}
		}
	case TypeMatching:
		parts = len(q.Options)
		for _, m := range a.Pairs {
			if m != "" {
				r.Answered = true
			}
		}
		for _, o := range q.Options {
			if m := a.Pairs[o.ID]; m != "" && m == q.Pairs[o.ID] {
				right++
			}
		}
	case TypeShort:
		text := normalize(a.Text, q.CaseSensitive, q.DiacriticSensitive)
		r.Answered, parts = text != "", 1
		if r.Answered && accepts(q.Accepted, locale, text, q) {
			right = 1
		}
	case TypeBlanks:
		parts = len(q.Blanks)
		for _, b := range q.Blanks {
			text := normalize(a.Blanks[b.ID], q.CaseSensitive, q.DiacriticSensitive)
			if text == "" {
				continue
			}
			r.Answered = true
			if accepts(b.Accepted, locale, text, q) {
				right++
			}
		}
	case TypeNumeric:
		r.Answered, parts = a.Number != nil, 1
		if n := q.Numeric; r.Answered && n != nil {
			x := *a.Number
			eps := numericEpsilon * max(1, math.Abs(n.Value))
			if math.Abs(x-n.Value) <= n.Tolerance+eps {
				right = 1
			}
		}
	case TypeLikert:
		r.Answered = a.Value != nil
	case TypeFree:
		r.Answered = strings.TrimSpace(a.Text) != ""
	}
	r.Feedback = appendFeedback(r.Feedback, q.Feedback)

	if !q.Type.Scored() || !r.Answered || parts == 0 {
		return r
	}
	switch {
	case right == parts && wrong == 0:
		r.Points, r.Correct = r.Max, true
	case q.Partial == PartialProportional && q.Type != TypeSingle && q.Type != TypeTrueFalse:
		share := float64(right-wrong) / float64(parts)
		r.Points = min(max(share*r.Max, 0), r.Max)
	}
	return r
}

func appendFeedback(list []string, id string) []string {
	if id == "" {
		return list
	}
	return append(list, id)
}

// accepts reports whether text, normalised, is among the answers accepted
// in locale.
func accepts(accepted map[string][]string, locale, text string, q Question) bool {
	for _, loc := range localeChain(locale) {
		for _, ok := range accepted[loc] {
			if normalize(ok, q.CaseSensitive, q.DiacriticSensitive) == text {
				return true
			}
		}
	}
	return false
}

// localeChain lists the keys whose accepted answers hold in locale: the
// locale, its parents by truncation ("zh-Hant-TW", "zh-Hant", "zh") and
// "*".
func localeChain(locale string) []string {
	if t, err := language.Parse(locale); err == nil {
		locale = t.String()
	}
	var chain []string
	for l := locale; l != "" && l != anyLocale; {
		chain = append(chain, l)
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return append(chain, anyLocale)
}

// normalize puts a typed answer in the form answers are compared in:
// compatibility forms folded (NFKC: full-width letters, Arabic
// presentation forms), the Arabic tatweel (ـ), the zero-width non-joiner
// and invisible direction marks dropped, Arabic ي/ى/ك read as Persian ی/ک
// (Dari learners type on Arabic and Persian keyboards alike), spaces
// trimmed and runs of them made one; unless
// sensitive, case folded (golang.org/x/text/cases) and diacritics dropped
// (every nonspacing mark after canonical decomposition: accents, and
// Arabic harakat and hamza above or below).
func normalize(s string, caseSensitive, diacriticSensitive bool) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u0640' || r == '\u200c' || isBidiMark(r):
			return -1 // tatweel, zero-width non-joiner, direction marks
		case r == '\u064a' || r == '\u0649':
			return '\u06cc' // Arabic yeh and alef maksura: Persian yeh
		case r == '\u0643':
			return '\u06a9' // Arabic kaf: Persian keheh
		}
		return r
	}, s)
	s = norm.NFKD.String(s)
	if !caseSensitive {
		// Folding may give characters with marks of their own ("İ" folds
		// to "i̇"), which decomposing again separates.
		s = norm.NFKD.String(cases.Fold().String(s))
	}
	if !diacriticSensitive {
		s = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, s)
	}
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}
