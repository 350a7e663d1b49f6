package learning

import (
	"context"
	"fmt"
)

// Export is a learner's learning data, for their data-rights export:
// the courses on their list and their progress in each, reflections
// included.
type Export struct {
	Enrolments []Enrolment
	Progress   []Progress
}

// ExportLearner returns what learning keeps about a learner. No access
// check: package rights decides who may ask.
func (s *Service) ExportLearner(ctx context.Context, learnerID string) (Export, error) {
	list, err := s.store.Enrolments(ctx, learnerID)
	if err != nil {
		return Export{}, fmt.Errorf("export enrolments of %s: %w", learnerID, err)
	}
	out := Export{Enrolments: list, Progress: []Progress{}}
	for _, e := range list {
		p, err := s.store.Progress(ctx, learnerID, e.CourseID)
		if err != nil {
			continue // enrolled, nothing done yet
		}
		p.Recent = nil // event ids: bookkeeping, not the learner's data
		out.Progress = append(out.Progress, p)
	}
	return out, nil
}

// ForgetLearner deletes a learner's progress (reflections with it) and
// their list of courses; assignments naming them stay, for the others.
// It is idempotent.
func (s *Service) ForgetLearner(ctx context.Context, learnerID string) error {
	list, err := s.store.Enrolments(ctx, learnerID)
	if err != nil {
		return fmt.Errorf("forget enrolments of %s: %w", learnerID, err)
	}
	for _, e := range list {
		if err := s.store.DeleteProgress(ctx, learnerID, e.CourseID); err != nil {
			return fmt.Errorf("forget progress of %s in %s: %w", learnerID, e.CourseID, err)
		}
	}
	if err := s.store.DropEnrolments(ctx, learnerID); err != nil {
		return fmt.Errorf("forget enrolments of %s: %w", learnerID, err)
	}
	return nil
}
