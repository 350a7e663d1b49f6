package server_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The response contract: every answer a test of this package receives from
// the server is checked against openapi.json (env.readResponse calls
// contract.check), so a document that says one thing while the server does
// another fails the test that saw it. A generated client trusts exactly
// what this checks: the status is one the operation documents, the
// Content-Type one its response documents, and the body valid against that
// response's schema.

// contractURL names openapi.json as a JSON Schema resource: the whole
// document is loaded once, so that a schema compiled from a pointer into it
// (#/paths/…/schema, #/components/schemas/…) resolves its $refs.
const contractURL = "https://pathways.invalid/openapi.json"

// contractDoc is the loaded document and its compiled schemas.
type contractDoc struct {
	doc   map[string]any
	paths []pathTemplate

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

// pathTemplate is a documented path split into its segments.
type pathTemplate struct {
	path     string
	segments []string
	literals int // segments that are not {parameters}
}

var (
	contractOnce sync.Once
	contractVal  *contractDoc
	contractErr  error
)

// contract loads openapi.json once for every test.
func contract() (*contractDoc, error) {
	contractOnce.Do(func() {
		raw, err := os.ReadFile("openapi.json")
		if err != nil {
			contractErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			contractErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020) // the dialect of OpenAPI 3.1
		c.AssertFormat()                     // uuid, date-time, uri: checked, not only noted
		if err := c.AddResource(contractURL, doc); err != nil {
			contractErr = fmt.Errorf("openapi.json as a schema resource: %w", err)
			return
		}
		d := &contractDoc{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}}
		paths, _ := d.doc["paths"].(map[string]any)
		for p := range paths {
			segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
			n := 0
			for _, s := range segs {
				if !strings.HasPrefix(s, "{") {
					n++
				}
			}
			d.paths = append(d.paths, pathTemplate{path: p, segments: segs, literals: n})
		}
		contractVal = d
	})
	return contractVal, contractErr
}

// pointerToken escapes one step of a JSON Pointer (RFC 6901).
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// schema compiles (once) the schema at pointer, a JSON Pointer into the
// document.
func (d *contractDoc) schema(pointer string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[pointer]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(contractURL + "#" + pointer)
	if err != nil {
		return nil, err
	}
	d.schemas[pointer] = s
	return s, nil
}

// resolve follows pointer from the document's root and then any $ref the
// object found there is, returning the object and the pointer it was
// finally read at.
func (d *contractDoc) resolve(pointer string) (map[string]any, string, bool) {
	for range 10 {
		v, ok := resolvePointer(d.doc, pointer)
		if !ok {
			return nil, "", false
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", false
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, pointer, true
		}
		pointer = strings.TrimPrefix(ref, "#")
	}
	return nil, "", false
}

