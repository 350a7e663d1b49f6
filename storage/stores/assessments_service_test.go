package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// The assessments service on this store: the learner's write path (one
// read and one conditional write per save and submit) and the submit's
// follow-up, applied exactly once whatever fails or runs twice.

// testClock is a settable clock for the service.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// publishQuiz stores a published practice quiz of n single-choice
// questions (option "a" right) at version 1, as publishing leaves it, and
// returns its id.
func publishQuiz(t testing.TB, s assessments.Store, n int) string {
	t.Helper()
	id := uuid.NewString()
	q := assessments.Quiz{
		ID: id, OrgID: "o1", Kind: assessments.KindPractice, DefaultLocale: "en", Locales: []string{"en"},
		Title: "quiz.title", Mastery: assessments.Mastery{M: 2, N: 3}, Feedback: assessments.FeedbackImmediate,
		Revision: 1, Published: 1, Created: t0, Updated: t0,
	}
	v := assessments.Version{QuizID: id, Number: 1, Questions: map[string]assessments.Question{},
		Messages: i18n.Messages{"en": {"quiz.title": {Other: "Spotting scams"}}}, Revision: 1, Published: t0}
	var keys, ids []string
	for i := range n {
		qid := fmt.Sprintf("q%02d", i)
		key := "b1." + qid
		v.Questions[key] = assessments.Question{
			ID: qid, Prompt: "b1." + qid + ".prompt", Type: assessments.TypeSingle, Points: 1,
			Options: []assessments.Option{{ID: "a", Text: "b1." + qid + ".a", Correct: true}, {ID: "b", Text: "b1." + qid + ".b"}, {ID: "c", Text: "b1." + qid + ".c"}},
		}
		for _, m := range []string{".prompt", ".a", ".b", ".c"} {
			v.Messages["en"]["b1."+qid+m] = i18n.Message{Other: "Which message asks for your PIN? " + qid + m}
		}
		keys, ids = append(keys, key), append(ids, qid)
	}
	q.Picks = []assessments.Pick{{Bank: "bank1", Questions: ids}}
	v.Pools = [][]string{keys}
	v.Quiz = q
	if err := s.InsertQuiz(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertVersion(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return id
}

func learner() accounts.Actor {
	return accounts.Actor{UserID: uuid.NewString(), OrgID: "o1", Role: accounts.RoleLearner}
}

// newService is the service on s; the follow-ups it starts in the
// background end with the test, before its engine closes.
func newService(t testing.TB, s assessments.Store, clock *testClock) *assessments.Service {
	svc := assessments.NewService(s, nil, 0, clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(svc.Wait)
	return svc
}

// answerAll saves, in one batch, the shown option of index pick of every
// question of attempt a.
func answerAll(t testing.TB, svc *assessments.Service, who accounts.Actor, a assessments.Attempt, pick int) assessments.Attempt {
	t.Helper()
	v, err := svc.ViewOf(ctx, who, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	var saves []assessments.AnswerSave
	for i, q := range v.Questions {
		raw, _ := json.Marshal(map[string]string{"option": q.Options[pick].ID})
		saves = append(saves, assessments.AnswerSave{Key: q.Key, AnswerID: fmt.Sprint("s", i), Answer: raw})
	}
	a, err = svc.SaveAnswers(ctx, who, a.ID, saves)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// counting is a real store that counts the reads and writes of
// attempts, and fails the writes of records or statistics while told to.
type counting struct {
	assessments.Store
	attemptReads, attemptWrites atomic.Int64
	failRecords, failStats      atomic.Int64 // how many writes to fail
	failed                      chan string
}

func newCounting(s assessments.Store) *counting {
	return &counting{Store: s, failed: make(chan string, 100)}
}

func (c *counting) Attempt(ctx context.Context, id string) (assessments.Attempt, error) {
	c.attemptReads.Add(1)
	return c.Store.Attempt(ctx, id)
}

func (c *counting) UpdateAttempt(ctx context.Context, id string, change func(*assessments.Attempt) error) (assessments.Attempt, error) {
	c.attemptReads.Add(1)
	written := false
	a, err := c.Store.UpdateAttempt(ctx, id, func(a *assessments.Attempt) error {
		err := change(a)
		written = err == nil
		return err
	})
	if written && err == nil {
		c.attemptWrites.Add(1)
	}
	return a, err
}

func (c *counting) UpdateRecord(ctx context.Context, learnerID, quizID string, change func(*assessments.Record) error) (assessments.Record, error) {
	if c.failRecords.Add(-1) >= 0 {
		c.failed <- "record"
		return assessments.Record{}, fmt.Errorf("update record: %w", pathways.ErrUnavailable)
	}
	return c.Store.UpdateRecord(ctx, learnerID, quizID, change)
}

func (c *counting) UpdateStats(ctx context.Context, quizID string, version int, orgID string, shard int, change func(*assessments.Stats) error) error {
	if c.failStats.Add(-1) >= 0 {
		c.failed <- "stats"
		return fmt.Errorf("update stats: %w", pathways.ErrUnavailable)
	}
	return c.Store.UpdateStats(ctx, quizID, version, orgID, shard, change)
}

// statsN is how many attempts the statistics of quiz count at each
// question, over all shards.
func statsN(t *testing.T, s assessments.Store, quizID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for shard := range assessments.StatsShards {
		st, err := s.Stats(ctx, quizID, 1, "o1", shard)
		if errors.Is(err, pathways.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for k, it := range st.Items {
			out[k] += it.N
		}
	}
	return out
}

// TestLeanAttemptWrites: a save (single or batch) is one read and one
// conditional write of the attempt, a repeated one a read and no write;
// a submit is one read and one write, its retry a read: the attempt is
// never read again to answer.
func TestLeanAttemptWrites(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		quizID := publishQuiz(t, s, 3)
		c := newCounting(s)
		c.failRecords.Store(1 << 30) // the follow-up waits: only the learner's path is counted
		svc, who := newService(t, c, &testClock{t: t0}), learner()
		a, created, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
		if err != nil || !created {
			t.Fatal(created, err)
		}
		v, _ := svc.ViewOf(ctx, who, a, nil)
		counts := func() string {
			r, w := c.attemptReads.Swap(0), c.attemptWrites.Swap(0)
			return fmt.Sprintf("%d reads, %d writes", r, w)
		}
		counts()
		raw := json.RawMessage(`{"option":"` + v.Questions[0].Options[0].ID + `"}`)
		if _, err := svc.SaveAnswer(ctx, who, a.ID, v.Questions[0].Key, "s1", raw); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got != "1 reads, 1 writes" {
			t.Errorf("a save: %s", got)
		}
		if _, err := svc.SaveAnswer(ctx, who, a.ID, v.Questions[0].Key, "s1", raw); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got != "1 reads, 0 writes" {
			t.Errorf("a repeated save: %s", got)
		}
		saved := answerAll(t, svc, who, a, 0)
		if got := counts(); got != "1 reads, 1 writes" || len(saved.Answers) != 3 {
			t.Errorf("a batch of 3: %s, %d answers", got, len(saved.Answers))
		}
		done, err := svc.SubmitAttempt(ctx, who, a.ID)
		if err != nil || done.Score != 3 || done.FollowUp.IsZero() {
			t.Fatalf("submit: score %v, follow-up %v, %v", done.Score, done.FollowUp, err)
		}
		if got := counts(); got != "1 reads, 1 writes" {
			t.Errorf("a submit: %s", got)
		}
		<-c.failed // the nudge tried the record
		again, err := svc.SubmitAttempt(ctx, who, a.ID)
		if err != nil || again.Score != 3 || !again.Submitted.Equal(done.Submitted) {
			t.Fatalf("submit again: %+v, %v", again, err)
		}
		<-c.failed // and the retry nudged it again
		if got := counts(); got != "1 reads, 0 writes" {
			t.Errorf("a repeated submit: %s", got)
		}
		if _, err := svc.SaveAnswer(ctx, who, a.ID, v.Questions[0].Key, "s9", raw); !errors.Is(err, assessments.ErrClosed) {
			t.Errorf("save after the submit: %v, want ErrClosed", err)
		}
	})
}

// TestSaveAnswersBatch: a batch's problems are reported per answer and
// store nothing; a good batch stores all, and its retry changes nothing.
func TestSaveAnswersBatch(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		quizID := publishQuiz(t, s, 3)
		svc, who := newService(t, s, &testClock{t: t0}), learner()
		a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := svc.ViewOf(ctx, who, a, nil)
		opt := func(i int) json.RawMessage {
			return json.RawMessage(`{"option":"` + v.Questions[i].Options[1].ID + `"}`)
		}
		bad := []assessments.AnswerSave{
			{Key: v.Questions[0].Key, AnswerID: "s1", Answer: opt(0)},
			{Key: "b9.nope", AnswerID: "s2", Answer: opt(1)},
			{Key: v.Questions[0].Key, AnswerID: "s3", Answer: opt(0)},
			{Key: v.Questions[2].Key, AnswerID: "s4", Answer: json.RawMessage(`{"option":"zzz"}`)},
		}
		_, err = svc.SaveAnswers(ctx, who, a.ID, bad)
		var ve *pathways.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("bad batch: %v", err)
		}
		var fields []string
		for _, f := range ve.Fields {
			fields = append(fields, f.Field+":"+f.Code)
		}
		if got := fmt.Sprint(fields); got != "[answers/1/key:unknown_question answers/2/key:duplicate_value answers/3/answer/option:unknown_option]" {
			t.Errorf("bad batch's problems: %s", got)
		}
		if cur, _ := s.Attempt(ctx, a.ID); len(cur.Answers) != 0 {
			t.Errorf("a refused batch stored %v", cur.Answers)
		}
		if _, err := svc.SaveAnswers(ctx, who, a.ID, nil); !errors.As(err, &ve) || ve.Fields[0].Code != pathways.CodeRequired {
			t.Errorf("empty batch: %v", err)
		}
		good := answerAll(t, svc, who, a, 1)
		again := answerAll(t, svc, who, a, 1)
		if len(good.Answers) != 3 || !again.Answers[v.Questions[2].Key].Saved.Equal(good.Answers[v.Questions[2].Key].Saved) {
			t.Errorf("batch and its retry: %v / %v", good.Answers, again.Answers)
		}
		if _, err := svc.SaveAnswers(ctx, learner(), a.ID, bad[:1]); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("another learner's batch: %v, want ErrNotFound", err)
		}
	})
}

