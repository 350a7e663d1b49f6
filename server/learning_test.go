package server_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// learningDraft is a course of two modules: m1 has a lesson with a text
// and a reflection and a lesson with the quiz, m2 one lesson.
func learningDraft(slug, quizID string) map[string]any {
	quizBlock := map[string]any{"id": "q", "kind": "quiz", "quiz": quizID}
	if quizID == "" {
		quizBlock = map[string]any{"id": "q", "kind": "text", "text": "l3.text"}
	}
	return map[string]any{
		"slug": slug, "topic": "soft-skills", "audiences": []string{"young-refugees"},
		"level": "beginner", "defaultLocale": "en", "locales": []string{"en", "ar"},
		"title": "course.title", "summary": "course.summary",
		"modules": []any{
			map[string]any{"id": "m1", "title": "m1.title", "lessons": []any{
				map[string]any{"id": "l1", "title": "l1.title", "minutes": 5, "blocks": []any{
					map[string]any{"id": "b1", "kind": "text", "text": "l1.text"},
					map[string]any{"id": "r1", "kind": "reflection", "text": "l1.think"},
				}},
				map[string]any{"id": "l2", "title": "l2.title", "minutes": 5, "blocks": []any{quizBlock}},
			}},
			map[string]any{"id": "m2", "title": "m2.title", "lessons": []any{
				map[string]any{"id": "l3", "title": "l3.title", "minutes": 5, "blocks": []any{
					map[string]any{"id": "b1", "kind": "text", "text": "l3.text"},
				}},
			}},
		},
		"messages": map[string]any{
			"en": map[string]any{
				"course.title": "Finding work", "course.summary": "Your first steps.", "m1.title": "Looking", "l1.title": "Where to look",
				"l1.text": "Ask around.", "l1.think": "Who could help you?", "l2.title": "Check", "m2.title": "Applying",
				"l3.title": "Your CV", "l3.text": "Keep it short.",
			},
			"ar": map[string]any{"course.title": "البحث عن عمل"},
		},
	}
}

// learningFixture is a published course with a required quiz (pass mark
// 0.5, allowed offline), a group of org A with the fixture learner in it.
type learningFixture struct {
	e                         *env
	trainer, edu, learner     string
	quizID, courseID, groupID string
}

func newLearning(t *testing.T) *learningFixture {
	e := newEnv(t)
	f := &learningFixture{e: e, trainer: e.token("a-trainer"), edu: e.token("a-edu"), learner: e.token("a-learner")}
	f.quizID = e.publishedQuiz(f.trainer, map[string]any{"offline": true})
	f.courseID = f.publish("finding-work")
	f.groupID = e.mustGroup(f.edu, "Tuesday class")
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + f.groupID + "/members/" + e.learnerA.ID, token: f.edu}); r.status != 204 {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	return f
}

func (f *learningFixture) publish(slug string) string {
	c := f.e.mustCreateCourse(f.trainer, learningDraft(slug, f.quizID))
	f.e.mustPublish(f.trainer, c["id"].(string), c["revision"])
	return c["id"].(string)
}

func (f *learningFixture) assign(body map[string]any, want int) map[string]any {
	f.e.t.Helper()
	return f.e.mustPost(f.edu, "/api/v1/assignments", body, want)
}

