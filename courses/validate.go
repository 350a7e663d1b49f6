package courses

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
)

// Field error codes of this package; each has a "field.<code>" message in
// the UI catalogue.
const (
	CodeRequired       = "required"
	CodeInvalid        = "invalid"
	CodeTooLong        = "too_long"
	CodeLocale         = "locale"
	CodeSlug           = "slug"
	CodeKey            = "key"
	CodeMessageID      = "message_id"
	CodeDuplicate      = "duplicate_value"
	CodeEnum           = "enum"
	CodeRange          = "range"
	CodeTooMany        = "too_many"
	CodeUnknownModule  = "unknown_module"
	CodeCycle          = "cycle"
	CodeNotAllowed     = "not_allowed"
	CodeMissingText    = "missing_text"
	CodeUnusedMessage  = "unused_message"
	CodeNotOffered     = "not_offered"
	CodeURL            = "url"
	CodeMediaKind      = "media_kind"
	CodeUnknownMedia   = "unknown_media"
	CodeEmptyCourse    = "empty_course"
	CodeTooBig         = "too_big"
	CodeNoPluralOther  = "plural_other"
	CodeTemplateSyntax = "template"
	CodeUnknownQuiz    = "unknown_quiz"
)

// FieldCodes lists every field error code courses produces, for the
// catalogue test.
var FieldCodes = []string{
	CodeRequired, CodeInvalid, CodeTooLong, CodeLocale, CodeSlug, CodeKey, CodeMessageID,
	CodeDuplicate, CodeEnum, CodeRange, CodeTooMany, CodeUnknownModule, CodeCycle, CodeNotAllowed,
	CodeMissingText, CodeUnusedMessage, CodeNotOffered, CodeURL, CodeMediaKind, CodeUnknownMedia,
	CodeEmptyCourse, CodeTooBig, CodeNoPluralOther, CodeTemplateSyntax, CodeUnknownQuiz,
}

var (
	slugRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	keyRE       = slugRE
	messageIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Limits on identifiers.
const (
	SlugMax      = 64
	KeyMax       = 64
	MessageIDMax = 128
)

// Field paths name a place in a course like a JSON Pointer without its
// leading slash: "modules/1/lessons/0/blocks/3/media".
func path(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, "/")
}

// CheckStructure checks a course's structure on its own: identifiers,
// settings, the fields each block kind uses, module prerequisites (no
// unknown module, no cycle) and sizes. It does not look at the texts (see
// CheckMessages) nor at media (the service checks those against the
// library). It returns a *pathways.ValidationError listing every problem.
func CheckStructure(c Course) error {
	v := &pathways.ValidationError{}
	checkSlug(v, "slug", c.Slug)
	checkLocale(v, "defaultLocale", c.DefaultLocale, true)
	if len(c.Locales) > MaxLocales {
		v.Add("locales", CodeTooMany, map[string]any{"Count": MaxLocales})
	}
	for i, l := range c.Locales {
		checkLocale(v, path("locales", i), l, true)
		if slices.Index(c.Locales, l) < i {
			v.Add(path("locales", i), CodeDuplicate, nil)
		}
	}
	if c.DefaultLocale != "" && !slices.Contains(c.Locales, c.DefaultLocale) {
		v.Add("locales", CodeNotOffered, map[string]any{"Value": c.DefaultLocale})
	}
	CheckEnum(v, "topic", c.Topic, Topics)
	if len(c.Audiences) == 0 {
		v.Add("audiences", CodeRequired, nil)
	}
	for i, a := range c.Audiences {
		CheckEnum(v, path("audiences", i), a, Audiences)
		if slices.Index(c.Audiences, a) < i {
			v.Add(path("audiences", i), CodeDuplicate, nil)
		}
	}
	CheckEnum(v, "level", c.Level, Levels)
	CheckMessageID(v, "title", c.Title, true)
	CheckMessageID(v, "summary", c.Summary, false)

	if len(c.Modules) > MaxModules {
		v.Add("modules", CodeTooMany, map[string]any{"Count": MaxModules})
	}
	modules := map[string]int{}
	lessons := map[string]bool{}
	for i, m := range c.Modules {
		mp := path("modules", i)
		if CheckKey(v, mp+"/id", m.ID) {
			if _, dup := modules[m.ID]; dup {
				v.Add(mp+"/id", CodeDuplicate, nil)
			}
			modules[m.ID] = i
		}
		CheckMessageID(v, mp+"/title", m.Title, true)
		CheckMessageID(v, mp+"/summary", m.Summary, false)
		if len(m.Lessons) > MaxLessons {
			v.Add(mp+"/lessons", CodeTooMany, map[string]any{"Count": MaxLessons})
		}
		for j, l := range m.Lessons {
			lp := path(mp, "lessons", j)
			if CheckKey(v, lp+"/id", l.ID) {
				if lessons[l.ID] {
					v.Add(lp+"/id", CodeDuplicate, nil)
				}
				lessons[l.ID] = true
			}
			CheckMessageID(v, lp+"/title", l.Title, true)
			if l.Minutes < 1 || l.Minutes > MaxMinutes {
				v.Add(lp+"/minutes", CodeRange, map[string]any{"Min": 1, "Max": MaxMinutes})
			}
			if len(l.Blocks) > MaxBlocks {
				v.Add(lp+"/blocks", CodeTooMany, map[string]any{"Count": MaxBlocks})
			}
			blocks := map[string]bool{}
			for k, b := range l.Blocks {
				bp := path(lp, "blocks", k)
				if CheckKey(v, bp+"/id", b.ID) {
					if blocks[b.ID] {
						v.Add(bp+"/id", CodeDuplicate, nil)
					}
					blocks[b.ID] = true
				}
				checkBlock(v, bp, b)
			}
		}
	}
	for i, m := range c.Modules {
		for j, r := range m.Requires {
			rp := path("modules", i, "requires", j)
			switch _, ok := modules[r]; {
			case !ok:
				v.Add(rp, CodeUnknownModule, map[string]any{"Value": r})
			case r == m.ID:
				v.Add(rp, CodeCycle, map[string]any{"Value": r})
			case slices.Index(m.Requires, r) < j:
				v.Add(rp, CodeDuplicate, nil)
			}
		}
	}
	if cyc := findCycle(c.Modules, modules); len(cyc) > 1 {
		v.Add(path("modules", modules[cyc[0]], "requires"), CodeCycle, map[string]any{"Value": strings.Join(cyc, " → ")})
	}
	return v.Err()
}

