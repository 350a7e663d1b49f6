package assessments

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// choice is a single-choice question with the given option IDs.
func choice(ids ...string) Question {
	q := Question{Type: TypeSingle}
	for _, id := range ids {
		q.Options = append(q.Options, Option{ID: id})
	}
	return q
}

func TestDrawIsReproducible(t *testing.T) {
	picks := []Pick{
		{Bank: "b", Questions: []string{"q1", "q2"}},
		{Bank: "b", Tags: []string{"easy"}, Count: 3},
	}
	pools := [][]string{{"q1", "q2"}, {"q1", "q3", "q4", "q5", "q6", "q7"}}
	questions := map[string]Question{"q1": choice("a", "b", "c", "d"), "q3": choice("x", "y")}
	first := draw(picks, pools, questions, true, true, 42)
	if len(first) != 5 {
		t.Fatalf("drew %d questions, want 2 fixed + 3 random", len(first))
	}
	seen := map[string]bool{}
	for _, d := range first {
		if seen[d.Question] {
			t.Fatalf("%s drawn twice: %v", d.Question, first)
		}
		seen[d.Question] = true
	}
	if !seen["q1"] || !seen["q2"] {
		t.Errorf("fixed questions missing: %v", first)
	}
	if again := draw(picks, pools, questions, true, true, 42); !slices.EqualFunc(first, again, func(a, b Drawn) bool {
		return a.Question == b.Question && slices.Equal(a.Options, b.Options)
	}) {
		t.Errorf("same seed, other draw:\n%v\n%v", first, again)
	}
	differs := false
	for seed := range uint64(20) {
		other := draw(picks, pools, questions, true, true, seed+100)
		if !slices.EqualFunc(first, other, func(a, b Drawn) bool { return a.Question == b.Question }) {
			differs = true
		}
	}
	if !differs {
		t.Error("20 other seeds all drew the same questions in the same order")
	}
	plain := draw(picks[:1], pools[:1], questions, false, false, 7)
	if plain[0].Question != "q1" || !slices.Equal(plain[0].Options, []string{"a", "b", "c", "d"}) {
		t.Errorf("without shuffling: %v", plain)
	}
}

// orderingAndMatching are an ordering question whose options are written
// in the right order with IDs that sort into it, and matching questions
// whose matches are written beside the options they pair with, one with
// a match paired with nothing.
func orderingAndMatching() map[string]Question {
	return map[string]Question{
		"two":   {Type: TypeOrdering, Options: []Option{{ID: "step-1"}, {ID: "step-2"}}},
		"steps": {Type: TypeOrdering, Options: []Option{{ID: "step-1"}, {ID: "step-2"}, {ID: "step-3"}, {ID: "step-4"}}},
		"pairs": {Type: TypeMatching, Options: []Option{{ID: "a"}, {ID: "b"}},
			Matches: []Match{{ID: "a-match"}, {ID: "b-match"}}, Pairs: map[string]string{"a": "a-match", "b": "b-match"}},
		"odd": {Type: TypeMatching, Options: []Option{{ID: "a"}, {ID: "b"}, {ID: "c"}},
			Matches: []Match{{ID: "x"}, {ID: "decoy"}, {ID: "y"}, {ID: "z"}}, Pairs: map[string]string{"a": "x", "b": "y", "c": "z"}},
	}
}

