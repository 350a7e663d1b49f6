package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"reflect"
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

// checkKeys refuses what encoding/json lets through in a top-level object:
// keys that match a field only case-insensitively ("USERNAME") and keys
// given twice (the last would silently win). Bodies that are not objects
// are left to the decoder, which reports them.
func checkKeys(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	known := jsonFields(reflect.TypeOf(v))
	seen := map[string]bool{}
	ve := &pathways.ValidationError{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil // malformed: the decoder reports it with its offset
		}
		key, _ := tok.(string)
		switch {
		case seen[key]:
			ve.Add(key, pathways.CodeDuplicateKey, nil)
		case !known[key]:
			ve.Add(key, pathways.CodeUnknown, nil)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return ve.Err()
}

// jsonFields lists the exact JSON names of a struct's fields.
func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			out[f.Name] = true
		default:
			out[name] = true
		}
	}
	return out
}

// paramError marks a validation error about query or path parameters, so
// its field errors carry no JSON Pointer into the body.
type paramError struct{ *pathways.ValidationError }

func (e paramError) Unwrap() error { return e.ValidationError }

// decodeJSON reads the request body into v strictly: the body must be
// declared JSON, be one well-formed JSON value, and have no unknown fields
// or values of the wrong type. Each failure is a 4xx problem.
func decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json") {
		return errMediaType
	}
	data, err := readBody(c, c.App().Config().BodyLimit)
	if err != nil {
		return err
	}
	if err := checkKeys(data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, int64(len(data)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &malformedJSONError{offset: dec.InputOffset(), err: errors.New("data after the JSON value")}
	}
	return nil
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

// paramErr returns v as an error about query or path parameters, or nil
// if it holds none.
func paramErr(v *pathways.ValidationError) error {
	if v.Err() == nil {
		return nil
	}
	return paramError{v}
}
