package stores

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

var groupsTestSchema = append(append(docdb.Schema{}, accountsSchema...), groupsSchema...)

// eachGroups runs fn on both engines with a fresh store holding groups.
func eachGroups(t *testing.T, fn func(t *testing.T, e docdb.Engine, s *AccountsStore)) {
	t.Helper()
	dbtest.Each(t, groupsTestSchema, func(t *testing.T, e docdb.Engine) { fn(t, e, acc(e)) })
}

func grpMake(t *testing.T, s *AccountsStore, id, org string) {
	t.Helper()
	g := accounts.Group{ID: id, OrgID: org, Name: "Group " + id, Locale: "fr", Revision: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
}

func grpMembers(t *testing.T, s *AccountsStore, g string) []string {
	t.Helper()
	ms, err := s.GroupMembers(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	return ids
}

func grpOf(t *testing.T, s *AccountsStore, u string) []string {
	t.Helper()
	gs, err := s.LearnerGroups(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

// nthGet runs fn once, after the nth Get of collection coll: for writes
// whose first read of the document is a check and whose second is the
// compare-and-swap's.
type nthGet struct {
	docdb.Engine
	mu    sync.Mutex
	coll  string
	n     int
	fn    func()
	Fired int
}

func (e *nthGet) Get(ctx context.Context, coll, id string, v any) (docdb.Rev, error) {
	rev, err := e.Engine.Get(ctx, coll, id, v)
	e.mu.Lock()
	fire := false
	if coll == e.coll {
		e.n--
		fire = e.n == 0
		if fire {
			e.Fired++
		}
	}
	e.mu.Unlock()
	if fire {
		e.fn()
	}
	return rev, err
}

func TestGroupsCreateReadList(t *testing.T) {
	eachGroups(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		for i := range 5 {
			grpMake(t, s, fmt.Sprintf("g%d", i), "o1")
		}
		grpMake(t, s, "x", "o2")
		g := accounts.Group{ID: "g0", OrgID: "o1", Name: "again", Locale: "fr", Revision: 1}
		if err := s.CreateGroup(ctx, g); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("taken id: %v", err)
		}
		got, err := s.Group(ctx, "g1")
		if err != nil || got.Name != "Group g1" || got.OrgID != "o1" || got.Locale != "fr" || got.Revision != 1 || !got.CreatedAt.Equal(t0) {
			t.Fatalf("read: %+v %v", got, err)
		}
		if _, err := s.Group(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		var ids []string
		for off := 0; ; off += 2 {
			page, err := s.Groups(ctx, "o1", pathways.Page{Offset: off, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range page {
				ids = append(ids, g.ID)
			}
			if len(page) < 2 {
				break
			}
		}
		if fmt.Sprint(ids) != "[g0 g1 g2 g3 g4]" {
			t.Errorf("o1's groups paged: %v", ids)
		}
		u, err := s.UpdateGroup(ctx, "g1", func(g *accounts.Group) error { g.Name, g.OrgID = "Renamed", "o2"; g.Revision++; return nil })
		if err != nil || u.Name != "Renamed" || u.OrgID != "o1" || u.Revision != 2 {
			t.Fatalf("update: %+v %v", u, err)
		}
		if _, err := s.UpdateGroup(ctx, "nope", func(*accounts.Group) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})
}

func TestGroupsMembership(t *testing.T) {
	eachGroups(t, func(t *testing.T, _ docdb.Engine, s *AccountsStore) {
		if m := grpMembers(t, s, "g1"); len(m) != 0 {
			t.Fatalf("no members yet: %v", m)
		}
		for _, step := range []struct {
			g, u string
			want bool
		}{{"g1", "u1", true}, {"g1", "u2", true}, {"g1", "u1", false}, {"g2", "u1", true}} {
			if added, err := s.AddToGroup(ctx, step.g, step.u, t0); err != nil || added != step.want {
				t.Fatalf("add %s to %s: %v %v, want %v", step.u, step.g, added, err, step.want)
			}
		}
		if m, g := grpMembers(t, s, "g1"), grpOf(t, s, "u1"); fmt.Sprint(m, g) != "[u1 u2] [g1 g2]" {
			t.Fatalf("members %v, u1's groups %v", m, g)
		}
		if removed, err := s.RemoveFromGroup(ctx, "g1", "u1"); err != nil || !removed {
			t.Fatalf("remove: %v %v", removed, err)
		}
		if removed, err := s.RemoveFromGroup(ctx, "g1", "u1"); err != nil || removed {
			t.Fatalf("remove again: %v %v", removed, err)
		}
		if removed, err := s.RemoveFromGroup(ctx, "g9", "u9"); err != nil || removed {
			t.Fatalf("remove from nothing: %v %v", removed, err)
		}
		// Move u2 from g1 to g3, twice: the second changes nothing.
		for range 2 {
			if err := s.MoveToGroup(ctx, "g1", "g3", "u2", t0); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(grpMembers(t, s, "g1"), grpMembers(t, s, "g3"), grpOf(t, s, "u2"), grpOf(t, s, "u1")) != "[] [u2] [g3] [g2]" {
			t.Errorf("after move: g1 %v g3 %v u2 %v u1 %v", grpMembers(t, s, "g1"), grpMembers(t, s, "g3"), grpOf(t, s, "u2"), grpOf(t, s, "u1"))
		}
	})
}

// TestGroupsBounds: a full group refuses a new member and writes nothing
// of theirs; a learner in MaxLearnerGroups groups joins no more, but may
// move from one to another.
func TestGroupsBounds(t *testing.T) {
	eachGroups(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		full := membersDoc{Members: list[memberDoc]{}}
		for i := range accounts.MaxGroupMembers {
			full.Members = append(full.Members, memberDoc{UserID: fmt.Sprintf("m%d", i), AddedAt: 1})
		}
		if err := e.Insert(ctx, colGroupMembers, "big", full); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddToGroup(ctx, "big", "u1", t0); !errors.Is(err, accounts.ErrGroupFull) {
			t.Fatalf("full group: %v", err)
		}
		if g := grpOf(t, s, "u1"); len(g) != 0 {
			t.Errorf("refused add left u1 in %v", g)
		}
		if added, err := s.AddToGroup(ctx, "big", "m7", t0); err != nil || added {
			t.Errorf("a member of a full group, again: %v %v", added, err)
		}

		var many learnerGroupsDoc
		for i := range accounts.MaxLearnerGroups {
			many.Groups = append(many.Groups, fmt.Sprintf("g%d", i))
		}
		if err := e.Insert(ctx, colLearnerGroups, "u2", many); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddToGroup(ctx, "new", "u2", t0); !errors.Is(err, accounts.ErrTooManyGroups) {
			t.Fatalf("too many groups: %v", err)
		}
		if m := grpMembers(t, s, "new"); len(m) != 0 {
			t.Errorf("refused add made members %v", m)
		}
		if err := s.MoveToGroup(ctx, "g0", "new", "u2", t0); err != nil {
			t.Fatalf("move at the bound: %v", err)
		}
		if g := grpOf(t, s, "u2"); len(g) != accounts.MaxLearnerGroups || g[len(g)-1] != "new" || slices.Contains(g, "g0") {
			t.Errorf("after move at the bound: %v", g)
		}
		if err := s.MoveToGroup(ctx, "not-in", "new2", "u2", t0); !errors.Is(err, accounts.ErrTooManyGroups) {
			t.Errorf("move from a group u2 is not in, at the bound: %v", err)
		}
	})
}

// TestGroupsCrashRepair: a crash between the two writes leaves the group
// on the learner's list only; the next add, or remove, repairs it.
func TestGroupsCrashRepair(t *testing.T) {
	eachGroups(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		for _, u := range []string{"u1", "u2"} {
			if err := e.Insert(ctx, colLearnerGroups, u, learnerGroupsDoc{Groups: list[string]{"g1"}}); err != nil {
				t.Fatal(err)
			}
		}
		if added, err := s.AddToGroup(ctx, "g1", "u1", t0); err != nil || !added {
			t.Fatalf("add after a crashed add: %v %v", added, err)
		}
		if removed, err := s.RemoveFromGroup(ctx, "g1", "u2"); err != nil || removed {
			t.Fatalf("remove after a crashed add: %v %v", removed, err)
		}
		if fmt.Sprint(grpMembers(t, s, "g1"), grpOf(t, s, "u1"), grpOf(t, s, "u2")) != "[u1] [g1] []" {
			t.Errorf("repaired: %v %v %v", grpMembers(t, s, "g1"), grpOf(t, s, "u1"), grpOf(t, s, "u2"))
		}
	})
}

// TestGroupsTwoInstances: learners added to one group and one learner
// added to many groups, on two instances at once, are all kept, on both
// lists.
func TestGroupsTwoInstances(t *testing.T) {
	eachGroups(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		ss := [2]*AccountsStore{s, acc(dbtest.Second(t, e, groupsTestSchema))}
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := ss[i%2].AddToGroup(ctx, "g", fmt.Sprintf("u%d", i), t0); err != nil {
					t.Error(err)
				}
				if _, err := ss[(i+1)%2].AddToGroup(ctx, fmt.Sprintf("g%d", i), "solo", t0); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		m, g := grpMembers(t, s, "g"), grpOf(t, s, "solo")
		slices.Sort(m)
		slices.Sort(g)
		if len(m) != n || len(g) != n {
			t.Fatalf("members %v, solo's groups %v", m, g)
		}
		for i := range n {
			if gi := grpOf(t, s, fmt.Sprintf("u%d", i)); fmt.Sprint(gi) != "[g]" {
				t.Errorf("u%d's groups: %v", i, gi)
			}
			if mi := grpMembers(t, s, fmt.Sprintf("g%d", i)); fmt.Sprint(mi) != "[solo]" {
				t.Errorf("g%d's members: %v", i, mi)
			}
		}
	})
}

// TestGroupsInterleaved: A reads a list, B writes it, A's write fails and
// A reads again, keeping B's change: on the member list (add and remove)
// and on the learner's list.
func TestGroupsInterleaved(t *testing.T) {
	eachGroups(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		b := acc(dbtest.Second(t, e, groupsTestSchema))
		if _, err := s.AddToGroup(ctx, "g", "u1", t0); err != nil {
			t.Fatal(err)
		}
		// The add's second read of the member list is its compare-and-swap's.
		a := &nthGet{Engine: e, coll: colGroupMembers, n: 2, fn: func() {
			if _, err := b.AddToGroup(ctx, "g", "u3", t0); err != nil {
				t.Error(err)
			}
		}}
		if added, err := acc(a).AddToGroup(ctx, "g", "u2", t0); err != nil || !added || a.Fired != 1 {
			t.Fatalf("A's add after B's: %v %v (fired %d)", added, err, a.Fired)
		}
		if m := grpMembers(t, s, "g"); fmt.Sprint(m) != "[u1 u3 u2]" {
			t.Errorf("members: %v", m)
		}

		ai := dbtest.AfterGet(e, colGroupMembers, "g", func() {
			if _, err := b.AddToGroup(ctx, "g", "u4", t0); err != nil {
				t.Error(err)
			}
		})
		if removed, err := acc(ai).RemoveFromGroup(ctx, "g", "u1"); err != nil || !removed || ai.Fired != 1 {
			t.Fatalf("A's remove after B's add: %v %v (fired %d)", removed, err, ai.Fired)
		}
		if m := grpMembers(t, s, "g"); fmt.Sprint(m) != "[u3 u2 u4]" {
			t.Errorf("members: %v", m)
		}

		al := dbtest.AfterGet(e, colLearnerGroups, "u2", func() {
			if _, err := b.AddToGroup(ctx, "h", "u2", t0); err != nil {
				t.Error(err)
			}
		})
		if err := acc(al).MoveToGroup(ctx, "g", "k", "u2", t0.Add(time.Second)); err != nil || al.Fired != 1 {
			t.Fatalf("A's move after B's add: %v (fired %d)", err, al.Fired)
		}
		if g := grpOf(t, s, "u2"); fmt.Sprint(g) != "[h k]" {
			t.Errorf("u2's groups: %v", g)
		}
		if m := grpMembers(t, s, "k"); len(m) != 1 || m[0] != "u2" {
			t.Errorf("k's members: %v", m)
		}
	})
}

// TestGroupsAddRemoveRace: an add and a remove of one learner and group
// interleaved either way end with the two lists agreeing: the add's
// second look, or the remove's, puts the group back on the learner's list
// of a learner who is a member.
func TestGroupsAddRemoveRace(t *testing.T) {
	eachGroups(t, func(t *testing.T, e docdb.Engine, s *AccountsStore) {
		b := acc(dbtest.Second(t, e, groupsTestSchema))
		if _, err := s.AddToGroup(ctx, "g", "u1", t0); err != nil {
			t.Fatal(err)
		}
		// A's add finds g on u1's list; B's whole remove runs; A adds u1
		// to the member list again.
		a := dbtest.AfterGet(e, colLearnerGroups, "u1", func() {
			if _, err := b.RemoveFromGroup(ctx, "g", "u1"); err != nil {
				t.Error(err)
			}
		})
		if _, err := acc(a).AddToGroup(ctx, "g", "u1", t0); err != nil || a.Fired != 1 {
			t.Fatalf("A's add around B's remove: %v (fired %d)", err, a.Fired)
		}
		if m, g := grpMembers(t, s, "g"), grpOf(t, s, "u1"); fmt.Sprint(m, g) != "[u1] [g]" {
			t.Errorf("after an add around a remove: members %v, u1's groups %v", m, g)
		}

		// A's remove takes u1 off the member list and reads u1's list;
		// B's whole add runs (finding g there); A takes g off u1's list.
		a = dbtest.AfterGet(e, colLearnerGroups, "u1", func() {
			if _, err := b.AddToGroup(ctx, "g", "u1", t0); err != nil {
				t.Error(err)
			}
		})
		if _, err := acc(a).RemoveFromGroup(ctx, "g", "u1"); err != nil || a.Fired != 1 {
			t.Fatalf("A's remove around B's add: %v (fired %d)", err, a.Fired)
		}
		if m, g := grpMembers(t, s, "g"), grpOf(t, s, "u1"); fmt.Sprint(m, g) != "[u1] [g]" {
			t.Errorf("after a remove around an add: members %v, u1's groups %v", m, g)
		}
	})
}
