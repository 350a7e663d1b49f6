package learning

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
)

// View is a learner's progress in a course as the API shows it, to the
// learner or to their educators.
type View struct {
	CourseID     string
	Version      int
	Lessons      []LessonView // of the version, in course order
	LessonsDone  int
	LessonsTotal int
	Seconds      int
	Quizzes      []QuizView
	Reflections  []ReflectionView
	Resume       Point
	Completed    time.Time
	Updated      time.Time
}

// LessonView is one lesson's progress.
type LessonView struct {
	LessonID  string
	ModuleID  string
	Opened    time.Time
	Completed time.Time
	Seen      []string
	Seconds   int
}

// QuizView is a learner's result at one quiz of the course, graded by
// the quiz's method. To the learner, a quiz whose policy hides scores
// shows none.
type QuizView struct {
	QuizID    string
	Kind      assessments.Kind
	Required  bool
	Offline   bool
	Started   int
	Submitted int
	Grade     *float64
	Passed    bool
	DoneAt    time.Time
}

// ReflectionView is one reflection answer.
type ReflectionView struct {
	LessonID string
	BlockID  string
	Text     string
	Shared   bool
	At       time.Time
}

// MyProgress returns the learner's own progress in a course on their
// list.
func (s *Service) MyProgress(ctx context.Context, a accounts.Actor, courseID string) (View, error) {
	if err := isLearner(a); err != nil {
		return View{}, err
	}
	p, err := s.progressOf(ctx, a.UserID, a.OrgID, courseID)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, false)
}

// LearnerProgress returns a learner's progress in a course to their
// organisation's educators and admins: reflections only where shared.
func (s *Service) LearnerProgress(ctx context.Context, a accounts.Actor, learnerID, courseID string) (View, error) {
	if !accounts.ValidID(learnerID) {
		return View{}, fmt.Errorf("learner %q: %w", learnerID, pathways.ErrNotFound)
	}
	u, err := s.acc.User(ctx, a, learnerID)
	if err != nil {
		return View{}, err
	}
	if !mayFollow(a, u) {
		return View{}, fmt.Errorf("progress of %s: %w", learnerID, pathways.ErrForbidden)
	}
	p, err := s.progressOf(ctx, u.ID, u.OrgID, courseID)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, a.UserID != u.ID)
}

// progressOf reads a progress; a course without one yet has an empty
// one if it is on the learner's list.
func (s *Service) progressOf(ctx context.Context, learnerID, orgID, courseID string) (Progress, error) {
	if !accounts.ValidID(courseID) {
		return Progress{}, fmt.Errorf("course %q: %w", courseID, pathways.ErrNotFound)
	}
	p, err := s.store.Progress(ctx, learnerID, courseID)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, pathways.ErrNotFound) {
		return Progress{}, fmt.Errorf("progress of %s in %s: %w", learnerID, courseID, err)
	}
	list, err := s.store.Enrolments(ctx, learnerID)
	if err != nil {
		return Progress{}, fmt.Errorf("enrolments of %s: %w", learnerID, err)
	}
	if !slices.ContainsFunc(list, func(e Enrolment) bool { return e.CourseID == courseID }) {
		return Progress{}, fmt.Errorf("progress of %s in %s: %w", learnerID, courseID, pathways.ErrNotFound)
	}
	return Progress{LearnerID: learnerID, OrgID: orgID, CourseID: courseID}, nil
}

