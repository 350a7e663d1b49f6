package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// Course packages that carry quizzes (format 2): docs/COURSE-FORMAT.md.

// unzip reads a zip body into name → content.
func unzip(t *testing.T, body []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// quizCourse makes, as trainer, a bank whose first question's right
// option shows image, a quiz on it (published unless draftQuiz) and a
// course showing the picture and the quiz; it returns the course and
// quiz IDs.
func (e *env) quizCourse(trainer, slug, image string, shared bool) (courseID, quizID, bankID string) {
	e.t.Helper()
	bk := bank()
	bk["questions"].([]any)[0].(map[string]any)["options"].([]any)[1].(map[string]any)["image"] = image
	bankID = e.mustPost(trainer, "/api/v1/banks", bk, 201)["id"].(string)
	quizID = e.mustPost(trainer, "/api/v1/quizzes", quiz(bankID, map[string]any{"shared": shared}), 201)["id"].(string)
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 201)
	d := draft(slug, image, false)
	lesson := d["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)
	lesson["blocks"] = append(lesson["blocks"].([]any), map[string]any{"id": "check", "kind": "quiz", "quiz": quizID})
	courseID = e.mustCreateCourse(trainer, d)["id"].(string)
	return courseID, quizID, bankID
}

func (e *env) export(token, courseID string) []byte {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/courses/" + courseID + "/export", token: token})
	if r.status != 200 {
		e.t.Fatalf("export: %d %s", r.status, r.body)
	}
	return r.body
}

func (e *env) mustImport(token string, body []byte, query string, want int) map[string]any {
	e.t.Helper()
	r := e.importZip(token, body, query)
	if r.status != want {
		e.t.Fatalf("import%s: %d, want %d: %s", query, r.status, want, r.body)
	}
	return r.json(e.t)
}

// quizBlock is the quiz a course's quiz block (the fourth of its first
// lesson) names.
func quizBlock(course map[string]any) string {
	return course["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)["blocks"].([]any)[3].(map[string]any)["quiz"].(string)
}

// count counts the documents of a collection; of media_blobs, the content
// records that list an asset (an emptied one is kept as a tombstone, which
// reads as no record).
func (e *env) count(collection string) int64 {
	e.t.Helper()
	n, ctx := int64(0), context.Background()
	var err error
	if collection == "media_blobs" {
		err = e.db.Assets().EachBlob(ctx, func(assets.Blob) error { n++; return nil })
	} else {
		err = docdb.Each(ctx, e.db.Engine(), collection, docdb.Query{}, func(docdb.Doc) error { n++; return nil })
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// mediaTotal is how many assets an organisation's library lists.
func (e *env) mediaTotal(token, orgID string) float64 {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/media?orgId=" + orgID, token: token})
	if r.status != 200 {
		e.t.Fatalf("media: %d %s", r.status, r.body)
	}
	return r.json(e.t)["total"].(float64)
}

// TestImportQuizzesIntoAnotherOrganisation: a course exported with its
// quiz and imported into another organisation under a new slug brings the
// bank, the quiz (published, as it was) and the pictures with it, rewired
// to the copies; the course publishes there, and a learner of that
// organisation takes the quiz and is scored.
func TestImportQuizzesIntoAnotherOrganisation(t *testing.T) {
	e, trainer, image := courseEnv(t)
	courseID, quizID, bankID := e.quizCourse(trainer, "talking-at-work", image, false)
	pkg := e.export(trainer, courseID)
	files := unzip(t, pkg)
	if !strings.HasPrefix(files["course.yaml"], "format: 2\n") || files["quizzes/"+quizID+"/quiz.yaml"] == "" ||
		!strings.Contains(files["banks/"+bankID+"/bank.yaml"], "correct: true") {
		t.Fatalf("package lacks the quiz or its keys: %v", slices.Sorted(mapKeys(files)))
	}

	root := e.token("root")
	res := e.mustImport(root, pkg, "?orgId="+e.orgB.ID+"&slug=talking-at-work-b", 201)
	course := res["course"].(map[string]any)
	if res["slug"] != "talking-at-work-b" || course["slug"] != "talking-at-work-b" || course["orgId"] != e.orgB.ID {
		t.Fatalf("imported as %v/%v into %v", res["slug"], course["slug"], course["orgId"])
	}
	quizzes := res["quizzes"].([]any)
	if len(quizzes) != 1 {
		t.Fatalf("quizzes %v", quizzes)
	}
	q := quizzes[0].(map[string]any)
	newQuiz := q["id"].(string)
	if q["key"] != quizID || q["status"] != "created" || q["published"] != true || newQuiz == quizID || quizBlock(course) != newQuiz {
		t.Fatalf("quiz %v, block %s", q, quizBlock(course))
	}
	if b := res["banks"].([]any); len(b) != 1 || b[0].(map[string]any)["status"] != "created" || b[0].(map[string]any)["id"] == bankID {
		t.Fatalf("banks %v", b)
	}
	if m := res["media"].(map[string]any); m["created"] != 1.0 || m["reused"] != 0.0 {
		t.Fatalf("media %v", m)
	}
	copied := e.do(req{method: "GET", path: "/api/v1/quizzes/" + newQuiz, token: root}).json(t)
	if copied["orgId"] != e.orgB.ID || copied["published"] != 1.0 {
		t.Fatalf("copied quiz %v", copied)
	}

	// It publishes in org B, and org B's learner takes the quiz.
	e.mustPublish(root, course["id"].(string), course["revision"])
	learner := e.token("b-learner")
	view := e.mustPost(learner, "/api/v1/quizzes/"+newQuiz+"/attempts", map[string]any{"id": "0190f1e2-0000-7000-8000-00000000c001"}, 201)
	keys := map[string]string{}
	for _, x := range view["questions"].([]any) {
		k := x.(map[string]any)["key"].(string)
		keys[k[strings.Index(k, ".")+1:]] = k
	}
	// The right option's picture is org B's copy, and the learner may read it.
	newImage := res["media"].(map[string]any)["items"].([]any)[0].(map[string]any)["id"].(string)
	if newImage == image || !strings.Contains(fmt.Sprint(view["questions"]), "/media/"+newImage) {
		t.Errorf("the question shows %v, want org B's copy %s", view["questions"], newImage)
	}
	if r := e.do(req{method: "GET", path: "/media/" + newImage, token: learner}); r.status != 200 {
		t.Errorf("learner reads the copied picture: %d", r.status)
	}
	if r := answer(e, learner, "0190f1e2-0000-7000-8000-00000000c001", keys["who"], "a1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	sub := e.mustPost(learner, "/api/v1/attempts/0190f1e2-0000-7000-8000-00000000c001/submit", nil, 200)
	if sub["score"] != 1.0 || sub["max"] != 4.0 {
		t.Errorf("scored %v of %v, want 1 of 4", sub["score"], sub["max"])
	}
	// Org A's quiz is untouched, and org B's learner still cannot take it.
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/quizzes/" + quizID + "/attempts", token: learner,
		body: map[string]any{"id": "0190f1e2-0000-7000-8000-00000000c002"}}), 404, "not-found")
}

// TestReimportIntoTheSameOrganisation: the same package imported again
// beside its course needs another slug (409 naming slug without one, and
// for a taken one); with one, it reuses the organisation's media (no new
// record, no new blob) and its quiz, and publishes.
func TestReimportIntoTheSameOrganisation(t *testing.T) {
	e, trainer, image := courseEnv(t)
	courseID, quizID, _ := e.quizCourse(trainer, "talking-at-work", image, false)
	pkg := e.export(trainer, courseID)
	mediaBefore, blobsBefore := e.mediaTotal(trainer, e.orgA.ID), len(e.blobKeys())
	banksBefore, quizzesBefore := e.count("assessment_banks"), e.count("quizzes")

	p := wantProblem(t, e.importZip(trainer, pkg, ""), 409, "slug-taken")
	errs := p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "slug" || errs[0].(map[string]any)["code"] != "taken" ||
		errs[0].(map[string]any)["file"] != "course.yaml" {
		t.Errorf("slug-taken errors %v", errs)
	}
	wantProblem(t, e.importZip(trainer, pkg, "?slug=Not_A_Slug"), 422, "validation")

	res := e.mustImport(trainer, pkg, "?slug=talking-at-work-again", 201)
	course := res["course"].(map[string]any)
	if res["slug"] != "talking-at-work-again" || course["orgId"] != e.orgA.ID {
		t.Fatalf("imported %v into %v", res["slug"], course["orgId"])
	}
	media := res["media"].(map[string]any)
	item := media["items"].([]any)[0].(map[string]any)
	if media["created"] != 0.0 || media["reused"] != 1.0 || item["status"] != "reused" || item["id"] != image {
		t.Errorf("media %v, want the picture %s reused", media, image)
	}
	if got := e.mediaTotal(trainer, e.orgA.ID); got != mediaBefore {
		t.Errorf("media records %v, want %v as before", got, mediaBefore)
	}
	if got := len(e.blobKeys()); got != blobsBefore {
		t.Errorf("blobs %d, want %d as before", got, blobsBefore)
	}
	q := res["quizzes"].([]any)[0].(map[string]any)
	if q["status"] != "reused" || q["id"] != quizID || quizBlock(course) != quizID || len(res["banks"].([]any)) != 0 {
		t.Errorf("quiz %v, banks %v: want the organisation's own quiz", q, res["banks"])
	}
	if e.count("assessment_banks") != banksBefore || e.count("quizzes") != quizzesBefore {
		t.Errorf("banks or quizzes copied within the organisation")
	}
	e.mustPublish(trainer, course["id"].(string), course["revision"])

	// The chosen slug is taken now: the 409 names the parameter.
	p = wantProblem(t, e.importZip(trainer, pkg, "?slug=talking-at-work-again"), 409, "slug-taken")
	errs = p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["parameter"] != "slug" || errs[0].(map[string]any)["code"] != "taken" {
		t.Errorf("slug-taken errors %v", errs)
	}
	// So does a course created with a taken slug, at its field.
	p = wantProblem(t, e.do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("talking-at-work", image, false)}), 409, "slug-taken")
	if errs := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["pointer"] != "/slug" {
		t.Errorf("slug-taken errors %v", errs)
	}
}

