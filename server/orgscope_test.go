package server_test

import (
	"slices"
	"testing"
)

// TestCreateNamingAnotherOrganisation: content a trainer creates in an
// organisation not their own is 404, as every other request about another
// organisation (never 403, which would say it exists), in every create; a
// global admin naming an organisation that does not exist gets 422, field
// orgId, code invalid, in every create (banks and quizzes were stored for
// no organisation, media uploads answered 404). The contract checker holds
// each answer to the document, which said 403 and listed no 404.
func TestCreateNamingAnotherOrganisation(t *testing.T) {
	e, trainer, image := courseEnv(t)
	root := e.token("root")
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	export := e.do(req{method: "GET", path: "/api/v1/courses/" + e.mustCreateCourse(trainer, draft("to-export", image, false))["id"].(string) + "/export", token: trainer})
	if export.status != 200 {
		t.Fatalf("export: %d %s", export.status, export.body)
	}
	creates := func(tok, org string) map[string]response {
		with := func(body map[string]any) map[string]any {
			body["orgId"] = org
			return body
		}
		course := draft("elsewhere", image, false)
		course["modules"] = []any{}
		return map[string]response{
			"course": e.do(req{method: "POST", path: "/api/v1/courses", token: tok, body: with(course)}),
			"bank":   e.do(req{method: "POST", path: "/api/v1/banks", token: tok, body: with(bank())}),
			"quiz":   e.do(req{method: "POST", path: "/api/v1/quizzes", token: tok, body: with(quiz(b["id"].(string), nil))}),
			"media":  e.upload(tok, [][2]string{{"orgId", org}}, formFile{"a.png", "", pngFile(t, 8, 8, 4)}),
			"upload": e.do(req{method: "POST", path: "/api/v1/media/uploads", token: tok, body: with(map[string]any{
				"name": "big.png", "type": "image/png", "size": 6 << 20})}),
			"import": e.importZip(tok, export.body, "?orgId="+org),
		}
	}
	nowhere := "0194f7d2-0000-7000-8000-0000000000ee"
	for _, org := range []string{e.orgB.ID, nowhere} {
		for what, r := range creates(trainer, org) {
			if r.status != 404 {
				t.Errorf("%s by a trainer in org %s: %d %s", what, org, r.status, r.body)
			}
		}
	}
	for what, r := range creates(root, nowhere) {
		if r.status != 422 {
			t.Errorf("%s by a global admin in no organisation: %d %s", what, r.status, r.body)
			continue
		}
		if got := fieldCodes(r.json(t)); !slices.Equal(got, []string{"orgId:invalid"}) {
			t.Errorf("%s by a global admin in no organisation: %v", what, got)
		}
	}
}
