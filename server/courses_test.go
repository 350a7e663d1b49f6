package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/accounts"
)

// draft is a small valid course: two modules, the second requiring the
// first, texts in English (default), French and Arabic, one image.
func draft(slug, image string, shared bool) map[string]any {
	return map[string]any{
		"slug": slug, "shared": shared, "topic": "soft-skills", "audiences": []string{"young-refugees"},
		"level": "beginner", "defaultLocale": "en", "locales": []string{"en", "fr", "ar"},
		"title": "course.title", "summary": "course.summary",
		"modules": []any{
			map[string]any{"id": "listening", "title": "listening.title", "lessons": []any{
				map[string]any{"id": "active", "title": "active.title", "minutes": 5, "blocks": []any{
					map[string]any{"id": "intro", "kind": "text", "text": "active.intro"},
					map[string]any{"id": "pic", "kind": "image", "media": image, "alt": "active.pic.alt"},
					map[string]any{"id": "think", "kind": "reflection", "text": "active.think"},
				}},
			}},
			map[string]any{"id": "speaking", "title": "speaking.title", "requires": []string{"listening"}, "lessons": []any{
				map[string]any{"id": "asking", "title": "asking.title", "minutes": 7, "blocks": []any{
					map[string]any{"id": "help", "kind": "note", "text": "asking.note", "helpUrl": "asking.help"},
				}},
			}},
		},
		"messages": map[string]any{
			"en": map[string]any{
				"course.title":    map[string]any{"description": "Course name", "other": "Talking at work"},
				"course.summary":  "Listen, ask and speak up.",
				"listening.title": "Listening", "active.title": "Active listening",
				"active.intro":   "Look at the person who **speaks**.<script>alert(1)</script>",
				"active.pic.alt": "Two people talking", "active.think": "When did someone really listen to you?",
				"speaking.title": "Speaking up", "asking.title": "Asking for help",
				"asking.note": "This lesson talks about hard moments.", "asking.help": "https://help.unhcr.org/",
			},
			"fr": map[string]any{"course.title": "Communiquer au travail", "active.title": "L’écoute active"},
			"ar": map[string]any{"course.title": "التواصل في العمل", "active.title": "الإصغاء الفعّال"},
		},
	}
}

// courseEnv is a server with an image in org A's library.
func courseEnv(t *testing.T) (e *env, trainer, image string) {
	e = newEnv(t)
	trainer = e.token("a-trainer")
	img := e.mustUpload(trainer, formFile{name: "talk.png", data: pngFile(t, 8, 8, 1)})
	return e, trainer, img["id"].(string)
}

func (e *env) mustCreateCourse(token string, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/courses", body: body, token: token})
	if r.status != 201 {
		e.t.Fatalf("create course: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) mustPublish(token, id string, revision any) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/publish", body: map[string]any{"revision": revision}, token: token})
	if r.status != 201 {
		e.t.Fatalf("publish: %d %s\n%s", r.status, r.body, e.logText())
	}
	return r.json(e.t)
}

