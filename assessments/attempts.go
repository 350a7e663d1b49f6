package assessments

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Field error codes of the quiz and attempt rules (question codes are in
// question.go).
const (
	CodeUnknownBank     = "unknown_bank"
	CodeUnknownQuestion = "unknown_question"
	CodeNoQuestions     = "no_questions"
	CodeUnknownPretest  = "unknown_pretest" // Params: Value (the ID)
	CodeTimedOnline     = "timed_online"    // a timed quiz cannot be taken offline
)

// readable returns the latest version of a quiz the actor may take:
// members of the owning organisation, everyone for a shared quiz.
func (s *Service) readable(ctx context.Context, actor accounts.Actor, quizID string) (*published, error) {
	if !accounts.ValidID(quizID) {
		return nil, fmt.Errorf("quiz %q: %w", quizID, pathways.ErrNotFound)
	}
	q, err := s.store.Quiz(ctx, quizID)
	if err != nil {
		return nil, fmt.Errorf("quiz %s: %w", quizID, err)
	}
	if q.Published == 0 || q.Archived {
		return nil, fmt.Errorf("quiz %s: %w", quizID, ErrNotPublished)
	}
	p, err := s.version(ctx, quizID, q.Published)
	if err != nil {
		return nil, err
	}
	if !mayTake(actor, p.Quiz) {
		return nil, fmt.Errorf("quiz %s: %w", quizID, pathways.ErrNotFound)
	}
	return p, nil
}

// StartAttempt begins an attempt at the latest version of a quiz, with
// the client's attempt ID, and returns it. A retry with the same ID
// returns the same attempt. A learner with an attempt still open at the
// quiz gets that one back instead, so they can go on from another device.
// It returns ErrAttemptLimit when the quiz's attempts are used up, and
// ErrNotFound (ErrNotPublished) for a quiz the learner may not take or
// that is not published.
func (s *Service) StartAttempt(ctx context.Context, actor accounts.Actor, quizID, attemptID string, wanted []string) (Attempt, bool, error) {
	if !accounts.ValidID(attemptID) {
		return Attempt{}, false, pathways.Invalid("id", codeAttemptID)
	}
	if prior, err := s.store.Attempt(ctx, attemptID); err == nil {
		if !isOwn(actor, prior) || prior.QuizID != quizID {
			return Attempt{}, false, fmt.Errorf("attempt %s: %w", attemptID, pathways.ErrConflict)
		}
		return prior, false, nil
	}
	p, err := s.readable(ctx, actor, quizID)
	if err != nil {
		return Attempt{}, false, err
	}
	now := s.now().UTC()
	rec, err := s.store.Record(ctx, actor.UserID, quizID)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return Attempt{}, false, fmt.Errorf("start attempt: %w", err)
	}
	for _, sum := range slices.Backward(rec.Attempts) {
		if sum.Submitted.IsZero() {
			if open, err := s.store.Attempt(ctx, sum.ID); err == nil && open.Open() && !s.expired(open) {
				return open, false, nil
			}
		}
	}
	a := Attempt{
		ID: attemptID, QuizID: quizID, Version: p.Number, LearnerID: actor.UserID, OrgID: actor.OrgID,
		Seed: newSeed(), Answers: map[string]Saved{}, Started: now,
		Locale: p.texts.Chain(wanted)[0],
	}
	if limit := p.Quiz.timeLimit(); limit > 0 {
		a.Deadline = now.Add(limit)
	}
	a.Drawn = draw(p.Quiz.Picks, p.Pools, p.Questions, p.Quiz.ShuffleQuestions, p.Quiz.ShuffleOptions, a.Seed)
	started, err := s.store.StartAttempt(ctx, a, func(r Record) error {
		if p.Quiz.AttemptLimit > 0 && len(r.Attempts) >= p.Quiz.AttemptLimit {
			return ErrAttemptLimit
		}
		if len(r.Attempts) >= MaxAttempts {
			return ErrAttemptLimit
		}
		return nil
	})
	if errors.Is(err, pathways.ErrConflict) && !errors.Is(err, ErrAttemptLimit) {
		if prior, gErr := s.store.Attempt(ctx, attemptID); gErr == nil && isOwn(actor, prior) {
			return prior, false, nil // a concurrent retry stored it first
		}
	}
	if err != nil {
		return Attempt{}, false, fmt.Errorf("start attempt at %s: %w", quizID, err)
	}
	return started, true, nil
}