func (f *learningFixture) myLearning(token string) []map[string]any {
	f.e.t.Helper()
	r := f.e.do(req{method: "GET", path: "/api/v1/me/learning", token: token})
	if r.status != 200 {
		f.e.t.Fatalf("me/learning: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, c := range r.json(f.e.t)["courses"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

// ev is a lesson event of the fixture's course at device time at.
func (f *learningFixture) ev(id, typ, lesson string, at time.Time, more map[string]any) map[string]any {
	m := map[string]any{"id": id, "type": typ, "at": at.Format(time.RFC3339Nano), "courseId": f.courseID, "version": 1, "lessonId": lesson}
	for k, v := range more {
		m[k] = v
	}
	return m
}

func (f *learningFixture) sync(e *env, token string, sentAt time.Time, events []map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/sync", token: token,
		body: map[string]any{"sentAt": sentAt.Format(time.RFC3339Nano), "events": events}})
	if r.status != 200 {
		e.t.Fatalf("sync: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func statuses(t *testing.T, res map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range res["results"].([]any) {
		m := r.(map[string]any)
		s := m["status"].(string)
		if p, ok := m["problem"].(map[string]any); ok {
			codes := fieldCodes(p)
			s += fmt.Sprintf("(%v %v)", p["status"], strings.Join(codes, ","))
		}
		out = append(out, s)
	}
	return out
}

func uuidN(prefix, n int) string { return fmt.Sprintf("0190f1e2-%04x-7000-8000-%012x", prefix, n) }

// TestAssignments: educators assign a course, or modules of it, to a
// group or to learners; a learner who joins the group later has its
// assignments; the learner's list puts assigned courses first, by due
// date, then self-enrolled ones; retries and bad input answer clearly.
func TestAssignments(t *testing.T) {
	f := newLearning(t)
	e := f.e
	other := f.publish("finding-work-2")
	third := f.publish("finding-work-3")
	due := e.clock.Now().Add(72 * time.Hour)
	a := f.assign(map[string]any{"id": uuidN(0xa, 1), "courseId": f.courseID, "groupId": f.groupID, "due": due}, 201)
	if a["orgId"] != e.orgA.ID || a["groupId"] != f.groupID || a["createdBy"] != e.eduA.ID {
		t.Errorf("assignment: %v", a)
	}
	if again := f.assign(map[string]any{"id": uuidN(0xa, 1), "courseId": f.courseID, "groupId": f.groupID, "due": due}, 200); again["id"] != a["id"] {
		t.Errorf("retry: %v", again)
	}
	f.assign(map[string]any{"courseId": other, "learners": []string{e.learnerA.ID}, "modules": []string{"m2"},
		"due": e.clock.Now().Add(24 * time.Hour)}, 201)
	if r := e.do(req{method: "POST", path: "/api/v1/me/enrolments", token: f.learner, body: map[string]any{"courseId": third}}); r.status != 201 {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/me/enrolments", token: f.learner, body: map[string]any{"courseId": third}}); r.status != 200 {
		t.Errorf("enrol again: %d %s", r.status, r.body)
	}

	list := f.myLearning(f.learner)
	got := []string{}
	for _, c := range list {
		got = append(got, fmt.Sprintf("%s/%s/%v/%v", c["source"], c["status"], c["lessonsTotal"], c["courseId"] == other))
	}
	// Due first (the single-module one, due in a day), then the group's, then self-enrolled.
	if want := []string{"assigned/not_started/1/true", "assigned/not_started/3/false", "self/not_started/3/false"}; !reflect.DeepEqual(got, want) {
		t.Errorf("my learning: %v, want %v", got, want)
	}
	if list[1]["title"].(map[string]any)["value"] != "Finding work" {
		t.Errorf("title: %v", list[1]["title"])
	}
	if _, named := list[0]["assignment"].(map[string]any)["learners"]; named {
		t.Errorf("a learner sees who else is assigned: %v", list[0]["assignment"])
	}

	// A learner who joins the group later has its assignment.
	late, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgA.ID, accounts.NewUser{Username: "late-learner", Role: accounts.RoleLearner, PIN: fixturePIN})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + f.groupID + "/members/" + late.ID, token: f.edu}); r.status != 204 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if l := f.myLearning(e.token("late-learner")); len(l) != 1 || l[0]["courseId"] != f.courseID {
		t.Errorf("late joiner's list: %v", l)
	}

	// Late: the due date passed.
	e.clock.Advance(25 * time.Hour)
	f.learner, f.edu = e.token("a-learner"), e.token("a-edu") // the old sessions expired
	if l := f.myLearning(f.learner); l[0]["late"] != true || l[1]["late"] != false {
		t.Errorf("late flags: %v %v", l[0]["late"], l[1]["late"])
	}

	group := e.do(req{method: "GET", path: "/api/v1/groups/" + f.groupID + "/assignments", token: f.edu})
	if group.status != 200 || len(group.json(t)["assignments"].([]any)) != 1 {
		t.Errorf("group's assignments: %d %s", group.status, group.body)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/assignments", token: f.edu}); r.status != 200 || len(r.json(t)["items"].([]any)) != 2 {
		t.Errorf("organisation's assignments: %d %s", r.status, r.body)
	}

	// Who may: another organisation's educator sees nothing, a learner
	// may not assign, a trainer may not either.
	eduB := e.token("b-edu")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/assignments/" + a["id"].(string), token: eduB}), 404, "not-found")
	wantProblem(t, e.do(req{method: "DELETE", path: "/api/v1/assignments/" + a["id"].(string), token: eduB}), 404, "not-found")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/groups/" + f.groupID + "/assignments", token: eduB}), 404, "not-found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: eduB,
		body: map[string]any{"courseId": f.courseID, "groupId": f.groupID}}), 404, "not-found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: eduB,
		body: map[string]any{"courseId": f.courseID, "learners": []string{e.learnerA.ID}}}), 404, "not-found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.learner,
		body: map[string]any{"courseId": f.courseID, "groupId": f.groupID}}), 403, "forbidden")
	// Another organisation's id is taken (as ids of courses and quizzes are).
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: eduB, body: map[string]any{"id": a["id"], "courseId": f.courseID, "groupId": f.groupID}}), 409, "conflict")

	// Bad input: every problem named.
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.edu,
		body: map[string]any{"courseId": f.courseID, "groupId": f.groupID, "modules": []string{"nope"}}}), 422, "validation")
	if c := fieldCodes(p); !reflect.DeepEqual(c, []string{"modules/0:unknown_module"}) {
		t.Errorf("unknown module: %v", c)
	}
	p = wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.edu,
		body: map[string]any{"courseId": f.courseID, "start": due, "due": due.Add(-time.Hour)}}), 422, "validation")
	if c := fieldCodes(p); !reflect.DeepEqual(c, []string{"groupId:required", "due:due_before_start"}) {
		t.Errorf("no audience, due before start: %v", c)
	}
	p = wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.edu,
		body: map[string]any{"courseId": f.courseID, "learners": []string{e.eduA.ID}}}), 422, "validation")
	if c := fieldCodes(p); !reflect.DeepEqual(c, []string{"learners:not_learner"}) {
		t.Errorf("an educator as learner: %v", c)
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = uuidN(0xb, i)
	}
	p = wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.edu,
		body: map[string]any{"courseId": f.courseID, "learners": many}}), 422, "validation")
	if c := fieldCodes(p); !reflect.DeepEqual(c, []string{"learners:too_many"}) {
		t.Errorf("501 learners: %v", c)
	}
	// A course of another organisation, unshared, cannot be given.
	if _, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgB.ID, accounts.NewUser{Username: "b-trainer", Role: accounts.RoleTrainer, Password: fixturePassword}); err != nil {
		t.Fatal(err)
	}
	tb := e.token("b-trainer")
	cb := e.mustCreateCourse(tb, learningDraft("b-course", ""))
	e.mustPublish(tb, cb["id"].(string), cb["revision"])
	p = wantProblem(t, e.do(req{method: "POST", path: "/api/v1/assignments", token: f.edu,
		body: map[string]any{"courseId": cb["id"], "groupId": f.groupID}}), 422, "validation")
	if c := fieldCodes(p); !reflect.DeepEqual(c, []string{"courseId:invalid"}) {
		t.Errorf("another organisation's course: %v", c)
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/me/enrolments", token: f.learner, body: map[string]any{"courseId": cb["id"]}}), 422, "validation")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/me/enrolments", token: f.edu, body: map[string]any{"courseId": third}}), 403, "forbidden")

	// Deleting an assignment takes the course off the group's list.
	if r := e.do(req{method: "DELETE", path: "/api/v1/assignments/" + a["id"].(string), token: f.edu}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if l := f.myLearning(e.token("late-learner")); len(l) != 0 {
		t.Errorf("after unassigning: %v", l)
	}
}