func TestCourseAuthoringAndDelivery(t *testing.T) {
	e, trainer, image := courseEnv(t)
	c := e.mustCreateCourse(trainer, draft("talking-at-work", image, false))
	id := c["id"].(string)
	if c["revision"] != 1.0 || c["orgId"] != e.orgA.ID || c["published"] != 0.0 {
		t.Fatalf("created %v", c)
	}
	tr := c["translations"].([]any)
	fr := tr[1].(map[string]any)
	if fr["locale"] != "fr" || fr["translated"] != 2.0 || len(fr["missing"].([]any)) != 9 || fr["complete"] != false {
		t.Errorf("fr status %v", fr)
	}
	if ar := tr[2].(map[string]any); ar["dir"] != "rtl" {
		t.Errorf("ar status %v", ar)
	}

	// Editing the English title makes its translations outdated.
	r := e.do(req{method: "PATCH", path: "/api/v1/courses/" + id + "/messages/en", token: trainer,
		body: map[string]any{"revision": 1, "messages": map[string]any{"course.title": "Talking and listening at work"}}})
	if r.status != 200 {
		t.Fatalf("set messages: %d %s", r.status, r.body)
	}
	r = e.do(req{method: "GET", path: "/api/v1/courses/" + id + "/translations", token: trainer})
	st := r.json(t)["items"].([]any)
	if out := st[1].(map[string]any)["outdated"].([]any); len(out) != 1 || out[0] != "course.title" {
		t.Errorf("fr outdated %v, want course.title", out)
	}

	// A stale revision is refused.
	stale := e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: withRevision(draft("talking-at-work", image, false), 1)})
	wantProblem(t, stale, 409, "stale-revision")

	// Preview in Arabic: Arabic where translated, English otherwise.
	r = e.do(req{method: "GET", path: "/api/v1/courses/" + id + "/preview/lessons/active?lang=ar", token: trainer})
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	pv := r.json(t)
	if pv["lang"] != "ar" || pv["dir"] != "rtl" || r.header.Get("Content-Language") != "ar, en" {
		t.Errorf("preview lang %v dir %v Content-Language %q", pv["lang"], pv["dir"], r.header.Get("Content-Language"))
	}
	html := pv["blocks"].([]any)[0].(map[string]any)["html"].(map[string]any)
	if !strings.Contains(html["value"].(string), "<strong>speaks</strong>") || strings.Contains(html["value"].(string), "<script") || html["lang"] != "en" {
		t.Errorf("text block %v", html)
	}

	// Learners see nothing before publishing.
	learner := e.token("a-learner")
	r = e.do(req{method: "GET", path: "/api/v1/catalogue", token: learner})
	if items := r.json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("catalogue before publishing: %v", items)
	}
	v := e.mustPublish(trainer, id, 2)
	if v["version"] != 1.0 {
		t.Fatalf("published %v", v)
	}
	if again := e.mustPublish(trainer, id, 2); again["version"] != 1.0 {
		t.Errorf("a retried publish made version %v", again["version"])
	}

	r = e.do(req{method: "GET", path: "/api/v1/catalogue", token: learner, header: map[string]string{"Accept-Language": "fr"}})
	items := r.json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("catalogue: %s", r.body)
	}
	item := items[0].(map[string]any)
	if item["title"].(map[string]any)["value"] != "Communiquer au travail" || item["minutes"] != 12.0 || item["lessons"] != 2.0 || item["version"] != 1.0 {
		t.Errorf("catalogue item %v", item)
	}

	// Lesson delivery: strong ETag, immutable when the URL names the
	// languages, 304 on revalidation.
	path := fmt.Sprintf("/api/v1/catalogue/%s/versions/1/lessons/active?lang=ar", id)
	r = e.do(req{method: "GET", path: path, token: learner})
	if r.status != 200 {
		t.Fatalf("lesson: %d %s", r.status, r.body)
	}
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || r.header.Get("Cache-Control") != "private, max-age=31536000, immutable" ||
		r.header.Get("Content-Language") != "ar, en" {
		t.Errorf("headers %v", r.header)
	}
	lesson := r.json(t)
	blk := lesson["blocks"].([]any)[1].(map[string]any)
	if blk["media"].(map[string]any)["url"] != "/media/"+image || blk["alt"].(map[string]any)["value"] != "Two people talking" {
		t.Errorf("image block %v", blk)
	}
	again := e.do(req{method: "GET", path: path, token: learner, header: map[string]string{"If-None-Match": etag}})
	if again.status != 304 {
		t.Errorf("revalidation: %d", again.status)
	}
	if r2 := e.do(req{method: "GET", path: path, token: learner}); string(r2.body) != string(r.body) || r2.header.Get("ETag") != etag {
		t.Error("a second read differs")
	}
	// Without ?lang= the answer depends on Accept-Language: revalidate.
	r = e.do(req{method: "GET", path: strings.TrimSuffix(path, "?lang=ar"), token: learner, header: map[string]string{"Accept-Language": "ar"}})
	if r.header.Get("Cache-Control") != "private, no-cache" || r.header.Get("ETag") != etag {
		t.Errorf("unversioned languages: %v", r.header)
	}

	// The learner may now read the image through the recorded use.
	if m := e.do(req{method: "GET", path: "/media/" + image, token: learner}); m.status != 200 {
		t.Errorf("media for a learner after publishing: %d", m.status)
	}
	// Org B does not see org A's private course, nor its media.
	lrnB := e.token("b-learner")
	wantProblem(t, e.do(req{method: "GET", path: path, token: lrnB}), 404, "not-found")
	if m := e.do(req{method: "GET", path: "/media/" + image, token: lrnB}); m.status != 404 {
		t.Errorf("org B reads org A's media: %d", m.status)
	}

	// A published version cannot be changed: there is no such operation.
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		for _, path := range []string{"/api/v1/catalogue/" + id + "/versions/1", "/api/v1/catalogue/" + id + "/versions/1/lessons/greet"} {
			r := e.do(req{method: m, path: path, token: trainer, body: map[string]any{}})
			wantProblem(t, r, 405, "method-not-allowed")
			if got := r.header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q, want GET, HEAD", m, path, got)
			}
		}
	}

	// Version 2, shared: version 1 stays as it was; org B now sees it.
	d := withRevision(draft("talking-at-work", image, true), 2)
	d["messages"].(map[string]any)["en"].(map[string]any)["active.title"] = "Listening well"
	r = e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: d})
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	e.mustPublish(trainer, id, 3)
	old := e.do(req{method: "GET", path: "/api/v1/catalogue/" + id + "/versions/1/lessons/active?lang=en", token: learner}).json(t)
	if old["title"].(map[string]any)["value"] != "Active listening" {
		t.Errorf("version 1 changed: %v", old["title"])
	}
	latest := e.do(req{method: "GET", path: "/api/v1/catalogue/" + id, token: lrnB}).json(t)
	if latest["version"] != 2.0 {
		t.Errorf("latest %v", latest["version"])
	}
	wantProblem(t, e.do(req{method: "GET", path: path, token: lrnB}), 404, "not-found") // v1 was private
	if r := e.do(req{method: "GET", path: "/api/v1/catalogue/" + id + "/versions/2/lessons/active", token: lrnB}); r.status != 200 {
		t.Errorf("org B reads shared version 2: %d %s", r.status, r.body)
	}

	// Archiving leaves the catalogue; versions stay readable.
	if r := e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/archive", token: trainer}); r.status != 200 {
		t.Fatalf("archive: %d %s", r.status, r.body)
	}
	if items := e.do(req{method: "GET", path: "/api/v1/catalogue", token: learner}).json(t)["items"].([]any); len(items) != 0 {
		t.Errorf("archived course listed")
	}
	if r := e.do(req{method: "GET", path: "/api/v1/catalogue/" + id + "/versions/2/lessons/active", token: learner}); r.status != 200 {
		t.Errorf("archived version unreadable: %d", r.status)
	}
	wantProblem(t, e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: withRevision(draft("talking-at-work", image, true), 3)}), 409, "archived")
	wantProblem(t, e.do(req{method: "DELETE", path: "/api/v1/courses/" + id, token: trainer}), 409, "published")
}

