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

// FeedbackPolicy says when a learner sees what was right: the keys, the
// per-option feedback and the score (see reveal).
type FeedbackPolicy string

// Feedback policies.
const (
	FeedbackImmediate   FeedbackPolicy = "immediate"    // after each answer
	FeedbackAfterSubmit FeedbackPolicy = "after-submit" // once the attempt is submitted
	FeedbackAfterDue    FeedbackPolicy = "after-due"    // once the quiz's due date has passed
	FeedbackNever       FeedbackPolicy = "never"        // not to the learner: only staff see results
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
// with its items in the order shown.
type Drawn struct {
	Question string
	Options  []string // option IDs, in the order shown
	// Matches are a matching question's match IDs in the order shown;
	// nil in attempts started before the order was kept (see shownOrder).
	Matches []string
}

// draw picks an attempt's questions from pool reproducibly: the same seed
// draws the same questions in the same order, so an attempt resumed on
// another device, or scored again, sees what it saw. pools[i] lists the
// question keys Pick i may draw from (for a fixed pick, its questions in
// order), already filtered by its tags; questions holds every question a
// pool names.
//
// Options are shuffled if the quiz says so. Ordering and matching
// questions are shuffled whatever it says, since their authored order is
// their key (ordering options are written in the right order, matches
// often beside the options they pair with): their items are drawn again
// until the order shown is not the key (see shuffleAway).
func draw(picks []Pick, pools [][]string, questions map[string]Question, shuffleQuestions, shuffleOptions bool, seed uint64) []Drawn {
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
		shuffle(rng, pool)
		for _, q := range pool[:min(p.Count, len(pool))] {
			ids, taken[q] = append(ids, q), true
		}
	}
	if shuffleQuestions {
		shuffle(rng, ids)
	}
	out := make([]Drawn, len(ids))
	for i, key := range ids {
		q := questions[key]
		d := Drawn{Question: key, Options: q.optionIDs()}
		switch {
		case q.Type == TypeOrdering:
			shuffleAway(rng, d.Options, func(o []string) bool { return inKeyOrder(q, o) })
		case shuffleOptions:
			shuffle(rng, d.Options)
		}
		if q.Type == TypeMatching {
			d.Matches = matchOrder(rng, q, d.Options)
		}
		out[i] = d
	}
	return out
}

func shuffle(rng *rand.Rand, s []string) {
	rng.Shuffle(len(s), func(a, b int) { s[a], s[b] = s[b], s[a] })
}

// shuffleAway shuffles items until isKey no longer holds of their order.
// When another order exists (two items or more), that takes two tries on
// average; after 64 in vain (a chance below 2^-64) it reverses them,
// which no key of two distinct items or more survives.
func shuffleAway(rng *rand.Rand, items []string, isKey func([]string) bool) {
	shuffle(rng, items)
	for try := 0; try < 64 && isKey(items); try++ {
		shuffle(rng, items)
	}
	if isKey(items) {
		slices.Reverse(items)
	}
}

// inKeyOrder reports whether options, the option IDs of an ordering
// question in the order shown, are in the right order.
func inKeyOrder(q Question, options []string) bool {
	return slices.Equal(options, q.optionIDs())
}

// matchOrder is the order to show a matching question's matches in,
// beside its options shown in the order options: shuffled until they no
// longer line up with the options they pair with (see pairOrder).
func matchOrder(rng *rand.Rand, q Question, options []string) []string {
	ids := make([]string, len(q.Matches))
	for i, m := range q.Matches {
		ids[i] = m.ID
	}
	shuffleAway(rng, ids, func(m []string) bool { return pairOrder(q.Pairs, options, m) })
	return ids
}

// pairOrder reports whether matches, shown beside options, list the
// options' pairs in the options' order, the unpaired matches aside: the
// key, read off by position.
func pairOrder(pairs map[string]string, options, matches []string) bool {
	var want []string
	paired := map[string]bool{}
	for _, o := range options {
		if m, ok := pairs[o]; ok {
			want, paired[m] = append(want, m), true
		}
	}
	got := slices.DeleteFunc(slices.Clone(matches), func(m string) bool { return !paired[m] })
	return slices.Equal(got, want)
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

// Reveal is what a learner may see of an attempt's keys, feedback and
// score.
type Reveal struct {
	// PerQuestion: each saved answer's result and feedback, at once.
	PerQuestion bool
	// Keys: the correct answers and all feedback of the attempt.
	Keys bool
	// Score: the attempt's score, maximum and pass, and what is made of
	// scores (grade, pass, mastery, gain). A score is a key too: a learner
	// allowed many attempts could answer one question per attempt and
	// read its key off the score.
	Score bool
}

// reveal applies a feedback policy. Nothing is revealed of an attempt
// still open unless the policy is immediate; the keys and the score of a
// submitted attempt come after submission, after the due date (no due
// date: never), or never.
func reveal(p FeedbackPolicy, submitted bool, due, now time.Time) Reveal {
	switch p {
	case FeedbackImmediate:
		return Reveal{PerQuestion: true, Keys: submitted, Score: submitted}
	case FeedbackAfterSubmit:
		return Reveal{Keys: submitted, Score: submitted}
	case FeedbackAfterDue:
		open := submitted && !due.IsZero() && !now.Before(due)
		return Reveal{Keys: open, Score: open}
	}
	return Reveal{}
}