// TestImportFormat1: a package of format 1, as servers before quizzes
// travelled wrote it, still imports: its quiz block keeps the quiz ID.
func TestImportFormat1(t *testing.T) {
	e, trainer, _ := courseEnv(t)
	_, quizID, _ := e.quizCourse(trainer, "with-quiz", e.mustUpload(trainer, formFile{name: "q.png", data: pngFile(t, 8, 8, 9)})["id"].(string), false)
	pkg := zipOf(t, map[string]string{
		"course.yaml": "format: 1\nslug: old-package\ndefaultLocale: en\nlocales: [en]\ntopic: soft-skills\naudiences: [young-refugees]\n" +
			"level: beginner\ntitle: t\nmodules:\n  - id: m\n    title: t\n    lessons:\n      - id: l\n        title: t\n        minutes: 5\n" +
			"        blocks:\n          - id: pic\n            kind: image\n            media: media/p.png\n            alt: t\n" +
			"          - {id: a, kind: text, text: t}\n          - {id: b, kind: text, text: t}\n" +
			"          - id: check\n            kind: quiz\n            quiz: " + quizID + "\n",
		"locales/en.json": `{"t": "Old"}`,
		"media/p.png":     string(pngFile(t, 8, 8, 10)),
	})
	res := e.mustImport(trainer, pkg, "", 201)
	course := res["course"].(map[string]any)
	if quizBlock(course) != quizID || len(res["quizzes"].([]any)) != 0 || res["media"].(map[string]any)["created"] != 1.0 {
		t.Errorf("format 1 import: %s", mustJSON(t, res))
	}
	e.mustPublish(trainer, course["id"].(string), course["revision"])
	// A course without quizzes is still exported as format 1.
	plain := e.mustCreateCourse(trainer, draft("plain", res["media"].(map[string]any)["items"].([]any)[0].(map[string]any)["id"].(string), false))
	if yml := unzip(t, e.export(trainer, plain["id"].(string)))["course.yaml"]; !strings.HasPrefix(yml, "format: 1\n") {
		t.Errorf("a course without quizzes exported as\n%s", yml)
	}
}

