package server

import (
	"encoding/json"
	"errors"
	"reflect"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
)

// assignmentJSON is an assignment as the API shows it.
type assignmentJSON struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"orgId"`
	CourseID  string     `json:"courseId"`
	Modules   []string   `json:"modules"`
	GroupID   string     `json:"groupId,omitempty"`
	Learners  []string   `json:"learners,omitempty"`
	Start     *time.Time `json:"start,omitempty"`
	Due       *time.Time `json:"due,omitempty"`
	CreatedBy string     `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toAssignmentJSON(a learning.Assignment) assignmentJSON {
	return assignmentJSON{ID: a.ID, OrgID: a.OrgID, CourseID: a.CourseID, Modules: nonNil(a.Modules), GroupID: a.GroupID,
		Learners: a.Learners, Start: optTime(a.Start), Due: optTime(a.Due), CreatedBy: a.CreatedBy, CreatedAt: a.Created}
}

// createAssignmentRequest assigns a course (or modules of it) to a group
// or to learners. ID, optional, is a client's for retries.
type createAssignmentRequest struct {
	ID       string     `json:"id"`
	CourseID string     `json:"courseId"`
	Modules  []string   `json:"modules"`
	GroupID  string     `json:"groupId"`
	Learners []string   `json:"learners"`
	Start    *time.Time `json:"start"`
	Due      *time.Time `json:"due"`
}

func (r createAssignmentRequest) assignment() learning.NewAssignment {
	in := learning.NewAssignment{ID: r.ID, CourseID: r.CourseID, Modules: r.Modules, GroupID: r.GroupID, Learners: r.Learners}
	if r.Start != nil {
		in.Start = *r.Start
	}
	if r.Due != nil {
		in.Due = *r.Due
	}
	return in
}

func (r createAssignmentRequest) check() error { return learning.CheckNewAssignment(r.assignment()) }

func (s *Server) createAssignment(c *fiber.Ctx) error {
	var in createAssignmentRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, created, err := s.learn.Assign(c.UserContext(), actor(c), in.assignment())
	if err != nil {
		return err
	}
	c.Location("/api/v1/assignments/" + a.ID)
	return c.Status(createdStatus(created)).JSON(toAssignmentJSON(a))
}

func (s *Server) listAssignments(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, learning.AssignmentPages)
	org := orgParam(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	list, err := s.learn.Assignments(c.UserContext(), actor(c), org, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(list, toAssignmentJSON), p, -1)
}

func (s *Server) getAssignment(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.learn.Assignment(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toAssignmentJSON(a))
}

