package assessments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Standing is a learner's result at one quiz as other domains count it
// (learning's completion rule, educators' reports): no access check of
// its own, so callers check who asks. Hidden says the quiz's policy keeps
// scores from the learner now; a rule the learner sees the outcome of
// must then not depend on Passed, or its outcome would tell them what the
// policy hides.
type Standing struct {
	QuizID    string
	Kind      Kind
	PassMark  float64
	Offline   bool // may be answered offline (OfflineAllowed)
	Hidden    bool
	Started   int // attempts started
	Submitted int // attempts submitted
	// Grade is the share of the maximum by the quiz's grade method, nil
	// before a scored attempt is submitted.
	Grade *float64
	// Passed: the grade reaches the pass mark (false without one).
	Passed bool
	// DoneAt is when the learner first met the quiz's requirement: the
	// first submit for a quiz without pass mark (or with hidden scores),
	// the submit that reached the pass mark otherwise; zero if not met.
	DoneAt time.Time
	// WrongRun is how many of the learner's latest practice answers were
	// wrong in a row.
	WrongRun int
	Mastered bool
	Last     time.Time // the latest start or submit
}

// Standing returns learnerID's standing at quiz quizID (its latest
// version), with their pending follow-ups applied. A quiz never started
// has a Standing with no attempts; a quiz that does not exist or was
// never published is ErrNotFound.
func (s *Service) Standing(ctx context.Context, learnerID, quizID string) (Standing, error) {
	q, err := s.store.Quiz(ctx, quizID)
	if err != nil {
		return Standing{}, fmt.Errorf("standing at %s: %w", quizID, err)
	}
	if q.Published == 0 {
		return Standing{}, fmt.Errorf("standing at %s: not published: %w", quizID, pathways.ErrNotFound)
	}
	p, err := s.version(ctx, quizID, q.Published)
	if err != nil {
		return Standing{}, err
	}
	r, err := s.settled(ctx, learnerID, quizID)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return Standing{}, err
	}
	return standingOf(p.Quiz, r, !s.scoresShown(p.Quiz)), nil
}

func standingOf(q Quiz, r Record, hidden bool) Standing {
	st := Standing{QuizID: q.ID, Kind: q.Kind, PassMark: q.PassMark, Offline: q.OfflineAllowed(), Hidden: hidden,
		Started: len(r.Attempts), Mastered: r.Mastered}
	var graded []Graded
	for _, a := range r.Attempts {
		st.Last = later(st.Last, a.Started)
		if a.Submitted.IsZero() {
			continue
		}
		st.Submitted++
		st.Last = later(st.Last, a.Submitted)
		if a.Max > 0 {
			graded = append(graded, Graded{Score: a.Score / a.Max, Submitted: a.Submitted})
		}
	}
	if g, ok := grade(q.Grade, graded); ok {
		st.Grade = &g
		st.Passed = q.PassMark > 0 && g >= q.PassMark-1e-9
	}
	st.DoneAt = doneAt(q, r, graded, hidden)
	for i := len(r.History) - 1; i >= 0 && !r.History[i]; i-- {
		st.WrongRun++
	}
	return st
}

// doneAt is when the learner met q's requirement (see Standing.DoneAt):
// the earliest submit after which the grade, by the quiz's method over
// the attempts submitted so far, reached the pass mark.
func doneAt(q Quiz, r Record, graded []Graded, hidden bool) time.Time {
	var first time.Time
	for _, a := range r.Attempts {
		if !a.Submitted.IsZero() && (first.IsZero() || a.Submitted.Before(first)) {
			first = a.Submitted
		}
	}
	if q.PassMark <= 0 || hidden || q.Kind == KindSurvey {
		return first
	}
	var done time.Time
	for _, cut := range graded {
		var upTo []Graded
		for _, g := range graded {
			if !g.Submitted.After(cut.Submitted) {
				upTo = append(upTo, g)
			}
		}
		if g, ok := grade(q.Grade, upTo); ok && g >= q.PassMark-1e-9 && (done.IsZero() || cut.Submitted.Before(done)) {
			done = cut.Submitted
		}
	}
	return done
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Outcome is what a synced write did: Applied, or Duplicate when it had
// been applied before (a resent event).
type Outcome int

// Outcomes of a synced write.
const (
	Applied Outcome = iota + 1
	Duplicate
)

// offlineAttempt returns the actor's own attempt at a quiz that may be
// answered offline: anyone else's is ErrNotFound, one of a quiz that is
// online only a validation error (CodeTimedOnline on attemptId).
func (s *Service) offlineAttempt(ctx context.Context, actor accounts.Actor, attemptID string) (Attempt, error) {
	a, p, err := s.own(ctx, actor, attemptID)
	if err != nil {
		return Attempt{}, err
	}
	if !p.Quiz.OfflineAllowed() {
		return Attempt{}, pathways.Invalid("attemptId", CodeTimedOnline)
	}
	return a, nil
}

// SyncAnswer saves an answer made offline (see SaveAnswer), reporting a
// save it had already (same answerID) as Duplicate, even once the
// attempt is submitted: a device that resends its queue must not be told
// its answer was refused.
func (s *Service) SyncAnswer(ctx context.Context, actor accounts.Actor, attemptID, key, answerID string, raw []byte) (Outcome, error) {
	a, err := s.offlineAttempt(ctx, actor, attemptID)
	if err != nil {
		return 0, err
	}
	if sv, ok := a.Answers[key]; ok && sv.AnswerID == answerID {
		return Duplicate, nil
	}
	if _, err := s.SaveAnswer(ctx, actor, attemptID, key, answerID, raw); err != nil {
		return 0, err
	}
	return Applied, nil
}

// SyncSubmit submits an attempt answered offline; one already submitted
// is Duplicate.
func (s *Service) SyncSubmit(ctx context.Context, actor accounts.Actor, attemptID string) (Outcome, error) {
	a, err := s.offlineAttempt(ctx, actor, attemptID)
	if err != nil {
		return 0, err
	}
	if !a.Open() {
		return Duplicate, nil
	}
	if _, err := s.SubmitAttempt(ctx, actor, attemptID); err != nil {
		return 0, err
	}
	return Applied, nil
}