// TestFailedImportLeavesNothing: an import that fails after it stored the
// media, the bank and the quiz (published, with media uses, one of them on
// a picture the organisation had already) removes all of it again:
// records, blobs, banks, quizzes, versions and uses.
func TestFailedImportLeavesNothing(t *testing.T) {
	e, trainer, image := courseEnv(t)
	courseID, quizID, bankID := e.quizCourse(trainer, "talking-at-work", image, false)
	files := unzip(t, e.export(trainer, courseID))
	if files["quizzes/"+quizID+"/quiz.yaml"] == "" || files["banks/"+bankID+"/bank.yaml"] == "" {
		t.Fatal("the package does not carry the quiz and its bank")
	}
	// A new sound, shown by an image block: only creating the course
	// finds that it is not a picture, after everything else is stored.
	yml := strings.Replace(files["course.yaml"], "          - id: think\n",
		"          - id: noise\n            kind: image\n            media: media/noise.wav\n            alt: active.pic.alt\n          - id: think\n", 1)
	files["course.yaml"] = yml
	files["media/noise.wav"] = string(wavFile(800))
	pkg := zipOf(t, files)

	// Org B has the picture already: the import reuses it, and the
	// quiz it publishes records a use of it.
	root := e.token("root")
	var picture []byte
	for name, content := range files {
		if strings.HasPrefix(name, "media/") && strings.HasSuffix(name, ".png") {
			picture = []byte(content)
		}
	}
	hadB := e.mustUpload(root, formFile{name: "talk.png", data: picture}, [2]string{"orgId", e.orgB.ID})["id"].(string)

	collections := []string{"media_assets", "media_blobs", "media_libraries", "assessment_banks", "quizzes", "quiz_versions", "courses", "course_slugs"}
	before := map[string]int64{}
	for _, c := range collections {
		before[c] = e.count(c)
	}
	blobs := len(e.blobKeys())
	mediaB := e.mediaTotal(root, e.orgB.ID)
	p := wantProblem(t, e.importZip(root, pkg, "?orgId="+e.orgB.ID), 422, "validation")
	if got := fieldCodes(p); !slices.Contains(got, "modules/0/lessons/0/blocks/2/media:media_kind") {
		t.Fatalf("errors %v", got)
	}
	for _, c := range collections {
		if n := e.count(c); n != before[c] {
			t.Errorf("%s: %d documents, %d before the import", c, n, before[c])
		}
	}
	if n := len(e.blobKeys()); n != blobs {
		t.Errorf("%d blobs, %d before", n, blobs)
	}
	if n := e.mediaTotal(root, e.orgB.ID); n != mediaB {
		t.Errorf("org B's library lists %v, %v before", n, mediaB)
	}
	a, err := e.db.Assets().Asset(context.Background(), hadB)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Uses) != 0 {
		t.Errorf("uses left on the reused picture: %v", a.Uses)
	}
	// The same package, fixed, then imports.
	files["course.yaml"] = strings.Replace(yml, "media: media/noise.wav\n            alt: active.pic.alt\n", "media: "+firstPNG(files)+"\n            alt: active.pic.alt\n", 1)
	res := e.mustImport(root, zipOf(t, files), "?orgId="+e.orgB.ID, 201)
	if q := res["quizzes"].([]any)[0].(map[string]any); q["status"] != "created" || q["published"] != true {
		t.Errorf("fixed import: quiz %v", q)
	}
}