func withRevision(d map[string]any, rev int) map[string]any {
	d["revision"] = rev
	return d
}

func TestCourseDuplicateAndDelete(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("original", image, false))["id"].(string)
	body := map[string]any{"id": "0190f1e2-0000-7000-8000-00000000d0b1", "slug": "copy"}
	r := e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/duplicate", token: trainer, body: body})
	if r.status != 201 {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}
	cp := r.json(t)
	if cp["id"] == id || cp["slug"] != "copy" || len(cp["modules"].([]any)) != 2 {
		t.Errorf("copy %v", cp)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/duplicate", token: trainer, body: body}); r.status != 200 {
		t.Errorf("retried duplicate: %d", r.status)
	}
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/duplicate", token: trainer, body: map[string]any{"slug": "copy"}}), 409, "slug-taken")
	if got := fieldCodes(p); !slices.Equal(got, []string{"slug:taken"}) {
		t.Errorf("duplicate onto a taken slug: errors %v, want slug:taken", got)
	}
	if r := e.do(req{method: "DELETE", path: "/api/v1/courses/" + cp["id"].(string), token: trainer}); r.status != 204 {
		t.Errorf("delete draft: %d %s", r.status, r.body)
	}
	// The slug is free again.
	if r := e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/duplicate", token: trainer, body: map[string]any{"slug": "copy"}}); r.status != 201 {
		t.Errorf("slug not released: %d %s", r.status, r.body)
	}
	list := e.do(req{method: "GET", path: "/api/v1/courses", token: trainer}).json(t)["items"].([]any)
	if len(list) != 2 {
		t.Errorf("authored list %v", list)
	}
}

