package learning

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
)

// EventType is what a learner's device reports.
type EventType string

// Event types. The first five merge into a course's progress; the last
// two are answers to a quiz taken offline and go to assessments.
const (
	EventLessonOpened     EventType = "lesson_opened"
	EventBlockSeen        EventType = "block_seen"
	EventLessonCompleted  EventType = "lesson_completed"
	EventTimeSpent        EventType = "time_spent"
	EventReflectionSaved  EventType = "reflection_saved"
	EventAnswerSaved      EventType = "answer_saved"
	EventAttemptSubmitted EventType = "attempt_submitted"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventLessonOpened, EventBlockSeen, EventLessonCompleted, EventTimeSpent, EventReflectionSaved,
	EventAnswerSaved, EventAttemptSubmitted,
}

// Event is one fact a device reports, identified by the UUID the device
// gave it and stamped with the device's clock.
type Event struct {
	ID   string
	Type EventType
	At   time.Time
	// CourseID and Version name the course version the lesson is of
	// (lesson events); for attempt events CourseID is optional and names
	// the course whose completion the result may settle.
	CourseID string
	Version  int
	LessonID string
	BlockID  string // block_seen, reflection_saved
	Seconds  int    // time_spent: the time spent up to At
	Text     string // reflection_saved
	Shared   bool   // reflection_saved: shared with the learner's educators
	// AttemptID (answer_saved, attempt_submitted), Key and Answer
	// (answer_saved: the question's key and the answer as the attempt
	// API takes it).
	AttemptID string
	Key       string
	Answer    json.RawMessage
}

// Batch is what a device sends: its queued events and when it sent them,
// by its own clock, which corrects the skew of that clock.
type Batch struct {
	SentAt time.Time
	Events []Event
}

// Status is what sync did with one event.
type Status string

// Statuses of an event.
const (
	StatusApplied   Status = "applied"
	StatusDuplicate Status = "duplicate"
	StatusRejected  Status = "rejected"
)

// Result is the answer for one event; Err says why it was rejected.
type Result struct {
	ID     string
	Status Status
	Err    error
}

// SyncResult answers a batch: one Result per event in the batch's order,
// the learner's state in each course the batch touched (every course on
// their list for an empty batch) and the server's cursor: the time, in
// Unix milliseconds, the state was read at.
type SyncResult struct {
	Results []Result
	Courses []View
	Cursor  int64
}

// CheckBatch refuses a batch too large to take (the client sends it in
// pieces of MaxBatch).
func CheckBatch(n int) error {
	v := &pathways.ValidationError{}
	pathways.CheckCount(v, "events", n, MaxBatch)
	return v.Err()
}

// Sync applies a batch of a learner's events. Each event is checked on
// its own and rejected alone; the others land. Lesson events merge into
// the course's progress in one compare-and-swap per course, so a batch
// resent whole (an interrupted sync) or sent by two devices at once
// lands once; answers go to assessments, saves before submits.
func (s *Service) Sync(ctx context.Context, a accounts.Actor, b Batch) (SyncResult, error) {
	if err := isLearner(a); err != nil {
		return SyncResult{}, err
	}
	if err := CheckBatch(len(b.Events)); err != nil {
		return SyncResult{}, err
	}
	now := s.now()
	skew := time.Duration(0)
	if !b.SentAt.IsZero() {
		skew = now.Sub(b.SentAt)
	}
	results := make([]Result, len(b.Events))
	byCourse := map[string][]int{}
	var order []string // courses in first-seen order
	var attempts []int
	settle := map[string]bool{}
	seen := make(map[string]bool, len(b.Events))
	for i, ev := range b.Events {
		results[i] = Result{ID: ev.ID}
		if err := checkEvent(ev, b.SentAt, now); err != nil {
			results[i].Status, results[i].Err = StatusRejected, err
			continue
		}
		if seen[ev.ID] {
			results[i].Status = StatusDuplicate
			continue
		}
		seen[ev.ID] = true
		switch ev.Type {
		case EventAnswerSaved, EventAttemptSubmitted:
			attempts = append(attempts, i)
			if ev.CourseID != "" {
				settle[ev.CourseID] = true
			}
		default:
			if _, ok := byCourse[ev.CourseID]; !ok {
				order = append(order, ev.CourseID)
			}
			byCourse[ev.CourseID] = append(byCourse[ev.CourseID], i)
		}
	}
	corrected := func(ev Event) time.Time {
		at := ev.At.Add(skew).UTC().Truncate(time.Millisecond)
		if at.After(now) {
			at = now
		}
		return at
	}
	if len(b.Events) > 0 {
		u, err := s.acc.Me(ctx, a)
		if err != nil {
			return SyncResult{}, err
		}
		l := &lister{s: s, u: u}
		for _, courseID := range order {
			if err := s.syncCourse(ctx, l, b.Events, byCourse[courseID], results, corrected); err != nil {
				return SyncResult{}, err
			}
		}
		s.syncAttempts(ctx, a, b.Events, attempts, results, corrected)
		for courseID := range settle {
			if _, done := byCourse[courseID]; !done {
				order = append(order, courseID)
			}
		}
	}
	out := SyncResult{Results: results, Cursor: now.UnixMilli()}
	views, err := s.states(ctx, a, order, len(b.Events) == 0)
	if err != nil {
		return SyncResult{}, err
	}
	out.Courses = views
	return out, nil
}