// TestDrawNeverShowsTheKey: ordering options and matching matches are
// shuffled whatever the quiz says, never into the key's order, and every
// other order comes up.
func TestDrawNeverShowsTheKey(t *testing.T) {
	questions := orderingAndMatching()
	keys := slices.Sorted(maps.Keys(questions))
	picks := []Pick{{Bank: "b", Questions: keys}}
	orders := map[string]map[string]bool{}
	for _, shuffleOptions := range []bool{false, true} {
		for seed := range uint64(400) {
			for _, d := range draw(picks, [][]string{keys}, questions, false, shuffleOptions, seed) {
				q := questions[d.Question]
				if !slices.Equal(slices.Sorted(slices.Values(d.Options)), slices.Sorted(slices.Values(q.optionIDs()))) {
					t.Fatalf("%s: options %v", d.Question, d.Options)
				}
				switch q.Type {
				case TypeOrdering:
					if inKeyOrder(q, d.Options) {
						t.Fatalf("seed %d: %s shown in the right order %v", seed, d.Question, d.Options)
					}
					if d.Matches != nil {
						t.Errorf("%s: matches %v", d.Question, d.Matches)
					}
				case TypeMatching:
					if len(d.Matches) != len(q.Matches) || pairOrder(q.Pairs, d.Options, d.Matches) {
						t.Fatalf("seed %d: %s matches %v beside options %v", seed, d.Question, d.Matches, d.Options)
					}
					if !shuffleOptions && !slices.Equal(d.Options, q.optionIDs()) {
						t.Errorf("%s: left-hand options shuffled without shuffleOptions: %v", d.Question, d.Options)
					}
				}
				if orders[d.Question] == nil {
					orders[d.Question] = map[string]bool{}
				}
				orders[d.Question][fmt.Sprint(d.Options, d.Matches)] = true
			}
		}
	}
	// 4! − 1 orders of the four steps; the two steps have one other.
	if n := len(orders["steps"]); n != 23 {
		t.Errorf("%d orders of four steps came up, want all 23 but the key", n)
	}
	if n := len(orders["two"]); n != 1 {
		t.Errorf("%d orders of two steps came up, want 1", n)
	}
}

func TestPairOrder(t *testing.T) {
	pairs := map[string]string{"a": "x", "b": "y", "c": "z"}
	tests := []struct {
		options, matches []string
		want             bool
	}{
		{[]string{"a", "b", "c"}, []string{"x", "y", "z"}, true},
		{[]string{"a", "b", "c"}, []string{"x", "decoy", "y", "z"}, true}, // a decoy hides nothing
		{[]string{"c", "a", "b"}, []string{"z", "x", "y"}, true},          // lined up with options shuffled
		{[]string{"a", "b", "c"}, []string{"y", "x", "z"}, false},
		{[]string{"c", "a", "b"}, []string{"x", "y", "z"}, false},
	}
	for _, tt := range tests {
		if got := pairOrder(pairs, tt.options, tt.matches); got != tt.want {
			t.Errorf("pairOrder(%v, %v) = %v", tt.options, tt.matches, got)
		}
	}
}

