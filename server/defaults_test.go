package server_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// documentedDefaults lists every `default` the document gives, by the
// JSON Pointer of the schema that has it, with its value. Only schemas
// are walked (a property named "default" is not a default).
func documentedDefaults(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	var schema func(at string, v any)
	schema = func(at string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if def, ok := m["default"]; ok {
			out[at] = def
		}
		for _, k := range []string{"items", "additionalProperties", "not"} {
			schema(at+"/"+k, m[k])
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			list, _ := m[k].([]any)
			for i, sub := range list {
				schema(fmt.Sprintf("%s/%s/%d", at, k, i), sub)
			}
		}
		props, _ := m["properties"].(map[string]any)
		for name, sub := range props {
			schema(at+"/properties/"+pointerToken(name), sub)
		}
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for name, s := range schemas {
		schema("/components/schemas/"+pointerToken(name), s)
	}
	eachParameter(doc, func(at string, p map[string]any) { schema(at+"/schema", p["schema"]) })
	return out
}

// everyQuestionType is one valid question of each type, and the English
// texts they name.
func everyQuestionType() ([]map[string]any, map[string]any) {
	opt := func(id string, correct bool) map[string]any {
		o := map[string]any{"id": id, "text": "t." + id}
		if correct {
			o["correct"] = true
		}
		return o
	}
	qs := []map[string]any{
		{"type": "single", "options": []any{opt("a", true), opt("b", false)}},
		{"type": "multiple", "options": []any{opt("a", true), opt("b", false)}},
		{"type": "truefalse", "options": []any{map[string]any{"id": "true", "correct": true}, map[string]any{"id": "false"}}},
		{"type": "short", "accepted": map[string]any{"en": []string{"yes"}}},
		{"type": "numeric", "numeric": map[string]any{"value": 112}},
		{"type": "matching", "options": []any{opt("a", false), opt("b", false)}, "matches": []any{opt("x", false), opt("y", false)},
			"pairs": map[string]any{"a": "x", "b": "y"}},
		{"type": "ordering", "options": []any{opt("a", false), opt("b", false), opt("c", false)}},
		{"type": "blanks", "blanks": []any{map[string]any{"id": "gap", "accepted": map[string]any{"*": []string{"yes"}}}}},
		{"type": "likert", "scale": map[string]any{"min": 1, "max": 5}},
		{"type": "free"},
	}
	for _, q := range qs {
		q["id"], q["prompt"] = "q-"+q["type"].(string), "prompt"
	}
	texts := map[string]any{"prompt": "Which?"}
	for _, id := range []string{"a", "b", "c", "x", "y"} {
		texts["t."+id] = strings.ToUpper(id)
	}
	return qs, texts
}

// TestDocumentedDefaultsAccepted: a documented default is always
// acceptable input, sent explicitly, wherever the field is documented:
// on every question type, every quiz kind, every pick, every list. (A
// single-choice question sent with "partial": "none", the documented
// default, was refused with not_for_type.) Every default of the document
// has a row, with the value the document gives.
func TestDocumentedDefaultsAccepted(t *testing.T) {
	e, trainer, image := courseEnv(t)
	defaults := documentedDefaults(t, openAPIDoc(t))
	covered := map[string]bool{}
	def := func(pointer string) any {
		t.Helper()
		v, ok := defaults[pointer]
		if !ok {
			t.Fatalf("the document has no default at %s", pointer)
		}
		covered[pointer] = true
		return v
	}
	accepted := func(what string, r response, want ...int) {
		t.Helper()
		if !slices.Contains(want, r.status) {
			t.Errorf("%s: %d, want %v: %s", what, r.status, want, r.body)
		}
	}
	bankOf := func(texts map[string]any, questions ...map[string]any) map[string]any {
		qs := make([]any, len(questions))
		for i, q := range questions {
			qs[i] = q
		}
		return map[string]any{"name": "Defaults", "defaultLocale": "en", "questions": qs, "messages": map[string]any{"en": texts}}
	}

	// Question fields, each on every question type, one bank each.
	for _, field := range []string{"partial", "points", "caseSensitive", "diacriticSensitive", "maxLength"} {
		value := def("/components/schemas/Question/properties/" + field)
		qs, texts := everyQuestionType()
		for _, q := range qs {
			q[field] = value
			accepted(fmt.Sprintf("%s %s=%v", q["type"], field, value),
				e.do(req{method: "POST", path: "/api/v1/banks", token: trainer, body: bankOf(texts, q)}), 201)
		}
	}
	difficulty := def("/components/schemas/BankQuestion/allOf/1/properties/difficulty")
	correct := def("/components/schemas/QuestionOption/properties/correct")
	tolerance := def("/components/schemas/NumericAnswer/properties/tolerance")
	qs, texts := everyQuestionType()
	for _, q := range qs {
		q["difficulty"] = difficulty
		if opts, ok := q["options"].([]any); ok {
			for _, o := range opts {
				if _, set := o.(map[string]any)["correct"]; !set {
					o.(map[string]any)["correct"] = correct
				}
			}
		}
		if n, ok := q["numeric"].(map[string]any); ok {
			n["tolerance"] = tolerance
		}
	}
	all := e.mustPost(trainer, "/api/v1/banks", bankOf(texts, qs...), 201)
	bankID := all["id"].(string)

	// Quiz settings, on every kind; picks, fixed and drawn.
	settings := map[string]any{}
	for _, f := range []string{"shared", "shuffleQuestions", "shuffleOptions", "passMark", "attemptLimit", "timeLimitSeconds", "offline"} {
		settings[f] = def("/components/schemas/QuizSettings/properties/" + f)
	}
	pickDifficulty := def("/components/schemas/Pick/properties/difficulty")
	picks := []any{
		map[string]any{"bank": bankID, "questions": []string{"q-single", "q-likert"}, "difficulty": pickDifficulty},
		map[string]any{"bank": bankID, "count": 1, "tags": []string{}, "difficulty": pickDifficulty},
	}
	pretest := ""
	for _, kind := range []string{"pretest", "quiz", "practice", "survey", "posttest"} {
		q := quiz(bankID, settings)
		q["kind"], q["picks"] = kind, picks
		switch kind {
		case "practice":
			q["mastery"] = map[string]any{"m": 1, "n": 2}
		case "posttest":
			q["pretest"] = pretest
		}
		r := e.do(req{method: "POST", path: "/api/v1/quizzes", token: trainer, body: q})
		accepted("quiz of kind "+kind+" with every setting at its default", r, 201)
		if kind == "pretest" && r.status == 201 {
			pretest = r.json(t)["id"].(string)
		}
	}

	// A course's settings.
	course := draft("defaults", image, false)
	course["shared"] = def("/components/schemas/CourseContent/properties/shared")
	courseID := e.mustCreateCourse(trainer, course)["id"].(string)

	// Query parameters: every list with offset and limit at their
	// defaults, and the media library's unused filter.
	quizID := e.publishedQuiz(trainer, nil)
	admin, root, learner := e.token("a-admin"), e.token("root"), e.token("a-learner")
	groupID := e.mustGroup(admin, "Defaults")
	concrete := map[string]struct{ path, token string }{
		"/api/v1/organisations":                         {"/api/v1/organisations", root},
		"/api/v1/organisations/{id}/users":              {"/api/v1/organisations/" + e.orgA.ID + "/users", admin},
		"/api/v1/media":                                 {"/api/v1/media", trainer},
		"/api/v1/courses":                               {"/api/v1/courses", trainer},
		"/api/v1/courses/{id}/translations":             {"/api/v1/courses/" + courseID + "/translations", trainer},
		"/api/v1/catalogue":                             {"/api/v1/catalogue", learner},
		"/api/v1/banks":                                 {"/api/v1/banks", trainer},
		"/api/v1/quizzes":                               {"/api/v1/quizzes", trainer},
		"/api/v1/quizzes/{id}/versions/{version}/stats": {"/api/v1/quizzes/" + quizID + "/versions/1/stats", trainer},
		"/api/v1/groups":                                {"/api/v1/groups", admin},
		"/api/v1/groups/{id}/members":                   {"/api/v1/groups/" + groupID + "/members", admin},
		"/api/v1/users/{id}/groups":                     {"/api/v1/users/" + e.learnerA.ID + "/groups", learner},
		"/api/v1/users/{id}/attempts":                   {"/api/v1/users/" + e.learnerA.ID + "/attempts", admin},
		"/api/v1/organisations/{id}/data-requests":      {"/api/v1/organisations/" + e.orgA.ID + "/data-requests", admin},
		"/api/v1/assignments":                           {"/api/v1/assignments", admin},
	}
	doc := openAPIDoc(t)
	paths, _ := doc["paths"].(map[string]any)
	for _, tmpl := range slices.Sorted(maps.Keys(paths)) {
		op, ok := paths[tmpl].(map[string]any)["get"].(map[string]any)
		if !ok {
			continue
		}
		var query []string
		list, _ := op["parameters"].([]any)
		for i, p := range list {
			pm := p.(map[string]any)
			pointer := fmt.Sprintf("/paths/%s/get/parameters/%d/schema", pointerToken(tmpl), i)
			if ref, isRef := pm["$ref"].(string); isRef {
				pointer = strings.TrimPrefix(ref, "#") + "/schema"
				r, _ := resolvePointer(doc, strings.TrimPrefix(ref, "#"))
				pm = r.(map[string]any)
			}
			if v, ok := defaults[pointer]; ok && pm["in"] == "query" {
				covered[pointer] = true
				query = append(query, fmt.Sprintf("%s=%v", pm["name"], v))
			}
		}
		if len(query) == 0 {
			continue
		}
		c, ok := concrete[tmpl]
		if !ok {
			t.Errorf("GET %s documents query defaults %v: give the test a concrete path for it", tmpl, query)
			continue
		}
		accepted("GET "+tmpl+"?"+strings.Join(query, "&"),
			e.do(req{method: "GET", path: c.path + "?" + strings.Join(query, "&"), token: c.token}), 200)
	}

	for _, pointer := range slices.Sorted(maps.Keys(defaults)) {
		if !covered[pointer] {
			t.Errorf("the default %v at %s is not sent by this test: add a row for it", defaults[pointer], pointer)
		}
	}
}
