package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
)

// bodyLimit is the default body limit of the test server.
const bodyLimit = 1 << 20

// manyItems is a JSON body just under the body limit: head, then as many
// copies of item (joined by commas) as fit, then tail.
func manyItems(head, item, tail string) string {
	n := (bodyLimit - 1 - len(head) - len(tail)) / (len(item) + 1)
	return head + strings.Repeat(item+",", n-1) + item + tail
}

// problemList is the errors of a validation problem as "pointer:code"
// (parameters as "?name:code").
func problemList(t *testing.T, p map[string]any) []string {
	t.Helper()
	var out []string
	errs, _ := p["errors"].([]any)
	for _, raw := range errs {
		f := raw.(map[string]any)
		if name, ok := f["parameter"].(string); ok {
			out = append(out, "?"+name+":"+f["code"].(string))
			continue
		}
		ptr, ok := f["pointer"].(string)
		if !ok {
			t.Fatalf("field error without pointer or parameter: %v", f)
		}
		out = append(out, ptr+":"+f["code"].(string))
	}
	return out
}

// TestOversizedListsAnsweredSmall: issue 11, item 7. One request just under
// the body limit listing as many empty items as fit got a 170 MB answer
// with an error per item. Every list of every body is counted before its
// items are looked at: the answer is the list's own too_many and little
// else, and nothing is stored.
func TestOversizedListsAnsweredSmall(t *testing.T) {
	e, trainer, image := courseEnv(t)
	course := e.mustCreateCourse(trainer, draft("talking", image, false))
	courseID := course["id"].(string)
	fakeAttempt := "0190f1e2-0000-7000-8000-0000000000aa"
	tests := []struct {
		name, method, path, body string
		list                     string // the pointer of the list
	}{
		{"bank questions", "POST", "/api/v1/banks", manyItems(`{"questions":[`, `{}`, `]}`), "/questions"},
		{"question options", "POST", "/api/v1/banks", manyItems(`{"questions":[{"options":[`, `{}`, `]}]}`), "/questions/0/options"},
		{"question tags", "POST", "/api/v1/banks", manyItems(`{"questions":[{"tags":[`, `""`, `]}]}`), "/questions/0/tags"},
		{"accepted answers", "POST", "/api/v1/banks", manyItems(`{"questions":[{"type":"short","accepted":{"en":[`, `""`, `]}}]}`), "/questions/0/accepted/en"},
		{"bank locales", "POST", "/api/v1/banks", manyItems(`{"locales":[`, `""`, `]}`), "/locales"},
		{"course modules", "POST", "/api/v1/courses", manyItems(`{"modules":[`, `{}`, `]}`), "/modules"},
		{"course lessons", "POST", "/api/v1/courses", manyItems(`{"modules":[{"lessons":[`, `{}`, `]}]}`), "/modules/0/lessons"},
		{"course blocks", "POST", "/api/v1/courses", manyItems(`{"modules":[{"lessons":[{"blocks":[`, `{}`, `]}]}]}`), "/modules/0/lessons/0/blocks"},
		{"course audiences", "PUT", "/api/v1/courses/" + courseID, manyItems(`{"revision":1,"audiences":[`, `""`, `]}`), "/audiences"},
		{"quiz picks", "POST", "/api/v1/quizzes", manyItems(`{"picks":[`, `{}`, `]}`), "/picks"},
		{"pick questions", "POST", "/api/v1/quizzes", manyItems(`{"picks":[{"questions":[`, `""`, `]}]}`), "/picks/0/questions"},
		{"course messages", "PATCH", "/api/v1/courses/" + courseID + "/messages/fr", messageItems(), "/messages"},
		{"answer choices", "PUT", "/api/v1/attempts/" + fakeAttempt + "/answers/who", manyItems(`{"answerId":"a","answer":{"options":[`, `""`, `]}}`), "/answer/options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) >= bodyLimit {
				t.Fatalf("body of %d bytes", len(tt.body))
			}
			r := e.do(req{method: tt.method, path: tt.path, token: trainer, body: tt.body})
			p := wantProblem(t, r, 422, "validation")
			got := problemList(t, p)
			if len(got) > pathways.MaxFieldErrors {
				t.Fatalf("%d errors listed", len(got))
			}
			if !slices.Contains(got, tt.list+":too_many") {
				t.Errorf("errors %v do not say that %s is too long", got, tt.list)
			}
			for _, g := range got {
				if strings.HasPrefix(g, tt.list+"/") {
					t.Errorf("an item of the oversized list was looked at: %s", g)
				}
			}
			if n, _ := p["omitted"].(float64); n > 10 || len(r.body) > 16<<10 {
				t.Errorf("answer of %d bytes, %v omitted: want a small one", len(r.body), n)
			}
		})
	}
	lists := e.do(req{method: "GET", path: "/api/v1/banks", token: trainer}).json(t)
	if items := lists["items"].([]any); len(items) != 0 {
		t.Errorf("a refused bank was stored: %v", items)
	}
}

