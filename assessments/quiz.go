// Package assessments owns questions, question banks, quizzes, practice
// exercises and surveys, learners' attempts and their scoring, feedback and
// results. Scoring happens here and only here, on the server; what a
// learner may see of answer keys and feedback is decided here too, by the
// quiz's feedback policy.
//
// Every text is a message ID with translations per locale, as in courses.
// Quizzes are published as immutable numbered versions holding the
// questions they draw from (copied from the banks at publishing), so an
// attempt is always scored against the version it was taken on.
package assessments

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Kind is what a quiz is for.
type Kind string

// Quiz kinds.
const (
	KindQuiz     Kind = "quiz"     // scored, with a pass mark
	KindPractice Kind = "practice" // scored, repeated until mastery
	KindSurvey   Kind = "survey"   // unscored: needs assessment, evaluation
	KindPretest  Kind = "pretest"  // scored knowledge test before a course
	KindPosttest Kind = "posttest" // the same after it; the difference is kept per learner
)

// FeedbackPolicy says when a learner sees what was right, the keys and
// the per-option feedback.
type FeedbackPolicy string

// Feedback policies.
const (
	FeedbackImmediate   FeedbackPolicy = "immediate"    // after each answer
	FeedbackAfterSubmit FeedbackPolicy = "after-submit" // once the attempt is submitted
	FeedbackAfterDue    FeedbackPolicy = "after-due"    // once the quiz's due date has passed
	FeedbackNever       FeedbackPolicy = "never"        // only the score
)

// GradeMethod says which attempts make a learner's grade.
type GradeMethod string

// Grade methods.
const (
	GradeHighest GradeMethod = "highest"
	GradeLatest  GradeMethod = "latest"
	GradeAverage GradeMethod = "average"
	GradeFirst   GradeMethod = "first"
)

// Pick draws questions from a bank into a quiz: the named questions, or
// Count questions at random from those with all of Tags (and Difficulty,
// if set).
type Pick struct {
	Bank       string
	Questions  []string // fixed: these question IDs, in this order
	Tags       []string // random: questions carrying every tag
	Difficulty int      // random: 1 (easy) to 5 (hard); 0 for any
	Count      int      // random: how many
}

// Mastery is Kolibri's rule for practice: M correct of the last N answers.
type Mastery struct{ M, N int }

// Drawn is one question of an attempt, in the order the learner sees it,
// with its options in the order shown (shuffled if the quiz says so).
type Drawn struct {
	Question string
	Options  []string
}

// draw picks an attempt's questions from pool reproducibly: the same seed
// draws the same questions in the same order, so an attempt resumed on
// another device, or scored again, sees what it saw. pools[i] lists the
// question keys Pick i may draw from (for a fixed pick, its questions in
// order), already filtered by its tags;
// options gives each question's option IDs in authored order.
func draw(picks []Pick, pools [][]string, options map[string][]string, shuffleQuestions, shuffleOptions bool, seed uint64) []Drawn {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var ids []string
	taken := map[string]bool{}
	for i, p := range picks {
		if len(p.Questions) > 0 { // fixed: the pool lists them, in order
			for _, q := range pools[i] {
				if !taken[q] {
					ids, taken[q] = append(ids, q), true
				}
			}
			continue
		}
		pool := slices.DeleteFunc(slices.Clone(pools[i]), func(q string) bool { return taken[q] })
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		for _, q := range pool[:min(p.Count, len(pool))] {
			ids, taken[q] = append(ids, q), true
		}
	}
	if shuffleQuestions {
		rng.Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
	}
	out := make([]Drawn, len(ids))
	for i, q := range ids {
		opts := slices.Clone(options[q])
		if shuffleOptions {
			rng.Shuffle(len(opts), func(a, b int) { opts[a], opts[b] = opts[b], opts[a] })
		}
		out[i] = Drawn{Question: q, Options: opts}
	}
	return out
}

// Graded is one submitted attempt's score as a share of the maximum.
type Graded struct {
	Score     float64 // 0..1
	Submitted time.Time
}

// grade combines a learner's submitted attempts by method; ok is false
// when there are none.
func grade(method GradeMethod, attempts []Graded) (score float64, ok bool) {
	if len(attempts) == 0 {
		return 0, false
	}
	byTime := slices.Clone(attempts)
	slices.SortStableFunc(byTime, func(a, b Graded) int { return a.Submitted.Compare(b.Submitted) })
	switch method {
	case GradeLatest:
		return byTime[len(byTime)-1].Score, true
	case GradeFirst:
		return byTime[0].Score, true
	case GradeAverage:
		var sum float64
		for _, a := range byTime {
			sum += a.Score
		}
		return sum / float64(len(byTime)), true
	}
	best := byTime[0].Score
	for _, a := range byTime[1:] {
		best = max(best, a.Score)
	}
	return best, true
}

// mastered applies a mastery rule to a learner's answers to a practice
// exercise, oldest first: at least M of the last N correct.
func mastered(rule Mastery, correct []bool) bool {
	if rule.N <= 0 || rule.M <= 0 || len(correct) < rule.M {
		return false
	}
	last := correct[max(0, len(correct)-rule.N):]
	n := 0
	for _, c := range last {
		if c {
			n++
		}
	}
	return n >= rule.M
}

// Reveal is what a learner may see of an attempt's keys and feedback.
type Reveal struct {
	// PerQuestion: each saved answer's result and feedback, at once.
	PerQuestion bool
	// Keys: the correct answers and all feedback of the attempt.
	Keys bool
}

// reveal applies a feedback policy. Nothing is revealed of an attempt
// still open unless the policy is immediate; the keys of a submitted
// attempt come after submission, after the due date (no due date: never),
// or never.
func reveal(p FeedbackPolicy, submitted bool, due, now time.Time) Reveal {
	switch p {
	case FeedbackImmediate:
		return Reveal{PerQuestion: true, Keys: submitted}
	case FeedbackAfterSubmit:
		return Reveal{Keys: submitted}
	case FeedbackAfterDue:
		return Reveal{Keys: submitted && !due.IsZero() && !now.Before(due)}
	}
	return Reveal{}
}
