package mongodb

import (
	"hash/maphash"
	"sync"
)

// docLocks serialises updates of one document within this process.
//
// Why: FerretDB 1.24 (the embedded database) applies update operators
// ($inc, $set, $min, upserts, findAndModify) by reading the document,
// changing it in Go and writing it back, with no transaction between the
// read and the write (internal/handler/msg_findandmodify.go: c.Query, then
// common.UpdateDocument). Two concurrent updates of one document can
// therefore lose one of them; TestConcurrentUse caught it. The embedded
// database is reachable only from this process, so a process-local lock
// restores single-document atomicity there. On MongoDB, where the
// operators are atomic anyway, the lock costs an uncontended mutex.
//
// Inserts and deletes by _id need no lock: SQLite's unique index and
// DELETE make them atomic on both databases.
type docLocks struct {
	seed maphash.Seed
	// One set of stripes per collection, so locks of two collections never
	// share a mutex. Locks nest only from a document to the list that
	// lists it — users → rosters, media_assets → media_libraries, courses →
	// course_catalogue — never the reverse, so they cannot deadlock.
	sets map[string]*[64]sync.Mutex
}

func newDocLocks() *docLocks {
	l := &docLocks{seed: maphash.MakeSeed(), sets: map[string]*[64]sync.Mutex{}}
	for _, c := range collections {
		l.sets[c] = new([64]sync.Mutex)
	}
	return l
}

// lock locks the document id of collection and returns its unlock.
func (l *docLocks) lock(collection, id string) func() {
	set, ok := l.sets[collection]
	if !ok {
		panic("mongodb: no document locks for collection " + collection)
	}
	m := &set[maphash.String(l.seed, id)%uint64(len(set))]
	m.Lock()
	return m.Unlock
}