// TestSyncProgressAndCompletion: a learner's offline day lands in one
// sync: lessons, capped time, a private and a shared reflection, and
// answers to the offline quiz; the course is completed when the quiz is
// passed; educators see the shared reflection only; the learner's export
// has it all.
func TestSyncProgressAndCompletion(t *testing.T) {
	f := newLearning(t)
	e := f.e
	f.assign(map[string]any{"courseId": f.courseID, "groupId": f.groupID}, 201)
	// The attempt is started online (the quiz comes down without keys).
	att := e.mustPost(f.learner, "/api/v1/quizzes/"+f.quizID+"/attempts", map[string]any{"id": uuidN(0xc, 1)}, 201)
	if att["offline"] != true {
		t.Fatalf("offline quiz not marked offline: %v", att["offline"])
	}
	if l := leaks(t, mustJSON(t, att)); len(l) > 0 {
		t.Fatalf("the downloaded quiz leaks %v", l)
	}
	keys := map[string]string{}
	for _, q := range att["questions"].([]any) {
		k := q.(map[string]any)["key"].(string)
		keys[k[strings.Index(k, ".")+1:]] = k
	}
	// The device's clock is an hour behind.
	now := e.clock.Now()
	dev := now.Add(-time.Hour)
	at := func(min int) time.Time { return dev.Add(time.Duration(min-60) * time.Minute) }
	events := []map[string]any{
		f.ev(uuidN(1, 1), "lesson_opened", "l1", at(0), nil),
		f.ev(uuidN(1, 2), "block_seen", "l1", at(1), map[string]any{"blockId": "b1"}),
		f.ev(uuidN(1, 3), "time_spent", "l1", at(30), map[string]any{"seconds": 3600}), // capped at 300
		f.ev(uuidN(1, 4), "reflection_saved", "l1", at(31), map[string]any{"blockId": "r1", "text": "أخي يستطيع المساعدة", "shared": false}),
		f.ev(uuidN(1, 5), "lesson_completed", "l1", at(32), nil),
		f.ev(uuidN(1, 6), "lesson_completed", "l2", at(33), nil),
		f.ev(uuidN(1, 7), "lesson_completed", "l3", at(34), nil),
		{"id": uuidN(1, 8), "type": "answer_saved", "at": at(35), "attemptId": att["id"], "key": keys["who"], "answer": map[string]any{"option": "outlet"}},
		{"id": uuidN(1, 9), "type": "answer_saved", "at": at(36), "attemptId": att["id"], "key": keys["number"], "answer": map[string]any{"number": 112}},
		{"id": uuidN(1, 10), "type": "answer_saved", "at": at(36), "attemptId": att["id"], "key": keys["signs"], "answer": map[string]any{"options": []string{"urgent", "nosource"}}},
		{"id": uuidN(1, 11), "type": "attempt_submitted", "at": at(37), "attemptId": att["id"], "courseId": f.courseID},
	}
	// Submit listed before an answer: saves go first all the same.
	events[8], events[10] = events[10], events[8]
	res := f.sync(e, f.learner, dev, events)
	for i, s := range statuses(t, res) {
		if s != "applied" {
			t.Errorf("event %d: %s", i, s)
		}
	}
	courses := res["courses"].([]any)
	if len(courses) != 1 {
		t.Fatalf("state: %v", res["courses"])
	}
	p := courses[0].(map[string]any)
	if p["lessonsDone"] != 3.0 || p["seconds"] != 300.0 || p["completedAt"] == nil {
		t.Errorf("progress: done %v, seconds %v, completed %v", p["lessonsDone"], p["seconds"], p["completedAt"])
	}
	// Skew corrected: the first opening is an hour later by the server's clock than by the device's.
	l1 := p["lessons"].([]any)[0].(map[string]any)
	if got, _ := time.Parse(time.RFC3339Nano, l1["openedAt"].(string)); !got.Equal(at(0).Add(time.Hour)) {
		t.Errorf("opened at %v, want %v", got, at(0).Add(time.Hour))
	}
	q := p["quizzes"].([]any)[0].(map[string]any)
	if q["required"] != true || q["submitted"] != 1.0 || q["passed"] != true || q["offline"] != true {
		t.Errorf("quiz: %v", q)
	}
	if resume := p["resume"].(map[string]any); resume["lessonId"] != "l3" {
		t.Errorf("resume: %v", resume)
	}
	if r := p["reflections"].([]any); len(r) != 1 || r[0].(map[string]any)["text"] != "أخي يستطيع المساعدة" {
		t.Errorf("own reflections: %v", r)
	}

	// Staff see no unshared reflection; once shared, they do.
	staffView := func() map[string]any {
		r := e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/progress/" + f.courseID, token: f.edu})
		if r.status != 200 {
			t.Fatalf("staff view: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	if r := staffView()["reflections"].([]any); len(r) != 0 {
		t.Errorf("staff read a private reflection: %v", r)
	}
	f.sync(e, f.learner, now, []map[string]any{f.ev(uuidN(1, 12), "reflection_saved", "l1", now, map[string]any{"blockId": "r1", "text": "My brother can help", "shared": true})})
	if r := staffView()["reflections"].([]any); len(r) != 1 || r[0].(map[string]any)["text"] != "My brother can help" {
		t.Errorf("shared reflection: %v", r)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/progress/" + f.courseID, token: e.token("b-edu")}), 404, "not-found")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/progress/" + f.courseID, token: f.trainer}), 404, "not-found")

	// The learner's list agrees.
	if l := f.myLearning(f.learner); l[0]["status"] != "completed" || l[0]["lessonsDone"] != 3.0 || l[0]["completedAt"] != p["completedAt"] {
		t.Errorf("my learning after completing: %v", l[0])
	}
	// The export holds the learning data.
	r := e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/data", token: f.learner})
	if r.status != 200 || !strings.Contains(string(r.body), "My brother can help") {
		t.Errorf("export: %d %.300s", r.status, r.body)
	}
	// Erasure removes the progress, reflections with it, and the list.
	if r := e.do(req{method: "POST", path: "/api/v1/users/" + e.learnerA.ID + "/erase", token: f.edu, body: map[string]any{"confirm": "a-learner"}}); r.status != 200 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	if _, err := e.db.Learning().Progress(context.Background(), e.learnerA.ID, f.courseID); !errors.Is(err, pathways.ErrNotFound) {
		t.Errorf("progress after erasure: %v", err)
	}
	if list, _ := e.db.Learning().Enrolments(context.Background(), e.learnerA.ID); len(list) != 0 {
		t.Errorf("enrolments after erasure: %v", list)
	}
}

