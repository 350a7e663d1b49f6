package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pathways-lms/pathways/accounts"
)

// mustGroup creates a group as token and returns its id.
func (e *env) mustGroup(token, name string) string {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/groups", token: token, body: map[string]any{"name": name, "locale": "fr"}})
	if r.status != 201 {
		e.t.Fatalf("create group %s: %d %s", name, r.status, r.body)
	}
	return r.json(e.t)["id"].(string)
}

func (e *env) groupMembers(token, id string) []string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/groups/" + id + "/members?limit=200", token: token})
	if r.status != 200 {
		e.t.Fatalf("members of %s: %d %s", id, r.status, r.body)
	}
	out := []string{}
	for _, m := range r.json(e.t)["items"].([]any) {
		out = append(out, m.(map[string]any)["userId"].(string))
	}
	return out
}

func (e *env) userGroups(token, id string) []string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/users/" + id + "/groups", token: token})
	if r.status != 200 {
		e.t.Fatalf("groups of %s: %d %s", id, r.status, r.body)
	}
	out := []string{}
	for _, g := range r.json(e.t)["items"].([]any) {
		out = append(out, g.(map[string]any)["id"].(string))
	}
	return out
}

// TestGroupsCreateAndEdit: an educator creates a group (a retry with its
// id gets it back), reads and lists it, and edits it under the revision
// rule of every conditional write.
func TestGroupsCreateAndEdit(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	id := "0196d0b4-8e27-7c13-a5f9-1b6d4e2c9a08"
	body := map[string]any{"id": id, "name": "  Morning class ", "locale": "ar", "note": "Room 2\nTuesdays"}
	r := e.do(req{method: "POST", path: "/api/v1/groups", token: edu, body: body})
	if r.status != 201 || r.header.Get("Location") != "/api/v1/groups/"+id || r.header.Get("ETag") != `W/"1"` {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	g := r.json(t)
	if g["name"] != "Morning class" || g["orgId"] != e.orgA.ID || g["revision"] != float64(1) || g["note"] != "Room 2\nTuesdays" {
		t.Errorf("created: %v", g)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/groups", token: edu, body: body}); r.status != 200 {
		t.Errorf("retried create: %d %s", r.status, r.body)
	}
	body["name"] = "Another"
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/groups", token: edu, body: body}), 409, "conflict")

	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/groups", token: edu, body: map[string]any{"name": "a\u202eb", "note": "x\x01"}}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"name:invalid", "locale:required", "note:invalid"}) {
		t.Errorf("bad create: %v", got)
	}

	second := e.mustGroup(edu, "Evening class")
	r = e.do(req{method: "GET", path: "/api/v1/groups?limit=1", token: e.token("a-admin")})
	if r.status != 200 || len(r.json(t)["items"].([]any)) != 1 || r.json(t)["items"].([]any)[0].(map[string]any)["id"] != id {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	r = e.do(req{method: "GET", path: "/api/v1/groups?offset=1", token: edu})
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != second {
		t.Errorf("second page: %s", r.body)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/groups", token: e.token("b-edu")}); len(r.json(t)["items"].([]any)) != 0 {
		t.Errorf("org B sees: %s", r.body)
	}

	path := "/api/v1/groups/" + id
	p = wantProblem(t, e.do(req{method: "PATCH", path: path, token: edu, body: map[string]any{"name": ""}}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"revision:required", "name:required"}) {
		t.Errorf("no revision: %v", got)
	}
	r = e.do(req{method: "PATCH", path: path, token: edu, header: map[string]string{"If-Match": `W/"1"`}, body: map[string]any{"name": "Renamed", "id": id, "orgId": e.orgA.ID}})
	if r.status != 200 || r.header.Get("ETag") != `W/"2"` || r.json(t)["name"] != "Renamed" || r.json(t)["locale"] != "ar" {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(req{method: "PATCH", path: path, token: edu, body: map[string]any{"revision": 1, "note": ""}}), 409, "stale-revision")
	p = wantProblem(t, e.do(req{method: "PATCH", path: path, token: edu, body: map[string]any{"revision": 2, "orgId": e.orgB.ID}}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"orgId:read_only"}) {
		t.Errorf("moved organisation: %v", got)
	}
	r = e.do(req{method: "GET", path: path, token: edu})
	if r.status != 200 || r.header.Get("ETag") != `W/"2"` || r.json(t)["name"] != "Renamed" {
		t.Errorf("read: %d %v %s", r.status, r.header, r.body)
	}
}

// TestGroupsMembers: learners of the organisation are added, listed,
// moved and removed, each idempotently; other users are refused.
func TestGroupsMembers(t *testing.T) {
	e := newEnv(t)
	edu, learner := e.token("a-edu"), e.token("a-learner")
	g1, g2 := e.mustGroup(edu, "One"), e.mustGroup(edu, "Two")
	member := func(g, u string) string { return "/api/v1/groups/" + g + "/members/" + u }
	for range 2 {
		if r := e.do(req{method: "PUT", path: member(g1, e.learnerA.ID), token: edu}); r.status != 204 {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
	}
	r := e.do(req{method: "GET", path: "/api/v1/groups/" + g1 + "/members", token: edu})
	if r.status != 200 || r.json(t)["total"] != float64(1) {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	if got := e.userGroups(learner, e.learnerA.ID); !slices.Equal(got, []string{g1}) {
		t.Errorf("learner's own groups: %v", got)
	}
	wantProblem(t, e.do(req{method: "PUT", path: member(g1, e.lrnB.ID), token: edu}), 404, "not-found")
	p := wantProblem(t, e.do(req{method: "PUT", path: member(g1, e.trainerA.ID), token: edu}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"userId:not_learner"}) {
		t.Errorf("trainer as member: %v", got)
	}
	p = wantProblem(t, e.do(req{method: "PUT", path: member(g1, "nope"), token: edu}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"userId:id"}) {
		t.Errorf("bad user id: %v", got)
	}

	move := req{method: "POST", path: member(g1, e.learnerA.ID) + "/move", token: edu, body: map[string]any{"to": g2}}
	for range 2 {
		if r := e.do(move); r.status != 204 {
			t.Fatalf("move: %d %s", r.status, r.body)
		}
	}
	if a, b, mine := e.groupMembers(edu, g1), e.groupMembers(edu, g2), e.userGroups(edu, e.learnerA.ID); len(a) != 0 || !slices.Equal(b, []string{e.learnerA.ID}) || !slices.Equal(mine, []string{g2}) {
		t.Errorf("after move: %v %v %v", a, b, mine)
	}
	p = wantProblem(t, e.do(req{method: "POST", path: member(g1, e.learnerA.ID) + "/move", token: edu, body: map[string]any{}}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"to:required"}) {
		t.Errorf("move nowhere: %v", got)
	}
	gB := e.mustGroup(e.token("b-edu"), "B's")
	wantProblem(t, e.do(req{method: "POST", path: member(g2, e.learnerA.ID) + "/move", token: edu, body: map[string]any{"to": gB}}), 404, "not-found")

	for range 2 {
		if r := e.do(req{method: "DELETE", path: member(g2, e.learnerA.ID), token: edu}); r.status != 204 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
	}
	if got := e.userGroups(edu, e.learnerA.ID); len(got) != 0 {
		t.Errorf("after remove: %v", got)
	}
}

// TestGroupsScope: another organisation's staff get 404 for everything of
// a group (no IDOR), learners and trainers 403; global admins may.
func TestGroupsScope(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	g := e.mustGroup(edu, "One")
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + g + "/members/" + e.learnerA.ID, token: edu}); r.status != 204 {
		t.Fatal(r.status)
	}
	eduB, learner, trainer, root := e.token("b-edu"), e.token("a-learner"), e.token("a-trainer"), e.token("root")
	gp := "/api/v1/groups/" + g
	mp := gp + "/members/" + e.learnerA.ID
	for _, tc := range []struct {
		name   string
		r      req
		status int
	}{
		{"other org reads", req{method: "GET", path: gp, token: eduB}, 404},
		{"other org edits", req{method: "PATCH", path: gp, token: eduB, body: map[string]any{"revision": 1, "name": "x"}}, 404},
		{"other org lists members", req{method: "GET", path: gp + "/members", token: eduB}, 404},
		{"other org adds its learner", req{method: "PUT", path: gp + "/members/" + e.lrnB.ID, token: eduB}, 404},
		{"other org removes", req{method: "DELETE", path: mp, token: eduB}, 404},
		{"other org moves", req{method: "POST", path: mp + "/move", token: eduB, body: map[string]any{"to": g}}, 404},
		{"other org lists learner's groups", req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/groups", token: eduB}, 404},
		{"learner creates", req{method: "POST", path: "/api/v1/groups", token: learner, body: map[string]any{"name": "x", "locale": "fr"}}, 403},
		{"learner reads", req{method: "GET", path: gp, token: learner}, 403},
		{"learner adds", req{method: "PUT", path: mp, token: learner}, 403},
		{"learner lists", req{method: "GET", path: "/api/v1/groups", token: learner}, 403},
		{"learner reads another's groups", req{method: "GET", path: "/api/v1/users/" + e.lrnB.ID + "/groups", token: learner}, 404},
		{"trainer removes", req{method: "DELETE", path: mp, token: trainer}, 403},
		{"root reads", req{method: "GET", path: gp, token: root}, 200},
		{"root lists org A", req{method: "GET", path: "/api/v1/groups?orgId=" + e.orgA.ID, token: root}, 200},
		{"educator names other org", req{method: "GET", path: "/api/v1/groups?orgId=" + e.orgB.ID, token: edu}, 404},
		{"bad group id", req{method: "GET", path: "/api/v1/groups/nope", token: edu}, 422},
		{"unknown group", req{method: "GET", path: "/api/v1/groups/01a204fb-0000-7000-8000-000000000000", token: edu}, 404},
		{"no token", req{method: "GET", path: gp}, 401},
	} {
		if r := e.do(tc.r); r.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
		}
	}
	if got := e.groupMembers(edu, g); !slices.Equal(got, []string{e.learnerA.ID}) {
		t.Errorf("members after refused writes: %v", got)
	}
}

// TestGroupsTwoInstances: learners added to one group through two server
// instances at once are all members, and each has the group.
func TestGroupsTwoInstances(t *testing.T) {
	e := newEnv(t)
	e2 := newEnvOn(t, e)
	edu := e.token("a-edu")
	g := e.mustGroup(edu, "Busy")
	var ids []string
	for i := range 8 {
		u, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgA.ID,
			accounts.NewUser{Username: fmt.Sprintf("pupil-%d", i), Role: accounts.RoleLearner, PIN: "7391"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	envs := [2]*env{e, e2}
	var wg sync.WaitGroup
	statuses := make([]int, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			statuses[i] = envs[i%2].do(req{method: "PUT", path: "/api/v1/groups/" + g + "/members/" + id, token: edu}).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 204 {
			t.Errorf("add %d: %d", i, s)
		}
	}
	got := e2.groupMembers(edu, g)
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("members %v, want %v", got, ids)
	}
	for _, id := range ids {
		if gs := e.userGroups(edu, id); !slices.Equal(gs, []string{g}) {
			t.Errorf("%s's groups: %v", id, gs)
		}
	}
}

// TestGroupsBounds: a full group and a learner in the most groups are
// refused with their field codes, in the caller's language; a learner at
// the bound may still move.
func TestGroupsBounds(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	full, other := e.mustGroup(edu, "Full"), e.mustGroup(edu, "Other")
	members := []any{}
	for i := range accounts.MaxGroupMembers {
		members = append(members, map[string]any{"u": fmt.Sprintf("someone-%d", i), "at": 1})
	}
	// The stores' documents (storage/stores/groups.go), written directly:
	// filling them through the API would take a thousand requests.
	eng := e.db.Engine()
	if err := eng.Insert(context.Background(), "group_members", full, map[string]any{"members": members}); err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "PUT", path: "/api/v1/groups/" + full + "/members/" + e.learnerA.ID, token: edu, header: map[string]string{"Accept-Language": "fr"}})
	p := wantProblem(t, r, 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"userId:group_full"}) || r.header.Get("Content-Language") != "fr" {
		t.Errorf("full group: %v %s", got, r.body)
	}

	groups := []any{}
	for i := range accounts.MaxLearnerGroups - 1 {
		groups = append(groups, fmt.Sprintf("elsewhere-%d", i))
	}
	if err := eng.Insert(context.Background(), "learner_groups", e.learnerA.ID, map[string]any{"groups": groups}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "PUT", path: "/api/v1/groups/" + other + "/members/" + e.learnerA.ID, token: edu}); r.status != 204 {
		t.Fatalf("the 50th group: %d %s", r.status, r.body)
	}
	third := e.mustGroup(edu, "Third")
	p = wantProblem(t, e.do(req{method: "PUT", path: "/api/v1/groups/" + third + "/members/" + e.learnerA.ID, token: edu}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"userId:too_many_groups"}) {
		t.Errorf("51st group: %v", got)
	}
	move := req{method: "POST", path: "/api/v1/groups/" + other + "/members/" + e.learnerA.ID + "/move", token: edu, body: map[string]any{"to": third}}
	if r := e.do(move); r.status != 204 {
		t.Fatalf("move at the bound: %d %s", r.status, r.body)
	}
	if got := e.groupMembers(edu, third); !slices.Equal(got, []string{e.learnerA.ID}) {
		t.Errorf("moved: %v", got)
	}
}