// messageItems is a PATCH body of messages just under the body limit.
func messageItems() string {
	var b strings.Builder
	b.WriteString(`{"revision":1,"messages":{`)
	for i := 0; b.Len() < bodyLimit-32; i++ {
		fmt.Fprintf(&b, `"m%d":"",`, i)
	}
	b.WriteString(`"last":""}}`)
	return b.String()
}

// TestNestedKeysRefused: issue 11, item 8. encoding/json lets the last of
// two keys win and matches keys case-insensitively at every depth; only
// the top level was checked. Keys given twice (also those chosen by
// users: locales, message IDs, option IDs), unknown keys (also in the
// wrong case) and values of the wrong type are listed at every depth, all
// at once, and nothing is stored.
func TestNestedKeysRefused(t *testing.T) {
	e := newEnv(t)
	trainer := e.token("a-trainer")
	fakeAttempt := "0190f1e2-0000-7000-8000-0000000000aa"
	tests := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"question", "POST", "/api/v1/banks", `{"name":"b","defaultLocale":"en","questions":[
			{"id":"q","id":"r","ID":"s","type":"single","points":"ten","options":[{"id":"a","text":"t","text":"u"}]},
			{"id":"m","type":"matching","pairs":{"a":"x","a":"y"},"scale":{"min":1,"max":5,"labels":{"one":"x","2":"y","2":"z"}}}]}`,
			[]string{"/questions/0/id:duplicate", "/questions/0/ID:unknown", "/questions/0/points:type", "/questions/0/options/0/text:duplicate",
				"/questions/1/pairs/a:duplicate", "/questions/1/scale/labels/one:type", "/questions/1/scale/labels/2:duplicate"}},
		{"texts", "POST", "/api/v1/banks", `{"name":"b","defaultLocale":"en","messages":{"en":{"t":"a","t":"b","u":{"other":"x","other":"y","Other":"z"}},"en":{}}}`,
			[]string{"/messages/en/t:duplicate", "/messages/en/u/other:duplicate", "/messages/en/u/Other:unknown", "/messages/en:duplicate"}},
		{"course", "POST", "/api/v1/courses", `{"slug":"c","modules":[{"id":"m","colour":"red","lessons":[{"id":"l","size":1,"minutes":"five",
			"blocks":[{"id":"b","kind":"video","subtitles":{"fr":"x","fr":"y"},"Kind":"text"}]}]}]}`,
			[]string{"/modules/0/colour:unknown", "/modules/0/lessons/0/size:unknown", "/modules/0/lessons/0/minutes:type",
				"/modules/0/lessons/0/blocks/0/subtitles/fr:duplicate", "/modules/0/lessons/0/blocks/0/Kind:unknown"}},
		{"quiz", "POST", "/api/v1/quizzes", `{"due":"tomorrow","mastery":{"m":1,"m":2},"picks":[{"bank":"x","count":1.5}]}`,
			[]string{"/due:invalid", "/mastery/m:duplicate", "/picks/0/count:type"}},
		{"answer", "PUT", "/api/v1/attempts/" + fakeAttempt + "/answers/who", `{"answerId":"a","answer":{"option":"a","option":"b","x":{"y":1,"y":2}}}`,
			[]string{"/answer/option:duplicate", "/answer/x/y:duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wantProblem(t, e.do(req{method: tt.method, path: tt.path, token: trainer, body: tt.body}), 422, "validation")
			got := problemList(t, p)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %s in %v", w, got)
				}
			}
		})
	}
	for _, list := range []string{"/api/v1/banks", "/api/v1/quizzes", "/api/v1/courses"} {
		if items := e.do(req{method: "GET", path: list, token: trainer}).json(t)["items"].([]any); len(items) != 0 {
			t.Errorf("%s: a refused body was stored: %v", list, items)
		}
	}
}