// TestSyncRejectsEachEventAlone: in one batch, events for a course the
// learner is not enrolled in, unknown lessons and blocks, a time far in
// the future, another learner's attempt, a timed quiz's attempt and
// malformed events are each rejected with their reason; the rest lands.
func TestSyncRejectsEachEventAlone(t *testing.T) {
	f := newLearning(t)
	e := f.e
	f.assign(map[string]any{"courseId": f.courseID, "groupId": f.groupID}, 201)
	notMine := f.publish("not-assigned")
	timed := e.publishedQuiz(f.trainer, map[string]any{"timeLimitSeconds": 600})
	timedAtt := e.mustPost(f.learner, "/api/v1/quizzes/"+timed+"/attempts", map[string]any{"id": uuidN(0xd, 1)}, 201)
	// Another learner's attempt, in the same organisation.
	if _, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgA.ID, accounts.NewUser{Username: "other-learner", Role: accounts.RoleLearner, PIN: fixturePIN}); err != nil {
		t.Fatal(err)
	}
	otherAtt := e.mustPost(e.token("other-learner"), "/api/v1/quizzes/"+f.quizID+"/attempts", map[string]any{"id": uuidN(0xd, 2)}, 201)

	now := e.clock.Now()
	good := f.ev(uuidN(2, 1), "lesson_opened", "l1", now, nil)
	notEnrolled := f.ev(uuidN(2, 2), "lesson_opened", "l1", now, nil)
	notEnrolled["courseId"] = notMine
	events := []map[string]any{
		good,
		notEnrolled,
		f.ev(uuidN(2, 3), "lesson_opened", "nope", now, nil),
		f.ev(uuidN(2, 4), "block_seen", "l1", now, map[string]any{"blockId": "zz"}),
		f.ev(uuidN(2, 5), "reflection_saved", "l1", now, map[string]any{"blockId": "b1", "text": "x"}),
		f.ev(uuidN(2, 6), "lesson_opened", "l1", now.Add(24*time.Hour), nil),
		{"id": uuidN(2, 7), "type": "attempt_submitted", "at": now, "attemptId": otherAtt["id"]},
		{"id": uuidN(2, 8), "type": "attempt_submitted", "at": now, "attemptId": timedAtt["id"]},
		{"id": uuidN(2, 9), "type": "lesson_opened", "at": "yesterday"},
		{"id": uuidN(2, 10), "type": "dance", "at": now},
		f.ev(uuidN(2, 11), "reflection_saved", "l1", now, map[string]any{"blockId": "r1", "text": "hidden \u202e text"}),
		f.ev(uuidN(2, 1), "lesson_opened", "l1", now, nil), // the first one again
		{"id": uuidN(2, 12), "type": "lesson_opened", "at": now, "courseId": f.courseID, "version": 1, "lessonId": "l2", "extra": 1},
		f.ev(uuidN(2, 13), "lesson_opened", "l1", now, map[string]any{"version": 7}),
	}
	res := f.sync(e, f.learner, now, events)
	want := []string{
		"applied",
		"rejected(422 courseId:not_enrolled)",
		"rejected(422 lessonId:unknown_lesson)",
		"rejected(422 blockId:unknown_block)",
		"rejected(422 blockId:not_reflection)",
		"rejected(422 at:in_future)",
		"rejected(404 )",
		"rejected(422 attemptId:timed_online)",
		"rejected(422 at:invalid)",
		"rejected(422 type:enum)",
		"rejected(422 text:invalid)",
		"duplicate",
		"rejected(422 extra:unknown)",
		"rejected(422 version:invalid)",
	}
	if got := statuses(t, res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses:\n got %v\nwant %v", got, want)
	}
	// The problems are in the caller's language.
	fr := e.do(req{method: "POST", path: "/api/v1/sync", token: f.learner, header: map[string]string{"Accept-Language": "fr"},
		body: map[string]any{"events": []any{notEnrolled}}})
	if !strings.Contains(string(fr.body), "inscrit") {
		t.Errorf("not in French: %s", fr.body)
	}

	// The batch as a whole: too many events, not a batch, not a learner.
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = f.ev(uuidN(3, i), "lesson_opened", "l1", now, nil)
	}
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sync", token: f.learner, body: map[string]any{"events": many}}), 422, "validation")
	if errs := p["errors"].([]any); len(errs) != 1 || !strings.Contains(errs[0].(map[string]any)["detail"].(string), "1000") {
		t.Errorf("limit not named: %v", p["errors"])
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sync", token: f.learner, body: `{"events": [`}), 400, "malformed-json")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sync", token: f.learner, body: `{"events": 3}`}), 422, "validation")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sync", token: f.edu, body: map[string]any{"events": []any{good}}}), 403, "forbidden")
	if r := e.do(req{method: "GET", path: "/api/v1/me/progress/" + notMine, token: f.learner}); r.status != 404 {
		t.Errorf("progress in a course not enrolled: %d", r.status)
	}
}