// TestFollowUpInterrupted: a follow-up that fails after the record and
// before the statistics (a crash: the statistics write fails once, the
// engine underneath is real) leaves the attempt's follow-up pending; the
// worker completes it, counting the attempt once in both, and a second
// run, or a retried submit, counts nothing again.
func TestFollowUpInterrupted(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		quizID := publishQuiz(t, s, 3)
		c := newCounting(s)
		c.failStats.Store(1)
		clock := &testClock{t: t0}
		svc, who := newService(t, c, clock), learner()
		a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
		if err != nil {
			t.Fatal(err)
		}
		answerAll(t, svc, who, a, 0)
		if _, err := svc.SubmitAttempt(ctx, who, a.ID); err != nil {
			t.Fatal(err)
		}
		if what := <-c.failed; what != "stats" {
			t.Fatalf("failed %s", what)
		}
		r, _ := s.Record(ctx, who.UserID, quizID)
		if len(r.History) != 3 || r.Attempts[0].Submitted.IsZero() {
			t.Fatalf("record after the interrupted follow-up: %+v", r)
		}
		if n := statsN(t, s, quizID); len(n) != 0 {
			t.Fatalf("statistics after the interrupted follow-up: %v", n)
		}
		if pending, _ := s.FollowUps(ctx, t0.Add(time.Hour), 10); len(pending) != 1 || pending[0].ID != a.ID {
			t.Fatalf("pending follow-ups: %v", pending)
		}
		clock.Add(time.Minute)
		if n, err := svc.FollowUps(ctx); err != nil || n != 1 {
			t.Fatalf("worker: %d, %v", n, err)
		}
		check := func(when string) {
			t.Helper()
			r, _ := s.Record(ctx, who.UserID, quizID)
			st := statsN(t, s, quizID)
			if len(r.History) != 3 || len(st) != 3 || st["b1.q00"] != 1 || st["b1.q02"] != 1 {
				t.Errorf("%s: history %v, statistics %v", when, r.History, st)
			}
			if got, _ := s.Attempt(ctx, a.ID); !got.FollowUp.IsZero() {
				t.Errorf("%s: follow-up still pending", when)
			}
		}
		check("after the worker")
		if n, err := svc.FollowUps(ctx); err != nil || n != 0 {
			t.Errorf("second run: %d, %v", n, err)
		}
		if _, err := svc.SubmitAttempt(ctx, who, a.ID); err != nil {
			t.Fatal(err)
		}
		check("after a retried submit")
		p, err := svc.Progress(ctx, who, quizID)
		if err != nil || len(p.Attempts) != 1 || p.Attempts[0].Score == nil || *p.Attempts[0].Score != 3 {
			t.Errorf("progress: %+v, %v", p, err)
		}
	})
}