const codeAttemptID = "id"

// newSeed is a new attempt's random seed, from the system's secure
// source. It is kept with the attempt, so the attempt shows the same draw
// and order on every device, and cannot be computed from anything the
// client chose (the attempt ID, which once seeded it, let a learner replay
// the draw and the authored order).
func newSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return binary.LittleEndian.Uint64(b[:])
}

// timedOut reports whether a closed attempt was closed because its time
// ran out (finish closes those at the end of the grace) rather than
// submitted.
func (a Attempt) timedOut() bool {
	return !a.Open() && !a.Deadline.IsZero() && a.Submitted.Equal(a.Deadline.Add(Grace))
}

// expired reports whether an attempt's time, grace included, is over.
func (s *Service) expired(a Attempt) bool {
	return !a.Deadline.IsZero() && s.now().After(a.Deadline.Add(Grace))
}

// own returns an attempt of the actor's; anyone else's is ErrNotFound.
func (s *Service) own(ctx context.Context, actor accounts.Actor, id string) (Attempt, *published, error) {
	if !accounts.ValidID(id) {
		return Attempt{}, nil, fmt.Errorf("attempt %q: %w", id, pathways.ErrNotFound)
	}
	a, err := s.store.Attempt(ctx, id)
	if err != nil {
		return Attempt{}, nil, fmt.Errorf("attempt %s: %w", id, err)
	}
	if !isOwn(actor, a) {
		return Attempt{}, nil, fmt.Errorf("attempt %s: %w", id, pathways.ErrNotFound)
	}
	p, err := s.version(ctx, a.QuizID, a.Version)
	if err != nil {
		return Attempt{}, nil, err
	}
	return a, p, nil
}

// MaxBatchAnswers is the most answers one SaveAnswers call takes: every
// question of the largest attempt.
const MaxBatchAnswers = MaxDrawn

// AnswerSave is one answer of a SaveAnswers batch: the question's key,
// the client's ID of the save and the answer as sent.
type AnswerSave struct {
	Key      string          `json:"key"`
	AnswerID string          `json:"answerId"`
	Answer   json.RawMessage `json:"answer"`
}

// SaveAnswer stores the learner's answer to one question of an open
// attempt (autosave). answerID is the client's ID of this save: saving it
// again changes nothing. The answer must have the shape of the question's
// type (a ValidationError otherwise) and name ordering and matching items
// by the IDs the attempt shows (see shownItems). After the time limit (and its
// grace) it returns ErrTimeUp, and the attempt is closed with the answers
// saved in time. It is one read and one conditional write of the attempt
// (none when the save is a repeat): the version comes from the cache of
// published versions, and the attempt returned is the one written.
func (s *Service) SaveAnswer(ctx context.Context, actor accounts.Actor, attemptID, key, answerID string, raw []byte) (Attempt, error) {
	return s.saveAnswers(ctx, actor, attemptID, []AnswerSave{{Key: key, AnswerID: answerID, Answer: raw}}, false)
}

// SaveAnswers stores several answers of an open attempt at once (an
// offline or slow client sends a page in one request), with the rules of
// SaveAnswer for each, in one read and one conditional write for the
// whole batch: all are stored or none. A problem of one answer is a field
// error under "answers/<i>/…" (an unknown or repeated key under
// "answers/<i>/key"); a retried batch changes nothing.
func (s *Service) SaveAnswers(ctx context.Context, actor accounts.Actor, attemptID string, saves []AnswerSave) (Attempt, error) {
	v := &pathways.ValidationError{}
	if pathways.CheckCount(v, "answers", len(saves), MaxBatchAnswers) && len(saves) == 0 {
		v.Add("answers", pathways.CodeRequired, nil)
	}
	if err := v.Err(); err != nil {
		return Attempt{}, err
	}
	return s.saveAnswers(ctx, actor, attemptID, saves, true)
}

