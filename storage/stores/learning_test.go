package stores

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

func eachLearning(t *testing.T, fn func(t *testing.T, e docdb.Engine, s *LearningStore)) {
	t.Helper()
	dbtest.Each(t, learningSchema, func(t *testing.T, e docdb.Engine) { fn(t, e, &LearningStore{e: e}) })
}

const (
	lrnA1 = "0190a000-0000-7000-8000-000000000001"
	lrnA2 = "0190a000-0000-7000-8000-000000000002"
	lrnA3 = "0190a000-0000-7000-8000-000000000003"
)

// TestLearningAssignments: an assignment is listed under its group or
// each learner, read back whole, listed by organisation, retried without
// a second listing, refused under a taken id, taken off its lists.
func TestLearningAssignments(t *testing.T) {
	eachLearning(t, func(t *testing.T, e docdb.Engine, s *LearningStore) {
		g := learning.Assignment{ID: lrnA1, OrgID: "o1", CourseID: "c1", Modules: []string{"m1"}, GroupID: "g1",
			Start: t0, Due: t0.Add(48 * time.Hour), CreatedBy: "u0", Created: t0}
		d := learning.Assignment{ID: lrnA2, OrgID: "o1", CourseID: "c2", Learners: []string{"u1", "u2"}, CreatedBy: "u0", Created: t0}
		for _, a := range []learning.Assignment{g, d, g} { // g twice: a retry
			if err := s.CreateAssignment(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Assignment(ctx, lrnA1); err != nil || !reflect.DeepEqual(got, g) {
			t.Errorf("read back: %+v %v, want %+v", got, err, g)
		}
		for owner, want := range map[string]string{"g1": "[" + lrnA1 + "]", "u1": "[" + lrnA2 + "]", "u2": "[" + lrnA2 + "]", "u3": "[]"} {
			if ids, err := s.AssignedTo(ctx, owner); err != nil || fmt.Sprint(ids) != want {
				t.Errorf("under %s: %v %v, want %s", owner, ids, err, want)
			}
		}
		other := d
		other.CourseID = "c9"
		if err := s.CreateAssignment(ctx, other); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("taken id: %v", err)
		}
		if list, err := s.Assignments(ctx, "o1", pathways.Page{Limit: 10}); err != nil || len(list) != 2 || list[0].ID != lrnA1 {
			t.Errorf("organisation's: %v %v", list, err)
		}
		if err := s.DeleteAssignment(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Assignment(ctx, lrnA2); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("deleted: %v", err)
		}
		if ids, _ := s.AssignedTo(ctx, "u1"); len(ids) != 0 {
			t.Errorf("still listed: %v", ids)
		}
		if err := s.DeleteAssignment(ctx, d); err != nil {
			t.Errorf("delete again: %v", err)
		}
	})
}

// TestLearningAssignmentsFull: a full list refuses the next assignment
// and stores nothing of it.
func TestLearningAssignmentsFull(t *testing.T) {
	eachLearning(t, func(t *testing.T, e docdb.Engine, s *LearningStore) {
		ids := make(list[string], learning.MaxGroupAssignments)
		for i := range ids {
			ids[i] = fmt.Sprintf("a%d", i)
		}
		if err := e.Insert(ctx, colAssignedTo, "g1", assignedDoc{IDs: ids}); err != nil {
			t.Fatal(err)
		}
		a := learning.Assignment{ID: lrnA3, OrgID: "o1", CourseID: "c1", GroupID: "g1", Created: t0}
		if err := s.CreateAssignment(ctx, a); !errors.Is(err, learning.ErrFull) {
			t.Fatalf("full: %v", err)
		}
		if _, err := s.Assignment(ctx, lrnA3); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("stored all the same: %v", err)
		}
	})
}

