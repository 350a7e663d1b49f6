package coursefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
)

// yamlReader decodes course.yaml strictly from its node tree, so that every
// problem is reported (not only the first) with its line, and records the
// line of every field for the problems courses finds later.
type yamlReader struct {
	file   string
	pr     *collector
	lines  map[string]int  // field path → line
	bad    map[string]bool // field paths reported here
	format int             // course.yaml's format, once read
}

// fieldFunc decodes the value n of the field at path p.
type fieldFunc func(n *yaml.Node, p string)

func (y *yamlReader) problem(p string, line int, code string, params map[string]any, msg ...string) {
	y.pr.add(y.file, line, p, code, params, msg...)
	y.bad[p] = true
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax reports a parser error, with its line when the parser gives one.
func (y *yamlReader) syntax(err error) {
	msg := err.Error()
	line := 0
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	y.problem("", line, CodeSyntax, nil, "YAML syntax error: "+msg)
}

// document parses a YAML file that holds one mapping; ok is false after
// a syntax error or if the file holds anything else.
func (y *yamlReader) document(data []byte, what string) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			y.problem("", 0, pathways.CodeType, map[string]any{"Expected": "mapping"}, y.base()+" is empty")
		} else {
			y.syntax(err)
		}
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		y.syntax(err)
		return nil, false
	default:
		y.problem("", extra.Line, CodeSyntax, nil, "a second YAML document: "+y.base()+" holds one")
		return nil, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		y.problem("", root.Line, pathways.CodeType, map[string]any{"Expected": "mapping"},
			y.base()+" must hold a mapping of fields ("+what+")")
		return nil, false
	}
	return root, true
}

// base is the file's name without its folders.
func (y *yamlReader) base() string { return path.Base(y.file) }

// decode decodes course.yaml; ok is false if nothing could be decoded (a
// syntax error, no mapping at the top, an unknown format).
func (y *yamlReader) decode(data []byte) (c courses.Course, ok bool) {
	root, ok := y.document(data, "format, slug, …")
	if !ok {
		return c, false
	}
	if !y.readFormat(root) {
		return c, false
	}
	var topic, level string
	var audiences []string
	y.mapping(root, "", fields{
		"format":        func(*yaml.Node, string) {}, // checked above
		"slug":          y.str(&c.Slug),
		"defaultLocale": y.str(&c.DefaultLocale),
		"locales":       y.strList(&c.Locales, courses.MaxLocales),
		"topic":         y.str(&topic),
		"audiences":     y.strList(&audiences, len(courses.Audiences)),
		"level":         y.str(&level),
		"shared":        y.boolean(&c.Shared),
		"title":         y.str(&c.Title),
		"summary":       y.str(&c.Summary),
		"modules":       y.modules(&c.Modules),
	}.get)
	c.Topic, c.Level = courses.Topic(topic), courses.Level(level)
	for _, a := range audiences {
		c.Audiences = append(c.Audiences, courses.Audience(a))
	}
	return c, true
}

// readFormat checks the format version, from 1 to FormatVersion; a
// package of another version is not read further. A missing format is
// reported and the rest read as the latest format.
func (y *yamlReader) readFormat(root *yaml.Node) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "format" {
			continue
		}
		y.lines["format"] = k.Line
		var n int
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil || n < 1 || n > FormatVersion {
			y.problem("format", k.Line, CodeFormatVersion, map[string]any{"Value": FormatVersion},
				fmt.Sprintf("format %s is not supported: this version reads formats 1 to %d", strconv.Quote(v.Value), FormatVersion))
			return false
		}
		y.format = n
		return true
	}
	y.problem("format", root.Line, pathways.CodeRequired, nil,
		fmt.Sprintf("format is missing: start course.yaml with \"format: %d\"", FormatVersion))
	y.format = FormatVersion
	return true
}

type fields map[string]fieldFunc

func (f fields) get(name string) fieldFunc { return f[name] }