// view builds the view of p on the version it is on (the latest before
// any event), settling a completion the quizzes decided.
func (s *Service) view(ctx context.Context, p Progress, staff bool) (View, error) {
	rel, err := s.release(ctx, p.OrgID, p.CourseID, p.Version)
	if err != nil {
		return View{}, err
	}
	rule := ruleOf(rel.Course)
	done, standings, err := s.quizDone(ctx, p.LearnerID, rule)
	if err != nil {
		return View{}, err
	}
	if p, err = s.settle(ctx, p, rule, done); err != nil {
		return View{}, err
	}
	v := View{CourseID: p.CourseID, Version: rel.Version, Resume: p.Resume, Completed: p.Completed, Updated: p.Updated}
	for _, m := range rel.Course.Modules {
		for _, l := range m.Lessons {
			lp := p.Lessons[l.ID]
			v.Lessons = append(v.Lessons, LessonView{LessonID: l.ID, ModuleID: m.ID, Opened: lp.Opened,
				Completed: lp.Completed, Seen: lp.Seen, Seconds: lp.Seconds()})
			v.LessonsTotal++
			if !lp.Completed.IsZero() {
				v.LessonsDone++
			}
		}
	}
	for _, lp := range p.Lessons { // lessons of other versions count too
		v.Seconds += lp.Seconds()
	}
	for _, id := range rule.Quizzes {
		st, ok := standings[id]
		if !ok {
			continue
		}
		q := QuizView{QuizID: id, Kind: st.Kind, Required: done[id].Required, Offline: st.Offline,
			Started: st.Started, Submitted: st.Submitted, Grade: st.Grade, Passed: st.Passed, DoneAt: st.DoneAt}
		if st.Hidden && !staff {
			q.Grade, q.Passed = nil, false
		}
		v.Quizzes = append(v.Quizzes, q)
	}
	keys := make([]string, 0, len(p.Reflections))
	for k := range p.Reflections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := p.Reflections[k]
		if staff && !r.Shared {
			continue // private to the learner
		}
		lesson, block, _ := strings.Cut(k, "/")
		v.Reflections = append(v.Reflections, ReflectionView{LessonID: lesson, BlockID: block, Text: r.Text, Shared: r.Shared, At: r.At})
	}
	return v, nil
}

