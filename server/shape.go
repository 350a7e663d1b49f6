package server

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/pathways-lms/pathways"
)

// The shape check walks a JSON body once, token by token, against the Go
// type it will be decoded into, and lists every problem encoding/json
// would stop at (the first value of the wrong type, the first unknown
// field) or let through (keys that match a field only case-insensitively,
// keys given twice, of which the last would silently win), at every depth.
// It also keeps the decoder from building what no request may hold: of a
// list or map longer than its limit (listLimits, else maxItems) only one
// item more is decoded, so that the domain's own count check
// (pathways.CheckCount) still reports the list with its own limit, and a
// body of a million empty items costs a few hundred structs, not a
// million.

// maxItems bounds every list and map of a JSON body. No limit of the
// domains is above it (the largest is i18n.MaxMessages, texts per locale;
// a test checks), so a list cut at maxItems+1 items is still too long for
// the domain to accept: the bound only keeps what is decoded small until
// the domain says so.
const maxItems = 5000

// maxDepth bounds the nesting of values whose type does not fix their
// shape (json.RawMessage, an answer), as encoding/json bounds its own.
const maxDepth = 10000

var errTooDeep = errors.New("values nested too deep")

// stringOrObject is a type whose JSON is a string, or an object shaped as
// the value objectForm returns (a go-i18n message: "text" or {"other": …}).
type stringOrObject interface{ objectForm() any }

var (
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	stringOrObjectType  = reflect.TypeFor[stringOrObject]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// shape is what checkShape found in a body.
type shape struct {
	problems pathways.ValidationError
	// cuts are the byte ranges of list and map items past maxItems, which
	// are left out of decoding; path is the list's field path.
	cuts []cut
}

type cut struct {
	from, to int64
	path     string
	limit    int // the list's limit: it holds limit+1 items once cut
}

// fine reports whether the body can be decoded as it is.
func (s *shape) fine() bool { return s.problems.Count() == 0 && len(s.cuts) == 0 }

// body returns data without the cut items.
func (s *shape) body(data []byte) []byte {
	if len(s.cuts) == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	at := int64(0)
	for _, c := range s.cuts {
		out = append(out, data[at:c.from]...)
		at = c.to
	}
	return append(out, data[at:]...)
}

// checkShape checks data, one JSON value, against t. A body that is not
// well-formed JSON is a *malformedJSONError; anything else it finds is in
// the shape.
func checkShape(data []byte, t reflect.Type) (*shape, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := &walker{dec: dec, shape: &shape{}}
	if err := w.value(t, 0); err != nil {
		var mj *malformedJSONError
		if errors.As(err, &mj) {
			return nil, err
		}
		return nil, jsonError(err, int64(len(data)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &malformedJSONError{offset: dec.InputOffset(), err: errors.New("data after the JSON value")}
	}
	return w.shape, nil
}

// walker is one pass of checkShape: path is the field path of the value
// being read, as escaped JSON Pointer tokens, built into a string only
// when there is a problem to report.
type walker struct {
	dec   *json.Decoder
	shape *shape
	path  []string
	limit int // the limit of the list value is about to read, if known
}

func (w *walker) pointer() string {
	if len(w.path) == 0 {
		return "$" // the body itself
	}
	return strings.Join(w.path, "/")
}

func (w *walker) add(code string, params map[string]any) {
	w.shape.problems.Add(w.pointer(), code, params)
}

// value reads one value that is to be decoded into t (nil: any value).
func (w *walker) value(t reflect.Type, depth int) error {
	limit := maxItems
	if w.limit > 0 {
		limit = min(w.limit, maxItems)
	}
	w.limit = 0
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null leaves a value as it is, whatever its type
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil || t == rawMessageType || t.Kind() == reflect.Interface:
		return w.anyValue(tok, depth)
	case reflect.PointerTo(t).Implements(stringOrObjectType):
		if _, ok := tok.(string); ok {
			return nil
		}
		if tok != json.Delim('{') {
			return w.wrongType(tok, "object")
		}
		return w.object(reflect.TypeOf(reflect.New(t).Interface().(stringOrObject).objectForm()), depth)
	case reflect.PointerTo(t).Implements(textUnmarshalerType): // time.Time
		s, ok := tok.(string)
		if !ok {
			return w.wrongType(tok, "string")
		}
		if reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)) != nil {
			w.add(pathways.CodeInvalid, nil)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.wrongType(tok, "string")
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.wrongType(tok, "boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := tok.(json.Number); !ok {
			return w.wrongType(tok, "integer")
		} else if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			w.add(pathways.CodeType, map[string]any{"Expected": "integer"})
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, ok := tok.(json.Number); !ok {
			return w.wrongType(tok, "integer")
		} else if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			w.add(pathways.CodeType, map[string]any{"Expected": "integer"})
		}
	case reflect.Float32, reflect.Float64:
		if n, ok := tok.(json.Number); !ok {
			return w.wrongType(tok, "number")
		} else if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			w.add(pathways.CodeType, map[string]any{"Expected": "number"})
		}
	case reflect.Slice, reflect.Array:
		if tok != json.Delim('[') {
			return w.wrongType(tok, "array")
		}
		return w.array(t.Elem(), depth, limit, true)
	case reflect.Map:
		if tok != json.Delim('{') {
			return w.wrongType(tok, "object")
		}
		return w.mapMembers(t, depth, limit)
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.wrongType(tok, "object")
		}
		return w.object(t, depth)
	default:
		return w.skip(tok) // no body type holds channels or functions
	}
	return nil
}

