package stores

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of learning: assignments by id (indexed by
// organisation for its listing), the list of assignment ids under each
// group and each learner named directly, each learner's list of courses,
// and progress under "learner:course".
//
// An assignment is put on its lists before it is stored and deleted
// before it is taken off them, so a list may name an assignment that is
// not there (a crash between the steps, or a create refused at a full
// list); readers skip those, and a retried create finishes the lists.
const (
	colAssignments = "assignments"
	colAssignedTo  = "assigned_to"
	colEnrolments  = "enrolments"
	colProgress    = "progress"
)

var learningSchema = docdb.Schema{
	{Name: colAssignments, Indexes: []docdb.Index{{Name: "org_id", Fields: []string{"org_id"}}}},
	{Name: colAssignedTo},
	{Name: colEnrolments},
	{Name: colProgress},
}

// LearningStore implements learning.Store on the document layer.
type LearningStore struct{ e docdb.Engine }

var _ learning.Store = (*LearningStore)(nil)

// Learning returns the learning store.
func (db *DB) Learning() *LearningStore { return &LearningStore{e: db.e} }

type assignmentDoc struct {
	OrgID     string       `json:"org_id"`
	CourseID  string       `json:"course_id"`
	Modules   list[string] `json:"modules,omitzero"`
	GroupID   string       `json:"group_id,omitempty"`
	Learners  list[string] `json:"learners,omitzero"`
	Start     int64        `json:"start,omitempty"`
	Due       int64        `json:"due,omitempty"`
	CreatedBy string       `json:"created_by"`
	Created   int64        `json:"created"`
}

func toAssignmentDoc(a learning.Assignment) assignmentDoc {
	return assignmentDoc{OrgID: a.OrgID, CourseID: a.CourseID, Modules: a.Modules, GroupID: a.GroupID,
		Learners: a.Learners, Start: unixMS(a.Start), Due: unixMS(a.Due), CreatedBy: a.CreatedBy, Created: unixMS(a.Created)}
}

func (d assignmentDoc) toDomain(id string) learning.Assignment {
	return learning.Assignment{ID: id, OrgID: d.OrgID, CourseID: d.CourseID, Modules: d.Modules, GroupID: d.GroupID,
		Learners: d.Learners, Start: fromMS(d.Start), Due: fromMS(d.Due), CreatedBy: d.CreatedBy, Created: fromMS(d.Created)}
}

// assignmentOwners are the lists an assignment is on.
func assignmentOwners(a learning.Assignment) []string {
	if a.GroupID != "" {
		return []string{a.GroupID}
	}
	return a.Learners
}

type assignedDoc struct {
	IDs list[string] `json:"ids"`
}

// CreateAssignment lists a under its owners, then stores it. A retry of
// the same assignment (same id, same course and audience) completes what
// a crash left; another under a taken id is ErrConflict.
func (s *LearningStore) CreateAssignment(ctx context.Context, a learning.Assignment) error {
	var old assignmentDoc
	_, getErr := s.e.Get(ctx, colAssignments, a.ID, &old)
	switch {
	case getErr == nil:
		if old.CourseID != a.CourseID || old.OrgID != a.OrgID || old.GroupID != a.GroupID || !slices.Equal(old.Learners, a.Learners) {
			return fmt.Errorf("assignment %s: %w", a.ID, pathways.ErrConflict)
		}
	case !errors.Is(getErr, pathways.ErrNotFound):
		return fmt.Errorf("read assignment %s: %w", a.ID, getErr)
	}
	for _, owner := range assignmentOwners(a) {
		_, _, err := docdb.Update(ctx, s.e, colAssignedTo, owner, func() (assignedDoc, error) { return assignedDoc{}, nil },
			func(d *assignedDoc) error {
				if slices.Contains(d.IDs, a.ID) {
					return nil
				}
				if len(d.IDs) >= learning.MaxGroupAssignments {
					return learning.ErrFull
				}
				d.IDs = append(d.IDs, a.ID)
				return nil
			})
		if err != nil {
			return fmt.Errorf("list assignment %s under %s: %w", a.ID, owner, err)
		}
	}
	if getErr == nil {
		return nil // stored already: the lists are complete now
	}
	err := s.e.Insert(ctx, colAssignments, a.ID, toAssignmentDoc(a))
	if errors.Is(err, pathways.ErrConflict) {
		// Stored meanwhile by a racing retry: the same one, or another.
		if _, gerr := s.e.Get(ctx, colAssignments, a.ID, &old); gerr == nil && old.CourseID == a.CourseID && old.OrgID == a.OrgID {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("insert assignment %s: %w", a.ID, err)
	}
	return nil
}

// Assignment reads one assignment by id.
func (s *LearningStore) Assignment(ctx context.Context, id string) (learning.Assignment, error) {
	var d assignmentDoc
	if _, err := s.e.Get(ctx, colAssignments, id, &d); err != nil {
		return learning.Assignment{}, fmt.Errorf("find assignment %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// DeleteAssignment deletes a, then takes it off its lists.
func (s *LearningStore) DeleteAssignment(ctx context.Context, a learning.Assignment) error {
	err := s.e.Delete(ctx, colAssignments, a.ID, docdb.AnyRev)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("delete assignment %s: %w", a.ID, err)
	}
	for _, owner := range assignmentOwners(a) {
		_, _, err := docdb.Update(ctx, s.e, colAssignedTo, owner, nil, func(d *assignedDoc) error {
			d.IDs = slices.DeleteFunc(d.IDs, func(id string) bool { return id == a.ID })
			return nil
		})
		if err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return fmt.Errorf("unlist assignment %s under %s: %w", a.ID, owner, err)
		}
	}
	return nil
}

// Assignments returns page p of an organisation's assignments in id
// order (ids are time-ordered UUIDs: the order made) from the org_id
// index.
func (s *LearningStore) Assignments(ctx context.Context, orgID string, p pathways.Page) ([]learning.Assignment, error) {
	out := []learning.Assignment{}
	q := docdb.Query{Index: "org_id", Eq: []any{orgID}, Offset: p.Offset, Limit: p.Limit}
	err := s.e.List(ctx, colAssignments, q, func(doc docdb.Doc) error {
		var d assignmentDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.toDomain(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assignments of %s: %w", orgID, err)
	}
	return out, nil
}

// AssignedTo reads the list of assignment ids under a group or learner.
func (s *LearningStore) AssignedTo(ctx context.Context, ownerID string) ([]string, error) {
	var d assignedDoc
	_, err := s.e.Get(ctx, colAssignedTo, ownerID, &d)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return nil, fmt.Errorf("assignments of %s: %w", ownerID, err)
	}
	return append([]string{}, d.IDs...), nil
}

type enrolmentsDoc struct {
	Courses list[enrolmentDoc] `json:"courses"`
}

type enrolmentDoc struct {
	CourseID string `json:"c"`
	Self     bool   `json:"self,omitempty"`
	At       int64  `json:"at"`
}

// Enrolments reads a learner's list of courses.
func (s *LearningStore) Enrolments(ctx context.Context, learnerID string) ([]learning.Enrolment, error) {
	var d enrolmentsDoc
	_, err := s.e.Get(ctx, colEnrolments, learnerID, &d)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return nil, fmt.Errorf("enrolments of %s: %w", learnerID, err)
	}
	out := make([]learning.Enrolment, len(d.Courses))
	for i, e := range d.Courses {
		out[i] = learning.Enrolment{CourseID: e.CourseID, Self: e.Self, At: fromMS(e.At)}
	}
	return out, nil
}

// Enrol adds a course to a learner's list by compare-and-swap.
func (s *LearningStore) Enrol(ctx context.Context, learnerID string, e learning.Enrolment) error {
	_, _, err := docdb.Update(ctx, s.e, colEnrolments, learnerID, func() (enrolmentsDoc, error) { return enrolmentsDoc{}, nil },
		func(d *enrolmentsDoc) error {
			i := slices.IndexFunc(d.Courses, func(x enrolmentDoc) bool { return x.CourseID == e.CourseID })
			if i >= 0 {
				d.Courses[i].Self = d.Courses[i].Self || e.Self
				return nil
			}
			if len(d.Courses) >= learning.MaxEnrolments {
				return learning.ErrFull
			}
			d.Courses = append(d.Courses, enrolmentDoc{CourseID: e.CourseID, Self: e.Self, At: unixMS(e.At)})
			return nil
		})
	if err != nil {
		return fmt.Errorf("enrol %s in %s: %w", learnerID, e.CourseID, err)
	}
	return nil
}

// DropEnrolments deletes a learner's list.
func (s *LearningStore) DropEnrolments(ctx context.Context, learnerID string) error {
	err := s.e.Delete(ctx, colEnrolments, learnerID, docdb.AnyRev)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("drop enrolments of %s: %w", learnerID, err)
	}
	return nil
}

// progressDoc is one learner's progress in one course; maps are stored
// as arrays so no lesson or block id becomes a field name.
type progressDoc struct {
	LearnerID   string                    `json:"learner_id"`
	OrgID       string                    `json:"org_id"`
	CourseID    string                    `json:"course_id"`
	Version     int                       `json:"version"`
	Lessons     list[lessonProgressDoc]   `json:"lessons,omitzero"`
	Reflections list[reflectionAnswerDoc] `json:"reflections,omitzero"`
	Resume      resumeDoc                 `json:"resume"`
	Completed   int64                     `json:"completed,omitempty"`
	Awarded     bool                      `json:"awarded,omitempty"`
	Recent      list[string]              `json:"recent,omitzero"`
	Updated     int64                     `json:"updated"`
}

type lessonProgressDoc struct {
	ID        string            `json:"id"`
	Opened    int64             `json:"opened,omitempty"`
	Completed int64             `json:"completed,omitempty"`
	Seen      list[string]      `json:"seen,omitzero"`
	Spent     list[intervalDoc] `json:"spent,omitzero"`
	Last      int64             `json:"last,omitempty"`
}

// intervalDoc is a span of Unix milliseconds (an object: arrays of
// arrays are not stored by every MongoDB-compatible server).
type intervalDoc struct {
	From int64 `json:"f"`
	To   int64 `json:"t"`
}

type reflectionAnswerDoc struct {
	Key     string `json:"k"`
	Text    string `json:"text"`
	Shared  bool   `json:"shared,omitempty"`
	At      int64  `json:"at"`
	EventID string `json:"ev"`
}

type resumeDoc struct {
	LessonID string `json:"lesson,omitempty"`
	BlockID  string `json:"block,omitempty"`
	At       int64  `json:"at,omitempty"`
	EventID  string `json:"ev,omitempty"`
}

func toProgressDoc(p learning.Progress) progressDoc {
	return progressDoc{
		LearnerID: p.LearnerID, OrgID: p.OrgID, CourseID: p.CourseID, Version: p.Version,
		Lessons: keyed(p.Lessons, func(id string, l learning.LessonProgress) lessonProgressDoc {
			return lessonProgressDoc{ID: id, Opened: unixMS(l.Opened), Completed: unixMS(l.Completed), Seen: l.Seen,
				Spent: convert(l.Spent, func(iv learning.Interval) intervalDoc { return intervalDoc{iv.From, iv.To} }), Last: unixMS(l.Last)}
		}),
		Reflections: keyed(p.Reflections, func(k string, r learning.Reflection) reflectionAnswerDoc {
			return reflectionAnswerDoc{Key: k, Text: r.Text, Shared: r.Shared, At: unixMS(r.At), EventID: r.EventID}
		}),
		Resume:    resumeDoc{LessonID: p.Resume.LessonID, BlockID: p.Resume.BlockID, At: unixMS(p.Resume.At), EventID: p.Resume.EventID},
		Completed: unixMS(p.Completed), Awarded: p.Awarded, Recent: p.Recent, Updated: unixMS(p.Updated),
	}
}

func (d progressDoc) toDomain() learning.Progress {
	return learning.Progress{
		LearnerID: d.LearnerID, OrgID: d.OrgID, CourseID: d.CourseID, Version: d.Version,
		Lessons: unkeyed(d.Lessons, func(l lessonProgressDoc) (string, learning.LessonProgress) {
			return l.ID, learning.LessonProgress{Opened: fromMS(l.Opened), Completed: fromMS(l.Completed), Seen: l.Seen,
				Spent: convertBack(l.Spent, func(iv intervalDoc) learning.Interval { return learning.Interval{From: iv.From, To: iv.To} }),
				Last:  fromMS(l.Last)}
		}),
		Reflections: unkeyed(d.Reflections, func(r reflectionAnswerDoc) (string, learning.Reflection) {
			return r.Key, learning.Reflection{Text: r.Text, Shared: r.Shared, At: fromMS(r.At), EventID: r.EventID}
		}),
		Resume:    learning.Point{LessonID: d.Resume.LessonID, BlockID: d.Resume.BlockID, At: fromMS(d.Resume.At), EventID: d.Resume.EventID},
		Completed: fromMS(d.Completed), Awarded: d.Awarded, Recent: d.Recent, Updated: fromMS(d.Updated),
	}
}

// ProgressID is the id of a learner's progress in a course.
func ProgressID(learnerID, courseID string) string { return learnerID + ":" + courseID }

// Progress reads a learner's progress in a course by id.
func (s *LearningStore) Progress(ctx context.Context, learnerID, courseID string) (learning.Progress, error) {
	var d progressDoc
	if _, err := s.e.Get(ctx, colProgress, ProgressID(learnerID, courseID), &d); err != nil {
		return learning.Progress{}, fmt.Errorf("progress of %s in %s: %w", learnerID, courseID, err)
	}
	return d.toDomain(), nil
}

// UpdateProgress changes a progress by compare-and-swap, again from a
// fresh read on a lost race; with start nil a missing one is ErrNotFound.
func (s *LearningStore) UpdateProgress(ctx context.Context, learnerID, courseID string, start func() learning.Progress, change func(*learning.Progress) error) (learning.Progress, error) {
	var missing func() (progressDoc, error)
	if start != nil {
		missing = func() (progressDoc, error) { return toProgressDoc(start()), nil }
	}
	d, _, err := docdb.Update(ctx, s.e, colProgress, ProgressID(learnerID, courseID), missing, func(d *progressDoc) error {
		p := d.toDomain()
		if err := change(&p); err != nil {
			return err
		}
		p.LearnerID, p.CourseID, p.OrgID = d.LearnerID, d.CourseID, d.OrgID // who and what never change
		*d = toProgressDoc(p)
		return nil
	})
	if err != nil {
		return learning.Progress{}, fmt.Errorf("update progress of %s in %s: %w", learnerID, courseID, err)
	}
	return d.toDomain(), nil
}

// DeleteProgress deletes a progress; a missing one is no error.
func (s *LearningStore) DeleteProgress(ctx context.Context, learnerID, courseID string) error {
	err := s.e.Delete(ctx, colProgress, ProgressID(learnerID, courseID), docdb.AnyRev)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("delete progress of %s in %s: %w", learnerID, courseID, err)
	}
	return nil
}