// TestLearningEnrolments: a course is listed once; self-enrolment sticks.
func TestLearningEnrolments(t *testing.T) {
	eachLearning(t, func(t *testing.T, e docdb.Engine, s *LearningStore) {
		for _, en := range []learning.Enrolment{{CourseID: "c1", At: t0}, {CourseID: "c2", Self: true, At: t0}, {CourseID: "c1", Self: true, At: t0.Add(time.Hour)}} {
			if err := s.Enrol(ctx, "u1", en); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Enrolments(ctx, "u1")
		want := []learning.Enrolment{{CourseID: "c1", Self: true, At: t0}, {CourseID: "c2", Self: true, At: t0}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("enrolments: %+v %v", got, err)
		}
		if err := s.DropEnrolments(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Enrolments(ctx, "u1"); len(got) != 0 {
			t.Errorf("dropped: %v", got)
		}
	})
}

func sampleProgress() learning.Progress {
	return learning.Progress{
		LearnerID: "u1", OrgID: "o1", CourseID: "c1", Version: 2,
		Lessons: map[string]learning.LessonProgress{
			"intro": {Opened: t0, Completed: t0.Add(time.Minute), Seen: []string{"b1", "b2"},
				Spent: []learning.Interval{{From: 1, To: 5}, {From: 9, To: 12}}, Last: t0.Add(time.Minute)},
		},
		Reflections: map[string]learning.Reflection{"intro/r1": {Text: "ما تعلمته", Shared: true, At: t0, EventID: "e1"}},
		Resume:      learning.Point{LessonID: "intro", BlockID: "b2", At: t0, EventID: "e2"},
		Completed:   t0.Add(time.Hour), Recent: []string{"e1", "e2"}, Updated: t0,
	}
}

// TestLearningProgress: a progress is created from start, read back
// whole, changed, and deleted.
func TestLearningProgress(t *testing.T) {
	eachLearning(t, func(t *testing.T, e docdb.Engine, s *LearningStore) {
		if _, err := s.Progress(ctx, "u1", "c1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("before: %v", err)
		}
		if _, err := s.UpdateProgress(ctx, "u1", "c1", nil, func(*learning.Progress) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("no start: %v", err)
		}
		want := sampleProgress()
		got, err := s.UpdateProgress(ctx, "u1", "c1", func() learning.Progress {
			return learning.Progress{LearnerID: "u1", OrgID: "o1", CourseID: "c1"}
		}, func(p *learning.Progress) error {
			q := sampleProgress()
			q.OrgID = "elsewhere" // never changes
			*p = q
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("created: %+v %v", got, err)
		}
		if got, err := s.Progress(ctx, "u1", "c1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("read back: %+v %v\nwant %+v", got, err, want)
		}
		if err := s.DeleteProgress(ctx, "u1", "c1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteProgress(ctx, "u1", "c1"); err != nil {
			t.Errorf("delete again: %v", err)
		}
	})
}

// TestLearningProgressInterleaved: A reads a progress, B writes it, A's
// write fails and A changes a fresh read, keeping B's change; and two
// instances changing one progress at once lose nothing.
func TestLearningProgressInterleaved(t *testing.T) {
	eachLearning(t, func(t *testing.T, e docdb.Engine, s *LearningStore) {
		b := &LearningStore{e: dbtest.Second(t, e, learningSchema)}
		start := func() learning.Progress { return learning.Progress{LearnerID: "u1", OrgID: "o1", CourseID: "c1"} }
		mark := func(id string) func(*learning.Progress) error {
			return func(p *learning.Progress) error { p.Recent = append(p.Recent, id); return nil }
		}
		if _, err := s.UpdateProgress(ctx, "u1", "c1", start, mark("first")); err != nil {
			t.Fatal(err)
		}
		a := dbtest.AfterGet(e, colProgress, ProgressID("u1", "c1"), func() {
			if _, err := b.UpdateProgress(ctx, "u1", "c1", start, mark("b")); err != nil {
				t.Error(err)
			}
		})
		calls := 0
		got, err := (&LearningStore{e: a}).UpdateProgress(ctx, "u1", "c1", start, func(p *learning.Progress) error {
			calls++
			return mark("a")(p)
		})
		if err != nil || a.Fired != 1 || calls != 2 {
			t.Fatalf("A after B: %v (fired %d, calls %d)", err, a.Fired, calls)
		}
		if fmt.Sprint(got.Recent) != "[first b a]" {
			t.Errorf("A's write lost B's: %v", got.Recent)
		}

		ss := [2]*LearningStore{s, b}
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				if _, err := ss[i%2].UpdateProgress(ctx, "u2", "c1", start, mark(fmt.Sprint(i))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if p, err := s.Progress(ctx, "u2", "c1"); err != nil || len(p.Recent) != 10 {
			t.Errorf("two instances: %v %v", p.Recent, err)
		}
	})
}