// TestFollowUpTwoWorkers: follow-ups pending on one database are applied
// by two workers on two instances at once, and by a third applying the
// same follow-ups as the reads that settle: each attempt counts once.
func TestFollowUpTwoWorkers(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		quizID := publishQuiz(t, s, 2)
		down := newCounting(s)
		const n = 8
		down.failRecords.Store(n) // every submit's nudge fails: all pending
		clock := &testClock{t: t0}
		svc := newService(t, down, clock)
		var learners []accounts.Actor
		for i := range n {
			who := learner()
			learners = append(learners, who)
			a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
			if err != nil {
				t.Fatal(err)
			}
			answerAll(t, svc, who, a, i%2)
			if _, err := svc.SubmitAttempt(ctx, who, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		for range n {
			<-down.failed
		}
		clock.Add(time.Minute)
		other := &AssessmentsStore{e: dbtest.Second(t, e, assessmentsSchema)}
		workers := []*assessments.Service{newService(t, s, clock), newService(t, other, clock)}
		var wg sync.WaitGroup
		for _, w := range append(workers, workers...) {
			wg.Go(func() {
				if _, err := w.FollowUps(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		for _, who := range learners[:n/2] {
			wg.Go(func() {
				if _, err := workers[1].Progress(ctx, who, quizID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if st := statsN(t, s, quizID); st["b1.q00"] != n || st["b1.q01"] != n {
			t.Errorf("statistics count %v, want %d at each question", st, n)
		}
		for _, who := range learners {
			r, err := s.Record(ctx, who.UserID, quizID)
			if err != nil || len(r.History) != 2 || r.Attempts[0].Submitted.IsZero() {
				t.Errorf("record of %s: %+v, %v", who.UserID, r, err)
			}
		}
		if pending, _ := s.FollowUps(ctx, clock.Now().Add(time.Hour), 100); len(pending) != 0 {
			t.Errorf("%d follow-ups still pending", len(pending))
		}
	})
}

// TestAppliedForgotten: a shard forgets the attempts it applied once
// their follow-ups are cleared and appliedKeep has passed, and keeps
// those whose follow-up is still pending.
func TestAppliedForgotten(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		quizID := publishQuiz(t, s, 1)
		clock := &testClock{t: t0}
		svc := newService(t, s, clock)
		submit := func() assessments.Attempt {
			t.Helper()
			who := learner()
			a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
			if err != nil {
				t.Fatal(err)
			}
			// One shard for all: the statistics shard is the seed's.
			if _, err := s.UpdateAttempt(ctx, a.ID, func(a *assessments.Attempt) error { a.Seed = 7; return nil }); err != nil {
				t.Fatal(err)
			}
			a, err = svc.SubmitAttempt(ctx, who, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Minute)
			if _, err := svc.FollowUps(ctx); err != nil {
				t.Fatal(err)
			}
			return a
		}
		first := submit()
		// A leftover of a pending follow-up that applied its statistics.
		if err := s.UpdateStats(ctx, quizID, 1, "o1", 7, func(st *assessments.Stats) error {
			st.Applied["pending-one"] = clock.Now()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// (queued in the future, so that the worker leaves it pending)
		other := assessments.Attempt{ID: "pending-one", QuizID: quizID, Version: 1, LearnerID: "x", Submitted: t0, FollowUp: clock.Now().Add(3 * time.Hour)}
		if err := s.e.Insert(ctx, collAttempts, other.ID, toAttemptDoc(other)); err != nil {
			t.Fatal(err)
		}
		clock.Add(2 * time.Hour)
		submit()
		st, _ := s.Stats(ctx, quizID, 1, "o1", 7)
		if _, ok := st.Applied[first.ID]; ok || len(st.Applied) != 2 || st.Items["b1.q00"].N != 2 {
			t.Errorf("applied after appliedKeep: %v (n %d), want the pending one and the latest", st.Applied, st.Items["b1.q00"].N)
		}
	})
}

// countingQuizVersions is the real store, counting the reads of quiz versions.
type countingQuizVersions struct {
	assessments.Store
	reads *atomic.Int64
}

func (c countingQuizVersions) Version(ctx context.Context, quizID string, n int) (assessments.Version, error) {
	c.reads.Add(1)
	time.Sleep(10 * time.Millisecond) // widen the window concurrent misses arrive in
	return c.Store.Version(ctx, quizID, n)
}

// TestQuizVersionReadShared: a class starting a quiz on an instance that
// has not read its version yet costs one read of the version.
func TestQuizVersionReadShared(t *testing.T) {
	dbtest.Each(t, assessmentsSchema, func(t *testing.T, e docdb.Engine) {
		s := New(e).Assessments()
		quizID := publishQuiz(t, s, 20)
		var reads atomic.Int64
		svc := newService(t, countingQuizVersions{s, &reads}, &testClock{t: t0})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, _, err := svc.StartAttempt(ctx, learner(), quizID, uuid.NewString(), nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := reads.Load(); n != 1 {
			t.Errorf("20 concurrent starts read the quiz version %d times, want once", n)
		}
	})
}
