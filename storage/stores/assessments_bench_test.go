package stores

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// The learner's write path on the SQLite engine, in server CPU (user and
// system time of the process) per operation: go test ./storage/stores
// -run '^$' -bench Attempt -benchtime 2000x. Figures go to
// docs/PERFORMANCE.md; nothing here asserts a time.

// cpu is the process's user and system time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU used since start per operation.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpu()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkAttemptSaveStore: a save as the store does it, one Get and one
// Replace of a 20-question attempt with 10 answers saved.
func BenchmarkAttemptSaveStore(b *testing.B) {
	s := &AssessmentsStore{e: dbtest.New(b, "sqlite", assessmentsSchema)}
	svc := newService(b, s, &testClock{t: t0})
	quizID := publishQuiz(b, s, 20)
	who := learner()
	a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
	if err != nil {
		b.Fatal(err)
	}
	a = answerAll(b, svc, who, a, 1)
	for k := range a.Answers {
		if len(a.Answers) > 10 {
			delete(a.Answers, k)
		}
	}
	if _, err := s.UpdateAttempt(ctx, a.ID, func(d *assessments.Attempt) error { d.Answers = a.Answers; return nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := cpu()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.UpdateAttempt(ctx, a.ID, func(d *assessments.Attempt) error {
			d.Answers[a.Drawn[i%20].Question] = assessments.Saved{AnswerID: fmt.Sprint(i), Answer: assessments.Answer{Option: "a"}, Saved: t0}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, start)
}

// BenchmarkAttemptSaveService: SaveAnswer of the service on this store
// and the SQLite engine (decode and check the answer, one read, one
// conditional write), on a 20-question attempt, and the rendering of the
// answer (ViewOf, as the handler sends it).
func BenchmarkAttemptSaveService(b *testing.B) {
	s := &AssessmentsStore{e: dbtest.New(b, "sqlite", assessmentsSchema)}
	svc := newService(b, s, &testClock{t: t0})
	quizID := publishQuiz(b, s, 20)
	who := learner()
	a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := svc.ViewOf(ctx, who, a, nil)
	raws := make([]json.RawMessage, len(v.Questions))
	for i, q := range v.Questions {
		raws[i] = json.RawMessage(`{"option":"` + q.Options[i%3].ID + `"}`)
	}
	b.ReportAllocs()
	start := cpu()
	b.ResetTimer()
	for i := range b.N {
		q := i % len(v.Questions)
		saved, err := svc.SaveAnswer(ctx, who, a.ID, v.Questions[q].Key, fmt.Sprint(i), raws[q])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.ViewOf(ctx, who, saved, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, start)
}

// BenchmarkAttemptSubmit: submitting a 20-question attempt with every
// answer saved (score, close and queue the follow-up: one read, one
// write; and the rendering the handler sends), alone ("request": the
// follow-up's first write fails at once) and with its follow-up (record
// and statistics) applied in the background as after every submit.
func BenchmarkAttemptSubmit(b *testing.B) {
	for _, withFollowUp := range []bool{false, true} {
		b.Run(map[bool]string{false: "request", true: "with-follow-up"}[withFollowUp], func(b *testing.B) {
			s := &AssessmentsStore{e: dbtest.New(b, "sqlite", assessmentsSchema)}
			c := newCounting(s)
			if !withFollowUp {
				c.failRecords.Store(1 << 40)
				go func() {
					for range c.failed {
					}
				}()
			}
			svc := newService(b, c, &testClock{t: t0})
			quizID := publishQuiz(b, s, 20)
			actors := make([]accounts.Actor, b.N)
			attempts := make([]assessments.Attempt, b.N)
			for i := range b.N {
				who := learner()
				a, _, err := svc.StartAttempt(ctx, who, quizID, uuid.NewString(), nil)
				if err != nil {
					b.Fatal(err)
				}
				actors[i], attempts[i] = who, answerAll(b, svc, who, a, i%3)
			}
			b.ReportAllocs()
			start := cpu()
			b.ResetTimer()
			for i, a := range attempts {
				done, err := svc.SubmitAttempt(ctx, actors[i], a.ID)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.ViewOf(ctx, actors[i], done, nil); err != nil {
					b.Fatal(err)
				}
				if i%32 == 31 {
					svc.Wait() // keep the nudges from falling to the worker
				}
			}
			svc.Wait()
			b.StopTimer()
			reportCPU(b, start)
		})
	}
}