// replayEvents is a learner's 1,000 lesson events over the course's
// three lessons, with reflections edited several times.
func (f *learningFixture) replayEvents(start time.Time) []map[string]any {
	lessons := []string{"l1", "l2", "l3"}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]map[string]any, 1000)
	for i := range out {
		at := start.Add(time.Duration(i) * 7 * time.Second)
		l := lessons[rng.IntN(3)]
		id := uuidN(4, i)
		switch i % 6 {
		case 0:
			out[i] = f.ev(id, "lesson_opened", l, at, nil)
		case 1:
			out[i] = f.ev(id, "block_seen", "l1", at, map[string]any{"blockId": []string{"b1", "r1"}[rng.IntN(2)]})
		case 2:
			out[i] = f.ev(id, "time_spent", l, at, map[string]any{"seconds": 1 + rng.IntN(400)})
		case 3:
			out[i] = f.ev(id, "reflection_saved", "l1", at, map[string]any{"blockId": "r1", "text": fmt.Sprintf("draft %d", i), "shared": i%4 == 3})
		case 4:
			out[i] = f.ev(id, "lesson_completed", l, at, nil)
		default:
			out[i] = f.ev(id, "block_seen", "l3", at, map[string]any{"blockId": "b1"})
		}
	}
	return out
}

