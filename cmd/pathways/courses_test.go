package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const adminPassword = "a long admin passphrase"

// TestDemoCurriculum: the first start seeds the demo courses, published,
// shared and fully translated; the lessons read in Arabic are right to
// left and their narration plays; a restart and `pathways seed` add
// nothing.
func TestDemoCurriculum(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_LOG_LEVEL": "warn", "PATHWAYS_ADMIN_PASSWORD": adminPassword}
	in := start(t, env)
	token := in.token(t)
	status, cat := in.get(t, "/api/v1/catalogue?lang=ar", token)
	if status != 200 {
		t.Fatalf("catalogue: %d %v", status, cat)
	}
	items := cat["items"].([]any)
	var topics []string
	for _, it := range items {
		c := it.(map[string]any)
		topics = append(topics, c["topic"].(string))
		var locales []string
		for _, l := range c["locales"].([]any) {
			locales = append(locales, l.(string))
		}
		for _, want := range []string{"en", "fr", "ar", "uk"} {
			if !slices.Contains(locales, want) {
				t.Errorf("%s: not fully translated into %s (complete: %v)", c["slug"], want, locales)
			}
		}
		if title := c["title"].(map[string]any); title["lang"] != "ar" || title["dir"] != "rtl" {
			t.Errorf("%s: title %v", c["slug"], title)
		}
	}
	slices.Sort(topics)
	if !slices.Equal(topics, []string{"media-literacy", "resilience", "soft-skills"}) {
		t.Fatalf("demo topics %v", topics)
	}

	// Every lesson of every course renders in Arabic; one has narration.
	var audio string
	for _, it := range items {
		id := it.(map[string]any)["id"].(string)
		_, outline := in.get(t, "/api/v1/catalogue/"+id+"/versions/1?lang=ar", token)
		for _, m := range outline["modules"].([]any) {
			for _, l := range m.(map[string]any)["lessons"].([]any) {
				lid := l.(map[string]any)["id"].(string)
				status, lesson := in.get(t, "/api/v1/catalogue/"+id+"/versions/1/lessons/"+lid+"?lang=ar", token)
				if status != 200 || lesson["lang"] != "ar" || lesson["dir"] != "rtl" || len(lesson["languages"].([]any)) != 1 {
					t.Fatalf("lesson %s: %d %v", lid, status, lesson)
				}
				for _, b := range lesson["blocks"].([]any) {
					if m, ok := b.(map[string]any)["media"].(map[string]any); ok && b.(map[string]any)["kind"] == "audio" {
						if m["lang"] != "ar" {
							t.Errorf("narration of %s in %v, want ar", lid, m["lang"])
						}
						audio = m["url"].(string)
					}
				}
			}
		}
	}
	if audio == "" {
		t.Fatal("no narration in the demo")
	}
	req, _ := http.NewRequest("GET", in.base+audio, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/ogg" || len(body) < 10000 {
		t.Errorf("narration: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}

	in.shutdown(t)
	in = start(t, env)
	token = in.token(t)
	if _, cat := in.get(t, "/api/v1/catalogue", token); len(cat["items"].([]any)) != 3 {
		t.Errorf("after restart: %d courses", len(cat["items"].([]any)))
	}
	in.shutdown(t)
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"seed"}, func(k string) string { return env[k] }, &out, &errOut, nil); err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut.String())
	}
	if strings.Contains(out.String(), "published") {
		t.Errorf("seed again published something: %s", out.String())
	}
}

func (in *instance) token(t *testing.T) string {
	t.Helper()
	status, sess := in.post(t, "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPassword}, "")
	if status != 200 {
		t.Fatalf("login: %d %v", status, sess)
	}
	return sess["accessToken"].(string)
}

// TestExportImportCommands: a demo course exported to a folder, imported
// into another organisation and exported again gives the same files.
func TestExportImportCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_LOG_LEVEL": "warn", "PATHWAYS_ADMIN_PASSWORD": adminPassword}
	getenv := func(k string) string { return env[k] }
	in := start(t, env)
	token := in.token(t)
	_, org := in.post(t, "/api/v1/organisations", map[string]string{"slug": "other", "name": "Other"}, token)
	_, org2 := in.post(t, "/api/v1/organisations", map[string]string{"slug": "third", "name": "Third"}, token)
	_, cat := in.get(t, "/api/v1/catalogue", token)
	var id string
	for _, it := range cat["items"].([]any) {
		if c := it.(map[string]any); c["slug"] == "coping-with-stress" {
			id = c["id"].(string)
		}
	}
	in.shutdown(t)

	exec := func(args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		if err := run(context.Background(), args, getenv, &out, &errOut, nil); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	imported := func(msg string) string {
		t.Helper()
		f := strings.Fields(msg)
		if len(f) < 5 || f[0] != "imported" {
			t.Fatalf("import said %q", msg)
		}
		return f[4]
	}
	tmp := t.TempDir()
	first, second, third := filepath.Join(tmp, "first"), filepath.Join(tmp, "second.zip"), filepath.Join(tmp, "third")
	exec("export", "-version", "1", id, first)
	copy1 := imported(exec("import", "-org", org["id"].(string), first))
	exec("export", copy1, second)
	copy2 := imported(exec("import", "-org", org2["id"].(string), "-publish", second))
	// The same package again beside its copy: another slug, the media reused.
	again := exec("import", "-org", org2["id"].(string), "-slug", "coping-again", second)
	if !strings.HasPrefix(again, "imported coping-again ") || !strings.Contains(again, "media: 0 created, ") || strings.Contains(again, " 0 reused") {
		t.Errorf("import -slug said %q", again)
	}
	exec("export", "-version", "1", copy2, third)
	want := readTree(t, first)
	if len(want) < 10 || want["course.yaml"] == "" || want["locales/ar.json"] == "" {
		t.Fatalf("export wrote %v", keys(want))
	}
	if got := readTree(t, third); !equalTrees(got, want) {
		t.Errorf("export → import → export (zip) → import → export differs:\nfirst %v\nthird %v", keys(want), keys(got))
		for k, v := range want {
			if got[k] != v && strings.HasSuffix(k, ".yaml") {
				t.Logf("%s first:\n%s\nthird:\n%s", k, v, got[k])
			}
		}
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
