package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

func createUserReq(token, orgID, username, role string) req {
	return req{method: "POST", path: "/api/v1/users", token: token, body: map[string]any{
		"orgId": orgID, "username": username, "role": role, "pin": "7391", "displayName": "Test " + username,
	}}
}

// TestOrganisationScope: nobody sees or creates users outside their own
// organisation, and each role may do only its part.
func TestOrganisationScope(t *testing.T) {
	e := newEnv(t)
	root, adminA, eduA, trainerA, learnerA, eduB := e.token("root"), e.token("a-admin"), e.token("a-edu"), e.token("a-trainer"), e.token("a-learner"), e.token("b-edu")

	tests := []struct {
		name   string
		r      req
		status int
	}{
		// Listing users.
		{"educator lists own org", req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users", token: eduA}, 200},
		{"educator lists other org", req{method: "GET", path: "/api/v1/organisations/" + e.orgB.ID + "/users", token: eduA}, 404},
		{"trainer lists own org", req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users", token: trainerA}, 403},
		{"learner lists own org", req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users", token: learnerA}, 403},
		{"root lists any org", req{method: "GET", path: "/api/v1/organisations/" + e.orgB.ID + "/users", token: root}, 200},
		// Reading one user.
		{"educator reads own learner", req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: eduA}, 200},
		{"educator reads other org's learner", req{method: "GET", path: "/api/v1/users/" + e.lrnB.ID, token: eduA}, 404},
		{"educator B reads org A learner", req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: eduB}, 404},
		{"learner reads self", req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: learnerA}, 200},
		{"learner reads classmate's educator", req{method: "GET", path: "/api/v1/users/" + e.eduA.ID, token: learnerA}, 404},
		{"trainer reads learner", req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID, token: trainerA}, 404},
		{"unknown user", req{method: "GET", path: "/api/v1/users/01a204fb-0000-7000-8000-000000000000", token: root}, 404},
		// Creating users.
		{"educator creates learner in own org", createUserReq(eduA, e.orgA.ID, "new-learner-1", "learner"), 201},
		{"educator creates learner in other org", createUserReq(eduA, e.orgB.ID, "new-learner-2", "learner"), 404},
		{"educator creates educator", createUserReq(eduA, e.orgA.ID, "new-edu", "educator"), 403},
		{"educator creates global admin", createUserReq(eduA, "", "new-root", "admin"), 404},
		{"learner creates learner", createUserReq(learnerA, e.orgA.ID, "new-learner-3", "learner"), 403},
		{"trainer creates learner", createUserReq(trainerA, e.orgA.ID, "new-learner-4", "learner"), 403},
		{"org admin creates educator", createUserReq(adminA, e.orgA.ID, "new-edu-2", "educator"), 201},
		{"org admin creates in other org", createUserReq(adminA, e.orgB.ID, "new-edu-3", "educator"), 404},
		{"org admin creates global admin", createUserReq(adminA, "", "new-root-2", "admin"), 404},
		{"root creates global admin", req{method: "POST", path: "/api/v1/users", token: root, body: map[string]any{"username": "root-2", "role": "admin", "password": "a long enough secret"}}, 201},
		{"root creates in unknown org", createUserReq(root, "01a204fb-0000-7000-8000-000000000000", "lost", "learner"), 404},
		// Organisations.
		{"root creates organisation", req{method: "POST", path: "/api/v1/organisations", token: root, body: map[string]any{"slug": "org-c", "name": "Org C"}}, 201},
		{"org admin creates organisation", req{method: "POST", path: "/api/v1/organisations", token: adminA, body: map[string]any{"slug": "org-d", "name": "Org D"}}, 403},
		{"educator reads own organisation", req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID, token: eduA}, 200},
		{"educator reads other organisation", req{method: "GET", path: "/api/v1/organisations/" + e.orgB.ID, token: eduA}, 404},
		// Changing users.
		{"educator renames own learner", req{method: "PATCH", path: "/api/v1/users/" + e.learnerA.ID, token: eduA, body: map[string]any{"displayName": "Amira"}}, 200},
		{"educator disables other org's learner", req{method: "PATCH", path: "/api/v1/users/" + e.lrnB.ID, token: eduA, body: map[string]any{"disabled": true}}, 404},
		{"educator disables fellow educator", req{method: "PATCH", path: "/api/v1/users/" + e.eduA.ID, token: adminA, body: map[string]any{"displayName": "ok"}}, 200},
		{"learner disables self", req{method: "PATCH", path: "/api/v1/users/" + e.learnerA.ID, token: learnerA, body: map[string]any{"disabled": true}}, 403},
		{"learner sets own locale", req{method: "PATCH", path: "/api/v1/users/" + e.learnerA.ID, token: learnerA, body: map[string]any{"locale": "ar"}}, 200},
		{"educator resets other org's PIN", req{method: "PUT", path: "/api/v1/users/" + e.lrnB.ID + "/credential", token: eduA, body: map[string]any{"pin": "4826"}}, 404},
		{"educator resets fellow educator's password", req{method: "PUT", path: "/api/v1/users/" + e.adminA.ID + "/credential", token: eduA, body: map[string]any{"password": "new secret 123"}}, 403},
		{"learner changes own PIN without the current one", req{method: "PUT", path: "/api/v1/users/" + e.learnerA.ID + "/credential", token: learnerA, body: map[string]any{"pin": "6093"}}, 422},
		{"learner changes own PIN with a wrong current one", req{method: "PUT", path: "/api/v1/users/" + e.learnerA.ID + "/credential", token: learnerA, body: map[string]any{"current": "9999", "pin": "6093"}}, 422},
		{"learner changes own PIN", req{method: "PUT", path: "/api/v1/users/" + e.learnerA.ID + "/credential", token: learnerA, body: map[string]any{"current": fixturePIN, "pin": "6093"}}, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 {
				wantProblem(t, r, tt.status, map[int]string{403: "forbidden", 404: "not-found", 422: "validation"}[tt.status])
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	for _, name := range []string{"l-one", "l-two", "l-three"} {
		if r := e.do(createUserReq(edu, e.orgA.ID, name, "learner")); r.status != 201 {
			t.Fatalf("create %s: %d %s", name, r.status, r.body)
		}
	}
	r := e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users?offset=4&limit=2", token: edu})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := r.json(t)
	items := body["items"].([]any)
	if _, counted := body["total"]; counted || len(items) != 2 {
		t.Fatalf("page (2 items, no total: counting would scan): %s", r.body)
	}
	// Creation order: the 4 seeded users, then l-one, l-two, l-three.
	var names []string
	for _, it := range items {
		names = append(names, it.(map[string]any)["username"].(string))
	}
	if !slices.Equal(names, []string{"l-one", "l-two"}) {
		t.Fatalf("names %v", names)
	}
	for _, it := range items {
		if _, leaked := it.(map[string]any)["secret_hash"]; leaked {
			t.Fatal("secret in listing")
		}
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	tests := []struct {
		name  string
		body  map[string]any
		codes []string
	}{
		{"taken username (any case)", map[string]any{"orgId": e.orgA.ID, "username": "A-LEARNER", "role": "learner", "pin": "7391"}, []string{"username:taken"}},
		{"short username", map[string]any{"orgId": e.orgA.ID, "username": "ab", "role": "learner", "pin": "7391"}, []string{"username:too_short"}},
		{"bad characters", map[string]any{"orgId": e.orgA.ID, "username": "a b<c>", "role": "learner", "pin": "7391"}, []string{"username:username_format"}},
		{"weak PIN", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner", "pin": "1234"}, []string{"pin:pin_weak"}},
		{"PIN not digits", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner", "pin": "12a4"}, []string{"pin:pin_format"}},
		{"both secrets", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner", "pin": "7391", "password": "long enough pw"}, []string{"pin:one_of"}},
		{"no secret", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner"}, []string{"password:required"}},
		{"common password", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner", "password": "password123"}, []string{"password:password_common"}},
		{"bad locale", map[string]any{"orgId": e.orgA.ID, "username": "new-one", "role": "learner", "pin": "7391", "locale": "not a locale"}, []string{"locale:locale"}},
		{"bad organisation id", map[string]any{"orgId": "org-a", "username": "new-one", "role": "learner", "pin": "7391"}, []string{"orgId:id"}},
		{"several at once", map[string]any{"orgId": e.orgA.ID, "username": "", "role": "learner", "pin": "12"}, []string{"username:required", "pin:pin_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: tt.body})
			p := wantProblem(t, r, 422, "validation")
			if got := fieldCodes(p); !slices.Equal(got, tt.codes) {
				t.Fatalf("field errors %v, want %v", got, tt.codes)
			}
		})
	}
	// A global admin: an unknown role is enum, a known one that does not
	// fit where the user lives (a learner outside any organisation) role.
	root := e.token("root")
	for want, body := range map[string]map[string]any{
		"role:enum":     {"orgId": e.orgA.ID, "username": "new-one", "role": "teacher", "pin": "7391"},
		"role:role":     {"username": "new-one", "role": "learner", "pin": "7391"},
		"role:required": {"orgId": e.orgA.ID, "username": "new-one", "pin": "7391"},
	} {
		r := e.do(req{method: "POST", path: "/api/v1/users", token: root, body: body})
		if got := fieldCodes(wantProblem(t, r, 422, "validation")); !slices.Equal(got, []string{want}) {
			t.Errorf("field errors %v, want %s", got, want)
		}
	}
	t.Run("Arabic-script username", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: map[string]any{"orgId": e.orgA.ID, "username": "أميرة", "role": "learner", "pin": "7391"}})
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		e.login("أميرة", "7391")
	})
	t.Run("duplicate slug", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/api/v1/organisations", token: e.token("root"), body: map[string]any{"slug": "org-a", "name": "Again"}})
		p := wantProblem(t, r, 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"slug:taken"}) {
			t.Fatal(got)
		}
	})
}

// TestCreateIsIdempotent: a client that supplies the id can retry a create
// whose answer it lost; it gets the same object back (200), and reusing
// the id for something else is a conflict.
func TestCreateIsIdempotent(t *testing.T) {
	e := newEnv(t)
	edu, root := e.token("a-edu"), e.token("root")
	const id = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	body := map[string]any{"id": id, "orgId": e.orgA.ID, "username": "retry-learner", "role": "learner", "pin": "7391"}
	first := e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: body})
	if first.status != http.StatusCreated || first.json(t)["id"] != id {
		t.Fatalf("first create: %d %s", first.status, first.body)
	}
	again := e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: body})
	if again.status != http.StatusOK || again.json(t)["id"] != id || again.header.Get("Location") != "/api/v1/users/"+id {
		t.Fatalf("retried create: %d %s", again.status, again.body)
	}
	other := map[string]any{"id": id, "orgId": e.orgA.ID, "username": "someone-else", "role": "learner", "pin": "7391"}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: other}), 409, "conflict")
	bad := map[string]any{"id": "not-a-uuid", "orgId": e.orgA.ID, "username": "bad-id", "role": "learner", "pin": "7391"}
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/users", token: edu, body: bad}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"id:id"}) {
		t.Fatal(got)
	}
	// The roster holds the learner once.
	list := e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users", token: edu}).json(t)
	if n := len(list["items"].([]any)); n != 5 {
		t.Fatalf("roster after retries: %d members, want 5", n)
	}

	const orgID = "16fd2706-8baf-433b-82eb-8c7fada847da"
	org := map[string]any{"id": orgID, "slug": "retry-org", "name": "Retry"}
	if r := e.do(req{method: "POST", path: "/api/v1/organisations", token: root, body: org}); r.status != http.StatusCreated {
		t.Fatalf("create organisation: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/organisations", token: root, body: org}); r.status != http.StatusOK || r.json(t)["id"] != orgID {
		t.Fatalf("retried organisation: %d %s", r.status, r.body)
	}
	org["name"] = "Changed"
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/organisations", token: root, body: org}), 409, "conflict")
}

