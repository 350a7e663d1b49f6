package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// FieldCodes lists the server's own field error codes, for the catalogue
// test; the codes of decoding (unknown, type, duplicate, id) are
// pathways'.
var FieldCodes = []string{codeAfterFile}

// paramError is a validation error about a request whose first params
// field errors are about its query, path or header parameters, so they
// carry a parameter name instead of a JSON Pointer into the body; the
// others point into the body.
type paramError struct {
	*pathways.ValidationError
	params int
}

func (e paramError) Unwrap() error { return e.ValidationError }

// checker is a request body that can say what the domain's rules find
// wrong with it without acting on it (a pure check, no database), so that
// a request with other problems gets them all in one answer.
type checker interface{ check() error }

// decodeJSON is decodeRequest for a request with no parameters to check.
func decodeJSON(c *fiber.Ctx, dst any) error { return decodeRequest(c, nil, dst) }

// decodeRequest reads the request body into dst strictly and answers for
// the whole request: the body must be declared JSON (415), be one
// well-formed JSON value (400) under the body limit (413), and have no
// unknown fields, no key twice and no value of the wrong type, at any
// depth (checkShape). If the body has such problems, or params (the
// problems the handler found in the request's parameters, or nil) holds
// any, the error lists them all, with what dst's own check finds in
// what could be decoded, in one *pathways.ValidationError; the handler
// then returns it and acts on nothing.
func decodeRequest(c *fiber.Ctx, params *pathways.ValidationError, dst any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json") {
		return errMediaType
	}
	data, err := readBody(c, c.App().Config().BodyLimit)
	if err != nil {
		return err
	}
	sh, err := checkShape(data, reflect.TypeOf(dst))
	if err != nil {
		return err
	}
	if sh.fine() && params.Err() == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			return jsonError(err, int64(len(data)))
		}
		return nil
	}
	// encoding/json decodes what fits and skips what does not; without
	// the cut items, what it builds is bounded.
	_ = json.Unmarshal(sh.body(data), dst)
	return requestProblems(params, sh, dst)
}

// requestProblems lists the problems of a request: its parameters', then
// its body's shape's, then what the body's own check finds where the
// shape found nothing (a value of the wrong type is not also "required"),
// and a list cut at maxItems that the check did not report itself.
func requestProblems(params *pathways.ValidationError, sh *shape, body any) error {
	all := &pathways.ValidationError{}
	_ = all.Merge("", params.Err())
	n := len(all.Fields)
	_ = all.Merge("", sh.problems.Err())
	var ve *pathways.ValidationError
	if ch, ok := body.(checker); ok && errors.As(ch.check(), &ve) {
		for _, f := range ve.Fields {
			if !sh.covers(f.Field) {
				all.Add(f.Field, f.Code, f.Params)
			}
		}
		all.Omitted += ve.Omitted
	}
	for _, c := range sh.cuts {
		if !all.Full() && !slices.ContainsFunc(all.Fields, func(f pathways.FieldError) bool { return f.Field == c.path }) {
			all.Add(c.path, pathways.CodeTooMany, map[string]any{"Count": c.limit})
		}
	}
	if n > 0 {
		return paramError{all, n}
	}
	return all.Err()
}

// asParams marks the field errors of err named names, if it is a
// validation error, as parameters (a path parameter the domain judged).
func asParams(err error, names ...string) error {
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	params, body := &pathways.ValidationError{Omitted: ve.Omitted}, []pathways.FieldError{}
	for _, f := range ve.Fields {
		if slices.Contains(names, f.Field) {
			params.Add(f.Field, f.Code, f.Params)
		} else {
			body = append(body, f)
		}
	}
	n := len(params.Fields)
	for _, f := range body {
		params.Add(f.Field, f.Code, f.Params)
	}
	return paramError{params, n}
}

// under puts the field errors of err, if it is a validation error about
// a part of the body (an answer, decoded by its domain), under that
// part's field path, so that they point into the body.
func under(part string, err error) error {
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &pathways.ValidationError{Omitted: ve.Omitted}
	for _, f := range ve.Fields {
		field := part + "/" + f.Field
		if f.Field == "$" {
			field = part
		}
		out.Add(field, f.Code, f.Params)
	}
	return out
}

// covers reports whether the shape found a problem at field or above it.
func (s *shape) covers(field string) bool {
	return slices.ContainsFunc(s.problems.Fields, func(f pathways.FieldError) bool {
		return f.Field == "$" || f.Field == field || strings.HasPrefix(field, f.Field+"/")
	})
}

// jsonError classifies a decoding error; end is the body's length, where
// a truncated body went wrong.
func jsonError(err error, end int64) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return &malformedJSONError{offset: syn.Offset, err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &malformedJSONError{offset: end, err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "$" // the body itself, e.g. an array where an object belongs
		}
		return (&pathways.ValidationError{}).Add(field, pathways.CodeType, map[string]any{"Expected": jsonType(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return (&pathways.ValidationError{}).Add(name, pathways.CodeUnknown, nil)
	}
	return &malformedJSONError{offset: end, err: err}
}

// jsonType names a Go kind as JSON calls it.
func jsonType(kind string) string {
	switch {
	case kind == "string":
		return "string"
	case kind == "bool":
		return "boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice", kind == "array":
		return "array"
	}
	return "object"
}

// pathID returns the :id path parameter if it is a well-formed id.
func pathID(c *fiber.Ctx) (string, error) {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	return id, paramErr(v)
}

// pathIDInto returns the :id path parameter, adding to v if it is not a
// well-formed id.
func pathIDInto(c *fiber.Ctx, v *pathways.ValidationError) string {
	id := c.Params("id")
	if !accounts.ValidID(id) {
		v.Add("id", pathways.CodeID, nil)
	}
	return id
}

// maxOffset bounds ?offset= and ?limit=.
const maxOffset = 1_000_000

// pageParams reads ?offset= and ?limit= (absent: the list's defaults) as
// a page normalised to l, adding what is wrong to v, so that a handler
// reports every bad parameter at once.
func pageParams(c *fiber.Ctx, v *pathways.ValidationError, l pathways.PageLimits) pathways.Page {
	var p pathways.Page
	for _, q := range []struct {
		name string
		dst  *int
	}{{"offset", &p.Offset}, {"limit", &p.Limit}} {
		raw := c.Query(q.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			v.Add(q.name, pathways.CodeType, map[string]any{"Expected": "integer"})
			continue
		case err != nil || n < 0 || n > maxOffset:
			v.Add(q.name, pathways.CodeRange, map[string]any{"Min": 0, "Max": maxOffset})
			continue
		}
		*q.dst = n
	}
	return p.Normalise(l)
}

// paramErr returns v as an error about query, path or header parameters,
// or nil if it holds none.
func paramErr(v *pathways.ValidationError) error {
	if v.Err() == nil {
		return nil
	}
	return paramError{v, len(v.Fields)}
}