// checkEvent checks what an event says on its own.
func checkEvent(ev Event, sentAt, now time.Time) error {
	v := &pathways.ValidationError{}
	if !accounts.ValidID(ev.ID) {
		v.Add("id", pathways.CodeID, nil)
	}
	pathways.CheckEnum(v, "type", ev.Type, EventTypes)
	if ev.At.IsZero() {
		v.Add("at", pathways.CodeRequired, nil)
	} else {
		ref := sentAt
		if ref.IsZero() {
			ref = now
		}
		switch {
		case ev.At.Sub(ref) > MaxFuture:
			v.Add("at", CodeFuture, nil)
		case ref.Sub(ev.At) > MaxPast:
			v.Add("at", CodeTooOld, nil)
		}
	}
	switch ev.Type {
	case EventAnswerSaved, EventAttemptSubmitted:
		if !accounts.ValidID(ev.AttemptID) {
			v.Add("attemptId", pathways.CodeID, nil)
		}
		if ev.CourseID != "" && !accounts.ValidID(ev.CourseID) {
			v.Add("courseId", pathways.CodeID, nil)
		}
		if ev.Type == EventAnswerSaved {
			if ev.Key == "" {
				v.Add("key", pathways.CodeRequired, nil)
			}
			if len(ev.Answer) == 0 {
				v.Add("answer", pathways.CodeRequired, nil)
			}
		}
	case EventLessonOpened, EventBlockSeen, EventLessonCompleted, EventTimeSpent, EventReflectionSaved:
		if !accounts.ValidID(ev.CourseID) {
			v.Add("courseId", pathways.CodeID, nil)
		}
		if ev.Version < 1 {
			v.Add("version", pathways.CodeRequired, nil)
		}
		pathways.CheckKey(v, "lessonId", ev.LessonID)
		if ev.Type == EventBlockSeen || ev.Type == EventReflectionSaved {
			pathways.CheckKey(v, "blockId", ev.BlockID)
		}
		if ev.Type == EventTimeSpent && (ev.Seconds < 1 || ev.Seconds > 24*3600) {
			v.Add("seconds", pathways.CodeRange, map[string]any{"Min": 1, "Max": 24 * 3600})
		}
		if ev.Type == EventReflectionSaved {
			checkReflection(v, ev.Text)
		}
	}
	return v.Err()
}

// checkReflection allows free text with line breaks, nothing that could
// hide or reorder what it shows.
func checkReflection(v *pathways.ValidationError, s string) {
	bad := func(r rune) bool {
		return r != '\n' && r != '\t' && unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
	}
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, bad):
		v.Add("text", pathways.CodeInvalid, nil)
	default:
		pathways.CheckLength(v, "text", s, MaxReflection)
	}
}

// lister reads a learner's courses once per request.
type lister struct {
	s           *Service
	u           accounts.User
	enrolled    []Enrolment
	assignments []Assignment
	read        bool
}

func (l *lister) load(ctx context.Context) error {
	if l.read {
		return nil
	}
	var err error
	if l.enrolled, err = l.s.store.Enrolments(ctx, l.u.ID); err != nil {
		return fmt.Errorf("enrolments of %s: %w", l.u.ID, err)
	}
	if l.assignments, err = l.s.assignedTo(ctx, l.u); err != nil {
		return err
	}
	l.read = true
	return nil
}

// mayRecord says whether the learner may record progress in a course: it
// is on their list, or assigned to them (which puts it on their list).
func (l *lister) mayRecord(ctx context.Context, courseID string, now time.Time) (bool, error) {
	if err := l.load(ctx); err != nil {
		return false, err
	}
	if slices.ContainsFunc(l.enrolled, func(e Enrolment) bool { return e.CourseID == courseID }) {
		return true, nil
	}
	if !slices.ContainsFunc(l.assignments, func(as Assignment) bool { return as.CourseID == courseID && as.open(now) }) {
		return false, nil
	}
	e := Enrolment{CourseID: courseID, At: now}
	if err := l.s.store.Enrol(ctx, l.u.ID, e); err != nil {
		return false, fmt.Errorf("enrol %s in %s: %w", l.u.ID, courseID, err)
	}
	l.enrolled = append(l.enrolled, e)
	return true, nil
}