// TestConcurrentRetries: the same create sent several times at once makes
// one user and answers every request with it.
func TestConcurrentRetries(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	body := map[string]any{"id": "0b3e4a5c-1d2e-4f60-8a7b-9c0d1e2f3a4b", "orgId": e.orgA.ID, "username": "burst", "role": "learner", "pin": "7391"}
	const n = 6
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			raw, _ := json.Marshal(body)
			hr := httptest.NewRequest("POST", "/api/v1/users", bytes.NewReader(raw))
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("Authorization", "Bearer "+edu)
			resp, err := e.srv.App().Test(hr, -1)
			if err != nil {
				t.Error(err)
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Error(err)
				return
			}
			checkContract(t, exchangeSeen{method: "POST", path: "/api/v1/users", request: hr.Header, status: resp.StatusCode, header: resp.Header, body: b})
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	created, replayed := 0, 0
	for s := range statuses {
		switch s {
		case 201:
			created++
		case 200:
			replayed++
		default:
			t.Errorf("status %d, want 201 once and 200 for every copy", s)
		}
	}
	if created != 1 || replayed != n-1 {
		t.Fatalf("%d created, %d replayed; want 1 and %d", created, replayed, n-1)
	}
	list := e.do(req{method: "GET", path: "/api/v1/organisations/" + e.orgA.ID + "/users", token: edu}).json(t)
	if n := len(list["items"].([]any)); n != 5 {
		t.Fatalf("roster: %d members, want 5", n)
	}
}