// matchPath finds the documented path template of an escaped request path:
// of the templates that match, the one whose first differing segment is a
// literal (OpenAPI: concrete paths match before templated ones).
func (d *contractDoc) matchPath(escaped string) (string, bool) {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	best := -1
	for i, t := range d.paths {
		if len(t.segments) != len(segs) {
			continue
		}
		ok := true
		for j, s := range t.segments {
			if strings.HasPrefix(s, "{") {
				if segs[j] == "" {
					ok = false
				}
				continue
			}
			if s != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if best < 0 || moreLiteral(t, d.paths[best]) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return d.paths[best].path, true
}

// moreLiteral reports whether a is the more concrete of two templates that
// match one path: the first segment where they differ is a literal in a.
func moreLiteral(a, b pathTemplate) bool {
	for j := range a.segments {
		al, bl := !strings.HasPrefix(a.segments[j], "{"), !strings.HasPrefix(b.segments[j], "{")
		if al != bl {
			return al
		}
	}
	return false
}

// exchangeSeen is what the contract checks of one exchange.
type exchangeSeen struct {
	method, path string // the request's method and escaped path
	request      http.Header
	status       int
	header       http.Header
	body         []byte
}

// check lists every way a disagrees with the document; nil when it agrees.
func (d *contractDoc) check(a exchangeSeen) []string {
	method := strings.ToLower(a.method)
	if method == "options" && a.request.Get("Access-Control-Request-Method") != "" {
		// A CORS preflight is answered by the CORS layer for every path
		// (Fetch standard), not by an operation.
		return nil
	}
	if strings.HasPrefix(a.path, "/test-") {
		return nil // a route a test registered for itself
	}
	head := method == "head"
	if head {
		method = "get" // Fiber answers HEAD with the GET handler, body withheld
	}
	var op map[string]any
	var opPtr string
	if tmpl, ok := d.matchPath(a.path); ok {
		opPtr = "/paths/" + pointerToken(tmpl) + "/" + method
		op, _, _ = d.resolve(opPtr)
	}
	if op == nil {
		return d.checkUnrouted(a)
	}
	if isFramingRefusal(a) {
		return d.checkProblem(a) // refused before any route was chosen
	}
	responses, _ := op["responses"].(map[string]any)
	var key string
	for _, k := range []string{strconv.Itoa(a.status), strconv.Itoa(a.status/100) + "XX", "default"} {
		if _, ok := responses[k]; ok {
			key = k
			break
		}
	}
	if key == "" {
		return []string{fmt.Sprintf("status %d is not documented (documented: %s)", a.status, strings.Join(sortedKeys(keySet(responses)), ", "))}
	}
	resp, respPtr, ok := d.resolve(opPtr + "/responses/" + key)
	if !ok {
		return []string{fmt.Sprintf("response %s does not resolve", key)}
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 || head || a.status == http.StatusNotModified {
		if len(a.body) > 0 {
			return []string{fmt.Sprintf("response %s documents no body, but %d bytes came (%s)", key, len(a.body), clip(a.body))}
		}
		return nil
	}
	ct := a.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		if len(a.body) == 0 {
			return []string{fmt.Sprintf("response %s documents a body (%s), but none came", key, strings.Join(sortedKeys(keySet(content)), ", "))}
		}
		return []string{fmt.Sprintf("Content-Type %q: %v", ct, err)}
	}
	var ctKey string
	for _, k := range []string{mt, strings.Split(mt, "/")[0] + "/*", "*/*"} {
		if _, ok := content[k]; ok {
			ctKey = k
			break
		}
	}
	if ctKey == "" {
		return []string{fmt.Sprintf("Content-Type %q is not documented for %s (documented: %s)", ct, key, strings.Join(sortedKeys(keySet(content)), ", "))}
	}
	if !isJSON(mt) {
		return nil
	}
	media, _ := content[ctKey].(map[string]any)
	if _, ok := media["schema"]; !ok {
		return nil
	}
	return d.validate(respPtr+"/content/"+pointerToken(ctKey)+"/schema", a.body)
}

// checkUnrouted checks an answer to a request no operation describes: it
// can only be a problem saying so (404, 405) or refusing the request as
// unreadable (400, 413, 431, …).
func (d *contractDoc) checkUnrouted(a exchangeSeen) []string {
	if a.status < 400 {
		return []string{fmt.Sprintf("no operation %s %s is documented, yet it answered %d", a.method, a.path, a.status)}
	}
	return d.checkProblem(a)
}

// checkProblem checks a is a problem document valid against the Problem
// schema.
func (d *contractDoc) checkProblem(a exchangeSeen) []string {
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	if mt != "application/problem+json" {
		return []string{fmt.Sprintf("a %d answer that is no operation's is not a problem document (Content-Type %q)", a.status, a.header.Get("Content-Type"))}
	}
	return d.validate("/components/schemas/Problem", a.body)
}

// isFramingRefusal reports whether a is the 400 bad-request the server
// answers, whatever the operation, to a request it cannot read (the
// Problem schema's `bad-request`: malformed framing, headers too large).
func isFramingRefusal(a exchangeSeen) bool {
	return a.status == http.StatusBadRequest && bytes.Contains(a.body, []byte(`"urn:pathways:problem:bad-request"`))
}

// validate checks body against the schema at pointer.
func (d *contractDoc) validate(pointer string, body []byte) []string {
	sch, err := d.schema(pointer)
	if err != nil {
		return []string{fmt.Sprintf("schema %s does not compile: %v", pointer, err)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []string{fmt.Sprintf("body is not JSON: %v: %s", err, clip(body))}
	}
	if err := sch.Validate(inst); err != nil {
		return []string{fmt.Sprintf("body does not match %s: %v\nbody: %s", pointer, err, clip(body))}
	}
	root, _ := resolvePointer(d.doc, pointer)
	var extra []string
	d.undocumented(root, inst, "", &extra)
	if len(extra) > 0 {
		return []string{fmt.Sprintf("body has fields %s does not document: %s\nbody: %s", pointer, strings.Join(extra, ", "), clip(body))}
	}
	return nil
}

// undocumented adds to out the JSON Pointer of every member of inst that
// no schema of the document names: a response schema is open (a client
// ignores what it does not know), but a field the document never mentions
// is one no generated client can read. Every branch of allOf, anyOf and
// oneOf counts, so this errs towards knowing a name.
func (d *contractDoc) undocumented(schema, inst any, at string, out *[]string) {
	var s schemaSet
	d.collect(schema, &s, 0)
	switch v := inst.(type) {
	case map[string]any:
		if !s.object || s.open {
			for k, child := range v {
				for _, sub := range s.rest {
					d.undocumented(sub, child, at+"/"+pointerToken(k), out)
				}
			}
			return
		}
		for _, k := range sortedKeys(keySet(v)) {
			subs, ok := s.props[k]
			if !ok {
				subs, ok = s.rest, len(s.rest) > 0
			}
			if !ok {
				*out = append(*out, at+"/"+pointerToken(k))
				continue
			}
			for _, sub := range subs {
				d.undocumented(sub, v[k], at+"/"+pointerToken(k), out)
			}
		}
	case []any:
		for i, child := range v {
			for _, sub := range s.items {
				d.undocumented(sub, child, at+"/"+strconv.Itoa(i), out)
			}
		}
	}
}

// schemaSet is what the branches of one schema say about an instance's
// members.
type schemaSet struct {
	object bool             // some branch names properties or closes the object
	open   bool             // some branch takes any member (additionalProperties: true, or no word on members)
	props  map[string][]any // schemas of each named property
	rest   []any            // schemas of members not named (additionalProperties)
	items  []any            // schemas of array items
}

func (d *contractDoc) collect(schema any, s *schemaSet, depth int) {
	m, ok := schema.(map[string]any)
	if !ok || depth > 32 {
		return
	}
	if ref, isRef := m["$ref"].(string); isRef {
		if target, ok := resolvePointer(d.doc, strings.TrimPrefix(ref, "#")); ok {
			d.collect(target, s, depth+1)
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		s.object = true
		if s.props == nil {
			s.props = map[string][]any{}
		}
		for k, sub := range props {
			s.props[k] = append(s.props[k], sub)
		}
	}
	switch ap := m["additionalProperties"].(type) {
	case bool:
		s.object = true
		s.open = s.open || ap
	case map[string]any:
		s.object = true
		s.rest = append(s.rest, ap)
	}
	if items, ok := m["items"]; ok {
		s.items = append(s.items, items)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		branches, _ := m[k].([]any)
		for _, b := range branches {
			d.collect(b, s, depth+1)
		}
	}
}

func isJSON(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

func keySet(m map[string]any) map[string]bool {
	s := map[string]bool{}
	for k := range m {
		s[k] = true
	}
	return s
}

// clip shortens a body for a failure message.
func clip(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// checkContract checks one answer the server gave and fails t with every
// disagreement.
func checkContract(t interface {
	Helper()
	Errorf(string, ...any)
}, a exchangeSeen) {
	t.Helper()
	d, err := contract()
	if err != nil {
		t.Errorf("contract: %v", err)
		return
	}
	for _, msg := range d.check(a) {
		t.Errorf("contract: %s %s → %d: %s", a.method, a.path, a.status, msg)
	}
}

// TestContractCheckerCatches: the checker refuses what a generated client
// would trip on, against the real document: a body missing a required
// field, a field of the wrong type or format, a field the document does
// not name, a status the operation does not document, an undocumented
// content type, a body where none is documented, and an answer to no
// operation; and it accepts a real answer.
func TestContractCheckerCatches(t *testing.T) {
	d, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	me := e.do(req{method: "GET", path: "/api/v1/me", token: e.token("a-edu")})
	if me.status != 200 {
		t.Fatalf("me: %d %s", me.status, me.body)
	}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	good := string(me.body)
	cases := []struct {
		name    string
		a       exchangeSeen
		wantErr string // "" for an answer that agrees
	}{
		{"a real answer", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT, body: me.body}, ""},
		{"a required field missing", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT,
			body: []byte(strings.Replace(good, `"username":"a-edu",`, "", 1))}, "missing property 'username'"},
		{"a field of the wrong type", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT,
			body: []byte(strings.Replace(good, `"disabled":false`, `"disabled":"no"`, 1))}, "/disabled"},
		{"a value outside its enum", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT,
			body: []byte(strings.Replace(good, `"role":"educator"`, `"role":"teacher"`, 1))}, "/role"},
		{"a malformed format", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT,
			body: []byte(strings.Replace(good, `"createdAt":"`, `"createdAt":"yesterday`, 1))}, "/createdAt"},
		{"an undocumented field", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: jsonCT,
			body: []byte(strings.Replace(good, `{`, `{"secret":1,`, 1))}, "does not document: /secret"},
		{"an undocumented status", exchangeSeen{method: "GET", path: "/api/v1/me", status: 418, header: jsonCT, body: me.body}, "status 418 is not documented"},
		{"an undocumented content type", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200,
			header: http.Header{"Content-Type": {"text/html"}}, body: me.body}, `Content-Type "text/html" is not documented`},
		{"a body where none is documented", exchangeSeen{method: "POST", path: "/api/v1/auth/logout", status: 204, header: jsonCT, body: []byte(`{}`)}, "documents no body"},
		{"no body where one is documented", exchangeSeen{method: "GET", path: "/api/v1/me", status: 200, header: http.Header{}}, "documents a body"},
		{"a problem that is not one", exchangeSeen{method: "GET", path: "/api/v1/me", status: 401,
			header: http.Header{"Content-Type": {"application/problem+json"}}, body: []byte(`{"type":"urn:pathways:problem:unauthenticated"}`)}, "missing properties"},
		{"a success of no operation", exchangeSeen{method: "GET", path: "/api/v1/nothing", status: 200, header: jsonCT, body: []byte(`{}`)}, "no operation GET /api/v1/nothing"},
		{"a literal path before a template", exchangeSeen{method: "GET", path: "/api/v1/media/uploads/x", status: 200, header: jsonCT, body: me.body}, "/paths/~1api~1v1~1media~1uploads~1{id}/get"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(d.check(c.a), "\n")
			switch {
			case c.wantErr == "" && got != "":
				t.Errorf("refused a good answer: %s", got)
			case c.wantErr != "" && !strings.Contains(got, c.wantErr):
				t.Errorf("want an error with %q, got %q", c.wantErr, got)
			}
		})
	}
}