// anyValue checks a value of any shape: keys given twice in its objects,
// and the same bounds on size and depth as everywhere.
func (w *walker) anyValue(tok json.Token, depth int) error {
	if depth > maxDepth {
		return &malformedJSONError{offset: w.dec.InputOffset(), err: errTooDeep}
	}
	switch tok {
	case json.Delim('['):
		return w.array(nil, depth, maxItems, false)
	case json.Delim('{'):
		return w.mapMembers(nil, depth, maxItems)
	}
	return nil
}

// array reads the items of a list after its "[". Past limit, the rest is
// skipped: cut out of decoding if the list is typed (the domain then
// counts it), refused as too_many if it is raw.
func (w *walker) array(elem reflect.Type, depth, limit int, typed bool) error {
	for i := 0; w.dec.More(); i++ {
		if i > limit || i == limit && !typed {
			if err := w.rest(typed, false, limit); err != nil {
				return err
			}
			break
		}
		w.path = append(w.path, strconv.Itoa(i))
		err := w.value(elem, depth+1)
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // ]
	return err
}

// rest skips the remaining items of a list or map (members: key and
// value), cutting them out of decoding if typed, else reporting the value
// as too large.
func (w *walker) rest(typed, members bool, limit int) error {
	from := w.dec.InputOffset()
	for w.dec.More() {
		if members {
			if _, err := w.dec.Token(); err != nil {
				return err
			}
		}
		if err := w.skipValue(); err != nil {
			return err
		}
	}
	if typed {
		w.shape.cuts = append(w.shape.cuts, cut{from: from, to: w.dec.InputOffset(), path: w.pointer(), limit: limit})
	} else {
		w.add(pathways.CodeTooMany, map[string]any{"Count": limit})
	}
	return nil
}

// mapMembers reads the members of an object decoded into a map of type t
// (nil: a raw object) after its "{": keys are chosen by users (locales,
// message IDs, option IDs), so any is allowed once.
func (w *walker) mapMembers(t reflect.Type, depth, limit int) error {
	var elem reflect.Type
	intKeys := false
	if t != nil {
		elem = t.Elem()
		switch t.Key().Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			intKeys = true
		}
	}
	seen := map[string]bool{}
	for i := 0; w.dec.More(); i++ {
		if i > limit || i == limit && t == nil {
			if err := w.rest(t != nil, true, limit); err != nil {
				return err
			}
			break
		}
		key, err := w.key()
		if err != nil {
			return err
		}
		w.path = append(w.path, pathways.EscapeToken(pathways.Clip(key)))
		switch {
		case seen[key]:
			w.add(pathways.CodeDuplicateKey, nil)
			err = w.skipValue()
		case intKeys && !isInt(key, t.Key().Bits()):
			w.add(pathways.CodeType, map[string]any{"Expected": "integer"})
			err = w.skipValue()
		default:
			seen[key] = true
			err = w.value(elem, depth+1)
		}
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

func isInt(s string, bits int) bool {
	_, err := strconv.ParseInt(s, 10, bits)
	return err == nil
}

// object reads the members of an object decoded into struct t after its
// "{": each key must be a field's exact JSON name, once.
func (w *walker) object(t reflect.Type, depth int) error {
	fields, limits := fieldsOf(t), listLimits[t]
	seen := make(map[string]bool, len(fields))
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return err
		}
		w.path = append(w.path, pathways.EscapeToken(pathways.Clip(key)))
		ft, known := fields[key]
		switch {
		case !known:
			w.add(pathways.CodeUnknown, nil)
			err = w.skipValue()
		case seen[key]:
			w.add(pathways.CodeDuplicateKey, nil)
			err = w.skipValue()
		default:
			seen[key] = true
			w.limit = limits[key]
			err = w.value(ft, depth+1)
		}
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

// key reads an object's key.
func (w *walker) key() (string, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return "", err
	}
	key, _ := tok.(string) // the decoder returns only strings here
	return key, nil
}

// wrongType reports a value of the wrong type and skips it.
func (w *walker) wrongType(tok json.Token, expected string) error {
	w.add(pathways.CodeType, map[string]any{"Expected": expected})
	return w.skip(tok)
}

func (w *walker) skipValue() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	return w.skip(tok)
}

// skip reads the rest of a value whose first token was tok, without
// looking at it (the decoder still checks that it is well formed).
func (w *walker) skip(tok json.Token) error {
	if tok != json.Delim('[') && tok != json.Delim('{') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

var structFields sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf maps the exact JSON names of a struct's fields to their types,
// with the fields of embedded structs promoted as encoding/json does.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := structFields.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case name == "-":
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			for k, v := range fieldsOf(ft) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		case !f.IsExported():
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	structFields.Store(t, out)
	return out
}
