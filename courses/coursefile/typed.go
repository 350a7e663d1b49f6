package coursefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pathways-lms/pathways"
)

// The quizzes and banks of a package are decoded through their JSON form,
// the one the API uses for the same types (assessments.Question carries its
// JSON names), so the two never drift apart: typed walks the YAML node tree
// against the Go type it will become, reporting every unknown key, value
// of the wrong type, alias and key given twice with its line (as the
// hand-written decoder of course.yaml does), and builds the JSON value;
// encoding/json then fills the type. Writing goes the other way, from
// encoding/json's output to YAML nodes in the same key order.

// maxItems bounds every list and mapping typed builds. No limit of the
// domains is above it (the largest is i18n.MaxMessages), so a list cut
// after maxItems+1 items is still refused by the domain's own count check
// with its own limit; the cut only keeps what is built small until then.
const maxItems = 5000

var timeType = reflect.TypeFor[time.Time]()

// typed returns n as the JSON value of Go type t, recording the line of
// every field at its path and reporting what does not fit; the value is
// to be used only if no problem was reported.
func (y *yamlReader) typed(n *yaml.Node, t reflect.Type, p string) any {
	if y.alias(n, p) || isNull(n) {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		s, ok := y.scalar(n, p)
		if !ok {
			return nil
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			y.problem(p, n.Line, pathways.CodeType, map[string]any{"Expected": "date and time"},
				"wrong type: expected a date and time such as 2026-06-30T18:00:00Z")
			return nil
		}
		return s
	}
	switch t.Kind() {
	case reflect.String:
		s, _ := y.scalar(n, p)
		return s
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			y.problem(p, n.Line, pathways.CodeType, map[string]any{"Expected": "boolean"}, "wrong type: expected true or false")
		}
		return b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || reflect.Zero(t).OverflowInt(i) {
			y.typeError(n, p, "integer")
			return nil
		}
		return json.Number(strconv.FormatInt(i, 10))
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil ||
			math.IsNaN(f) || math.IsInf(f, 0) {
			y.problem(p, n.Line, pathways.CodeType, map[string]any{"Expected": "number"}, "wrong type: expected a number")
			return nil
		}
		return f
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			y.typeError(n, p, "list")
			return nil
		}
		items := n.Content
		if len(items) > maxItems+1 {
			items = items[:maxItems+1]
		}
		out := make([]any, len(items))
		for i, item := range items {
			ip := join(p, strconv.Itoa(i))
			y.lines[ip] = item.Line
			out[i] = y.typed(item, t.Elem(), ip)
		}
		return out
	case reflect.Map:
		if !y.isMapping(n, p) {
			return nil
		}
		out := map[string]any{}
		intKeys := t.Key().Kind() != reflect.String
		y.mapping(n, p, func(name string) fieldFunc {
			if len(out) > maxItems {
				return func(*yaml.Node, string) {}
			}
			return func(v *yaml.Node, vp string) {
				if _, err := strconv.Atoi(name); intKeys && err != nil {
					y.problem(vp, v.Line, pathways.CodeType, map[string]any{"Expected": "integer"}, "wrong type: the keys here are integers")
					return
				}
				out[name] = y.typed(v, t.Elem(), vp)
			}
		})
		return out
	case reflect.Struct:
		if !y.isMapping(n, p) {
			return nil
		}
		fields := jsonFields(t)
		out := map[string]any{}
		y.mapping(n, p, func(name string) fieldFunc {
			ft, ok := fields[name]
			if !ok {
				return nil
			}
			return func(v *yaml.Node, vp string) { out[name] = y.typed(v, ft, vp) }
		})
		return out
	}
	panic("coursefile: no YAML form for " + t.String())
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields, those of embedded
// structs included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				m[k] = v
			}
		case name == "":
			m[f.Name] = f.Type
		default:
			m[name] = f.Type
		}
	}
	fieldCache.Store(t, m)
	return m
}

// decodeTyped decodes file's YAML root into dst (a pointer to a struct)
// through typed; ok is false if any problem was reported.
func (y *yamlReader) decodeTyped(root *yaml.Node, dst any) bool {
	before := len(y.pr.list) + y.pr.omitted
	v := y.typed(root, reflect.TypeOf(dst).Elem(), "")
	if len(y.pr.list)+y.pr.omitted != before {
		return false
	}
	data, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(data, dst)
	}
	if err != nil { // typed let through what encoding/json refuses
		y.problem("", 0, pathways.CodeInvalid, map[string]any{"Value": err.Error()}, "not valid: "+err.Error())
		return false
	}
	return true
}

// Writing.

// typedNode returns v's JSON form as a YAML mapping, keys in the order
// encoding/json writes them (struct fields in declaration order, map keys
// sorted), lists of scalars in flow style.
func typedNode(v any) (*yaml.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := jsonNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more after the value")
	}
	return n, nil
}

func jsonNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &yaml.Node{Kind: yaml.MappingNode}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonNode(dec)
				if err != nil {
					return nil, err
				}
				m.Content = append(m.Content, strNode(k.(string)), v)
			}
			_, err := dec.Token()
			return m, err
		case '[':
			l := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for dec.More() {
				v, err := jsonNode(dec)
				if err != nil {
					return nil, err
				}
				if v.Kind != yaml.ScalarNode {
					l.Style = 0
				}
				l.Content = append(l.Content, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case string:
		return strNode(t), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