// saveAnswers is SaveAnswer (one save, batch false: an unknown key is
// ErrNotFound, problems are the answer's own) and SaveAnswers.
func (s *Service) saveAnswers(ctx context.Context, actor accounts.Actor, attemptID string, saves []AnswerSave, batch bool) (Attempt, error) {
	if !accounts.ValidID(attemptID) {
		return Attempt{}, fmt.Errorf("attempt %q: %w", attemptID, pathways.ErrNotFound)
	}
	timeUp := false
	a, err := s.store.UpdateAttempt(ctx, attemptID, func(d *Attempt) error {
		timeUp = false
		if !isOwn(actor, *d) {
			return fmt.Errorf("attempt %s: %w", attemptID, pathways.ErrNotFound)
		}
		p, err := s.version(ctx, d.QuizID, d.Version)
		if err != nil {
			return err
		}
		answers, err := decodeSaves(p, *d, saves, batch)
		if err != nil {
			return err
		}
		if !d.Open() {
			return ErrClosed
		}
		if s.expired(*d) {
			s.close(p, d)
			timeUp = true
			return nil
		}
		changed := false
		for i, sv := range saves {
			if prev, ok := d.Answers[sv.Key]; ok && prev.AnswerID == sv.AnswerID && sv.AnswerID != "" {
				continue // a repeated save
			}
			if d.Answers == nil {
				d.Answers = map[string]Saved{}
			}
			d.Answers[sv.Key] = Saved{AnswerID: sv.AnswerID, Answer: answers[i], Saved: s.now().UTC()}
			changed = true
		}
		if !changed {
			return ErrNoChange
		}
		return nil
	})
	if err != nil {
		return Attempt{}, err
	}
	if timeUp {
		s.nudge(ctx, a)
		return Attempt{}, ErrTimeUp
	}
	return a, nil
}

