package sqlite

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/storage/docdb"
)

// attempt is shaped like a 20-question attempt document (about 2.5 KB of
// JSON), for the engine's own cost of a save.
type attempt struct {
	QuizID  string            `json:"quiz_id"`
	Learner string            `json:"learner_id"`
	Started int64             `json:"started"`
	Answers map[string]answer `json:"answers"`
	Drawn   []string          `json:"drawn"`
}

type answer struct {
	Choice []string `json:"choice"`
	Text   string   `json:"text"`
	At     int64    `json:"at"`
}

// BenchmarkSave is the engine's part of an answer save: read an attempt by
// id, change one answer, compare-and-swap it back (fsync at every commit,
// as configured by default), on a table of 10,000 attempts. It reports the
// process CPU time per save beside the wall time.
//
//	go test -run '^$' -bench Save -benchtime 2000x -count 3 ./storage/sqlite
func BenchmarkSave(b *testing.B) {
	for _, sync := range []string{SyncFull, SyncNormal} {
		b.Run(sync, func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, Options{Path: b.TempDir() + "/" + FileName, Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close(ctx)
			if err := db.Migrate(ctx, docdb.Schema{{Name: "attempts"}}); err != nil {
				b.Fatal(err)
			}
			const docs = 10_000
			a := attempt{QuizID: "q", Learner: "l", Started: time.Now().UnixMilli(), Answers: map[string]answer{}}
			for i := range 20 {
				k := fmt.Sprintf("b1.question-%02d", i)
				a.Drawn = append(a.Drawn, k)
				a.Answers[k] = answer{Choice: []string{"o1", "o3"}, Text: strings.Repeat("x", 60), At: a.Started}
			}
			for i := range docs {
				if err := db.Insert(ctx, "attempts", fmt.Sprint("a", i), a); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				id := fmt.Sprint("a", i%docs)
				i++
				_, _, err := docdb.Update(ctx, db, "attempts", id, nil, func(a *attempt) error {
					an := a.Answers[a.Drawn[i%20]]
					an.At++
					a.Answers[a.Drawn[i%20]] = an
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
