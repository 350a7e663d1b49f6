package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drafts makes a course, a bank and a quiz of org A and returns, for each
// write of a draft, how to send it: path, method and a body without
// revision (nil: the body may be left out).
type draftWrite struct {
	name, method, path string
	body               func() map[string]any
	get                string // where the draft is read (its ETag)
}

func draftWrites(t *testing.T) (*env, string, []draftWrite) {
	e, trainer, image := courseEnv(t)
	course := e.mustCreateCourse(trainer, draft("revisions", image, false))["id"].(string)
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)["id"].(string)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(b, nil), 201)["id"].(string)
	return e, trainer, []draftWrite{
		{"course edit", "PUT", "/api/v1/courses/" + course, func() map[string]any { return draft("revisions", image, false) }, "/api/v1/courses/" + course},
		{"course texts", "PATCH", "/api/v1/courses/" + course + "/messages/fr", func() map[string]any {
			return map[string]any{"messages": map[string]any{"course.summary": map[string]any{"other": "Écouter."}}}
		}, "/api/v1/courses/" + course},
		{"course publish", "POST", "/api/v1/courses/" + course + "/publish", nil, "/api/v1/courses/" + course},
		{"bank edit", "PUT", "/api/v1/banks/" + b, bank, "/api/v1/banks/" + b},
		{"quiz edit", "PUT", "/api/v1/quizzes/" + q, func() map[string]any { return quiz(b, nil) }, "/api/v1/quizzes/" + q},
		{"quiz publish", "POST", "/api/v1/quizzes/" + q + "/publish", nil, "/api/v1/quizzes/" + q},
	}
}

func (w draftWrite) send(e *env, token string, rev int, ifMatch string) response {
	var body any
	if w.body != nil {
		m := w.body()
		if rev > 0 {
			m["revision"] = rev
		}
		body = m
	} else if rev > 0 {
		body = map[string]any{"revision": rev}
	}
	h := map[string]string{}
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	return e.do(req{method: w.method, path: w.path, token: token, body: body, header: h})
}

// currentETag reads a draft and checks that its ETag is its revision.
func currentETag(t *testing.T, e *env, token, path string) (string, int) {
	t.Helper()
	r := e.do(req{method: "GET", path: path, token: token})
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	rev := int(r.json(t)["revision"].(float64))
	if got, want := r.header.Get("ETag"), fmt.Sprintf(`W/"%d"`, rev); got != want {
		t.Errorf("GET %s: ETag %q, want %q (its revision)", path, got, want)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET %s: Cache-Control %q, want no-store", path, cc)
	}
	return r.header.Get("ETag"), rev
}

// TestOneRevisionRule: every write of a draft (course, course texts,
// bank, quiz, and both publications) follows the same rule: the revision
// in the body or in If-Match (the draft's ETag), 422 revision required
// with neither, 409 stale-revision when stale or when the two disagree,
// 422 for an If-Match naming no revision; and every answer holding a
// draft carries its ETag.
func TestOneRevisionRule(t *testing.T) {
	e, trainer, writes := draftWrites(t)
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			tag, rev := currentETag(t, e, trainer, w.get)

			p := wantProblem(t, w.send(e, trainer, 0, ""), 422, "validation")
			if !slices.Contains(fieldCodes(p), "revision:required") {
				t.Errorf("no revision: %v, want revision:required", fieldCodes(p))
			}
			for _, bad := range []string{"*", `"1", "2"`, `"abc"`, "W/", "-1", "0"} {
				p := wantProblem(t, w.send(e, trainer, 0, bad), 422, "validation")
				if got := fieldCodes(p); !slices.Equal(got, []string{"If-Match:invalid"}) {
					t.Errorf("If-Match %s: %v, want If-Match:invalid", bad, got)
				}
			}
			wantProblem(t, w.send(e, trainer, rev+1, ""), 409, "stale-revision")
			wantProblem(t, w.send(e, trainer, 0, `W/"`+strconv.Itoa(rev+1)+`"`), 409, "stale-revision")
			wantProblem(t, w.send(e, trainer, rev, `W/"`+strconv.Itoa(rev+1)+`"`), 409, "stale-revision")

			r := w.send(e, trainer, 0, tag)
			if r.status != 200 && r.status != 201 {
				t.Fatalf("with If-Match %s: %d %s", tag, r.status, r.body)
			}
			if w.method != "POST" {
				if got, want := r.header.Get("ETag"), `W/"`+strconv.Itoa(rev+1)+`"`; got != want {
					t.Errorf("answer's ETag %q, want %q", got, want)
				}
				tag, rev = currentETag(t, e, trainer, w.get)
				r = w.send(e, trainer, rev, tag) // both, agreeing
				if r.status != 200 {
					t.Errorf("body and If-Match agreeing: %d %s", r.status, r.body)
				}
			}
		})
	}
}

// TestRevisionRequiredWithTheRest: an edit without a revision is told
// about every other problem of its body too.
func TestRevisionRequiredWithTheRest(t *testing.T) {
	e, trainer, writes := draftWrites(t)
	for _, w := range writes {
		if w.body == nil || w.method != "PUT" {
			continue
		}
		m := w.body()
		m["defaultLocale"] = "not a locale!"
		p := wantProblem(t, e.do(req{method: w.method, path: w.path, token: trainer, body: m}), 422, "validation")
		got := fieldCodes(p)
		if !slices.Contains(got, "revision:required") || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "defaultLocale:") }) {
			t.Errorf("%s: %v, want revision:required and the defaultLocale problem", w.name, got)
		}
	}
}

