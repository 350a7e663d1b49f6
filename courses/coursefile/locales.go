package coursefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// jsonReader decodes one go-i18n message file by walking its tokens, so
// that each message ID and each key of a message object has its line.
type jsonReader struct {
	file   string
	locale string
	data   []byte
	pr     *collector
	lines  map[string]int  // "messages/<locale>/<escaped id>[/<key>]" → line
	bad    map[string]bool // the same paths, reported here
	dec    *json.Decoder
}

// errSyntax stops the walk after a syntax error has been reported.
var errSyntax = errors.New("syntax error")

// decode returns the file's messages; ok is false after a syntax error.
func (j *jsonReader) decode() (msgs map[string]i18n.Message, ok bool) {
	if !utf8.Valid(j.data) {
		off := 0
		for off < len(j.data) {
			r, n := utf8.DecodeRune(j.data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		j.pr.add(j.file, lineOf(j.data, int64(off)), "", CodeSyntax, nil, "not UTF-8 text")
		return nil, false
	}
	j.dec = json.NewDecoder(bytes.NewReader(j.data))
	j.dec.UseNumber()
	tok, err := j.token()
	if err != nil {
		return nil, false
	}
	if tok != json.Delim('{') {
		j.pr.add(j.file, j.line(), "", pathways.CodeType, map[string]any{"Expected": "object"},
			"a locale file holds one JSON object, from message ID to message")
		return nil, false
	}
	msgs = map[string]i18n.Message{}
	seen := map[string]int{}
	for j.dec.More() {
		tok, err := j.token()
		if err != nil {
			return nil, false
		}
		id, _ := tok.(string)
		line := j.line()
		if len(seen) == i18n.MaxMessages {
			// A file longer than the limit is one problem, at the first
			// message past it; the rest is not decoded.
			j.pr.add(j.file, line, "", pathways.CodeTooMany, map[string]any{"Count": i18n.MaxMessages})
			j.bad["messages/"+j.locale] = true
			if j.skip() != nil || j.skipRest() != nil {
				return nil, false
			}
			return msgs, true
		}
		field := pathways.EscapeToken(id)
		if first, dup := seen[id]; dup {
			j.problem(field, line, pathways.CodeDuplicateKey, map[string]any{"Line": first},
				fmt.Sprintf("message %s is given twice (first on line %d)", strconv.Quote(id), first))
			if j.skip() != nil {
				return nil, false
			}
			continue
		}
		seen[id] = line
		j.lines[j.path(field)] = line
		m, err := j.message(field)
		if err != nil {
			return nil, false
		}
		msgs[id] = m
	}
	if _, err := j.token(); err != nil { // the closing brace
		return nil, false
	}
	if _, err := j.dec.Token(); err != io.EOF {
		j.pr.add(j.file, j.line(), "", CodeSyntax, nil, "JSON syntax error: more after the end of the object")
		return nil, false
	}
	return msgs, true
}

// path is the field path courses uses for a place in this file.
func (j *jsonReader) path(field string) string { return "messages/" + j.locale + "/" + field }

func (j *jsonReader) problem(field string, line int, code string, params map[string]any, msg ...string) {
	j.pr.add(j.file, line, field, code, params, msg...)
	j.bad[j.path(field)] = true
}

// line is the line the decoder stands on (the end of the last token).
func (j *jsonReader) line() int { return lineOf(j.data, j.dec.InputOffset()) }

// token reads a token, reporting a syntax error with its line.
func (j *jsonReader) token() (json.Token, error) {
	tok, err := j.dec.Token()
	if err == nil {
		return tok, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		j.pr.add(j.file, lineOf(j.data, syn.Offset), "", CodeSyntax, nil, "JSON syntax error: "+syn.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		j.pr.add(j.file, lineOf(j.data, int64(len(bytes.TrimRight(j.data, " \t\r\n")))), "", CodeSyntax, nil,
			"JSON syntax error: unexpected end of file")
	default:
		j.pr.add(j.file, j.line(), "", CodeSyntax, nil, "JSON syntax error: "+err.Error())
	}
	return nil, errSyntax
}

// skip skips the value that comes next, whole.
func (j *jsonReader) skip() error {
	depth := 0
	for {
		tok, err := j.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// skipRest skips what remains of an object or array whose opening
// delimiter was read.
func (j *jsonReader) skipRest() error {
	for j.dec.More() {
		if err := j.skip(); err != nil {
			return err
		}
	}
	_, err := j.token()
	return err
}

// message reads one message: a string (its "other" text) or an object of
// go-i18n's keys.
func (j *jsonReader) message(field string) (i18n.Message, error) {
	line := j.line()
	tok, err := j.token()
	if err != nil {
		return i18n.Message{}, err
	}
	switch t := tok.(type) {
	case string:
		return i18n.Message{Other: t}, nil
	case json.Delim:
		if t == '{' {
			return j.object(field)
		}
		j.problem(field, line, pathways.CodeType, map[string]any{"Expected": "string or object"},
			"wrong type: a message is a string or an object with \"other\"")
		return i18n.Message{}, j.skipRest()
	}
	j.problem(field, line, pathways.CodeType, map[string]any{"Expected": "string or object"},
		"wrong type: a message is a string or an object with \"other\"")
	return i18n.Message{}, nil
}

// object reads a message object after its opening brace.
func (j *jsonReader) object(field string) (i18n.Message, error) {
	var m i18n.Message
	seen := map[string]int{}
	for j.dec.More() {
		tok, err := j.token()
		if err != nil {
			return m, err
		}
		key, _ := tok.(string)
		line := j.line()
		kf := field + "/" + pathways.EscapeToken(key)
		j.lines[j.path(kf)] = line
		vtok, err := j.token()
		if err != nil {
			return m, err
		}
		s, isString := vtok.(string)
		if d, isDelim := vtok.(json.Delim); isDelim && (d == '{' || d == '[') {
			if err := j.skipRest(); err != nil {
				return m, err
			}
		}
		var dst *string
		switch key {
		case "description":
			dst = &m.Description
		case "hash":
			dst = &m.Hash
		case "zero":
			dst = &m.Zero
		case "one":
			dst = &m.One
		case "two":
			dst = &m.Two
		case "few":
			dst = &m.Few
		case "many":
			dst = &m.Many
		case "other":
			dst = &m.Other
		}
		switch first, dup := seen[key]; {
		case dup:
			j.problem(kf, line, pathways.CodeDuplicateKey, map[string]any{"Line": first},
				fmt.Sprintf("%s is given twice (first on line %d)", strconv.Quote(key), first))
		case dst == nil:
			j.problem(kf, line, pathways.CodeUnknown, map[string]any{"Value": key},
				"unknown key "+strconv.Quote(key)+": a message object holds description, hash, zero, one, two, few, many and other")
		case !isString:
			j.problem(kf, line, pathways.CodeType, map[string]any{"Expected": "string"}, "wrong type: expected a string")
		default:
			*dst = s
		}
		seen[key] = line
	}
	_, err := j.token() // the closing brace
	return m, err
}

// encodeMessages writes a locale file as goi18n does: IDs sorted, two-space
// indent, a plain string for a message that is only an "other" text, an
// object with sorted keys otherwise; HTML characters are left unescaped
// for translators to read.
func encodeMessages(msgs map[string]i18n.Message) ([]byte, error) {
	out := make(map[string]any, len(msgs))
	for id, m := range msgs {
		if m == (i18n.Message{Other: m.Other}) {
			out[id] = m.Other
			continue
		}
		obj := map[string]string{"other": m.Other}
		for k, v := range map[string]string{
			"description": m.Description, "hash": m.Hash,
			"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many,
		} {
			if v != "" {
				obj[k] = v
			}
		}
		out[id] = obj
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
