package courses

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// Field error codes of this package; each has a "field.<code>" message in
// the UI catalogue. Courses also use the generic codes of package pathways
// and the text codes of i18n.
const (
	CodeSlug          = "slug"
	CodeUnknownModule = "unknown_module"
	CodeCycle         = "cycle"
	CodeEmptyCourse   = "empty_course"
	CodeUnknownQuiz   = "unknown_quiz"
)

// FieldCodes lists every field error code courses produces itself, for the
// catalogue test.
var FieldCodes = []string{CodeSlug, CodeUnknownModule, CodeCycle, CodeEmptyCourse, CodeUnknownQuiz}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// SlugMax is the longest course slug.
const SlugMax = 64

// CheckStructure checks a course's structure on its own: identifiers,
// settings, the fields each block kind uses, module prerequisites (no
// unknown module, no cycle) and sizes. It does not look at the texts (see
// CheckMessages) nor at media (the service checks those against the
// library). It returns a *pathways.ValidationError listing every problem,
// up to pathways.MaxFieldErrors: a list longer than its limit is one
// problem (its items are not looked at), and checking stops once the
// error list is full.
func CheckStructure(c Course) error {
	v := &pathways.ValidationError{}
	checkSlug(v, "slug", c.Slug)
	i18n.CheckLocales(v, c.DefaultLocale, c.Locales)
	pathways.CheckEnum(v, "topic", c.Topic, Topics)
	if len(c.Audiences) == 0 {
		v.Add("audiences", pathways.CodeRequired, nil)
	}
	if pathways.CheckCount(v, "audiences", len(c.Audiences), len(Audiences)) {
		for i, a := range c.Audiences {
			pathways.CheckEnum(v, pathways.Path("audiences", i), a, Audiences)
			if slices.Index(c.Audiences, a) < i {
				v.Add(pathways.Path("audiences", i), pathways.CodeDuplicate, nil)
			}
		}
	}
	pathways.CheckEnum(v, "level", c.Level, Levels)
	i18n.CheckMessageID(v, "title", c.Title, true)
	i18n.CheckMessageID(v, "summary", c.Summary, false)

	if !pathways.CheckCount(v, "modules", len(c.Modules), MaxModules) {
		return v.Err()
	}
	modules := map[string]int{}
	lessons := map[string]bool{}
	for i, m := range c.Modules {
		if v.Full() {
			return v.Err()
		}
		mp := pathways.Path("modules", i)
		if pathways.CheckKey(v, mp+"/id", m.ID) {
			if _, dup := modules[m.ID]; dup {
				v.Add(mp+"/id", pathways.CodeDuplicate, nil)
			}
			modules[m.ID] = i
		}
		i18n.CheckMessageID(v, mp+"/title", m.Title, true)
		i18n.CheckMessageID(v, mp+"/summary", m.Summary, false)
		pathways.CheckCount(v, mp+"/requires", len(m.Requires), MaxModules)
		if !pathways.CheckCount(v, mp+"/lessons", len(m.Lessons), MaxLessons) {
			continue
		}
		for j, l := range m.Lessons {
			if v.Full() {
				return v.Err()
			}
			lp := pathways.Path(mp, "lessons", j)
			if pathways.CheckKey(v, lp+"/id", l.ID) {
				if lessons[l.ID] {
					v.Add(lp+"/id", pathways.CodeDuplicate, nil)
				}
				lessons[l.ID] = true
			}
			i18n.CheckMessageID(v, lp+"/title", l.Title, true)
			if l.Minutes < 1 || l.Minutes > MaxMinutes {
				v.Add(lp+"/minutes", pathways.CodeRange, map[string]any{"Min": 1, "Max": MaxMinutes})
			}
			if !pathways.CheckCount(v, lp+"/blocks", len(l.Blocks), MaxBlocks) {
				continue
			}
			blocks := map[string]bool{}
			for k, b := range l.Blocks {
				if v.Full() {
					return v.Err()
				}
				bp := pathways.Path(lp, "blocks", k)
				if pathways.CheckKey(v, bp+"/id", b.ID) {
					if blocks[b.ID] {
						v.Add(bp+"/id", pathways.CodeDuplicate, nil)
					}
					blocks[b.ID] = true
				}
				checkBlock(v, bp, b)
			}
		}
	}
	for i, m := range c.Modules {
		if len(m.Requires) > MaxModules {
			continue // reported above
		}
		for j, r := range m.Requires {
			if v.Full() {
				return v.Err()
			}
			rp := pathways.Path("modules", i, "requires", j)
			switch _, ok := modules[r]; {
			case !ok:
				v.Add(rp, CodeUnknownModule, map[string]any{"Value": pathways.Clip(r)})
			case r == m.ID:
				v.Add(rp, CodeCycle, map[string]any{"Value": r})
			case slices.Index(m.Requires, r) < j:
				v.Add(rp, pathways.CodeDuplicate, nil)
			}
		}
	}
	if cyc := findCycle(c.Modules, modules); len(cyc) > 1 {
		v.Add(pathways.Path("modules", modules[cyc[0]], "requires"), CodeCycle, map[string]any{"Value": strings.Join(cyc, " → ")})
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
			v.Add(pathways.Path("modules", i, "lessons"), CodeEmptyCourse, nil)
		}
		for j, l := range m.Lessons {
			if v.Full() {
				return v.Err()
			}
			if len(l.Blocks) == 0 {
				v.Add(pathways.Path("modules", i, "lessons", j, "blocks"), CodeEmptyCourse, nil)
			}
		}
	}
	return v.Err()
}