// states returns the views of the given courses that have progress, or
// of every course on the learner's list when all is true.
func (s *Service) states(ctx context.Context, a accounts.Actor, ids []string, all bool) ([]View, error) {
	if all {
		list, err := s.store.Enrolments(ctx, a.UserID)
		if err != nil {
			return nil, fmt.Errorf("enrolments of %s: %w", a.UserID, err)
		}
		ids = ids[:0]
		for _, e := range list {
			ids = append(ids, e.CourseID)
		}
	}
	out := []View{}
	for _, id := range ids {
		p, err := s.progressOf(ctx, a.UserID, a.OrgID, id)
		if errors.Is(err, pathways.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := s.view(ctx, p, false)
		if errors.Is(err, pathways.ErrNotFound) {
			continue // a course no longer readable
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Entry is one course on a learner's list (GET /me/learning).
type Entry struct {
	CourseID string
	Title    i18n.Text
	Version  int
	// Assignment is the assignment the course comes from (the one due
	// first when several give it), nil when self-enrolled.
	Assignment *Assignment
	Status     State
	// Late: the due date has passed and the course is not completed.
	Late         bool
	LessonsDone  int
	LessonsTotal int // of the assigned modules, or of the whole course
	Seconds      int
	Resume       Point
	Completed    time.Time
	LastActive   time.Time
}

// State is where a learner is in a course.
type State string

// States.
const (
	NotStarted State = "not_started"
	InProgress State = "in_progress"
	Completed  State = "completed"
)

// MyLearning lists the learner's courses: assigned first, by due date
// (undated last), then self-enrolled in the order enrolled, each with its
// summary in the first of langs the course has. Assignments not started
// yet are left out.
func (s *Service) MyLearning(ctx context.Context, a accounts.Actor, langs []string) ([]Entry, error) {
	if err := isLearner(a); err != nil {
		return nil, err
	}
	u, err := s.acc.Me(ctx, a)
	if err != nil {
		return nil, err
	}
	now := s.now()
	l := &lister{s: s, u: u}
	if err := l.load(ctx); err != nil {
		return nil, err
	}
	assigned := map[string]Assignment{}
	var order []string
	for _, as := range l.assignments {
		if !as.open(now) {
			continue
		}
		prev, ok := assigned[as.CourseID]
		if !ok {
			order = append(order, as.CourseID)
		}
		if !ok || dueBefore(as.Due, prev.Due) {
			assigned[as.CourseID] = as
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		return dueBefore(assigned[order[i]].Due, assigned[order[j]].Due)
	})
	for _, e := range l.enrolled {
		if _, ok := assigned[e.CourseID]; !ok {
			order = append(order, e.CourseID)
		}
	}
	out := make([]Entry, 0, len(order))
	for _, id := range order {
		var as *Assignment
		if x, ok := assigned[id]; ok {
			as = &x
		}
		e, err := s.entry(ctx, u, id, as, langs, now)
		if errors.Is(err, pathways.ErrNotFound) {
			continue // unpublished or no longer shared
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// dueBefore orders due dates, none last.
func dueBefore(a, b time.Time) bool {
	return !a.IsZero() && (b.IsZero() || a.Before(b))
}

// entry summarises one course of a learner's list. It reads the quiz
// results only when every lesson is done (the rest of the rule).
func (s *Service) entry(ctx context.Context, u accounts.User, courseID string, as *Assignment, langs []string, now time.Time) (Entry, error) {
	p, err := s.store.Progress(ctx, u.ID, courseID)
	if errors.Is(err, pathways.ErrNotFound) {
		p, err = Progress{LearnerID: u.ID, OrgID: u.OrgID, CourseID: courseID}, nil
	}
	if err != nil {
		return Entry{}, fmt.Errorf("progress of %s in %s: %w", u.ID, courseID, err)
	}
	rel, err := s.release(ctx, u.OrgID, courseID, p.Version)
	if err != nil {
		return Entry{}, err
	}
	rule := ruleOf(rel.Course)
	if p.Completed.IsZero() && completedAt(p, Rule{Lessons: rule.Lessons}, nil).After(time.Time{}) {
		done, _, err := s.quizDone(ctx, u.ID, rule)
		if err != nil {
			return Entry{}, err
		}
		if p, err = s.settle(ctx, p, rule, done); err != nil {
			return Entry{}, err
		}
	} else if p, err = s.award(ctx, p); err != nil {
		return Entry{}, err
	}
	title, _, _ := rel.Text(rel.Course.Title, langs)
	e := Entry{CourseID: courseID, Title: title, Version: rel.Version, Assignment: as, Resume: p.Resume, Completed: p.Completed}
	lessons := rule.Lessons
	if as != nil && len(as.Modules) > 0 {
		lessons = nil
		for _, m := range as.Modules {
			lessons = append(lessons, rule.Modules[m]...)
		}
	}
	e.LessonsTotal = len(lessons)
	for _, id := range lessons {
		if !p.Lessons[id].Completed.IsZero() {
			e.LessonsDone++
		}
	}
	for _, lp := range p.Lessons {
		e.Seconds += lp.Seconds()
		e.LastActive = latest(e.LastActive, lp.Last)
	}
	switch {
	case !p.Completed.IsZero() || as != nil && len(as.Modules) > 0 && e.LessonsDone == e.LessonsTotal:
		e.Status = Completed
	case len(p.Lessons) > 0:
		e.Status = InProgress
	default:
		e.Status = NotStarted
	}
	e.Late = as != nil && !as.Due.IsZero() && now.After(as.Due) && e.Status != Completed
	return e, nil
}

// Enrol puts a course of the learner's catalogue on their list; one
// already there reports created false.
func (s *Service) Enrol(ctx context.Context, a accounts.Actor, courseID string) (Enrolment, bool, error) {
	if err := isLearner(a); err != nil {
		return Enrolment{}, false, err
	}
	if !accounts.ValidID(courseID) {
		return Enrolment{}, false, pathways.Invalid("courseId", pathways.CodeID)
	}
	if _, err := s.release(ctx, a.OrgID, courseID, 0); err != nil {
		if errors.Is(err, pathways.ErrNotFound) {
			return Enrolment{}, false, pathways.Invalid("courseId", pathways.CodeInvalid)
		}
		return Enrolment{}, false, err
	}
	list, err := s.store.Enrolments(ctx, a.UserID)
	if err != nil {
		return Enrolment{}, false, fmt.Errorf("enrolments of %s: %w", a.UserID, err)
	}
	if i := slices.IndexFunc(list, func(e Enrolment) bool { return e.CourseID == courseID }); i >= 0 && list[i].Self {
		return list[i], false, nil
	}
	e := Enrolment{CourseID: courseID, Self: true, At: s.now()}
	if err := s.store.Enrol(ctx, a.UserID, e); err != nil {
		return Enrolment{}, false, fmt.Errorf("enrol %s in %s: %w", a.UserID, courseID, err)
	}
	return e, true, nil
}
