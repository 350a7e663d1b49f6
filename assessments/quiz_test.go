package assessments

import (
	"slices"
	"testing"
	"time"
)

func TestDrawIsReproducible(t *testing.T) {
	picks := []Pick{
		{Bank: "b", Questions: []string{"q1", "q2"}},
		{Bank: "b", Tags: []string{"easy"}, Count: 3},
	}
	pools := [][]string{{"q1", "q2"}, {"q1", "q3", "q4", "q5", "q6", "q7"}}
	options := map[string][]string{"q1": {"a", "b", "c", "d"}, "q3": {"x", "y"}}
	first := draw(picks, pools, options, true, true, 42)
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
	if again := draw(picks, pools, options, true, true, 42); !slices.EqualFunc(first, again, func(a, b Drawn) bool {
		return a.Question == b.Question && slices.Equal(a.Options, b.Options)
	}) {
		t.Errorf("same seed, other draw:\n%v\n%v", first, again)
	}
	differs := false
	for seed := range uint64(20) {
		other := draw(picks, pools, options, true, true, seed+100)
		if !slices.EqualFunc(first, other, func(a, b Drawn) bool { return a.Question == b.Question }) {
			differs = true
		}
	}
	if !differs {
		t.Error("20 other seeds all drew the same questions in the same order")
	}
	plain := draw(picks[:1], pools[:1], options, false, false, 7)
	if plain[0].Question != "q1" || !slices.Equal(plain[0].Options, []string{"a", "b", "c", "d"}) {
		t.Errorf("without shuffling: %v", plain)
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
		{FeedbackImmediate, true, time.Time{}, Reveal{PerQuestion: true, Keys: true}},
		{FeedbackAfterSubmit, false, time.Time{}, Reveal{}},
		{FeedbackAfterSubmit, true, time.Time{}, Reveal{Keys: true}},
		{FeedbackAfterDue, true, future, Reveal{}},
		{FeedbackAfterDue, true, past, Reveal{Keys: true}},
		{FeedbackAfterDue, true, time.Time{}, Reveal{}},
		{FeedbackAfterDue, false, past, Reveal{}},
		{FeedbackNever, true, past, Reveal{}},
	}
	for _, tt := range tests {
		if got := reveal(tt.policy, tt.submitted, tt.due, now); got != tt.want {
			t.Errorf("reveal(%s, submitted %v, due %v) = %+v, want %+v", tt.policy, tt.submitted, tt.due, got, tt.want)
		}
	}
}
