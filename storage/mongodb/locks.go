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
	seed    maphash.Seed
	stripes [256]sync.Mutex
}

func newDocLocks() *docLocks { return &docLocks{seed: maphash.MakeSeed()} }

// lock locks the document id of collection and returns its unlock. A
// caller holds at most one document lock at a time, so stripes cannot
// deadlock.
func (l *docLocks) lock(collection, id string) func() {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(collection)
	h.WriteByte(0)
	h.WriteString(id)
	m := &l.stripes[h.Sum64()%uint64(len(l.stripes))]
	m.Lock()
	return m.Unlock
}
