package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// openAPIDoc parses the OpenAPI document the server embeds.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// operationMethods are the Path Item fields that are operations.
var operationMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// fiberParam matches a Fiber path parameter such as ":id".
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIDescribesEveryRoute: the document describes exactly the routes
// the server registers, no more and no fewer.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t)
	registered := map[string]bool{}
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" { // Fiber adds HEAD to every GET route
			continue
		}
		if strings.ContainsAny(r.Path, "*+?") {
			t.Errorf("route %s %s has a wildcard or optional parameter; describe it by hand and adapt this test", r.Method, r.Path)
			continue
		}
		registered[strings.ToLower(r.Method)+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) == 0 {
		t.Fatal("no routes registered")
	}

	documented := map[string]bool{}
	paths, _ := openAPIDoc(t)["paths"].(map[string]any)
	for path, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", path)
		}
		for key := range ops {
			if slices.Contains(operationMethods, key) {
				documented[key+" "+path] = true
			}
		}
	}

	sameSets(t, registered, documented,
		"route %s is not in openapi.json",
		"openapi.json describes %s, which is not a route")
}

// sameSets reports, in sorted order, each key of want missing from got
// (with missing) and each key of got not in want (with extra).
func sameSets(t *testing.T, want, got map[string]bool, missing, extra string) {
	t.Helper()
	for _, k := range sortedKeys(want) {
		if !got[k] {
			t.Errorf(missing, k)
		}
	}
	for _, k := range sortedKeys(got) {
		if !want[k] {
			t.Errorf(extra, k)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestOpenAPIServed: the document is served as JSON, byte for byte the file.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.do(req{method: "GET", path: "/api/v1/openapi.json"})
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if v := r.json(t)["openapi"]; v != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", v)
	}
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != string(r.body) {
		t.Fatal("served document differs from openapi.json")
	}
}

// TestOpenAPIRefsResolve: every $ref points to an existing component, and
// every component is used.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := openAPIDoc(t)
	used := map[string]bool{}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "$ref" {
					ref, ok := child.(string)
					if !ok {
						t.Errorf("%s: $ref is not a string", at)
						continue
					}
					if !strings.HasPrefix(ref, "#/components/") {
						t.Errorf("%s: $ref %q does not point into #/components/", at, ref)
						continue
					}
					if _, ok := resolvePointer(doc, strings.TrimPrefix(ref, "#")); !ok {
						t.Errorf("%s: $ref %q does not resolve", at, ref)
					}
					used[ref] = true
					continue
				}
				walk(at+"/"+k, child)
			}
		case []any:
			for _, child := range v {
				walk(at+"/[]", child)
			}
		}
	}
	walk("#", doc)
	if len(used) == 0 {
		t.Fatal("no $ref found")
	}

	components, _ := doc["components"].(map[string]any)
	for kind, entries := range components {
		if kind == "securitySchemes" { // used by name in "security", not by $ref
			continue
		}
		m, _ := entries.(map[string]any)
		for name := range m {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never used", ref)
			}
		}
	}
	schemes, _ := components["securitySchemes"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok || !slices.Contains(operationMethods, method) {
				continue
			}
			reqs, _ := op["security"].([]any)
			for _, r := range reqs {
				for name := range r.(map[string]any) {
					if _, ok := schemes[name]; !ok {
						t.Errorf("%s %s: unknown security scheme %q", method, path, name)
					}
				}
			}
		}
	}
}

// resolvePointer follows a JSON Pointer (RFC 6901) from root.
func resolvePointer(root any, pointer string) (any, bool) {
	cur := root
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// problemSlug matches a row of problem.go's error table, such as
// kind{fiber.StatusNotFound, "not-found", ...}.
var problemSlug = regexp.MustCompile(`kind\{\s*[A-Za-z0-9_.]+,\s*"([a-z0-9-]+)"`)

// TestOpenAPIProblemTypes: the Problem schema lists every problem type the
// server produces, and only those.
func TestOpenAPIProblemTypes(t *testing.T) {
	src, err := os.ReadFile("problem.go")
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]bool{}
	for _, m := range problemSlug.FindAllStringSubmatch(string(src), -1) {
		slugs["urn:pathways:problem:"+m[1]] = true
	}
	if len(slugs) < 10 {
		t.Fatalf("found only %d problem types in problem.go; has the kind table changed shape?", len(slugs))
	}

	doc := openAPIDoc(t)
	typ, ok := resolvePointer(doc, "/components/schemas/Problem/properties/type")
	if !ok {
		t.Fatal("no Problem schema with a type property")
	}
	if ref, isRef := typ.(map[string]any)["$ref"].(string); isRef {
		if typ, ok = resolvePointer(doc, strings.TrimPrefix(ref, "#")); !ok {
			t.Fatalf("Problem type $ref %q does not resolve", ref)
		}
	}
	enum, _ := typ.(map[string]any)["enum"].([]any)
	listed := map[string]bool{}
	for _, v := range enum {
		s, _ := v.(string)
		listed[s] = true
	}
	sameSets(t, slugs, listed,
		"problem type %s is not in the Problem schema's type enum",
		"the Problem schema lists %s, which problem.go never produces")

	// Every problem type named anywhere in the document (response
	// constraints, examples) is a real one.
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`urn:pathways:problem:[a-z0-9-]+`).FindAllString(string(raw), -1) {
		if !slugs[m] {
			t.Errorf("openapi.json names unknown problem type %s", m)
		}
	}
}