func TestCourseBadInput(t *testing.T) {
	e, trainer, image := courseEnv(t)
	ctx := context.Background()
	trainerB, _, err := e.acc.CreateUser(ctx, e.root, e.orgB.ID, accounts.NewUser{Username: "b-trainer", Role: accounts.RoleTrainer, Password: fixturePassword})
	if err != nil {
		t.Fatal(err)
	}
	_ = trainerB
	tokB := e.token("b-trainer")
	id := e.mustCreateCourse(trainer, draft("mine", image, false))["id"].(string)
	edit := func(f func(d map[string]any)) map[string]any {
		d := draft("other", image, false)
		f(d)
		return d
	}
	module := func(d map[string]any, i int) map[string]any { return d["modules"].([]any)[i].(map[string]any) }
	tests := []struct {
		name   string
		r      req
		status int
		typ    string
		fields []string
	}{
		{"unknown locale", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) { d["locales"] = []string{"en", "xx-bogus"} })},
			422, "validation", []string{"locales/1:locale"}},
		{"duplicate slug", req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("mine", image, false)}, 409, "slug-taken", nil},
		{"cycle", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) { module(d, 0)["requires"] = []string{"speaking"} })},
			422, "validation", []string{"modules/0/requires:cycle"}},
		{"missing default text", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) {
			delete(d["messages"].(map[string]any)["en"].(map[string]any), "asking.title")
		})}, 422, "validation", []string{"modules/1/lessons/0/title:missing_text"}},
		{"text for a locale not offered", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) {
			d["messages"].(map[string]any)["de"] = map[string]any{"course.title": "Reden"}
		})}, 422, "validation", []string{"messages/de:not_offered"}},
		{"media of the wrong kind", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) {
			b := module(d, 0)["lessons"].([]any)[0].(map[string]any)["blocks"].([]any)
			b[1] = map[string]any{"id": "pic", "kind": "audio", "media": image, "transcript": "active.pic.alt"}
		})}, 422, "validation", []string{"modules/0/lessons/0/blocks/1/media:media_kind"}},
		{"unknown media", req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("x", "0190f1e2-0000-7000-8000-0000000000ff", false)},
			422, "validation", []string{"modules/0/lessons/0/blocks/1/media:unknown_media"}},
		{"learner creates", req{method: "POST", path: "/api/v1/courses", token: e.token("a-learner"), body: draft("x", image, false)}, 403, "forbidden", nil},
		{"org B trainer edits org A private course", req{method: "PUT", path: "/api/v1/courses/" + id, token: tokB, body: withRevision(draft("mine", image, false), 1)}, 404, "not-found", nil},
		{"org B trainer reads it", req{method: "GET", path: "/api/v1/courses/" + id, token: tokB}, 404, "not-found", nil},
		{"org B trainer publishes it", req{method: "POST", path: "/api/v1/courses/" + id + "/publish", token: tokB, body: map[string]any{"revision": 1}}, 404, "not-found", nil},
		{"educator edits", req{method: "PUT", path: "/api/v1/courses/" + id, token: e.token("a-edu"), body: withRevision(draft("mine", image, false), 1)}, 403, "forbidden", nil},
		{"no revision", req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: draft("mine", image, false)}, 422, "validation", []string{"revision:required"}},
		{"message for unknown locale", req{method: "PATCH", path: "/api/v1/courses/" + id + "/messages/de", token: trainer, body: map[string]any{"revision": 1, "messages": map[string]any{"course.title": "x"}}},
			422, "validation", []string{"locale:not_offered"}},
		{"malformed message", req{method: "PATCH", path: "/api/v1/courses/" + id + "/messages/fr", token: trainer, body: `{"revision":1,"messages":{"course.title":{"oter":"x"}}}`, header: map[string]string{"Content-Type": "application/json"}},
			422, "validation", []string{"messages/course.title/oter:unknown"}},
		{"bad version", req{method: "GET", path: "/api/v1/catalogue/" + id + "/versions/zero/lessons/a", token: trainer}, 422, "validation", []string{"version:invalid"}},
		{"bad lang", req{method: "GET", path: "/api/v1/catalogue?lang=" + strings.Repeat("x", 40), token: trainer}, 422, "validation", []string{"lang:locale"}},
		{"bad topic filter", req{method: "GET", path: "/api/v1/catalogue?topic=cooking", token: trainer}, 422, "validation", []string{"topic:enum"}},
		{"unpublished course", req{method: "GET", path: "/api/v1/catalogue/" + id, token: trainer}, 404, "not-found", nil},
		{"publish empty course", req{method: "POST", path: "/api/v1/courses", token: trainer, body: edit(func(d map[string]any) { d["modules"] = []any{} })}, 201, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			if tt.typ == "" {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				return
			}
			p := wantProblem(t, r, tt.status, tt.typ)
			got := fieldCodes(p)
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("errors %v, want %s", got, f)
				}
			}
		})
	}
	// A course without lessons can be drafted but not published.
	list := e.do(req{method: "GET", path: "/api/v1/courses", token: trainer}).json(t)["items"].([]any)
	var empty string
	for _, it := range list {
		if m := it.(map[string]any); m["slug"] == "other" {
			empty = m["id"].(string)
		}
	}
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/courses/" + empty + "/publish", token: trainer, body: map[string]any{"revision": 1}}), 422, "validation")
	if got := fieldCodes(p); !slices.Contains(got, "modules:empty_course") {
		t.Errorf("errors %v", got)
	}
	// Problems come in the caller's language.
	r := e.do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("mine", image, false), header: map[string]string{"Accept-Language": "fr"}})
	if r.header.Get("Content-Language") != "fr" {
		t.Errorf("problem language %q", r.header.Get("Content-Language"))
	}
	var prob map[string]any
	_ = json.Unmarshal(r.body, &prob)
	if prob["title"] == e.do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("mine", image, false)}).json(t)["title"] {
		t.Errorf("French problem title is the English one: %v", prob["title"])
	}
}