// CheckPublishable adds what a version needs beyond a valid draft: at
// least one module, every module at least one lesson, every lesson at
// least one block.
func CheckPublishable(c Course) error {
	v := &pathways.ValidationError{}
	if len(c.Modules) == 0 {
		v.Add("modules", CodeEmptyCourse, nil)
	}
	for i, m := range c.Modules {
		if len(m.Lessons) == 0 {
			v.Add(path("modules", i, "lessons"), CodeEmptyCourse, nil)
		}
		for j, l := range m.Lessons {
			if len(l.Blocks) == 0 {
				v.Add(path("modules", i, "lessons", j, "blocks"), CodeEmptyCourse, nil)
			}
		}
	}
	return v.Err()
}

// blockFields says, per kind, which optional fields a block may use and
// which it must; anything else is not allowed.
var blockFields = map[BlockKind]struct{ required, optional []string }{
	BlockText:       {required: []string{"text"}},
	BlockImage:      {required: []string{"media", "alt"}, optional: []string{"text", "mediaBy"}},
	BlockAudio:      {required: []string{"media", "transcript"}, optional: []string{"mediaBy"}},
	BlockVideo:      {required: []string{"media", "transcript"}, optional: []string{"subtitles", "mediaBy"}},
	BlockResource:   {required: []string{"text"}, optional: []string{"media", "url"}},
	BlockReflection: {required: []string{"text"}},
	BlockQuiz:       {required: []string{"quiz"}},
	BlockNote:       {required: []string{"text"}, optional: []string{"helpUrl"}},
}

// present lists the fields a block sets, by their names in the package
// format and the API.
func (b Block) present() map[string]bool {
	return map[string]bool{
		"text": b.Text != "", "media": b.Media != "", "mediaBy": len(b.MediaBy) > 0,
		"alt": b.Alt != "", "transcript": b.Transcript != "", "subtitles": len(b.Subtitles) > 0,
		"url": b.URL != "", "helpUrl": b.HelpURL != "", "quiz": b.Quiz != "",
	}
}

// messageFields are the block fields that hold message IDs.
var messageFields = []string{"text", "alt", "transcript", "url", "helpUrl"}