// decodeSaves decodes each save's answer against its question of a's
// version p, as shown in a, into the author's terms.
func decodeSaves(p *published, a Attempt, saves []AnswerSave, batch bool) ([]Answer, error) {
	out := make([]Answer, len(saves))
	v := &pathways.ValidationError{}
	seen := make(map[string]bool, len(saves))
	for i, sv := range saves {
		q, ok := p.Questions[sv.Key]
		j := slices.IndexFunc(a.Drawn, func(d Drawn) bool { return d.Question == sv.Key })
		at := fmt.Sprintf("answers/%d/", i)
		switch {
		case (!ok || j < 0) && !batch:
			return nil, fmt.Errorf("question %s of attempt %s: %w", sv.Key, a.ID, pathways.ErrNotFound)
		case !ok || j < 0:
			v.Add(at+"key", CodeUnknownQuestion, nil)
			continue
		case seen[sv.Key]:
			v.Add(at+"key", pathways.CodeDuplicate, nil)
			continue
		}
		seen[sv.Key] = true
		items := shown(q, a.Drawn[j], a.Seed) // the answer names the items as shown
		ans, err := DecodeAnswer(items.question(q), sv.Answer)
		if err != nil && !batch {
			return nil, err
		}
		var ve *pathways.ValidationError
		if errors.As(err, &ve) {
			for _, f := range ve.Fields {
				field := at + "answer/" + f.Field
				if f.Field == "$" {
					field = at + "answer"
				}
				v.Add(field, f.Code, f.Params)
			}
			continue
		} else if err != nil {
			return nil, err
		}
		out[i] = items.authorsAnswer(ans)
		if v.Full() {
			break
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitAttempt closes an attempt and scores it, on the server, against
// the version it was taken on. Submitting again returns the same result.
// A submit after the time limit and its grace gets ErrTimeUp, but the
// attempt is closed and scored with the answers saved in time: nothing
// saved is lost. It is one read and one conditional write of the attempt
// (none on a repeat): the record and the item statistics follow through
// the attempt's follow-up (see FollowUps), applied right after in the
// background and, should that fail, by the worker; a repeat of a submit
// whose follow-up is still pending starts it again.
func (s *Service) SubmitAttempt(ctx context.Context, actor accounts.Actor, attemptID string) (Attempt, error) {
	if !accounts.ValidID(attemptID) {
		return Attempt{}, fmt.Errorf("attempt %q: %w", attemptID, pathways.ErrNotFound)
	}
	late, closed := false, false
	a, err := s.store.UpdateAttempt(ctx, attemptID, func(d *Attempt) error {
		late, closed = false, false
		if !isOwn(actor, *d) {
			return fmt.Errorf("attempt %s: %w", attemptID, pathways.ErrNotFound)
		}
		if !d.Open() {
			return ErrNoChange
		}
		p, err := s.version(ctx, d.QuizID, d.Version)
		if err != nil {
			return err
		}
		late = s.expired(*d)
		s.close(p, d)
		closed = true
		return nil
	})
	if err != nil {
		return Attempt{}, err
	}
	if !a.FollowUp.IsZero() {
		s.nudge(ctx, a)
	}
	if (closed && late) || (!closed && a.timedOut()) {
		return a, ErrTimeUp // closed when its time ran out, not by a submit
	}
	return a, nil
}

// finish scores and closes an attempt whose time is over (once), queuing
// its follow-up.
func (s *Service) finish(ctx context.Context, p *published, attemptID string) (Attempt, error) {
	a, err := s.store.UpdateAttempt(ctx, attemptID, func(d *Attempt) error {
		if !d.Open() {
			return ErrNoChange
		}
		s.close(p, d)
		return nil
	})
	if err == nil && !a.FollowUp.IsZero() {
		s.nudge(ctx, a)
	}
	return a, err
}

// close scores and closes the open attempt d of version p and queues its
// follow-up, in the same write.
func (s *Service) close(p *published, d *Attempt) {
	d.Results = map[string]Result{}
	d.Score, d.Max = 0, 0
	for _, dr := range d.Drawn {
		r := Score(p.Questions[dr.Question], d.Answers[dr.Question].Answer, d.Locale)
		d.Results[dr.Question] = r
		d.Score += r.Points
		d.Max += r.Max
	}
	now := s.now().UTC()
	d.Submitted = now
	if !d.Deadline.IsZero() && d.Submitted.After(d.Deadline.Add(Grace)) {
		d.Submitted = d.Deadline.Add(Grace) // closed at the end of its time
	}
	d.FollowUp = now
}

// addStats adds a submitted attempt to the running sums of each scored
// question: x the question's share of its points, y the share of the
// rest of the attempt's points.
func addStats(st *Stats, a Attempt) {
	if st.Items == nil {
		st.Items = map[string]ItemStats{}
	}
	for _, dr := range a.Drawn {
		r := a.Results[dr.Question]
		if r.Max == 0 {
			continue
		}
		x := r.Points / r.Max
		y := 0.0
		if rest := a.Max - r.Max; rest > 0 {
			y = (a.Score - r.Points) / rest
		}
		it := st.Items[dr.Question]
		it.N++
		it.SumX += x
		it.SumX2 += x * x
		it.SumY += y
		it.SumY2 += y * y
		it.SumXY += x * y
		if !r.Correct && r.Answered {
			if it.Wrong == nil {
				it.Wrong = map[string]int{}
			}
			k := answerKey(a.Answers[dr.Question].Answer)
			if _, ok := it.Wrong[k]; ok || len(it.Wrong) < MaxWrongKinds {
				it.Wrong[k]++
			}
		}
		st.Items[dr.Question] = it
	}
}

// answerKey is a short, stable form of an answer, to count alike wrong
// answers.
func answerKey(a Answer) string {
	b, err := json.Marshal(a)
	if err != nil {
		return "?"
	}
	const most = 200
	if len(b) > most {
		b = b[:most]
	}
	return string(b)
}

// ItemReport is one question's statistics.
type ItemReport struct {
	Question string
	N        int
	// Facility is the mean share of the points learners got, 0..1.
	Facility float64
	// Discrimination is the correlation of the question's score with the
	// rest of the attempt's, -1..1; NaN-free: 0 when it cannot be told.
	Discrimination float64
	// Wrong lists the commonest wrong answers, commonest first.
	Wrong []WrongAnswer
}

// WrongAnswer is a wrong answer and how many gave it.
type WrongAnswer struct {
	Answer Answer `json:"answer"`
	Count  int    `json:"count"`
}

// mergeItems adds two shards' sums of one question.
func mergeItems(a, b ItemStats) ItemStats {
	a.N += b.N
	a.SumX += b.SumX
	a.SumX2 += b.SumX2
	a.SumY += b.SumY
	a.SumY2 += b.SumY2
	a.SumXY += b.SumXY
	for k, c := range b.Wrong {
		if a.Wrong == nil {
			a.Wrong = map[string]int{}
		}
		a.Wrong[k] += c
	}
	return a
}

// report turns running sums into a question's statistics.
func report(key string, it ItemStats) ItemReport {
	r := ItemReport{Question: key, N: it.N}
	if it.N == 0 {
		return r
	}
	n := float64(it.N)
	r.Facility = it.SumX / n
	cov := it.SumXY/n - (it.SumX/n)*(it.SumY/n)
	vx := it.SumX2/n - (it.SumX/n)*(it.SumX/n)
	vy := it.SumY2/n - (it.SumY/n)*(it.SumY/n)
	if vx > 1e-12 && vy > 1e-12 {
		r.Discrimination = max(-1, min(1, cov/math.Sqrt(vx*vy)))
	}
	for k, c := range it.Wrong {
		var a Answer
		if json.Unmarshal([]byte(k), &a) == nil {
			r.Wrong = append(r.Wrong, WrongAnswer{Answer: a, Count: c})
		}
	}
	slices.SortStableFunc(r.Wrong, func(a, b WrongAnswer) int { return b.Count - a.Count })
	r.Wrong = r.Wrong[:min(len(r.Wrong), 5)]
	return r
}

// QuizStats returns the item statistics of a quiz version for one
// organisation's learners: for its trainers, admins and educators.
func (s *Service) QuizStats(ctx context.Context, actor accounts.Actor, quizID string, version int, orgID string) ([]ItemReport, error) {
	p, err := s.version(ctx, quizID, version)
	if err != nil {
		return nil, err
	}
	if err := mayReadStats(actor, p.Quiz, orgID); err != nil {
		return nil, err
	}
	if err := s.settleStats(ctx, quizID, version); err != nil {
		return nil, err
	}
	st := Stats{Items: map[string]ItemStats{}}
	for shard := range StatsShards {
		part, err := s.store.Stats(ctx, quizID, version, orgID, shard)
		if errors.Is(err, pathways.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		for key, it := range part.Items {
			st.Items[key] = mergeItems(st.Items[key], it)
		}
	}
	var out []ItemReport
	for _, key := range slices.Sorted(maps.Keys(p.Questions)) {
		if !p.Questions[key].Type.Scored() {
			continue
		}
		out = append(out, report(key, st.Items[key]))
	}
	return out, nil
}

// firstSubmitted is the earliest submitted attempt of a record, or nil.
func firstSubmitted(list []AttemptSummary) *AttemptSummary {
	var first *AttemptSummary
	for i := range list {
		a := &list[i]
		if !a.Submitted.IsZero() && (first == nil || a.Submitted.Before(first.Submitted)) {
			first = a
		}
	}
	return first
}

// Progress is a learner's standing at a quiz: their attempts, their grade
// by the quiz's method, whether it passes, practice mastery, and for a
// posttest what they gained since the pretest. What is made of scores
// (scores, grade, pass, mastery, gain) is there only when the quiz's
// feedback policy shows scores now; otherwise, for scored kinds,
// ScoreHidden says so (the attempts' submittedAt say they were received).
type Progress struct {
	QuizID      string          `json:"quizId"`
	Kind        Kind            `json:"kind"`
	Attempts    []AttemptStatus `json:"attempts"`
	Left        *int            `json:"attemptsLeft,omitempty"` // nil: unlimited
	Grade       *float64        `json:"grade,omitempty"`        // share of the maximum, 0..1
	Passed      *bool           `json:"passed,omitempty"`
	Mastered    *bool           `json:"mastered,omitempty"` // practice only
	Gain        *float64        `json:"gain,omitempty"`
	ScoreHidden bool            `json:"scoreHidden,omitempty"`
}

// AttemptStatus is an attempt's line in a learner's Progress: its score
// once submitted, if the feedback policy shows it.
type AttemptStatus struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Number    int       `json:"number"`
	Started   time.Time `json:"startedAt"`
	Submitted time.Time `json:"submittedAt,omitzero"`
	Score     *float64  `json:"score,omitempty"`
	Max       *float64  `json:"max,omitempty"`
}

// Progress returns the actor's own standing at a quiz they may take.
// Scores and what is made of them follow the policy of the quiz's latest
// version; a posttest's gain also needs the pretest's policy to show its
// scores, since the gain and one score give the other.
func (s *Service) Progress(ctx context.Context, actor accounts.Actor, quizID string) (Progress, error) {
	p, err := s.readable(ctx, actor, quizID)
	if err != nil {
		return Progress{}, err
	}
	r, err := s.settled(ctx, actor.UserID, quizID)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return Progress{}, err
	}
	shown := s.scoresShown(p.Quiz)
	gainShown := shown && p.Quiz.Kind == KindPosttest && s.pretestShown(ctx, p.Quiz.Pretest)
	return standing(p.Quiz, r, shown, gainShown), nil
}

// standing is a learner's Progress at quiz q (its latest version) from
// their record r: scores and what is made of them only if shown, the
// gain only if gainShown too.
func standing(q Quiz, r Record, shown, gainShown bool) Progress {
	out := Progress{QuizID: q.ID, Kind: q.Kind, Attempts: make([]AttemptStatus, 0, len(r.Attempts))}
	if q.AttemptLimit > 0 {
		left := max(0, q.AttemptLimit-len(r.Attempts))
		out.Left = &left
	}
	var graded []Graded
	for _, a := range r.Attempts {
		line := AttemptStatus{ID: a.ID, Version: a.Version, Number: a.Number, Started: a.Started, Submitted: a.Submitted}
		if !a.Submitted.IsZero() && a.Max > 0 {
			graded = append(graded, Graded{Score: a.Score / a.Max, Submitted: a.Submitted})
			if shown {
				score, most := a.Score, a.Max
				line.Score, line.Max = &score, &most
			}
		}
		out.Attempts = append(out.Attempts, line)
	}
	if !shown {
		out.ScoreHidden = q.Kind != KindSurvey
		return out
	}
	if q.Kind == KindPractice {
		out.Mastered = &r.Mastered
	}
	if g, ok := grade(q.Grade, graded); ok {
		out.Grade = &g
		if q.PassMark > 0 {
			passed := g >= q.PassMark-1e-9
			out.Passed = &passed
		}
	}
	if r.Gain != nil && gainShown {
		out.Gain = r.Gain
	}
	return out
}

// scoresShown says whether q's feedback policy shows a learner the scores
// of their submitted attempts now.
func (s *Service) scoresShown(q Quiz) bool {
	return reveal(q.Feedback, true, q.Due, s.now()).Score
}

// pretestShown says whether the policy of the latest version of pretest
// id shows its scores now; it says no when that cannot be read.
func (s *Service) pretestShown(ctx context.Context, id string) bool {
	if !accounts.ValidID(id) {
		return false
	}
	q, err := s.store.Quiz(ctx, id)
	if err != nil || q.Published == 0 {
		return false
	}
	p, err := s.version(ctx, id, q.Published)
	return err == nil && s.scoresShown(p.Quiz)
}
