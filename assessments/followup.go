package assessments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pathways-lms/pathways"
)

// A submit is one write of the attempt: scored, closed, and with its
// follow-up queued (Attempt.FollowUp), the outbox entry that lives in the
// attempt itself so no crash can separate the two. The follow-up counts
// the attempt in the learner's record and in the item statistics, then
// clears the entry by compare-and-swap. It is applied right after the
// submit, in the background (nudge), and by the worker (RunFollowUps),
// which lists pending follow-ups through an index; reads that show what
// a follow-up writes (Progress, QuizStats) apply the pending ones they
// depend on first. Any number of them may run at once, on any instances,
// or again after a crash, and each attempt is counted exactly once:
//
//   - the record counts an attempt once: its summary's Submitted is set
//     by the count, and a summary already submitted is left alone;
//   - a statistics shard remembers, in Applied, the attempts it has
//     added, and adds none twice. An entry is forgotten only once its
//     attempt's follow-up is cleared and the entry is older than
//     appliedKeep: a follow-up runs within followUpTimeout of reading its
//     attempt, so none that read the attempt still pending can be about to
//     add it again by then.

const (
	// followUpTimeout bounds one follow-up's run.
	followUpTimeout = time.Minute
	// appliedKeep is how long a shard remembers an applied attempt at
	// least; far longer than followUpTimeout.
	appliedKeep = time.Hour
	// followUpQuiet is the age below which the worker leaves a follow-up
	// to the nudge of its submit.
	followUpQuiet = 5 * time.Second
	// FollowUpInterval is how often the worker looks for pending
	// follow-ups.
	FollowUpInterval = 30 * time.Second
	// pruneMost bounds the old Applied entries one follow-up checks.
	pruneMost = 20
	// settleMost bounds the unsubmitted attempts of a record Progress
	// looks at for a pending follow-up (the latest ones).
	settleMost = 3
)

// nudge applies a's pending follow-up in the background, if a slot is
// free; otherwise, or if it fails, the worker applies it later.
func (s *Service) nudge(ctx context.Context, a Attempt) {
	select {
	case s.nudges <- struct{}{}:
	default:
		return // busy: the worker takes it
	}
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer func() { <-s.nudges }()
		if err := s.followUp(context.WithoutCancel(ctx), a); err != nil {
			s.log.WarnContext(ctx, "attempt submitted, follow-up left to the worker", "attempt", a.ID, "error", err)
		}
	}()
}

// Wait returns once the follow-ups started in the background are done:
// call it before closing the store.
func (s *Service) Wait() { s.running.Wait() }

// RunFollowUps applies pending follow-ups every interval until ctx ends,
// logging what it applied and what failed (retried at the next run).
func (s *Service) RunFollowUps(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.FollowUps(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("follow-ups failed", slog.Int("applied", n), slog.Any("error", err))
		case n > 0:
			s.log.Info("follow-ups applied", slog.Int("applied", n))
		}
	}
}

// FollowUps applies the follow-ups pending for longer than a moment, up
// to 10 pages of them, and returns how many it applied; an error stops
// it (what is left waits for the next run).
func (s *Service) FollowUps(ctx context.Context) (int, error) {
	applied := 0
	for range 10 {
		page, err := s.store.FollowUps(ctx, s.now().Add(-followUpQuiet), 100)
		if err != nil {
			return applied, err
		}
		for _, a := range page {
			if err := s.followUp(ctx, a); err != nil {
				return applied, err
			}
			applied++
		}
		if len(page) < 100 {
			break
		}
	}
	return applied, nil
}

// followUp counts the submitted attempt a, as read with its follow-up
// pending, in its learner's record and its statistics shard, then clears
// the follow-up. Repeated or concurrent, it counts a once.
func (s *Service) followUp(ctx context.Context, a Attempt) error {
	if a.FollowUp.IsZero() || a.Open() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, followUpTimeout)
	defer cancel()
	p, err := s.version(ctx, a.QuizID, a.Version)
	if err != nil {
		return fmt.Errorf("follow-up of %s: %w", a.ID, err)
	}
	if err := s.countInRecord(ctx, p, a); err != nil {
		return fmt.Errorf("follow-up of %s: record: %w", a.ID, err)
	}
	shard := int(a.Seed % StatsShards)
	var old []string // Applied entries old enough to forget, if cleared
	if err := s.store.UpdateStats(ctx, a.QuizID, a.Version, a.OrgID, shard, func(st *Stats) error {
		old = old[:0]
		for id, at := range st.Applied {
			if id != a.ID && at.Before(s.now().Add(-appliedKeep)) && len(old) < pruneMost {
				old = append(old, id)
			}
		}
		if _, done := st.Applied[a.ID]; done {
			return ErrNoChange
		}
		addStats(st, a)
		if st.Applied == nil {
			st.Applied = map[string]time.Time{}
		}
		st.Applied[a.ID] = s.now().UTC()
		return nil
	}); err != nil {
		return fmt.Errorf("follow-up of %s: statistics: %w", a.ID, err)
	}
	if _, err := s.store.UpdateAttempt(ctx, a.ID, func(d *Attempt) error {
		if d.FollowUp.IsZero() {
			return ErrNoChange
		}
		d.FollowUp = time.Time{}
		return nil
	}); err != nil {
		return fmt.Errorf("follow-up of %s: clear: %w", a.ID, err)
	}
	return s.forget(ctx, a, shard, old)
}