// mapping decodes a mapping field by field: field returns the decoder of a
// key, or nil if the key is unknown.
func (y *yamlReader) mapping(n *yaml.Node, p string, field func(name string) fieldFunc) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			if !y.alias(k, p) {
				y.problem(p, k.Line, pathways.CodeType, map[string]any{"Expected": "string"}, "a key must be a plain string")
			}
			continue
		}
		kp := join(p, pathways.EscapeToken(k.Value))
		if first, dup := seen[k.Value]; dup {
			y.problem(kp, k.Line, pathways.CodeDuplicateKey, map[string]any{"Line": first},
				fmt.Sprintf("%s is given twice (first on line %d)", strconv.Quote(k.Value), first))
			continue
		}
		seen[k.Value] = k.Line
		f := field(k.Value)
		if f == nil {
			y.pr.add(y.file, k.Line, kp, pathways.CodeUnknown, map[string]any{"Value": k.Value},
				"unknown field "+strconv.Quote(k.Value))
			continue
		}
		y.lines[kp] = k.Line
		if y.alias(v, kp) {
			continue
		}
		f(v, kp)
	}
}

// alias reports (and reports as a problem) an alias node: aliases are
// refused so that a small file cannot expand into a huge course.
func (y *yamlReader) alias(n *yaml.Node, p string) bool {
	if n.Kind != yaml.AliasNode {
		return false
	}
	y.problem(p, n.Line, CodeAlias, nil)
	return true
}

func (y *yamlReader) typeError(n *yaml.Node, p, expected string) {
	y.problem(p, n.Line, pathways.CodeType, map[string]any{"Expected": expected}, "wrong type: expected "+an(expected))
}

func an(what string) string {
	switch what {
	case "integer":
		return "an integer"
	case "list", "mapping", "string":
		return "a " + what
	}
	return what
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// scalar returns a string field's text. Numbers, booleans and dates are
// taken as written (an ID may be "2024"); null is the empty string.
func (y *yamlReader) scalar(n *yaml.Node, p string) (string, bool) {
	if y.alias(n, p) {
		return "", false
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!null":
			return "", true
		case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
			return n.Value, true
		}
	}
	y.typeError(n, p, "string")
	return "", false
}

func (y *yamlReader) str(dst *string) fieldFunc {
	return func(n *yaml.Node, p string) { *dst, _ = y.scalar(n, p) }
}

func (y *yamlReader) integer(dst *int) fieldFunc {
	return func(n *yaml.Node, p string) {
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(dst) != nil {
			y.typeError(n, p, "integer")
		}
	}
}

func (y *yamlReader) boolean(dst *bool) fieldFunc {
	return func(n *yaml.Node, p string) {
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(dst) != nil {
			y.problem(p, n.Line, pathways.CodeType, map[string]any{"Expected": "boolean"}, "wrong type: expected true or false")
		}
	}
}

// seq returns the items of a list (none for null), with their lines
// recorded.
// A list longer than max is one problem, and its items are not decoded.
func (y *yamlReader) seq(n *yaml.Node, p string, max int) []*yaml.Node {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		y.typeError(n, p, "list")
		return nil
	}
	if len(n.Content) > max {
		y.problem(p, n.Line, pathways.CodeTooMany, map[string]any{"Count": max})
		return nil
	}
	for i, item := range n.Content {
		y.lines[join(p, strconv.Itoa(i))] = item.Line
	}
	return n.Content
}

// isMapping checks that n is a mapping.
func (y *yamlReader) isMapping(n *yaml.Node, p string) bool {
	if y.alias(n, p) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		y.typeError(n, p, "mapping")
		return false
	}
	return true
}

// strList decodes a list of strings; an item of the wrong type keeps its
// place (empty) so that later paths stay right.
func (y *yamlReader) strList(dst *[]string, max int) fieldFunc {
	return func(n *yaml.Node, p string) {
		for i, item := range y.seq(n, p, max) {
			s, _ := y.scalar(item, join(p, strconv.Itoa(i)))
			*dst = append(*dst, s)
		}
	}
}

