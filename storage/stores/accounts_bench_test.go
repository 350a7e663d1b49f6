package stores

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
	"github.com/pathways-lms/pathways/storage/sqlite"
)

// BenchmarkCreateUser creates learners in an organisation of 10 and of
// 10,000 members on the SQLite engine (synchronous=FULL, the default): a
// create writes two claims and the user whatever the organisation holds,
// so the two figures should be alike (the old store rewrote the roster
// document: 8–12 creates/s empty, 0.1–0.4/s at 9,600 members). The
// members are seeded through a second handle with synchronous=NORMAL, to
// keep the set-up short.
func BenchmarkCreateUser(b *testing.B) {
	for _, members := range []int{10, 10_000} {
		b.Run(fmt.Sprint("members=", members), func(b *testing.B) {
			path := b.TempDir() + "/" + sqlite.FileName
			s := acc(dbtest.SQLite(b, path, accountsSchema))
			seed, err := sqlite.Open(ctx, sqlite.Options{Path: path, Synchronous: sqlite.SyncNormal})
			if err == nil {
				err = seed.Migrate(ctx, accountsSchema)
			}
			if err != nil {
				b.Fatal(err)
			}
			for i := range members {
				if err := acc(seed).CreateUser(ctx, accLearner(uuid.Must(uuid.NewV7()).String(), fmt.Sprint("seed", i), t0)); err != nil {
					b.Fatal(err)
				}
			}
			if err := seed.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.CreateUser(ctx, accLearner(uuid.Must(uuid.NewV7()).String(), fmt.Sprint("new", i), t0)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