// TestEveryProblemAtOnce: issue 11, item 15. An unknown field hid every
// other problem of the body, and parameters stopped at the first bad one.
// A request's problems come in one answer: its parameters' (by name), its
// body's shape and what the domain finds in the rest of the body (by
// pointer).
func TestEveryProblemAtOnce(t *testing.T) {
	e := newEnv(t)
	root, trainer := e.token("root"), e.token("a-trainer")
	org := e.orgA.ID
	img := pngFile(t, 4, 4, 1)
	tests := []struct {
		name string
		r    req
		want []string
	}{
		{"create user", req{method: "POST", path: "/api/v1/users", token: root,
			body: `{"orgId":"` + org + `","username":"a b","role":"learner","pin":"1111","favouriteColour":"blue"}`},
			[]string{"/favouriteColour:unknown", "/username:username_format", "/pin:pin_weak"}},
		{"a wrong type is not also missing", req{method: "POST", path: "/api/v1/users", token: root,
			body: `{"orgId":"` + org + `","username":5,"role":"learner","pin":"1111"}`},
			[]string{"/username:type", "/pin:pin_weak"}},
		{"a bad orgId with the rest", req{method: "POST", path: "/api/v1/users", token: root,
			body: `{"orgId":"nope","username":"ab","role":"chief","pin":"2468"}`},
			[]string{"/orgId:id", "/username:too_short", "/role:enum"}},
		{"path and body", req{method: "PATCH", path: "/api/v1/users/not-an-id", token: root, body: `{"displayName":" ","colour":1}`},
			[]string{"?id:id", "/colour:unknown", "/displayName:required"}},
		{"path and secret", req{method: "PUT", path: "/api/v1/users/not-an-id/credential", token: root, body: `{"pin":"1234"}`},
			[]string{"?id:id", "/pin:pin_weak"}},
		{"course", req{method: "POST", path: "/api/v1/courses", token: trainer,
			body: `{"id":"x","slug":"Bad Slug","topic":"cooking","audiences":["young-refugees"],"level":"beginner","defaultLocale":"en","title":"t","colour":1}`},
			[]string{"/colour:unknown", "/id:id", "/slug:slug", "/topic:enum", "/title:missing_text"}},
		{"quiz stats parameters", req{method: "GET", path: "/api/v1/quizzes/nope/versions/zero/stats?offset=-1&limit=x&orgId=bad", token: trainer},
			[]string{"?id:id", "?version:invalid", "?offset:range", "?limit:type", "?orgId:id"}},
		{"lesson parameters", req{method: "GET", path: "/api/v1/catalogue/nope/versions/0/lessons/a?lang=!!", token: trainer},
			[]string{"?id:id", "?version:invalid", "?lang:locale"}},
		{"export parameters", req{method: "GET", path: "/api/v1/courses/nope/export?version=0", token: trainer},
			[]string{"?id:id", "?version:invalid"}},
		{"attempt parameters", req{method: "POST", path: "/api/v1/attempts/nope/submit?lang=!!", token: trainer},
			[]string{"?id:id", "?lang:locale"}},
		{"message parameters and body", req{method: "PATCH", path: "/api/v1/courses/nope/messages/xx_YY!", token: trainer, body: `{"revision":1,"messages":{"a":1}}`},
			[]string{"?id:id", "?locale:locale", "/messages/a:type"}},
		{"chunk parameters", req{method: "PATCH", path: "/api/v1/media/uploads/nope", token: trainer, body: "x",
			header: map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "minus one"}},
			[]string{"?id:id", "?Upload-Offset:invalid"}},
		{"upload parameters", req{method: "POST", path: "/api/v1/media?colour=red&locale=not!a!locale&altText=" + strings.Repeat("a", 2000), token: trainer, body: img,
			header: map[string]string{"Content-Type": "image/png"}},
			[]string{"?colour:unknown", "?locale:locale", "?altText:too_long"}},
		{"resumable upload", req{method: "POST", path: "/api/v1/media/uploads", token: trainer, body: `{"name":"x.svg","size":0,"shape":"round"}`},
			[]string{"/shape:unknown", "/name:type_refused", "/size:empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wantProblem(t, e.do(tt.r), 422, "validation")
			if got := problemList(t, p); !slices.Equal(got, tt.want) {
				t.Errorf("errors %v, want %v", got, tt.want)
			}
		})
	}

	// The form fields of a multipart upload, all at once, and no file is
	// stored.
	r := e.upload(trainer, [][2]string{{"colour", "red"}, {"size", "big"}, {"locale", "!"}, {"locale", "fr"}}, formFile{"a.png", "", img})
	if got := problemList(t, wantProblem(t, r, 422, "validation")); !slices.Equal(got, []string{"/colour:unknown", "/size:unknown", "/locale:duplicate", "/locale:locale"}) {
		t.Errorf("multipart: errors %v", got)
	}
	if keys := e.blobKeys(); len(keys) != 0 {
		t.Errorf("a refused upload was stored: %v", keys)
	}

	// A body whose only problem is an unknown field is refused all the
	// same, and creates nothing.
	user := `{"orgId":"` + org + `","username":"newcomer","role":"learner","pin":"2468"`
	r = e.do(req{method: "POST", path: "/api/v1/users", token: root, body: user + `,"extra":true}`})
	if got := problemList(t, wantProblem(t, r, 422, "validation")); !slices.Equal(got, []string{"/extra:unknown"}) {
		t.Errorf("errors %v, want only /extra:unknown", got)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/users", token: root, body: user + `}`}); r.status != 201 {
		t.Errorf("the same user without the unknown field: %d %s (was it created by the refused request?)", r.status, r.body)
	}
}