// strMap decodes a mapping from locale to path.
func (y *yamlReader) strMap(dst *map[string]string) fieldFunc {
	return func(n *yaml.Node, p string) {
		if isNull(n) || !y.isMapping(n, p) {
			return
		}
		if len(n.Content)/2 > courses.MaxLocales {
			y.problem(p, n.Line, pathways.CodeTooMany, map[string]any{"Count": courses.MaxLocales})
			return
		}
		m := map[string]string{}
		y.mapping(n, p, func(name string) fieldFunc {
			return func(v *yaml.Node, vp string) { m[name], _ = y.scalar(v, vp) }
		})
		if len(m) > 0 {
			*dst = m
		}
	}
}

func (y *yamlReader) modules(dst *[]courses.Module) fieldFunc {
	return func(n *yaml.Node, p string) {
		for i, item := range y.seq(n, p, courses.MaxModules) {
			ip := join(p, strconv.Itoa(i))
			var m courses.Module
			if y.isMapping(item, ip) {
				y.mapping(item, ip, fields{
					"id":       y.str(&m.ID),
					"title":    y.str(&m.Title),
					"summary":  y.str(&m.Summary),
					"requires": y.strList(&m.Requires, courses.MaxModules),
					"lessons":  y.lessons(&m.Lessons),
				}.get)
			}
			*dst = append(*dst, m)
		}
	}
}

func (y *yamlReader) lessons(dst *[]courses.Lesson) fieldFunc {
	return func(n *yaml.Node, p string) {
		for i, item := range y.seq(n, p, courses.MaxLessons) {
			ip := join(p, strconv.Itoa(i))
			var l courses.Lesson
			if y.isMapping(item, ip) {
				y.mapping(item, ip, fields{
					"id":      y.str(&l.ID),
					"title":   y.str(&l.Title),
					"minutes": y.integer(&l.Minutes),
					"blocks":  y.blocks(&l.Blocks),
				}.get)
			}
			*dst = append(*dst, l)
		}
	}
}

func (y *yamlReader) blocks(dst *[]courses.Block) fieldFunc {
	return func(n *yaml.Node, p string) {
		for i, item := range y.seq(n, p, courses.MaxBlocks) {
			ip := join(p, strconv.Itoa(i))
			var b courses.Block
			var kind string
			if y.isMapping(item, ip) {
				y.mapping(item, ip, fields{
					"id":         y.str(&b.ID),
					"kind":       y.str(&kind),
					"text":       y.str(&b.Text),
					"media":      y.str(&b.Media),
					"mediaBy":    y.strMap(&b.MediaBy),
					"alt":        y.str(&b.Alt),
					"transcript": y.str(&b.Transcript),
					"subtitles":  y.strMap(&b.Subtitles),
					"url":        y.str(&b.URL),
					"helpUrl":    y.str(&b.HelpURL),
					"quiz":       y.str(&b.Quiz),
				}.get)
			}
			b.Kind = courses.BlockKind(kind)
			*dst = append(*dst, b)
		}
	}
}

func join(p, name string) string {
	if p == "" {
		return name
	}
	return p + "/" + name
}

// Writing.

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

type mapBuilder struct{ n *yaml.Node }

func newMap() mapBuilder { return mapBuilder{&yaml.Node{Kind: yaml.MappingNode}} }

func (m mapBuilder) add(key string, v *yaml.Node) { m.n.Content = append(m.n.Content, strNode(key), v) }

func (m mapBuilder) str(key, v string, always bool) {
	if v != "" || always {
		m.add(key, strNode(v))
	}
}

func (m mapBuilder) flowList(key string, items []string, always bool) {
	if len(items) == 0 && !always {
		return
	}
	l := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		l.Content = append(l.Content, strNode(s))
	}
	m.add(key, l)
}

func (m mapBuilder) flowMap(key string, v map[string]string) {
	if len(v) == 0 {
		return
	}
	fm := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		fm.Content = append(fm.Content, strNode(k), strNode(v[k]))
	}
	m.add(key, fm)
}