// progressState is a progress answer without the server's write time.
func progressState(t *testing.T, e *env, token, courseID string) map[string]any {
	t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/me/progress/" + courseID, token: token})
	if r.status != 200 {
		t.Fatalf("progress: %d %s", r.status, r.body)
	}
	p := r.json(t)
	delete(p, "updatedAt")
	return p
}

// TestSyncReplay: the same 1,000-event batch applied three times, in
// shuffled order, with the server restarted between runs, gives the same
// final state as one clean run; the resent events are duplicates.
func TestSyncReplay(t *testing.T) {
	f := newLearning(t)
	e := f.e
	f.assign(map[string]any{"courseId": f.courseID, "groupId": f.groupID}, 201)
	twin, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgA.ID, accounts.NewUser{Username: "twin-learner", Role: accounts.RoleLearner, PIN: fixturePIN})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + f.groupID + "/members/" + twin.ID, token: f.edu}); r.status != 204 {
		t.Fatal(r.status)
	}
	start := e.clock.Now().Add(-3 * time.Hour)
	events := f.replayEvents(start)
	now := e.clock.Now()

	clean := f.sync(e, f.learner, now, events)
	for i, s := range statuses(t, clean) {
		if s != "applied" {
			t.Fatalf("clean run, event %d: %s", i, s)
		}
	}
	want := progressState(t, e, f.learner, f.courseID)

	rng := rand.New(rand.NewPCG(3, 4))
	cur := e
	for run := range 3 {
		shuffled := append([]map[string]any(nil), events...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		res := f.sync(cur, cur.token("twin-learner"), now, shuffled)
		wantStatus := "applied"
		if run > 0 {
			wantStatus = "duplicate"
		}
		for i, s := range statuses(t, res) {
			if s != wantStatus {
				t.Fatalf("run %d, event %d: %s", run, i, s)
			}
		}
		cur = newEnvOn(t, e) // a restart: a new instance on the same database
	}
	got := progressState(t, cur, cur.token("twin-learner"), f.courseID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replayed state differs:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
	if want["lessonsDone"] != 3.0 || len(want["reflections"].([]any)) != 1 {
		t.Errorf("the clean run itself: %s", mustJSON(t, want))
	}
}

// TestSyncTwoDevices: two devices of one learner syncing at once, on two
// instances, both land whole.
func TestSyncTwoDevices(t *testing.T) {
	f := newLearning(t)
	e := f.e
	f.assign(map[string]any{"courseId": f.courseID, "groupId": f.groupID}, 201)
	events := f.replayEvents(e.clock.Now().Add(-3 * time.Hour))
	other := newEnvOn(t, e)
	tokens := []string{f.learner, other.token("a-learner")}
	envs := []*env{e, other}
	var wg sync.WaitGroup
	results := make([]map[string]any, 2)
	for d := range 2 {
		wg.Go(func() {
			var mine []map[string]any
			for i, ev := range events {
				if i%2 == d {
					mine = append(mine, ev)
				}
			}
			// Each device sends its share in pieces of 100.
			for i := 0; i < len(mine); i += 100 {
				r := envs[d].do(req{method: "POST", path: "/api/v1/sync", token: tokens[d],
					body: map[string]any{"sentAt": e.clock.Now(), "events": mine[i:min(i+100, len(mine))]}})
				if r.status != 200 {
					t.Errorf("device %d: %d %s", d, r.status, r.body)
					return
				}
				results[d] = r.json(t)
			}
		})
	}
	wg.Wait()
	together := progressState(t, e, f.learner, f.courseID)

	// The same events from one device, for another learner, in one go.
	solo, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgA.ID, accounts.NewUser{Username: "solo-learner", Role: accounts.RoleLearner, PIN: fixturePIN})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + f.groupID + "/members/" + solo.ID, token: f.edu}); r.status != 204 {
		t.Fatal(r.status)
	}
	f.sync(e, e.token("solo-learner"), e.clock.Now(), events)
	if want := progressState(t, e, e.token("solo-learner"), f.courseID); !reflect.DeepEqual(together, want) {
		t.Errorf("two devices:\n got %s\nwant %s", mustJSON(t, together), mustJSON(t, want))
	}
}