// TestShownItems: a learner sees ordering and matching items under the
// attempt's own IDs, in the order drawn; answers given in them are kept in
// the author's; attempts stored before the order of matches was kept, or
// in the key's order, are shown shuffled, the same on every read.
func TestShownItems(t *testing.T) {
	questions := orderingAndMatching()
	steps, odd := questions["steps"], questions["odd"]

	s := shown(steps, Drawn{Question: "b1.steps", Options: []string{"step-3", "step-1", "step-4", "step-2"}}, 1)
	if !slices.Equal(s.options, []string{"step-3", "step-1", "step-4", "step-2"}) {
		t.Errorf("options shown %v", s.options)
	}
	renamed := s.question(steps)
	if got := renamed.optionIDs(); !slices.Equal(got, []string{"o2", "o4", "o1", "o3"}) {
		t.Errorf("the key in the IDs shown: %v", got)
	}
	given, err := DecodeAnswer(renamed, []byte(`{"order": ["o2", "o4", "o1", "o3"]}`))
	if err != nil {
		t.Fatal(err)
	}
	kept := s.authorsAnswer(given)
	if !slices.Equal(kept.Order, []string{"step-1", "step-2", "step-3", "step-4"}) || !Score(steps, kept, "en").Correct {
		t.Errorf("kept %v", kept.Order)
	}
	if back := s.shownAnswer(kept); !slices.Equal(back.Order, given.Order) {
		t.Errorf("shown again as %v", back.Order)
	}
	if _, err := DecodeAnswer(renamed, []byte(`{"order": ["step-1", "step-2", "step-3", "step-4"]}`)); err == nil {
		t.Error("the author's IDs are taken")
	}

	m := shown(odd, Drawn{Question: "b1.odd", Options: []string{"b", "c", "a"}, Matches: []string{"z", "decoy", "x", "y"}}, 1)
	mq := m.question(odd)
	if !maps.Equal(mq.Pairs, map[string]string{"o3": "m3", "o1": "m4", "o2": "m1"}) {
		t.Errorf("pairs in the IDs shown: %v", mq.Pairs)
	}
	pa, err := DecodeAnswer(mq, []byte(`{"pairs": {"o3": "m3", "o1": "m2", "o2": ""}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.authorsAnswer(pa).Pairs; !maps.Equal(got, map[string]string{"a": "x", "b": "decoy"}) { // c left unpaired
		t.Errorf("kept pairs %v", got)
	}

	// Stored before: no order of matches, ordering options in the key's order.
	for _, d := range []Drawn{
		{Question: "b1.odd", Options: []string{"a", "b", "c"}},
		{Question: "b1.steps", Options: steps.optionIDs()},
	} {
		q := questions[strings.TrimPrefix(d.Question, "b1.")]
		first := shown(q, d, 99)
		if inKeyOrder(q, first.options) && q.Type == TypeOrdering || q.Type == TypeMatching && pairOrder(q.Pairs, first.options, first.matches) {
			t.Errorf("%s shown in the key's order: %v %v", d.Question, first.options, first.matches)
		}
		if again := shown(q, d, 99); !slices.Equal(first.options, again.options) || !slices.Equal(first.matches, again.matches) {
			t.Errorf("%s shown otherwise on the next read", d.Question)
		}
	}
	// Other types keep the author's IDs.
	single := choice("yes", "no")
	if c := shown(single, Drawn{Question: "b1.c", Options: []string{"no", "yes"}}, 1); c.question(single).Options[0].ID != "yes" {
		t.Errorf("single choice renamed: %v", c.question(single).Options)
	}
}

func TestGrade(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	attempts := []Graded{{0.8, t0.Add(2 * time.Hour)}, {0.4, t0}, {0.6, t0.Add(time.Hour)}}
	for method, want := range map[GradeMethod]float64{GradeHighest: 0.8, GradeLatest: 0.8, GradeFirst: 0.4, GradeAverage: 0.6} {
		if got, ok := grade(method, attempts); !ok || got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s: %v, want %v", method, got, want)
		}
	}
	if _, ok := grade(GradeHighest, nil); ok {
		t.Error("a grade without attempts")
	}
}

func TestMastery(t *testing.T) {
	rule := Mastery{M: 3, N: 5}
	tests := []struct {
		answers []bool
		want    bool
	}{
		{nil, false},
		{[]bool{true, true}, false},
		{[]bool{true, true, true}, true},
		{[]bool{true, true, true, false, false, false, false}, false}, // the old ones no longer count
		{[]bool{false, true, false, true, true}, true},
	}
	for _, tt := range tests {
		if got := mastered(rule, tt.answers); got != tt.want {
			t.Errorf("mastered(%v) = %v, want %v", tt.answers, got, tt.want)
		}
	}
}

func TestReveal(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	tests := []struct {
		policy    FeedbackPolicy
		submitted bool
		due       time.Time
		want      Reveal
	}{
		{FeedbackImmediate, false, time.Time{}, Reveal{PerQuestion: true}},
		{FeedbackImmediate, true, time.Time{}, Reveal{PerQuestion: true, Keys: true, Score: true}},
		{FeedbackAfterSubmit, false, time.Time{}, Reveal{}},
		{FeedbackAfterSubmit, true, time.Time{}, Reveal{Keys: true, Score: true}},
		{FeedbackAfterDue, true, future, Reveal{}}, // not even the score
		{FeedbackAfterDue, true, past, Reveal{Keys: true, Score: true}},
		{FeedbackAfterDue, true, time.Time{}, Reveal{}},
		{FeedbackAfterDue, false, past, Reveal{}},
		{FeedbackNever, true, past, Reveal{}}, // not even the score
	}
	for _, tt := range tests {
		if got := reveal(tt.policy, tt.submitted, tt.due, now); got != tt.want {
			t.Errorf("reveal(%s, submitted %v, due %v) = %+v, want %+v", tt.policy, tt.submitted, tt.due, got, tt.want)
		}
	}
}