func checkBlock(v *pathways.ValidationError, bp string, b Block) {
	rule, ok := blockFields[b.Kind]
	if !ok {
		CheckEnum(v, bp+"/kind", b.Kind, BlockKinds)
		return
	}
	has := b.present()
	for _, f := range rule.required {
		if !has[f] {
			v.Add(bp+"/"+f, CodeRequired, nil)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(has)) {
		if has[f] && !slices.Contains(rule.required, f) && !slices.Contains(rule.optional, f) {
			v.Add(bp+"/"+f, CodeNotAllowed, map[string]any{"Value": string(b.Kind)})
		}
	}
	if b.Kind == BlockResource && !has["media"] && !has["url"] {
		v.Add(bp+"/url", CodeRequired, nil)
	}
	for _, f := range messageFields {
		CheckMessageID(v, bp+"/"+f, b.messageField(f), false)
	}
	for _, m := range []struct {
		name string
		byLC map[string]string
	}{{"mediaBy", b.MediaBy}, {"subtitles", b.Subtitles}} {
		for _, l := range slices.Sorted(maps.Keys(m.byLC)) {
			checkLocale(v, bp+"/"+m.name+"/"+l, l, true)
			if m.byLC[l] == "" {
				v.Add(bp+"/"+m.name+"/"+l, CodeRequired, nil)
			}
		}
	}
	if b.Quiz != "" && !keyRE.MatchString(strings.ToLower(b.Quiz)) {
		v.Add(bp+"/quiz", CodeInvalid, nil)
	}
}

// messageField returns the message ID a block holds in field f.
func (b Block) messageField(f string) string {
	switch f {
	case "text":
		return b.Text
	case "alt":
		return b.Alt
	case "transcript":
		return b.Transcript
	case "url":
		return b.URL
	case "helpUrl":
		return b.HelpURL
	}
	return ""
}

// findCycle returns the modules of one prerequisite cycle, first module
// repeated at the end, or nil.
func findCycle(mods []Module, index map[string]int) []string {
	const (
		unseen = iota
		active
		done
	)
	state := make(map[string]int, len(mods))
	var stack []string
	var visit func(id string) []string
	visit = func(id string) []string {
		state[id] = active
		stack = append(stack, id)
		for _, r := range mods[index[id]].Requires {
			if _, ok := index[r]; !ok || r == id {
				continue // reported on its own
			}
			switch state[r] {
			case active:
				at := slices.Index(stack, r)
				return append(slices.Clone(stack[at:]), r)
			case unseen:
				if c := visit(r); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
		return nil
	}
	for _, m := range mods {
		if _, ok := index[m.ID]; ok && state[m.ID] == unseen {
			if c := visit(m.ID); c != nil {
				return c
			}
		}
	}
	return nil
}

func checkSlug(v *pathways.ValidationError, field, s string) {
	switch {
	case s == "":
		v.Add(field, CodeRequired, nil)
	case len(s) > SlugMax:
		v.Add(field, CodeTooLong, map[string]any{"Count": SlugMax})
	case !slugRE.MatchString(s):
		v.Add(field, CodeSlug, nil)
	}
}

// CheckKey checks a stable ID (module, lesson, block, question, option)
// — lower-case letters, digits and single dashes — adds what is wrong to v
// and reports whether it is usable.
func CheckKey(v *pathways.ValidationError, field, s string) bool {
	switch {
	case s == "":
		v.Add(field, CodeRequired, nil)
	case len(s) > KeyMax:
		v.Add(field, CodeTooLong, map[string]any{"Count": KeyMax})
	case !keyRE.MatchString(s):
		v.Add(field, CodeKey, nil)
	default:
		return true
	}
	return false
}

// CheckMessageID checks a message ID (letters, digits, ".", "_", "-", at
// most MessageIDMax) and adds what is wrong to v; an empty one only if
// required.
func CheckMessageID(v *pathways.ValidationError, field, id string, required bool) {
	switch {
	case id == "":
		if required {
			v.Add(field, CodeRequired, nil)
		}
	case len(id) > MessageIDMax:
		v.Add(field, CodeTooLong, map[string]any{"Count": MessageIDMax})
	case !messageIDRE.MatchString(id):
		v.Add(field, CodeMessageID, nil)
	}
}

// ValidLocale reports whether tag is a well-formed BCP 47 tag of a real
// language, in its canonical form ("fa-AF", not "fa_af").
func ValidLocale(tag string) bool {
	if tag == "" || len(tag) > 35 {
		return false
	}
	t, err := language.Parse(tag)
	if err != nil || t.String() != tag {
		return false
	}
	base, conf := t.Base()
	return conf != language.No && base.String() != "und"
}

func checkLocale(v *pathways.ValidationError, field, tag string, required bool) {
	switch {
	case tag == "":
		if required {
			v.Add(field, CodeRequired, nil)
		}
	case !ValidLocale(tag):
		v.Add(field, CodeLocale, nil)
	}
}

// CheckEnum checks that x is one of allowed, adding "required" or "enum"
// (with the allowed values) to v.
func CheckEnum[T ~string](v *pathways.ValidationError, field string, x T, allowed []T) {
	switch {
	case x == "":
		v.Add(field, CodeRequired, nil)
	case !slices.Contains(allowed, x):
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		v.Add(field, CodeEnum, map[string]any{"Value": strings.Join(names, ", ")})
	}
}

func checkLength(v *pathways.ValidationError, field, s string, maxLen int) {
	if utf8.RuneCountInString(s) > maxLen {
		v.Add(field, CodeTooLong, map[string]any{"Count": maxLen})
	}
}