// camelCase is the one naming convention of the API's JSON fields and
// query parameters (README, "Conventions").
var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// TestOpenAPINamesAreCamelCase: every property of every schema, every
// query and form parameter, is camelCase; headers and path parameters are
// not names of the JSON.
func TestOpenAPINamesAreCamelCase(t *testing.T) {
	doc := openAPIDoc(t)
	seen := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					seen++
					if !camelCase.MatchString(name) {
						t.Errorf("%s: property %q is not camelCase", at, name)
					}
				}
			}
			if in, _ := v["in"].(string); in == "query" {
				seen++
				if name, _ := v["name"].(string); !camelCase.MatchString(name) {
					t.Errorf("%s: query parameter %q is not camelCase", at, name)
				}
			}
			if req, ok := v["required"].([]any); ok {
				for _, r := range req {
					if name, _ := r.(string); !camelCase.MatchString(name) {
						t.Errorf("%s: required property %q is not camelCase", at, name)
					}
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for _, child := range v {
				walk(at+"/[]", child)
			}
		}
	}
	walk("#", doc)
	if seen < 100 {
		t.Fatalf("only %d names checked; has the document changed shape?", seen)
	}
}

// TestOpenAPIListsArePaged: every operation that answers a list (a body
// with "items") takes offset and limit and says which window it holds.
func TestOpenAPIListsArePaged(t *testing.T) {
	doc := openAPIDoc(t)
	paths, _ := doc["paths"].(map[string]any)
	lists := 0
	for path, item := range paths {
		op, ok := item.(map[string]any)["get"].(map[string]any)
		if !ok {
			continue
		}
		schema, ok := resolvePointer(op, "/responses/200/content/application~1json/schema")
		if !ok {
			continue
		}
		if ref, isRef := schema.(map[string]any)["$ref"].(string); isRef {
			schema, _ = resolvePointer(doc, strings.TrimPrefix(ref, "#"))
		}
		props, _ := schema.(map[string]any)["properties"].(map[string]any)
		if _, ok := props["items"]; !ok {
			continue
		}
		lists++
		for _, p := range []string{"offset", "limit"} {
			if _, ok := props[p]; !ok {
				t.Errorf("GET %s answers a list without %q", path, p)
			}
		}
		params := map[string]bool{}
		list, _ := op["parameters"].([]any)
		for _, p := range list {
			pm, _ := p.(map[string]any)
			if ref, isRef := pm["$ref"].(string); isRef {
				r, _ := resolvePointer(doc, strings.TrimPrefix(ref, "#"))
				pm, _ = r.(map[string]any)
			}
			if in, _ := pm["in"].(string); in == "query" {
				name, _ := pm["name"].(string)
				params[name] = true
			}
		}
		if !params["offset"] || !params["limit"] {
			t.Errorf("GET %s answers a list but takes no offset and limit", path)
		}
	}
	if lists < 8 {
		t.Fatalf("found only %d lists", lists)
	}
}

// forbiddenRequestHeaders are the request headers a browser's fetch never
// lets a page set (the Fetch standard's forbidden request-header names,
// and every Proxy- and Sec- header): the transport sets them, or nothing
// may. A header parameter named so can never be sent by a browser client,
// and a generated client demands it.
var forbiddenRequestHeaders = []string{
	"accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
	"connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive",
	"origin", "referer", "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via",
}

// TestOpenAPIHeaderParametersCanBeSent: no operation takes, as a header
// parameter, a header that HTTP itself frames or a browser may not set
// (Content-Length was a required parameter of the course import and the
// chunk upload); the server's rules about them are in the operations'
// descriptions.
func TestOpenAPIHeaderParametersCanBeSent(t *testing.T) {
	doc := openAPIDoc(t)
	check := func(at string, p map[string]any) {
		if in, _ := p["in"].(string); in != "header" {
			return
		}
		name, _ := p["name"].(string)
		lower := strings.ToLower(name)
		if slices.Contains(forbiddenRequestHeaders, lower) || strings.HasPrefix(lower, "proxy-") || strings.HasPrefix(lower, "sec-") {
			t.Errorf("%s: header parameter %q is not one a client sets", at, name)
		}
	}
	eachParameter(doc, check)
}

// eachParameter calls fn with every parameter object of the document, the
// shared components' and those written into operations, and the JSON
// Pointer where it stands.
func eachParameter(doc map[string]any, fn func(at string, p map[string]any)) {
	components, _ := doc["components"].(map[string]any)
	params, _ := components["parameters"].(map[string]any)
	for name, p := range params {
		fn("/components/parameters/"+pointerToken(name), p.(map[string]any))
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok {
				continue
			}
			list, _ := op["parameters"].([]any)
			for i, p := range list {
				fn(fmt.Sprintf("/paths/%s/%s/parameters/%d", pointerToken(path), method, i), p.(map[string]any))
			}
		}
	}
}