// forget drops from a's statistics shard the Applied entries of old whose
// attempts' follow-ups are cleared (or that are gone).
func (s *Service) forget(ctx context.Context, a Attempt, shard int, old []string) error {
	var gone []string
	for _, id := range old {
		b, err := s.store.Attempt(ctx, id)
		switch {
		case errors.Is(err, pathways.ErrNotFound) || (err == nil && b.FollowUp.IsZero()):
			gone = append(gone, id)
		case err != nil:
			return fmt.Errorf("follow-up of %s: forget %s: %w", a.ID, id, err)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	err := s.store.UpdateStats(ctx, a.QuizID, a.Version, a.OrgID, shard, func(st *Stats) error {
		for _, id := range gone {
			delete(st.Applied, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("follow-up of %s: forget: %w", a.ID, err)
	}
	return nil
}

// countInRecord counts the submitted attempt a of version p in its
// learner's record, once: a summary already submitted is left alone.
func (s *Service) countInRecord(ctx context.Context, p *published, a Attempt) error {
	var gain *float64
	if p.Quiz.Kind == KindPosttest && a.Max > 0 {
		if pre, err := s.settled(ctx, a.LearnerID, p.Quiz.Pretest); err == nil {
			if first := firstSubmitted(pre.Attempts); first != nil && first.Max > 0 {
				g := a.Score/a.Max - first.Score/first.Max
				gain = &g
			}
		}
	}
	_, err := s.store.UpdateRecord(ctx, a.LearnerID, a.QuizID, func(r *Record) error {
		i := slices.IndexFunc(r.Attempts, func(sum AttemptSummary) bool { return sum.ID == a.ID })
		switch {
		case i >= 0 && !r.Attempts[i].Submitted.IsZero():
			return ErrNoChange // counted
		case i < 0: // a record made before it listed its attempts
			if r.OrgID == "" {
				r.OrgID = a.OrgID
			}
			r.Attempts = append(r.Attempts, AttemptSummary{ID: a.ID, Version: a.Version, Number: a.Number, Started: a.Started})
			i = len(r.Attempts) - 1
		}
		r.Attempts[i].Submitted, r.Attempts[i].Score, r.Attempts[i].Max = a.Submitted, a.Score, a.Max
		if p.Quiz.Kind == KindPractice {
			for _, dr := range a.Drawn {
				r.History = append(r.History, a.Results[dr.Question].Correct)
			}
			r.History = r.History[max(0, len(r.History)-MaxHistory):]
			r.Mastered = r.Mastered || mastered(p.Quiz.Mastery, r.History)
		}
		if gain != nil {
			r.Gain = gain
		}
		r.Updated = s.now().UTC()
		return nil
	})
	return err
}

// settled reads a learner's record at a quiz after applying the pending
// follow-ups of its latest unsubmitted attempts, so that what a learner
// just submitted shows; ErrNotFound before their first attempt.
func (s *Service) settled(ctx context.Context, learnerID, quizID string) (Record, error) {
	r, err := s.store.Record(ctx, learnerID, quizID)
	if err != nil {
		return Record{}, err
	}
	return s.settle(ctx, r)
}

// settle is record r with the pending follow-ups of its attempts applied
// (as settled does), read again if any was.
func (s *Service) settle(ctx context.Context, r Record) (Record, error) {
	applied, looked := false, 0
	for _, sum := range slices.Backward(r.Attempts) {
		if !sum.Submitted.IsZero() {
			continue
		}
		if looked++; looked > settleMost {
			break
		}
		a, err := s.store.Attempt(ctx, sum.ID)
		if err != nil || a.FollowUp.IsZero() {
			continue // open, or its attempt not stored yet
		}
		if err := s.followUp(ctx, a); err != nil {
			return Record{}, err
		}
		applied = true
	}
	if !applied {
		return r, nil
	}
	return s.store.Record(ctx, r.LearnerID, r.QuizID)
}

// settleStats applies the pending follow-ups of attempts at quiz version
// n, so that a report shows what was just submitted: a bounded page of
// the pending follow-ups (the rest is the worker's).
func (s *Service) settleStats(ctx context.Context, quizID string, n int) error {
	page, err := s.store.FollowUps(ctx, s.now().Add(time.Second), 100)
	if err != nil {
		return err
	}
	for _, a := range page {
		if a.QuizID == quizID && a.Version == n {
			if err := s.followUp(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}
