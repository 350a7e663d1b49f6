package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// zipOf builds a zip from name → content, in name order.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) importZip(token string, body []byte, query string) response {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/courses/import" + query, token: token, body: body,
		header: map[string]string{"Content-Type": "application/zip"}})
}

// TestCourseExportImportRoundTrip: a course exported as a zip and imported
// again is the same course: structure, texts, hashes, media bytes.
func TestCourseExportImportRoundTrip(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("talking-at-work", image, false))["id"].(string)
	r := e.do(req{method: "GET", path: "/api/v1/courses/" + id + "/export", token: trainer})
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %v", r.status, r.header)
	}
	// The same slug is taken in this organisation: a global admin imports
	// it into org B.
	root := e.token("root")
	r2 := e.importZip(root, r.body, "?orgId="+e.orgB.ID)
	if r2.status != 201 {
		t.Fatalf("import: %d %s", r2.status, r2.body)
	}
	orig := e.do(req{method: "GET", path: "/api/v1/courses/" + id, token: trainer}).json(t)
	copied := r2.json(t)["course"].(map[string]any)
	copiedID := copied["id"].(string)
	if copied["orgId"] != e.orgB.ID {
		t.Errorf("imported into %v", copied["orgId"])
	}
	newImage := copied["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)["blocks"].([]any)[1].(map[string]any)["media"].(string)
	for _, k := range []string{"id", "orgId", "createdAt", "updatedAt", "revision"} {
		delete(orig, k)
		delete(copied, k)
	}
	// Media get new asset IDs in the other organisation's library.
	origJSON := strings.ReplaceAll(string(mustJSON(t, orig)), image, newImage)
	if origJSON != string(mustJSON(t, copied)) {
		t.Errorf("round trip differs:\n%s\n%s", origJSON, mustJSON(t, copied))
	}
	a := e.do(req{method: "GET", path: "/media/" + image, token: trainer})
	b := e.do(req{method: "GET", path: "/media/" + newImage, token: root})
	if b.status != 200 || !reflect.DeepEqual(a.body, b.body) {
		t.Errorf("media bytes differ: %d", b.status)
	}
	// A retry with the same client id returns the course made first.
	r3 := e.importZip(root, r.body, "?orgId="+e.orgB.ID+"&id="+copiedID)
	if r3.status != 200 {
		t.Errorf("retried import: %d %s", r3.status, r3.body)
	}
}

func TestCourseImportRefused(t *testing.T) {
	e, trainer, _ := courseEnv(t)
	yaml := "format: 1\nslug: bad\ndefaultLocale: en\nlocales: [en, fr]\ntopic: soft-skills\naudiences: [young-refugees]\nlevel: beginner\n" +
		"title: course.title\nmodules:\n  - id: one\n    title: one.title\n    requires: [two]\n    lessons: []\n" +
		"  - id: two\n    title: two.title\n    requires: [one]\n    lessons: []\n"
	good := map[string]string{"locales/en.json": `{"course.title": "T", "one.title": "One", "two.title": "Two"}`}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"course.yaml": yaml}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	p := wantProblem(t, e.importZip(trainer, zipOf(t, with(map[string]string{
		"locales/fr.json": "{\n  \"course.title\": \"T\",\n  oops\n}",
	})), ""), 422, "invalid-package")
	type loc struct {
		file string
		line float64
		code string
	}
	var got []loc
	for _, x := range p["errors"].([]any) {
		m := x.(map[string]any)
		line, _ := m["line"].(float64)
		got = append(got, loc{m["file"].(string), line, m["code"].(string)})
		if m["detail"] == "" {
			t.Errorf("problem without detail: %v", m)
		}
	}
	for _, want := range []loc{{"course.yaml", 12, "cycle"}, {"locales/fr.json", 3, "syntax"}} {
		if !slices.Contains(got, want) {
			t.Errorf("problems %v, want %v", got, want)
		}
	}

	for name, files := range map[string]map[string]string{
		"path traversal": with(map[string]string{"../evil.json": "{}"}),
		"absolute path":  with(map[string]string{"/etc/passwd": "x"}),
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, e.importZip(trainer, zipOf(t, files), ""), 422, "invalid-package")
		})
	}
	t.Run("zip bomb", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("media/zeros.png")
		zeros := make([]byte, 1<<20)
		for range 300 { // 300 MiB of zeros, a few hundred KiB packed
			w.Write(zeros)
		}
		zw.Close()
		wantProblem(t, e.importZip(trainer, buf.Bytes(), ""), 422, "invalid-package")
	})
	t.Run("not a zip", func(t *testing.T) {
		wantProblem(t, e.importZip(trainer, []byte("hello"), ""), 422, "invalid-package")
	})
	t.Run("wrong type", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/api/v1/courses/import", token: trainer, body: "{}", header: map[string]string{"Content-Type": "application/json"}})
		wantProblem(t, r, 415, "unsupported-media-type")
	})
	t.Run("learner", func(t *testing.T) {
		ok := with(nil)
		ok["course.yaml"] = strings.ReplaceAll(yaml, "requires: [one]", "requires: []")
		wantProblem(t, e.importZip(e.token("a-learner"), zipOf(t, ok), ""), 403, "forbidden")
	})
	// Nothing of the refused packages reached the library or the catalogue.
	if items := e.do(req{method: "GET", path: "/api/v1/courses", token: trainer}).json(t)["items"].([]any); len(items) != 0 {
		t.Errorf("refused imports left courses: %v", items)
	}
	if lib := e.do(req{method: "GET", path: "/api/v1/media", token: trainer}).json(t)["items"].([]any); len(lib) != 1 {
		t.Errorf("refused imports left %d media", len(lib)-1)
	}
}

// TestConcurrentEditsOneWins: of concurrent edits made on one revision,
// exactly one is stored; the others get 409 stale-revision.
func TestConcurrentEditsOneWins(t *testing.T) {
	e, trainer, image := courseEnv(t)
	id := e.mustCreateCourse(trainer, draft("busy", image, false))["id"].(string)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := withRevision(draft("busy", image, false), 1)
			d["messages"].(map[string]any)["en"].(map[string]any)["course.title"] = fmt.Sprintf("Title %d", i)
			statuses[i] = e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: d}).status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[n-1] != 409 || statuses[n-2] != 409 || statuses[0] != 200 || statuses[1] != 409 {
		t.Errorf("statuses %v, want one 200 and the rest 409", statuses)
	}
	if rev := e.do(req{method: "GET", path: "/api/v1/courses/" + id, token: trainer}).json(t)["revision"]; rev != 2.0 {
		t.Errorf("revision %v, want 2", rev)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v) // map keys come sorted
	if err != nil {
		t.Fatal(err)
	}
	return b
}