// firstPNG is the path of a picture of a package.
func firstPNG(files map[string]string) string {
	for name := range files {
		if strings.HasPrefix(name, "media/") && strings.HasSuffix(name, ".png") {
			return name
		}
	}
	return ""
}

// TestExportKeysOnlyToEditors: a course of org B showing org A's shared
// quiz travels, when org B's trainer exports it, with an outline of the
// quiz (no banks, no keys); the quiz's editors (here a global admin) get
// it whole. The outline imports sensibly: linked to the shared quiz when
// the course may show it, unresolved (publishing waits) when not.
func TestExportKeysOnlyToEditors(t *testing.T) {
	e, trainerA, imageA := courseEnv(t)
	_, sharedQuiz, bankID := e.quizCourse(trainerA, "a-course", imageA, true)
	root := e.token("root")
	if _, _, err := e.acc.CreateUser(context.Background(), e.root, e.orgB.ID, accounts.NewUser{
		Username: "b-trainer", Role: accounts.RoleTrainer, Password: fixturePassword}); err != nil {
		t.Fatal(err)
	}
	trainerB := e.token("b-trainer")
	imageB := e.mustUpload(trainerB, formFile{name: "b.png", data: pngFile(t, 8, 8, 21)})["id"].(string)
	d := draft("b-course", imageB, false)
	lesson := d["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)
	lesson["blocks"] = append(lesson["blocks"].([]any), map[string]any{"id": "check", "kind": "quiz", "quiz": sharedQuiz})
	bCourse := e.mustCreateCourse(trainerB, d)["id"].(string)

	outline := e.export(trainerB, bCourse)
	files := unzip(t, outline)
	qy := files["quizzes/"+sharedQuiz+"/quiz.yaml"]
	if !strings.HasPrefix(qy, "keys: false\n") || strings.Contains(qy, "picks") {
		t.Errorf("outline quiz.yaml:\n%s", qy)
	}
	for name, content := range files {
		if strings.HasPrefix(name, "banks/") {
			t.Errorf("a non-editor's export carries %s", name)
		}
		for _, key := range []string{"correct", "accepted", "numeric", "feedback", "who.outlet"} {
			if strings.Contains(content, key) {
				t.Errorf("%s carries %q", name, key)
			}
		}
	}
	whole := unzip(t, e.export(root, bCourse))
	if !strings.Contains(whole["banks/"+bankID+"/bank.yaml"], "correct: true") ||
		strings.HasPrefix(whole["quizzes/"+sharedQuiz+"/quiz.yaml"], "keys: false") {
		t.Errorf("the quiz's editor gets no keys: %v", slices.Sorted(mapKeys(whole)))
	}

	// The outline links to the shared quiz, and the copy publishes.
	res := e.mustImport(trainerB, outline, "?slug=b-course-again", 201)
	q := res["quizzes"].([]any)[0].(map[string]any)
	course := res["course"].(map[string]any)
	if q["status"] != "linked" || q["id"] != sharedQuiz || quizBlock(course) != sharedQuiz || len(res["banks"].([]any)) != 0 {
		t.Fatalf("outline import: quiz %v, banks %v", q, res["banks"])
	}
	e.mustPublish(trainerB, course["id"].(string), course["revision"])

	// An outline of a quiz this server cannot give the course: the
	// course imports, the quiz is unresolved, and publishing says why.
	unknown := "0190f1e2-0000-7000-8000-00000000dead"
	files["quizzes/"+unknown+"/quiz.yaml"] = files["quizzes/"+sharedQuiz+"/quiz.yaml"]
	for name, content := range files {
		if strings.HasPrefix(name, "quizzes/"+sharedQuiz+"/locales/") {
			files[strings.Replace(name, sharedQuiz, unknown, 1)] = content
		}
		if strings.HasPrefix(name, "quizzes/"+sharedQuiz+"/") {
			delete(files, name)
		}
	}
	files["course.yaml"] = strings.Replace(files["course.yaml"], sharedQuiz, unknown, 1)
	res = e.mustImport(trainerB, zipOf(t, files), "?slug=b-course-unresolved", 201)
	q = res["quizzes"].([]any)[0].(map[string]any)
	course = res["course"].(map[string]any)
	if q["status"] != "unresolved" || q["published"] != false || quizBlock(course) != unknown {
		t.Fatalf("unresolved outline: %v", q)
	}
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/courses/" + course["id"].(string) + "/publish", token: trainerB,
		body: map[string]any{"revision": course["revision"]}}), 422, "validation")
	if got := fieldCodes(p); !slices.Contains(got, "modules/0/lessons/0/blocks/3/quiz:unknown_quiz") {
		t.Errorf("errors %v", got)
	}
}

