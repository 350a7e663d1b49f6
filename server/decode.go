package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Field error codes the server itself produces while decoding.
const (
	codeUnknownField = "unknown"
	codeWrongType    = "type"
	codeBadID        = "id"
)

// FieldCodes lists the server's own field error codes, for the catalogue
// test.
var FieldCodes = []string{codeUnknownField, codeWrongType, codeBadID}

// decodeJSON reads the request body into v strictly: the body must be
// declared JSON, be one well-formed JSON value, and have no unknown fields
// or values of the wrong type. Each failure is a 4xx problem.
func decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json") {
		return errMediaType
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, int64(len(c.Body())))
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
		return (&pathways.ValidationError{}).Add(field, codeWrongType, map[string]any{"Expected": jsonType(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return (&pathways.ValidationError{}).Add(name, codeUnknownField, nil)
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
	id := c.Params("id")
	if !accounts.ValidID(id) {
		return "", pathways.Invalid("id", codeBadID)
	}
	return id, nil
}

// page reads ?offset= and ?limit= (absent means defaults).
func page(c *fiber.Ctx) (accounts.Page, error) {
	var p accounts.Page
	v := &pathways.ValidationError{}
	for name, dst := range map[string]*int{"offset": &p.Offset, "limit": &p.Limit} {
		raw := c.Query(name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 1_000_000 {
			v.Add(name, accounts.CodeInvalid, nil)
			continue
		}
		*dst = n
	}
	return p, v.Err()
}
