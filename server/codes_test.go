package server_test

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/accounts"
)

// codeMention finds the field codes a parameter's description names, as
// in "Not a UUID: 422, code `id`", and the field it names them for when
// it is not the parameter itself ("with neither, the answer is 422
// (field `revision`, code `required`)").
var codeMention = regexp.MustCompile("(?:(?:field|parameter) `([A-Za-z-]+)`, )?code `([a-z_]+)`")

// problemCodes lists "field:code" of a 422 answer.
func problemCodes(t *testing.T, r response) []string {
	t.Helper()
	if r.status != 422 {
		return []string{fmt.Sprintf("status %d", r.status)}
	}
	return fieldCodes(r.json(t))
}

// TestParameterCodesAsDocumented: every code the document names for a
// parameter (path, query or header) is the code the server answers for
// it. The rows come from the document: for each parameter description
// that says "code `x`", the test sends a value that breaks that rule and
// expects a 422 naming the parameter with that code. (The media library's
// kind filter was documented as one_of and answered invalid; it now
// answers enum, as the catalogue's topic and audience filters do.)
func TestParameterCodesAsDocumented(t *testing.T) {
	e, trainer, image := courseEnv(t)
	root, learner := e.token("root"), e.token("a-learner")
	course := e.mustCreateCourse(trainer, draft("codes", image, false))
	courseID := course["id"].(string)
	e.mustPublish(trainer, courseID, 1)
	quizID := e.publishedQuiz(trainer, nil)
	attemptID := "0190f1e2-0000-7000-8000-00000000c0de"
	view := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": attemptID}, 201)
	key := view["questions"].([]any)[0].(map[string]any)["key"].(string)
	uploadID := "0194f7d2-7c3a-7d7e-9a1b-00000000c0de"
	e.mustPost(trainer, "/api/v1/media/uploads", map[string]any{"id": uploadID, "name": "big.png", "type": "image/png", "size": 6 << 20}, 201)
	bankID := e.mustPost(trainer, "/api/v1/banks", bank(), 201)["id"].(string)
	nowhere := "0194f7d2-0000-7000-8000-0000000000ee"
	pkg := e.do(req{method: "GET", path: "/api/v1/courses/" + courseID + "/export", token: trainer}).body
	revision := e.do(req{method: "GET", path: "/api/v1/courses/" + courseID, token: trainer}).json(t)["revision"]
	group, _, err := e.acc.CreateGroup(context.Background(), e.root, e.orgA.ID, accounts.NewGroup{Name: "Codes", Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}

	// What each path parameter is, when it is not the one under test.
	ids := map[string]string{
		"/api/v1/organisations/": e.orgA.ID, "/api/v1/users/": e.learnerA.ID, "/api/v1/media/uploads/": uploadID,
		"/api/v1/media/": image, "/api/v1/courses/": courseID, "/api/v1/catalogue/": courseID, "/api/v1/banks/": bankID,
		"/api/v1/quizzes/": quizID, "/api/v1/attempts/": attemptID,
		"/api/v1/groups/": group.ID, "/members/": e.learnerA.ID,
		"/api/v1/assignments/": nowhere, "/progress/": courseID,
	}
	pathValue := func(tmpl, name string) string {
		switch name {
		case "version":
			return "1"
		case "lesson":
			return "active"
		case "locale":
			return "fr"
		case "key":
			return key
		}
		// The id of the collection the parameter follows, the longest
		// prefix first (uploads before media).
		before, best := tmpl[:strings.Index(tmpl, "{"+name+"}")], ""
		for prefix := range ids {
			if strings.HasSuffix(before, prefix) && len(prefix) > len(best) {
				best = prefix
			}
		}
		if best != "" {
			return ids[best]
		}
		t.Fatalf("%s: no value for path parameter %s", tmpl, name)
		return ""
	}
	// bad is a value that breaks the rule a code names.
	bad := func(name, code string) (string, bool) {
		switch code {
		case "id":
			return "not-a-uuid", true
		case "type":
			if name == "unused" {
				return "maybe", true
			}
			return "x", true
		case "range":
			if name == "offset" {
				return "-1", true
			}
			return "1000001", true
		case "enum":
			return "no-such-value", true
		case "locale":
			if name == "language" {
				return "fr_FR", true // a tag, but not canonical
			}
			return "e!", true
		case "not_offered":
			return "de", true
		case "slug":
			return "Not_A_Slug", true
		case "invalid":
			switch name {
			case "orgId":
				return nowhere, true
			case "version":
				return "0", true
			}
			return "x", true
		case "required":
			return "", true // left out
		}
		return "", false
	}
	tokenFor := func(tmpl string) string {
		switch {
		case strings.HasPrefix(tmpl, "/api/v1/organisations"), strings.HasPrefix(tmpl, "/api/v1/users"), strings.HasPrefix(tmpl, "/api/v1/groups"):
			return root
		case strings.HasPrefix(tmpl, "/api/v1/catalogue"), strings.HasPrefix(tmpl, "/api/v1/attempts"),
			strings.HasSuffix(tmpl, "/attempts"), strings.HasSuffix(tmpl, "/progress"):
			return learner
		}
		return trainer
	}
	// bodyFor is a body the operation reads, when it reads one: not
	// necessarily valid (every problem is listed at once), but of the
	// type it takes.
	bodyFor := func(method, tmpl string) (any, map[string]string) {
		switch {
		case method == "PATCH" && tmpl == "/api/v1/media/uploads/{id}":
			return []byte("chunk"), map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
		case method == "POST" && tmpl == "/api/v1/media":
			return pngFile(t, 8, 8, 3), map[string]string{"Content-Type": "image/png"}
		case method == "POST" && tmpl == "/api/v1/courses/import":
			return pkg, map[string]string{"Content-Type": "application/zip"}
		case method == "PUT" && tmpl == "/api/v1/courses/{id}":
			c := draft("codes", image, false)
			return c, nil
		case method == "PATCH" && tmpl == "/api/v1/courses/{id}/messages/{locale}":
			return map[string]any{"revision": revision, "messages": map[string]any{"course.title": "Titre"}}, nil
		case method == "PUT" && tmpl == "/api/v1/banks/{id}":
			return bank(), nil
		case method == "PUT" && tmpl == "/api/v1/quizzes/{id}":
			return quiz(bankID, nil), nil
		case method == "PUT" && strings.HasSuffix(tmpl, "/answers/{key}"):
			return map[string]any{"answerId": "a1", "answer": map[string]any{"option": "outlet"}}, nil
		case method == "POST" && strings.HasSuffix(tmpl, "/attempts"):
			return map[string]any{"id": "0190f1e2-0000-7000-8000-00000000c0df"}, nil
		case method == "POST" && (strings.HasSuffix(tmpl, "/publish") || strings.HasSuffix(tmpl, "/submit")):
			return nil, nil
		case method == "POST" && strings.HasSuffix(tmpl, "/duplicate"):
			return map[string]any{"slug": "codes-copy"}, nil
		case method == "PUT" && strings.HasSuffix(tmpl, "/credential"):
			return map[string]any{"pin": "7391"}, nil
		case method == "PATCH" || method == "PUT" || method == "POST":
			return map[string]any{}, nil
		}
		return nil, nil
	}

	doc := openAPIDoc(t)
	paths, _ := doc["paths"].(map[string]any)
	rows := 0
	for _, tmpl := range slices.Sorted(maps.Keys(paths)) {
		item := paths[tmpl].(map[string]any)
		for _, method := range slices.Sorted(maps.Keys(item)) {
			op, ok := item[method].(map[string]any)
			if !ok || !slices.Contains(operationMethods, method) {
				continue
			}
			var params []map[string]any
			list, _ := op["parameters"].([]any)
			for _, p := range list {
				pm := p.(map[string]any)
				if ref, isRef := pm["$ref"].(string); isRef {
					r, _ := resolvePointer(doc, strings.TrimPrefix(ref, "#"))
					pm = r.(map[string]any)
				}
				params = append(params, pm)
			}
			for _, p := range params {
				name, in := p["name"].(string), p["in"].(string)
				desc, _ := p["description"].(string)
				for _, m := range codeMention.FindAllStringSubmatch(desc, -1) {
					field, code := m[1], m[2]
					if field == "" {
						field = name
					}
					value, ok := bad(name, code)
					if !ok {
						t.Errorf("%s %s: parameter %s documents code %s, which this test cannot provoke: teach it", strings.ToUpper(method), tmpl, name, code)
						continue
					}
					rows++
					path, query, header := tmpl, url.Values{}, map[string]string{}
					for _, q := range params {
						if q["in"] == "path" {
							v := pathValue(tmpl, q["name"].(string))
							if q["name"] == name {
								v = value
							}
							path = strings.Replace(path, "{"+q["name"].(string)+"}", url.PathEscape(v), 1)
						}
					}
					body, bodyHeader := bodyFor(strings.ToUpper(method), tmpl)
					maps.Copy(header, bodyHeader)
					token := tokenFor(tmpl)
					switch in {
					case "query":
						if code == "required" || code == "invalid" && name == "orgId" {
							token = root // only a global admin must, and may, name any organisation
						}
						if value != "" {
							query.Set(name, value)
						}
					case "header":
						if value == "" {
							delete(header, name)
						} else {
							header[name] = value
						}
						if m, ok := body.(map[string]any); ok && name == "If-Match" {
							delete(m, "revision") // neither the header nor the field
						}
					}
					if tmpl == "/api/v1/media" && method == "post" {
						query.Set("name", "a.png")
					}
					if len(query) > 0 {
						path += "?" + query.Encode()
					}
					r := e.do(req{method: strings.ToUpper(method), path: path, token: token, body: body, header: header})
					want := field + ":" + code
					if got := problemCodes(t, r); !slices.Contains(got, want) {
						t.Errorf("%s %s (%s %s=%q): want %s, got %v\n%s", strings.ToUpper(method), tmpl, in, name, value, want, got, r.body)
					}
				}
			}
		}
	}
	if rows < 50 {
		t.Fatalf("only %d documented parameter codes found; has the document changed shape?", rows)
	}
}

// enumFields lists the body fields of each operation whose schema is a
// list of values, as "METHOD /template|field/path" (a list's items as *).
func enumFields(doc map[string]any) []string {
	found := map[string]bool{}
	var walk func(op, at string, s any, refs []string)
	walk = func(op, at string, s any, refs []string) {
		m, ok := s.(map[string]any)
		if !ok || len(refs) > 30 {
			return
		}
		if ro, _ := m["readOnly"].(bool); ro { // compared as read, not checked (read_only)
			return
		}
		if ref, isRef := m["$ref"].(string); isRef {
			if slices.Contains(refs, ref) {
				return
			}
			target, _ := resolvePointer(doc, strings.TrimPrefix(ref, "#"))
			walk(op, at, target, append(refs, ref))
		}
		if _, ok := m["enum"]; ok {
			found[op+"|"+strings.TrimPrefix(at, "/")] = true
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			list, _ := m[k].([]any)
			for _, b := range list {
				walk(op, at, b, refs)
			}
		}
		props, _ := m["properties"].(map[string]any)
		for name, sub := range props {
			walk(op, at+"/"+name, sub, refs)
		}
		if items, ok := m["items"]; ok {
			walk(op, at+"/*", items, refs)
		}
		if ap, ok := m["additionalProperties"].(map[string]any); ok {
			walk(op, at+"/*", ap, refs)
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok {
				continue
			}
			content, ok := resolvePointer(op, "/requestBody/content")
			if !ok {
				continue
			}
			for _, media := range content.(map[string]any) {
				if s, ok := media.(map[string]any)["schema"]; ok {
					walk(strings.ToUpper(method)+" "+path, "", s, nil)
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// setAt sets the field at path (steps joined by "/", "*" for the first
// item of a list) of body to v.
func setAt(t *testing.T, body any, path string, v any) {
	t.Helper()
	steps := strings.Split(path, "/")
	cur := body
	for i, s := range steps {
		last := i == len(steps)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[s] = v
				return
			}
			cur = c[s]
		case []any:
			if last {
				c[0] = v
				return
			}
			cur = c[0]
		case []string:
			if !last {
				t.Fatalf("%s: a list of strings has no fields", path)
			}
			c[0] = v.(string)
			return
		default:
			t.Fatalf("%s: no field at step %q", path, s)
		}
	}
}

// TestBodyEnumCodesAsDocumented: a body field whose schema is a list of
// values answers code enum for any other value, as the document's `enum`
// code says, at every such field of every operation (a user's role
// answered role, the code for a role that does not fit the user's
// organisation). The fields come from the document; the FieldProblem
// code description names each.
func TestBodyEnumCodesAsDocumented(t *testing.T) {
	e, trainer, image := courseEnv(t)
	root := e.token("root")
	doc := openAPIDoc(t)
	codeDesc, _ := resolvePointer(doc, "/components/schemas/FieldProblem/properties/code/description")
	var enumLine string
	for _, l := range strings.Split(codeDesc.(string), "\n") {
		if strings.HasPrefix(l, "- `enum`:") {
			enumLine = l
		}
	}
	if enumLine == "" {
		t.Fatal("the FieldProblem code description has no `enum` line")
	}
	courseID := e.mustCreateCourse(trainer, draft("enums", image, false))["id"].(string)
	bankID := e.mustPost(trainer, "/api/v1/banks", bank(), 201)["id"].(string)
	quizID := e.mustPost(trainer, "/api/v1/quizzes", quiz(bankID, nil), 201)["id"].(string)
	type target struct {
		path, token string
		body        func() map[string]any
	}
	withRevision := func(f func() map[string]any) func() map[string]any {
		return func() map[string]any { b := f(); b["revision"] = 1; return b }
	}
	targets := map[string]target{
		"POST /api/v1/users": {"/api/v1/users", root, func() map[string]any {
			return map[string]any{"orgId": e.orgA.ID, "username": "enum-user", "role": "learner", "pin": "7391"}
		}},
		"POST /api/v1/courses":     {"/api/v1/courses", trainer, func() map[string]any { return draft("enums-2", image, false) }},
		"PUT /api/v1/courses/{id}": {"/api/v1/courses/" + courseID, trainer, withRevision(func() map[string]any { return draft("enums", image, false) })},
		"POST /api/v1/banks":       {"/api/v1/banks", trainer, bank},
		"PUT /api/v1/banks/{id}":   {"/api/v1/banks/" + bankID, trainer, withRevision(bank)},
		"POST /api/v1/quizzes":     {"/api/v1/quizzes", trainer, func() map[string]any { return quiz(bankID, nil) }},
		"PUT /api/v1/quizzes/{id}": {"/api/v1/quizzes/" + quizID, trainer, withRevision(func() map[string]any { return quiz(bankID, nil) })},
	}
	fields := enumFields(doc)
	if len(fields) < 10 {
		t.Fatalf("found only %d enum fields: %v", len(fields), fields)
	}
	for _, f := range fields {
		op, field, _ := strings.Cut(f, "|")
		tg, ok := targets[op]
		if !ok {
			t.Errorf("%s has an enum field %s: give the test a request for it", op, field)
			continue
		}
		name := field[strings.LastIndex(field, "/")+1:]
		if name == "*" { // a list's item: named by its list
			parts := strings.Split(field, "/")
			name = parts[len(parts)-2]
		}
		if !strings.Contains(enumLine, "`"+name+"`") {
			t.Errorf("%s %s: the `enum` code's description does not name `%s`", op, field, name)
		}
		body := tg.body()
		setAt(t, body, field, "no-such-value")
		method, _, _ := strings.Cut(op, " ")
		r := e.do(req{method: method, path: tg.path, token: tg.token, body: body})
		want := strings.ReplaceAll(field, "*", "0") + ":enum"
		if got := problemCodes(t, r); !slices.Contains(got, want) {
			t.Errorf("%s %s: want %s, got %v: %s", op, field, want, got, r.body)
		}
	}
}