// CheckDraft checks a draft as the service does before it looks at the
// media library: its structure and, not strictly, its texts (a draft may
// hold texts it no longer names). A draft without locales offers its
// default locale. It returns a *pathways.ValidationError listing every
// problem.
func CheckDraft(c Course) error {
	if len(c.Locales) == 0 && c.DefaultLocale != "" {
		c.Locales = []string{c.DefaultLocale}
	}
	all := &pathways.ValidationError{}
	for _, err := range []error{CheckStructure(c), CheckMessages(c, false)} {
		if err := all.Merge("", err); err != nil {
			return err
		}
	}
	return all.Err()
}

// CheckSlug checks a course slug, adding what is wrong to v.
func CheckSlug(v *pathways.ValidationError, field, s string) { checkSlug(v, field, s) }

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
		pathways.CheckEnum(v, bp+"/kind", b.Kind, BlockKinds)
		return
	}
	has := b.present()
	for _, f := range rule.required {
		if !has[f] {
			v.Add(bp+"/"+f, pathways.CodeRequired, nil)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(has)) {
		if has[f] && !slices.Contains(rule.required, f) && !slices.Contains(rule.optional, f) {
			v.Add(bp+"/"+f, pathways.CodeNotAllowed, map[string]any{"Value": string(b.Kind)})
		}
	}
	if b.Kind == BlockResource && !has["media"] && !has["url"] {
		v.Add(bp+"/url", pathways.CodeRequired, nil)
	}
	for _, f := range messageFields {
		i18n.CheckMessageID(v, bp+"/"+f, b.messageField(f), false)
	}
	for _, m := range []struct {
		name string
		byLC map[string]string
	}{{"mediaBy", b.MediaBy}, {"subtitles", b.Subtitles}} {
		if !pathways.CheckCount(v, bp+"/"+m.name, len(m.byLC), MaxLocales) {
			continue
		}
		for _, l := range slices.Sorted(maps.Keys(m.byLC)) {
			lp := bp + "/" + m.name + "/" + pathways.EscapeToken(pathways.Clip(l))
			checkLocale(v, lp, l, true)
			if m.byLC[l] == "" {
				v.Add(lp, pathways.CodeRequired, nil)
			}
		}
	}
	if b.Quiz != "" && !slugRE.MatchString(strings.ToLower(b.Quiz)) {
		v.Add(bp+"/quiz", pathways.CodeInvalid, nil)
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
		v.Add(field, pathways.CodeRequired, nil)
	case len(s) > SlugMax:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": SlugMax})
	case !slugRE.MatchString(s):
		v.Add(field, CodeSlug, nil)
	}
}

func checkLocale(v *pathways.ValidationError, field, tag string, required bool) {
	i18n.CheckLocale(v, field, tag, required)
}
