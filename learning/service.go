package learning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
)

// Service is the learning domain: assignments, enrolment, progress, sync.
type Service struct {
	store   Store
	acc     *accounts.Service
	courses *courses.Service
	assess  *assessments.Service
	now     func() time.Time
	log     *slog.Logger
	// completed, if set, is told of each course completion once it is
	// recorded (certificates are issued from it).
	completed func(ctx context.Context, p Progress) error
}

// NewService returns the learning service on store, reading groups from
// acc, course versions from crs and quiz results from assess.
func NewService(store Store, acc *accounts.Service, crs *courses.Service, assess *assessments.Service, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, acc: acc, courses: crs, assess: assess, now: now, log: log}
}

// OnComplete registers fn to run when a learner's completion of a course
// is recorded. It runs after the write, again on a later read if it
// failed (a progress records whether it ran: see Progress.Awarded), so fn
// must be idempotent.
func (s *Service) OnComplete(fn func(ctx context.Context, p Progress) error) { s.completed = fn }

// asLearner is an actor who is a learner of orgID, for the question "may
// the learners of this organisation read that course?".
func asLearner(orgID string) accounts.Actor {
	return accounts.Actor{OrgID: orgID, Role: accounts.RoleLearner}
}

// release reads version n of a course (0: the latest) as a learner of
// orgID may read it.
func (s *Service) release(ctx context.Context, orgID, courseID string, n int) (courses.Release, error) {
	r, err := s.courses.Release(ctx, asLearner(orgID), courseID, n)
	if err != nil {
		return courses.Release{}, fmt.Errorf("course %s: %w", courseID, err)
	}
	return r, nil
}

// quizDone is the requirement of each quiz of rule r for a learner (see
// completedAt): a scored quiz with a pass mark is required; it is done
// when assessments says so (by its pass mark, or by a submit when the
// quiz hides scores). A quiz that cannot be read is not required: a
// trainer's mistake must not hold every learner back.
func (s *Service) quizDone(ctx context.Context, learnerID string, r Rule) (map[string]QuizDone, map[string]assessments.Standing, error) {
	out := make(map[string]QuizDone, len(r.Quizzes))
	standings := make(map[string]assessments.Standing, len(r.Quizzes))
	for _, id := range r.Quizzes {
		st, err := s.assess.Standing(ctx, learnerID, id)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue
		case err != nil:
			return nil, nil, err
		}
		standings[id] = st
		required := st.PassMark > 0 && (st.Kind == assessments.KindQuiz || st.Kind == assessments.KindPosttest)
		out[id] = QuizDone{Required: required, DoneAt: st.DoneAt}
	}
	return out, standings, nil
}

// settle records a completion that the rule shows but the progress does
// not yet (the last quiz was passed outside a sync), and runs the
// completion hook that has not run. It returns the progress as stored.
func (s *Service) settle(ctx context.Context, p Progress, r Rule, quizzes map[string]QuizDone) (Progress, error) {
	at := completedAt(p, r, quizzes)
	if !p.Completed.IsZero() || at.IsZero() {
		return s.award(ctx, p)
	}
	p, err := s.store.UpdateProgress(ctx, p.LearnerID, p.CourseID, nil, func(d *Progress) error {
		if !d.Completed.IsZero() {
			return nil
		}
		d.Completed = at
		d.Updated = s.now()
		return nil
	})
	if err != nil {
		return Progress{}, fmt.Errorf("record completion of %s: %w", p.CourseID, err)
	}
	return s.award(ctx, p)
}

// award runs the completion hook of a completed progress once.
func (s *Service) award(ctx context.Context, p Progress) (Progress, error) {
	if p.Completed.IsZero() || p.Awarded || s.completed == nil {
		return p, nil
	}
	if err := s.completed(ctx, p); err != nil {
		// The completion stands; the award is tried again at the next read.
		s.log.Warn("completion hook failed", slog.String("learner", p.LearnerID), slog.String("course", p.CourseID), slog.Any("error", err))
		return p, nil
	}
	q, err := s.store.UpdateProgress(ctx, p.LearnerID, p.CourseID, nil, func(d *Progress) error {
		d.Awarded = true
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("record award of %s: %w", p.CourseID, err)
	}
	return q, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