// TestReadBackIsWritable: a course, a bank and a quiz as read can be PUT
// back (the read-only fields holding their stored values are ignored);
// a read-only field holding another value is 422 read_only, listed with
// every other; a `published` read before a later publication is fine.
func TestReadBackIsWritable(t *testing.T) {
	e, trainer, image := courseEnv(t)
	course := e.mustCreateCourse(trainer, draft("read-back", image, false))["id"].(string)
	e.mustPublish(trainer, course, 1)
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)["id"].(string)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(b, nil), 201)["id"].(string)
	e.mustPost(trainer, "/api/v1/quizzes/"+q+"/publish", map[string]any{"revision": 1}, 201)

	for _, tc := range []struct {
		path    string
		changed map[string]any // read-only fields with other values
	}{
		{"/api/v1/courses/" + course, map[string]any{
			"id": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a47", "orgId": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a48", "published": 7,
			"archived": true, "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z",
			"translations": []any{},
		}},
		{"/api/v1/banks/" + b, map[string]any{"id": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a47", "orgId": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a48"}},
		{"/api/v1/quizzes/" + q, map[string]any{"id": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a47", "orgId": "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a48", "published": 2}},
	} {
		read := e.do(req{method: "GET", path: tc.path, token: trainer})
		if read.status != 200 {
			t.Fatalf("GET %s: %d", tc.path, read.status)
		}
		body := read.json(t)
		for k := range tc.changed {
			if _, ok := body[k]; !ok {
				t.Fatalf("%s as read has no %s: %s", tc.path, k, read.body)
			}
		}

		// Every read-only field changed: each is named.
		changed := read.json(t)
		for k, v := range tc.changed {
			changed[k] = v
		}
		p := wantProblem(t, e.do(req{method: "PUT", path: tc.path, token: trainer, body: changed}), 422, "validation")
		got := fieldCodes(p)
		for k := range tc.changed {
			if !slices.Contains(got, k+":read_only") {
				t.Errorf("PUT %s with %s changed: %v, want %s:read_only", tc.path, k, got, k)
			}
		}

		// As read: accepted.
		r := e.do(req{method: "PUT", path: tc.path, token: trainer, body: body})
		if r.status != 200 {
			t.Fatalf("PUT %s as read: %d %s", tc.path, r.status, r.body)
		}
		// Timestamps compare as instants, in any zone.
		if _, ok := body["createdAt"]; ok {
			again := r.json(t)
			if created, err := time.Parse(time.RFC3339Nano, again["createdAt"].(string)); err == nil {
				again["createdAt"] = created.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)
			}
			if r := e.do(req{method: "PUT", path: tc.path, token: trainer, body: again}); r.status != 200 {
				t.Errorf("PUT %s with createdAt in another zone: %d %s", tc.path, r.status, r.body)
			}
		}
	}

	// A course read as unpublished on one instance, published since on
	// another (same revision): its published 0 is still accepted. Read
	// again and edited on the second instance meanwhile, the first's PUT
	// of its old read is 409, not a read_only complaint about updatedAt.
	other := newEnvOn(t, e)
	fresh := e.mustCreateCourse(trainer, draft("read-before-publish", image, false))
	id := fresh["id"].(string)
	other.mustPublish(trainer, id, 1)
	delete(fresh, "translations") // what a client that drops a field sends
	r := e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: fresh})
	if r.status != 200 {
		t.Fatalf("PUT of a course read before its publication: %d %s", r.status, r.body)
	}
	if r := other.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: r.json(t)}); r.status != 200 {
		t.Fatalf("PUT on the other instance: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: fresh}), 409, "stale-revision")
}

// TestMethodNotAllowedSaysAllow: a method a known path does not answer is
// 405 with Allow naming the ones it does; published versions answer only
// GET and HEAD, and there is no operation that exists only to refuse.
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	e := newEnv(t)
	token := e.token("a-trainer")
	id := "0196c2a7-4e1b-7d90-a5c3-8f2e6b1d0a47"
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/auth/login", "POST"},
		{"PATCH", "/api/v1/courses/" + id, "GET, HEAD, PUT, DELETE"},
		{"PUT", "/api/v1/catalogue/" + id + "/versions/2", "GET, HEAD"},
		{"DELETE", "/api/v1/catalogue/" + id + "/versions/2/lessons/intro", "GET, HEAD"},
		{"POST", "/api/v1/quizzes/" + id, "GET, HEAD, PUT"},
		{"PUT", "/media/" + id, "GET, HEAD"},
	} {
		r := e.do(req{method: tc.method, path: tc.path, token: token, body: map[string]any{}})
		p := wantProblem(t, r, 405, "method-not-allowed")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if d, _ := p["detail"].(string); !strings.Contains(d, tc.allow) {
			t.Errorf("%s %s: detail %q does not say what the path answers", tc.method, tc.path, d)
		}
	}
}
