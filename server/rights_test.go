package server_test

import (
	"strings"
	"testing"
)

// TestDataRights: a learner's data is exported by them or their
// educator, and erased by either: they are signed out, their attempts and
// memberships go, their username is free again, the item statistics stay,
// and the organisation's admins see who did what.
func TestDataRights(t *testing.T) {
	e := newEnv(t)
	trainer, learner, edu, admin := e.token("a-trainer"), e.token("a-learner"), e.token("a-edu"), e.token("a-admin")
	quizID := e.publishedQuiz(trainer, nil)
	attempt := "0190f1e2-0000-7000-8000-00000000da01"
	e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": attempt}, 201)
	if r := answer(e, learner, attempt, "b1.who", "1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	e.mustPost(learner, "/api/v1/attempts/"+attempt+"/submit", nil, 200)
	group := e.mustGroup(admin, "Morning class")
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + group + "/members/" + e.learnerA.ID, token: edu}); r.status >= 300 {
		t.Fatalf("add to group: %d %s", r.status, r.body)
	}

	data := "/api/v1/users/" + e.learnerA.ID + "/data"
	for _, who := range []string{"a-learner", "a-edu"} {
		r := e.do(req{method: "GET", path: data, token: e.token(who)})
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%s exports: %d %v %s", who, r.status, r.header, r.body)
		}
		out := r.json(t)
		account := out["account"].(map[string]any)
		parts := out["parts"].(map[string]any)
		if out["format"] != "pathways-export/1" || account["username"] != "a-learner" || account["groups"].([]any)[0] != "Morning class" {
			t.Errorf("%s: export %s", who, r.body)
		}
		if got := parts["assessments"].(map[string]any)["attempts"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != attempt {
			t.Errorf("%s: exported attempts %v", who, got)
		}
	}
	// Nobody else: a trainer does not manage learners, another
	// organisation does not see them, an educator does not manage admins.
	for _, who := range []string{"a-trainer", "b-edu", "b-learner"} {
		wantProblem(t, e.do(req{method: "GET", path: data, token: e.token(who)}), 404, "not-found")
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/users/" + e.adminA.ID + "/data", token: edu}), 403, "forbidden")

	erase := "/api/v1/users/" + e.learnerA.ID + "/erase"
	for body, code := range map[string]string{`{"confirm": "someone-else"}`: "confirm_username", `{}`: "required"} {
		p := wantProblem(t, e.do(req{method: "POST", path: erase, token: edu, body: body, header: map[string]string{"Accept-Language": "ar"}}), 422, "validation")
		if got := fieldCodes(p); len(got) != 1 || got[0] != "confirm:"+code {
			t.Errorf("erase with %s: %v", body, got)
		}
	}
	wantProblem(t, e.do(req{method: "POST", path: erase, token: e.token("b-edu"), body: map[string]any{"confirm": "a-learner"}}), 404, "not-found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/users/" + e.root.UserID + "/erase", token: e.token("root"), body: map[string]any{"confirm": "root"}}), 403, "forbidden")

	r := e.do(req{method: "POST", path: erase, token: edu, body: map[string]any{"confirm": " A-Learner "}})
	if r.status != 200 || r.json(t)["status"] != "done" {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	erasure := r.json(t)["id"]
	// Signed out and gone.
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/me", token: learner}), 401, "unauthenticated")
	if s := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "a-learner", "password": fixturePIN}}); s.status != 401 {
		t.Errorf("erased learner signs in: %d %s", s.status, s.body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: edu}), 404, "not-found")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/attempts/" + attempt, token: edu}), 404, "not-found")
	if members := e.groupMembers(edu, group); len(members) != 0 {
		t.Errorf("erased learner still in the group: %v", members)
	}
	// The anonymous sums stay.
	st := e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/versions/1/stats", token: trainer}).json(t)
	if n := st["items"].([]any)[0].(map[string]any)["n"]; n != 1.0 {
		t.Errorf("item statistics after the erasure count %v attempts, want 1", n)
	}
	// The retry of whoever asked gets the same record; others 404.
	if again := e.do(req{method: "POST", path: erase, token: edu, body: map[string]any{"confirm": "a-learner"}}); again.status != 200 || again.json(t)["id"] != erasure {
		t.Errorf("retried erase: %d %s", again.status, again.body)
	}
	wantProblem(t, e.do(req{method: "POST", path: erase, token: admin, body: map[string]any{"confirm": "a-learner"}}), 404, "not-found")
	// The username is free for someone new.
	if u := e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: map[string]any{"orgId": e.orgA.ID, "username": "a-learner", "displayName": "Someone new", "role": "learner", "pin": "7391"}}); u.status != 201 {
		t.Errorf("username of an erased learner: %d %s", u.status, u.body)
	}

	// The record: two exports and the erasure, for admins only.
	list := "/api/v1/organisations/" + e.orgA.ID + "/data-requests"
	for _, who := range []string{"a-admin", "root"} {
		rs := e.do(req{method: "GET", path: list, token: e.token(who)})
		if rs.status != 200 {
			t.Fatalf("%s lists: %d %s", who, rs.status, rs.body)
		}
		var kinds []string
		for _, it := range rs.json(t)["items"].([]any) {
			m := it.(map[string]any)
			if m["subjectId"] != e.learnerA.ID {
				t.Errorf("request about someone else: %v", m)
			}
			kinds = append(kinds, m["kind"].(string)+" by "+m["actorRole"].(string))
		}
		if strings.Join(kinds, ", ") != "export by learner, export by educator, erasure by educator" {
			t.Errorf("%s: record %v", who, kinds)
		}
	}
	wantProblem(t, e.do(req{method: "GET", path: list, token: edu}), 403, "forbidden")
	wantProblem(t, e.do(req{method: "GET", path: list, token: e.token("b-edu")}), 404, "not-found")
}
