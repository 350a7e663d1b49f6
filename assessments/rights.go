package assessments

import (
	"context"
	"errors"
	"fmt"

	"github.com/pathways-lms/pathways"
)

// A learner's data rights (package rights carries them out): their
// export holds their attempts as they may see them; their erasure deletes
// their attempts (answers, free text included) and records, and leaves
// the item statistics, which are anonymous sums.

// LearnerData is a learner's share of assessments in their export.
type LearnerData struct {
	// Attempts are the learner's attempts as they may see them (the
	// feedback policy decides what of scores and keys shows), grouped by
	// quiz in quiz id order, oldest attempt first.
	Attempts []AttemptView `json:"attempts"`
	// Standing is their standing at each quiz, as Progress shows it.
	Standing []Progress `json:"standing"`
}

// eraseBatch is how many records one erasure step reads at a time.
const eraseBatch = 100

// ExportLearner returns learner learnerID's attempts and standing, in
// their own view, in the languages wanted; the caller (package rights)
// has checked who asks. A quiz that can no longer be read (deleted) is
// left out.
func (s *Service) ExportLearner(ctx context.Context, learnerID string, wanted []string) (LearnerData, error) {
	out := LearnerData{Attempts: []AttemptView{}, Standing: []Progress{}}
	for p := (pathways.Page{Limit: eraseBatch}); ; p.Offset += eraseBatch {
		records, err := s.store.Records(ctx, learnerID, p)
		if err != nil {
			return LearnerData{}, fmt.Errorf("export attempts of %s: %w", learnerID, err)
		}
		for _, r := range records {
			if err := s.exportRecord(ctx, r, wanted, &out); err != nil {
				return LearnerData{}, fmt.Errorf("export attempts of %s: %w", learnerID, err)
			}
		}
		if len(records) < eraseBatch {
			return out, nil
		}
	}
}

func (s *Service) exportRecord(ctx context.Context, r Record, wanted []string, out *LearnerData) error {
	q, err := s.store.Quiz(ctx, r.QuizID)
	if errors.Is(err, pathways.ErrNotFound) || err == nil && q.Published == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	latest, err := s.version(ctx, q.ID, q.Published)
	if err != nil {
		return err
	}
	if r, err = s.settle(ctx, r); err != nil {
		return err
	}
	shown := s.scoresShown(latest.Quiz)
	gainShown := shown && latest.Quiz.Kind == KindPosttest && s.pretestShown(ctx, latest.Quiz.Pretest)
	out.Standing = append(out.Standing, standing(latest.Quiz, r, shown, gainShown))
	for _, sum := range r.Attempts {
		a, err := s.store.Attempt(ctx, sum.ID)
		if errors.Is(err, pathways.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		p, err := s.version(ctx, a.QuizID, a.Version)
		if err != nil {
			return err
		}
		out.Attempts = append(out.Attempts, s.render(p, a, wanted, false))
	}
	return nil
}

// ForgetLearner deletes learner learnerID's attempts and records. Pending
// follow-ups are applied first, so the item statistics count what the
// learner submitted, without them. It is idempotent: run again after a
// crash, it finishes the job.
func (s *Service) ForgetLearner(ctx context.Context, learnerID string) error {
	for {
		records, err := s.store.Records(ctx, learnerID, pathways.Page{Limit: eraseBatch})
		if err != nil {
			return fmt.Errorf("erase attempts of %s: %w", learnerID, err)
		}
		if len(records) == 0 {
			return nil
		}
		for _, r := range records {
			if r, err = s.settle(ctx, r); err != nil {
				return fmt.Errorf("erase attempts of %s: %w", learnerID, err)
			}
			for _, sum := range r.Attempts {
				if err := s.store.DeleteAttempt(ctx, sum.ID); err != nil && !errors.Is(err, pathways.ErrNotFound) {
					return fmt.Errorf("erase attempts of %s: %w", learnerID, err)
				}
			}
			if err := s.store.DeleteRecord(ctx, learnerID, r.QuizID); err != nil && !errors.Is(err, pathways.ErrNotFound) {
				return fmt.Errorf("erase attempts of %s: %w", learnerID, err)
			}
		}
	}
}