func (s *Server) deleteAssignment(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.learn.Unassign(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// groupAssignmentsJSON is every assignment of a group (a bounded list).
type groupAssignmentsJSON struct {
	Assignments []assignmentJSON `json:"assignments"`
}

func (s *Server) listGroupAssignments(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	list, err := s.learn.GroupAssignments(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(groupAssignmentsJSON{Assignments: listOf(list, toAssignmentJSON)})
}

type enrolRequest struct {
	CourseID string `json:"courseId"`
}

type enrolmentJSON struct {
	CourseID string    `json:"courseId"`
	Self     bool      `json:"self"`
	At       time.Time `json:"at"`
}

func (s *Server) enrol(c *fiber.Ctx) error {
	var in enrolRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, created, err := s.learn.Enrol(c.UserContext(), actor(c), in.CourseID)
	if err != nil {
		return err
	}
	return c.Status(createdStatus(created)).JSON(enrolmentJSON{CourseID: e.CourseID, Self: e.Self, At: e.At})
}

// pointJSON is a resume point.
type pointJSON struct {
	LessonID string     `json:"lessonId,omitempty"`
	BlockID  string     `json:"blockId,omitempty"`
	At       *time.Time `json:"at,omitempty"`
}

func toPointJSON(p learning.Point) *pointJSON {
	if p.LessonID == "" {
		return nil
	}
	return &pointJSON{LessonID: p.LessonID, BlockID: p.BlockID, At: optTime(p.At)}
}

// entryJSON is one course of GET /me/learning.
type entryJSON struct {
	CourseID     string          `json:"courseId"`
	Title        i18n.Text       `json:"title"`
	Version      int             `json:"version"`
	Source       string          `json:"source"` // "assigned" or "self"
	Assignment   *assignmentJSON `json:"assignment,omitempty"`
	Status       learning.State  `json:"status"`
	Late         bool            `json:"late"`
	LessonsDone  int             `json:"lessonsDone"`
	LessonsTotal int             `json:"lessonsTotal"`
	Seconds      int             `json:"seconds"`
	Resume       *pointJSON      `json:"resume,omitempty"`
	CompletedAt  *time.Time      `json:"completedAt,omitempty"`
	LastActive   *time.Time      `json:"lastActive,omitempty"`
}

func toEntryJSON(e learning.Entry) entryJSON {
	out := entryJSON{CourseID: e.CourseID, Title: e.Title, Version: e.Version, Source: "self", Status: e.Status, Late: e.Late,
		LessonsDone: e.LessonsDone, LessonsTotal: e.LessonsTotal, Seconds: e.Seconds, Resume: toPointJSON(e.Resume),
		CompletedAt: optTime(e.Completed), LastActive: optTime(e.LastActive)}
	if e.Assignment != nil {
		a := toAssignmentJSON(*e.Assignment)
		a.Learners = nil // other learners are not this learner's business
		out.Source, out.Assignment = "assigned", &a
	}
	return out
}

type myLearningJSON struct {
	Courses []entryJSON `json:"courses"`
}

func (s *Server) myLearning(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	langs := s.wantedInto(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	list, err := s.learn.MyLearning(c.UserContext(), actor(c), langs)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(myLearningJSON{Courses: listOf(list, toEntryJSON)})
}

// progressJSON is a learner's progress in a course.
type progressJSON struct {
	CourseID     string           `json:"courseId"`
	Version      int              `json:"version"`
	LessonsDone  int              `json:"lessonsDone"`
	LessonsTotal int              `json:"lessonsTotal"`
	Seconds      int              `json:"seconds"`
	Lessons      []lessonProgJSON `json:"lessons"`
	Quizzes      []quizResultJSON `json:"quizzes"`
	Reflections  []reflectionJSON `json:"reflections"`
	Resume       *pointJSON       `json:"resume,omitempty"`
	CompletedAt  *time.Time       `json:"completedAt,omitempty"`
	UpdatedAt    *time.Time       `json:"updatedAt,omitempty"`
}

type lessonProgJSON struct {
	LessonID    string     `json:"lessonId"`
	ModuleID    string     `json:"moduleId"`
	OpenedAt    *time.Time `json:"openedAt,omitempty"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	Seen        []string   `json:"seen"`
	Seconds     int        `json:"seconds"`
}

type quizResultJSON struct {
	QuizID    string     `json:"quizId"`
	Kind      string     `json:"kind"`
	Required  bool       `json:"required"`
	Offline   bool       `json:"offline"`
	Started   int        `json:"started"`
	Submitted int        `json:"submitted"`
	Grade     *float64   `json:"grade,omitempty"`
	Passed    bool       `json:"passed"`
	DoneAt    *time.Time `json:"doneAt,omitempty"`
}

type reflectionJSON struct {
	LessonID string    `json:"lessonId"`
	BlockID  string    `json:"blockId"`
	Text     string    `json:"text"`
	Shared   bool      `json:"shared"`
	At       time.Time `json:"at"`
}

func toProgressJSON(v learning.View) progressJSON {
	out := progressJSON{CourseID: v.CourseID, Version: v.Version, LessonsDone: v.LessonsDone, LessonsTotal: v.LessonsTotal,
		Seconds: v.Seconds, Resume: toPointJSON(v.Resume), CompletedAt: optTime(v.Completed), UpdatedAt: optTime(v.Updated),
		Lessons: []lessonProgJSON{}, Quizzes: []quizResultJSON{}, Reflections: []reflectionJSON{}}
	for _, l := range v.Lessons {
		out.Lessons = append(out.Lessons, lessonProgJSON{LessonID: l.LessonID, ModuleID: l.ModuleID, OpenedAt: optTime(l.Opened),
			CompletedAt: optTime(l.Completed), Seen: nonNil(l.Seen), Seconds: l.Seconds})
	}
	for _, q := range v.Quizzes {
		out.Quizzes = append(out.Quizzes, quizResultJSON{QuizID: q.QuizID, Kind: string(q.Kind), Required: q.Required, Offline: q.Offline,
			Started: q.Started, Submitted: q.Submitted, Grade: q.Grade, Passed: q.Passed, DoneAt: optTime(q.DoneAt)})
	}
	for _, r := range v.Reflections {
		out.Reflections = append(out.Reflections, reflectionJSON{LessonID: r.LessonID, BlockID: r.BlockID, Text: r.Text, Shared: r.Shared, At: r.At})
	}
	return out
}

// courseIDParam reads the :courseId path parameter.
func courseIDParam(c *fiber.Ctx, v *pathways.ValidationError) string {
	id := c.Params("courseId")
	if !accounts.ValidID(id) {
		v.Add("courseId", pathways.CodeID, nil)
	}
	return id
}

func (s *Server) myProgress(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	course := courseIDParam(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	p, err := s.learn.MyProgress(c.UserContext(), actor(c), course)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(toProgressJSON(p))
}

func (s *Server) learnerProgress(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, course := pathIDInto(c, v), courseIDParam(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	p, err := s.learn.LearnerProgress(c.UserContext(), actor(c), id, course)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(toProgressJSON(p))
}

// syncRequest is a device's batch. Events are decoded one by one, so a
// malformed event is rejected alone.
type syncRequest struct {
	SentAt *time.Time        `json:"sentAt"`
	Events []json.RawMessage `json:"events"`
}

func (r syncRequest) check() error { return learning.CheckBatch(len(r.Events)) }

// eventJSON is one event of a batch.
type eventJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	At        *time.Time      `json:"at"`
	CourseID  string          `json:"courseId"`
	Version   int             `json:"version"`
	LessonID  string          `json:"lessonId"`
	BlockID   string          `json:"blockId"`
	Seconds   int             `json:"seconds"`
	Text      string          `json:"text"`
	Shared    bool            `json:"shared"`
	AttemptID string          `json:"attemptId"`
	Key       string          `json:"key"`
	Answer    json.RawMessage `json:"answer"`
}

func (e eventJSON) event() learning.Event {
	ev := learning.Event{ID: e.ID, Type: learning.EventType(e.Type), CourseID: e.CourseID, Version: e.Version,
		LessonID: e.LessonID, BlockID: e.BlockID, Seconds: e.Seconds, Text: e.Text, Shared: e.Shared,
		AttemptID: e.AttemptID, Key: e.Key, Answer: e.Answer}
	if e.At != nil {
		ev.At = *e.At
	}
	return ev
}

// decodeEvent decodes one event strictly, as a whole body would be; its
// problems are the event's own.
func decodeEvent(raw json.RawMessage) (learning.Event, error) {
	var e eventJSON
	sh, err := checkShape(raw, reflect.TypeOf(&e))
	if err != nil {
		var mj *malformedJSONError
		if errors.As(err, &mj) {
			return learning.Event{}, pathways.Invalid("", pathways.CodeType)
		}
		return learning.Event{}, err
	}
	if !sh.fine() {
		_ = json.Unmarshal(sh.body(raw), &e)
		return learning.Event{ID: e.ID}, requestProblems(nil, sh, nil)
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return learning.Event{}, pathways.Invalid("", pathways.CodeType)
	}
	return e.event(), nil
}

// resultJSON is the answer for one event.
type resultJSON struct {
	ID      string          `json:"id,omitempty"`
	Status  learning.Status `json:"status"`
	Problem *Problem        `json:"problem,omitempty"`
}

type syncJSON struct {
	Results []resultJSON   `json:"results"`
	Courses []progressJSON `json:"courses"`
	Cursor  int64          `json:"cursor"`
}

func (s *Server) sync(c *fiber.Ctx) error {
	var in syncRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	b := learning.Batch{Events: make([]learning.Event, len(in.Events))}
	if in.SentAt != nil {
		b.SentAt = *in.SentAt
	}
	bad := map[int]error{}
	for i, raw := range in.Events {
		ev, err := decodeEvent(raw)
		if err != nil {
			bad[i] = err
			ev = learning.Event{ID: ev.ID} // rejected by Sync as well; the decode error is the reason
		}
		b.Events[i] = ev
	}
	r, err := s.learn.Sync(c.UserContext(), actor(c), b)
	if err != nil {
		return err
	}
	loc := s.localizer(c)
	out := syncJSON{Results: make([]resultJSON, len(r.Results)), Courses: listOf(r.Courses, toProgressJSON), Cursor: r.Cursor}
	for i, res := range r.Results {
		if e, ok := bad[i]; ok {
			res.Status, res.Err = learning.StatusRejected, e
		}
		out.Results[i] = resultJSON{ID: res.ID, Status: res.Status}
		if res.Err != nil {
			out.Results[i].Problem = s.itemProblem(c, loc, res.Err)
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// itemProblem renders the problem of one item of a batch that was
// refused alone, as a whole request's would be rendered.
func (s *Server) itemProblem(c *fiber.Ctx, loc *i18n.Localizer, err error) *Problem {
	k, data := classify(err)
	if data == nil {
		data = map[string]any{}
	}
	data["RequestID"] = requestID(c)
	if _, ok := data["Limit"]; !ok {
		data["Limit"] = s.cfg.BodyLimit
	}
	p := &Problem{Type: problemTypeBase + k.slug, Title: loc.T(k.title, nil), Status: k.status, Detail: loc.T(k.detail, data)}
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			p.Errors = append(p.Errors, fieldProblem(loc, f, false))
		}
		p.Omitted = ve.Omitted
	}
	if k.status >= fiber.StatusInternalServerError {
		s.log.ErrorContext(c.UserContext(), "batch item failed", "request_id", requestID(c), "error", err)
	}
	return p
}