// TestLessonsServedFromMemory: once a version has been read, its lessons
// come from memory: with the versions and the catalogue gone from the
// database, the same lesson, and the lesson in another language, are
// still served.
func TestLessonsServedFromMemory(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("cached", image, false))["id"].(string)
	e.mustPublish(trainer, id, 1)
	learner := e.token("a-learner")
	path := "/api/v1/catalogue/" + id + "/versions/1/lessons/active"
	first := e.do(req{method: "GET", path: path + "?lang=ar", token: learner})
	if first.status != 200 {
		t.Fatalf("first read: %d %s", first.status, first.body)
	}
	ctx := context.Background()
	e.wipe(ctx, "course_versions", "course_entries", "course_meta", "courses")
	again := e.do(req{method: "GET", path: path + "?lang=ar", token: learner})
	if again.status != 200 || string(again.body) != string(first.body) {
		t.Errorf("cached read: %d %s", again.status, again.body)
	}
	fr := e.do(req{method: "GET", path: path + "?lang=fr", token: learner})
	if fr.status != 200 || fr.json(t)["title"].(map[string]any)["value"] != "L’écoute active" {
		t.Errorf("another language from the cached version: %d %s", fr.status, fr.body)
	}
}

// TestLessonLanguagesRemembered: the languages of a ?lang= or an
// Accept-Language value, and the fallback chain they resolve to, are
// remembered, and a remembered answer is the first one: the same
// language, headers and body the second time, and a malformed ?lang= is
// refused every time.
func TestLessonLanguagesRemembered(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("remembered", image, false))["id"].(string)
	e.mustPublish(trainer, id, 1)
	learner := e.token("a-learner")
	path := "/api/v1/catalogue/" + id + "/versions/1/lessons/active"
	for _, tt := range []struct {
		query, acceptLanguage, contentLanguage string
	}{
		{"?lang=ar", "", "ar, en"},
		{"?lang=fr,ar", "uk", "fr, en"},
		{"", "fr-CA,ar;q=0.5", "fr, en"},
		{"", "de, ar;q=0.9", "ar, en"},
		{"", "", "en"},
		{"?lang=", "ar", "ar, en"},
	} {
		var first response
		for i := range 2 {
			r := e.do(req{method: "GET", path: path + tt.query, token: learner, header: map[string]string{"Accept-Language": tt.acceptLanguage}})
			if r.status != 200 || r.header.Get("Content-Language") != tt.contentLanguage {
				t.Fatalf("%s %q, read %d: %d, Content-Language %q, want %q", tt.query, tt.acceptLanguage, i+1, r.status, r.header.Get("Content-Language"), tt.contentLanguage)
			}
			if i == 1 && (string(r.body) != string(first.body) || r.header.Get("ETag") != first.header.Get("ETag") ||
				r.header.Get("Cache-Control") != first.header.Get("Cache-Control") || r.header.Get("Vary") != first.header.Get("Vary")) {
				t.Errorf("%s %q: the second read differs: %v, first %v", tt.query, tt.acceptLanguage, r.header, first.header)
			}
			first = r
		}
	}
	for _, bad := range []string{"?lang=ar,nonsense!!", "?lang=" + strings.Repeat("ar,", 10) + "ar"} {
		for range 2 {
			p := wantProblem(t, e.do(req{method: "GET", path: path + bad, token: learner}), 422, "validation")
			if codes := fieldCodes(p); len(codes) != 1 || !strings.HasPrefix(codes[0], "lang:") {
				t.Errorf("%s: %v", bad, codes)
			}
		}
	}
}