// blockOrder is the order of a block's fields after id and kind, per kind,
// as docs/COURSE-FORMAT.md shows them; fields a kind does not use follow in
// otherFields' order.
var (
	blockOrder = map[courses.BlockKind][]string{
		courses.BlockText:       {"text"},
		courses.BlockImage:      {"media", "mediaBy", "alt", "text"},
		courses.BlockAudio:      {"media", "mediaBy", "transcript"},
		courses.BlockVideo:      {"media", "mediaBy", "subtitles", "transcript"},
		courses.BlockResource:   {"text", "media", "url"},
		courses.BlockReflection: {"text"},
		courses.BlockQuiz:       {"quiz"},
		courses.BlockNote:       {"text", "helpUrl"},
	}
	otherFields = []string{"text", "media", "mediaBy", "alt", "transcript", "subtitles", "url", "helpUrl", "quiz"}
)

// encodeCourse writes course.yaml: keys in the order of the format's
// documentation, empty optional fields left out, two-space indent.
func encodeCourse(c courses.Course, format int) ([]byte, error) {
	root := newMap()
	root.add("format", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(format)})
	root.str("slug", c.Slug, true)
	root.str("defaultLocale", c.DefaultLocale, true)
	root.flowList("locales", c.Locales, true)
	root.str("topic", string(c.Topic), true)
	audiences := make([]string, len(c.Audiences))
	for i, a := range c.Audiences {
		audiences[i] = string(a)
	}
	root.flowList("audiences", audiences, true)
	root.str("level", string(c.Level), true)
	if c.Shared {
		root.add("shared", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	root.str("title", c.Title, true)
	root.str("summary", c.Summary, false)
	if len(c.Modules) > 0 {
		mods := &yaml.Node{Kind: yaml.SequenceNode}
		for _, m := range c.Modules {
			mods.Content = append(mods.Content, encodeModule(m))
		}
		root.add("modules", mods)
	}
	return encodeYAML(root.n)
}

// encodeYAML writes one document with a two-space indent.
func encodeYAML(root *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

func encodeModule(m courses.Module) *yaml.Node {
	mm := newMap()
	mm.str("id", m.ID, true)
	mm.str("title", m.Title, true)
	mm.str("summary", m.Summary, false)
	mm.flowList("requires", m.Requires, false)
	if len(m.Lessons) > 0 {
		ls := &yaml.Node{Kind: yaml.SequenceNode}
		for _, l := range m.Lessons {
			lm := newMap()
			lm.str("id", l.ID, true)
			lm.str("title", l.Title, true)
			lm.add("minutes", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(l.Minutes)})
			if len(l.Blocks) > 0 {
				bs := &yaml.Node{Kind: yaml.SequenceNode}
				for _, b := range l.Blocks {
					bs.Content = append(bs.Content, encodeBlock(b))
				}
				lm.add("blocks", bs)
			}
			ls.Content = append(ls.Content, lm.n)
		}
		mm.add("lessons", ls)
	}
	return mm.n
}

func encodeBlock(b courses.Block) *yaml.Node {
	bm := newMap()
	bm.str("id", b.ID, true)
	bm.str("kind", string(b.Kind), true)
	order := blockOrder[b.Kind]
	for _, f := range otherFields {
		if !slices.Contains(order, f) {
			order = append(order[:len(order):len(order)], f)
		}
	}
	for _, f := range order {
		switch f {
		case "text":
			bm.str(f, b.Text, false)
		case "media":
			bm.str(f, b.Media, false)
		case "mediaBy":
			bm.flowMap(f, b.MediaBy)
		case "alt":
			bm.str(f, b.Alt, false)
		case "transcript":
			bm.str(f, b.Transcript, false)
		case "subtitles":
			bm.flowMap(f, b.Subtitles)
		case "url":
			bm.str(f, b.URL, false)
		case "helpUrl":
			bm.str(f, b.HelpURL, false)
		case "quiz":
			bm.str(f, b.Quiz, false)
		}
	}
	return bm.n
}