// TestImportBounds: what a package may make the server build is bounded,
// with a 422 that says which bound.
func TestImportBounds(t *testing.T) {
	e, trainer, image := courseEnv(t)
	courseID, quizID, _ := e.quizCourse(trainer, "talking-at-work", image, false)
	files := unzip(t, e.export(trainer, courseID))
	for i := range 51 {
		key := fmt.Sprintf("extra-%d", i)
		files["quizzes/"+key+"/quiz.yaml"] = files["quizzes/"+quizID+"/quiz.yaml"]
		files["quizzes/"+key+"/locales/en.json"] = files["quizzes/"+quizID+"/locales/en.json"]
	}
	p := wantProblem(t, e.importZip(trainer, zipOf(t, files), "?slug=too-many"), 422, "invalid-package")
	found := false
	for _, x := range p["errors"].([]any) {
		m := x.(map[string]any)
		found = found || m["file"] == "quizzes/" && m["code"] == "too_many" && m["detail"] != ""
	}
	if !found {
		t.Errorf("errors %v, want too_many at quizzes/", p["errors"])
	}

	// The organisation is checked before anything is stored.
	pkg := e.export(trainer, courseID)
	p = wantProblem(t, e.importZip(e.token("root"), pkg, "?orgId=0190f1e2-0000-7000-8000-00000000beef"), 422, "validation")
	if got := fieldCodes(p); !slices.Equal(got, []string{"orgId:invalid"}) {
		t.Errorf("errors %v", got)
	}
	wantProblem(t, e.importZip(trainer, pkg, "?slug=elsewhere&orgId="+e.orgB.ID), 404, "not-found")
	wantProblem(t, e.importZip(e.token("a-edu"), pkg, "?slug=by-educator"), 403, "forbidden")
}

func mapKeys[V any](m map[string]V) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