func TestCatalogueFilters(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("filtered", image, false))["id"].(string)
	e.mustPublish(trainer, id, 1)
	learner := e.token("a-learner")
	for query, want := range map[string]int{
		"":                               1,
		"?topic=soft-skills":             1,
		"?topic=resilience":              0,
		"?audience=young-refugees":       1,
		"?audience=ngo-professionals":    0,
		"?language=en":                   1,
		"?language=en-GB":                1, // its base language
		"?language=fr":                   0, // French is not complete
		"?topic=soft-skills&language=ar": 0,
	} {
		r := e.do(req{method: "GET", path: "/api/v1/catalogue" + query, token: learner})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		if got := len(r.json(t)["items"].([]any)); got != want {
			t.Errorf("catalogue%s: %d courses, want %d", query, got, want)
		}
	}
}

// TestListsArePaged: the lists that came in one page (the catalogue,
// authors' courses, banks, quizzes, translation status) take ?offset= and
// ?limit= like every other list, and say which window they hold.
func TestListsArePaged(t *testing.T) {
	e, trainer, image := courseEnv(t)
	for _, slug := range []string{"one", "two", "three"} {
		id := e.mustCreateCourse(trainer, draft(slug, image, false))["id"].(string)
		e.mustPublish(trainer, id, 1)
		e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	}
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	for range 3 {
		e.mustPost(trainer, "/api/v1/quizzes", quiz(b["id"].(string), nil), 201)
	}
	learner := e.token("a-learner")
	page := func(token, path string) (ids []string, total any, offset, limit float64) {
		t.Helper()
		r := e.do(req{method: "GET", path: path, token: token})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		body := r.json(t)
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			id, _ := m["id"].(string)
			ids = append(ids, id+fmt.Sprint(m["locale"]))
		}
		return ids, body["total"], body["offset"].(float64), body["limit"].(float64)
	}
	for _, tt := range []struct {
		token, path string
		all         int
		total       bool
	}{
		{learner, "/api/v1/catalogue", 3, true},
		{trainer, "/api/v1/courses", 3, true},
		{trainer, "/api/v1/banks", 4, false},
		{trainer, "/api/v1/quizzes", 3, false},
	} {
		all, total, _, limit := page(tt.token, tt.path)
		if len(all) != tt.all || limit != 50 || tt.total != (total != nil) || tt.total && total.(float64) != float64(tt.all) {
			t.Fatalf("%s: %d items of %v, limit %v", tt.path, len(all), total, limit)
		}
		first, _, off, lim := page(tt.token, tt.path+"?limit=2")
		rest, _, off2, _ := page(tt.token, tt.path+"?offset=2&limit=2")
		if !slices.Equal(first, all[:2]) || !slices.Equal(rest, all[2:]) || off != 0 || lim != 2 || off2 != 2 {
			t.Errorf("%s: pages %v + %v, want %v", tt.path, first, rest, all)
		}
		if beyond, _, _, _ := page(tt.token, tt.path+"?offset=99"); len(beyond) != 0 {
			t.Errorf("%s?offset=99: %v", tt.path, beyond)
		}
		if _, _, _, capped := page(tt.token, tt.path+"?limit=100000"); capped != 200 {
			t.Errorf("%s: limit capped at %v, want 200", tt.path, capped)
		}
	}
	course := e.do(req{method: "GET", path: "/api/v1/courses?limit=1", token: trainer}).json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	if ids, total, _, _ := page(trainer, "/api/v1/courses/"+course+"/translations?offset=1&limit=1"); len(ids) != 1 || total != 3.0 {
		t.Errorf("translations page: %v of %v", ids, total)
	}
	p := wantProblem(t, e.do(req{method: "GET", path: "/api/v1/catalogue?offset=-1&limit=x&topic=nope", token: learner}), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"offset:range", "limit:type", "topic:enum"}) {
		t.Errorf("every bad parameter at once: %v", got)
	}
}