// open says whether an assignment has started.
func (as Assignment) open(now time.Time) bool { return as.Start.IsZero() || !now.Before(as.Start) }

// syncCourse checks and merges the lesson events of one course.
func (s *Service) syncCourse(ctx context.Context, l *lister, events []Event, idx []int, results []Result, at func(Event) time.Time) error {
	courseID := events[idx[0]].CourseID
	reject := func(i int, err error) { results[i].Status, results[i].Err = StatusRejected, err }
	now := s.now()
	ok, err := l.mayRecord(ctx, courseID, now)
	if err != nil {
		return err
	}
	if !ok {
		for _, i := range idx {
			reject(i, pathways.Invalid("courseId", CodeNotEnrolled))
		}
		return nil
	}
	versions := map[int]courses.Course{}
	var good []int
	for _, i := range idx {
		ev := events[i]
		c, found := versions[ev.Version]
		if !found {
			rel, err := s.release(ctx, l.u.OrgID, courseID, ev.Version)
			switch {
			case errors.Is(err, pathways.ErrNotFound):
				reject(i, pathways.Invalid("version", pathways.CodeInvalid))
				continue
			case err != nil:
				return err
			}
			c = rel.Course
			versions[ev.Version] = c
		}
		if err := checkInCourse(c, ev); err != nil {
			reject(i, err)
			continue
		}
		good = append(good, i)
	}
	if len(good) == 0 {
		return nil
	}
	start := func() Progress {
		return Progress{LearnerID: l.u.ID, OrgID: l.u.OrgID, CourseID: courseID}
	}
	_, err = s.store.UpdateProgress(ctx, l.u.ID, courseID, start, func(p *Progress) error {
		for _, i := range good { // again from the start on a retry
			ev := events[i]
			if p.seen(ev.ID) {
				results[i].Status = StatusDuplicate
				continue
			}
			p.apply(ev, at(ev))
			p.Version = max(p.Version, ev.Version)
			p.remember(ev.ID)
			results[i].Status = StatusApplied
		}
		p.Updated = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("progress of %s in %s: %w", l.u.ID, courseID, err)
	}
	return nil
}

// checkInCourse checks that an event's lesson and block are of the
// version it names.
func checkInCourse(c courses.Course, ev Event) error {
	lesson, ok := findLesson(c, ev.LessonID)
	if !ok {
		return pathways.Invalid("lessonId", CodeUnknownLesson)
	}
	if ev.Type != EventBlockSeen && ev.Type != EventReflectionSaved {
		return nil
	}
	i := slices.IndexFunc(lesson.Blocks, func(b courses.Block) bool { return b.ID == ev.BlockID })
	switch {
	case i < 0:
		return pathways.Invalid("blockId", CodeUnknownBlock)
	case ev.Type == EventReflectionSaved && lesson.Blocks[i].Kind != courses.BlockReflection:
		return pathways.Invalid("blockId", CodeNotReflection)
	}
	return nil
}

// syncAttempts saves the answers and then makes the submits of quizzes
// answered offline, each in the order made on the device.
func (s *Service) syncAttempts(ctx context.Context, a accounts.Actor, events []Event, idx []int, results []Result, at func(Event) time.Time) {
	slices.SortStableFunc(idx, func(i, j int) int {
		si, sj := events[i].Type == EventAttemptSubmitted, events[j].Type == EventAttemptSubmitted
		if si != sj {
			if si {
				return 1
			}
			return -1
		}
		return cmp.Compare(at(events[i]).UnixMilli(), at(events[j]).UnixMilli())
	})
	for _, i := range idx {
		ev := events[i]
		var (
			out assessments.Outcome
			err error
		)
		if ev.Type == EventAnswerSaved {
			out, err = s.assess.SyncAnswer(ctx, a, ev.AttemptID, ev.Key, ev.ID, ev.Answer)
		} else {
			out, err = s.assess.SyncSubmit(ctx, a, ev.AttemptID)
		}
		switch {
		case err != nil:
			results[i].Status, results[i].Err = StatusRejected, err
		case out == assessments.Duplicate:
			results[i].Status = StatusDuplicate
		default:
			results[i].Status = StatusApplied
		}
	}
}
