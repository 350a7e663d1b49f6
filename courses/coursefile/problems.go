package coursefile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// Problem codes of this package. Problems that courses.CheckStructure and
// courses.CheckMessages find keep the courses.Code* codes; these are the
// problems of the files themselves. Each code has a "field.<code>" message
// in the UI catalogue; "unknown", "type" and "duplicate" are the codes (and
// parameters) the server uses for the same problems in JSON bodies.
const (
	// CodeSyntax: course.yaml or a locale file is not well-formed YAML or
	// JSON (or not UTF-8), or course.yaml holds more than one document.
	CodeSyntax = "syntax"
	// CodeAlias: course.yaml uses a YAML alias (*name), which the format
	// does not allow.
	CodeAlias = "alias"
	// CodeFormatVersion: course.yaml's format is not one this version
	// reads (Params["Value"] is the one it reads).
	CodeFormatVersion = "format_version"
	// CodeMissingFile: course.yaml, the default locale's file or a media
	// file the structure names is not in the package.
	CodeMissingFile = "missing_file"
	// CodePath: a media path is not a clean relative path under media/,
	// or an entry of a folder is a symbolic link or special file.
	CodePath = "path"
	// CodeLocaleFile: a file in locales/ is not named <locale>.json after
	// a valid, canonical BCP 47 tag (Params["Value"] may suggest one).
	CodeLocaleFile = "locale_file"
	// CodeStrayFile: a file or folder outside course.yaml, locales/ and
	// media/.
	CodeStrayFile = "stray_file"
	// CodeFileTooLarge: course.yaml or a locale file is larger than
	// Params["Count"] MiB.
	CodeFileTooLarge = "file_too_large"
	// CodeUnreadable: a file could not be read (a damaged zip entry, one
	// that holds more than its header says, an I/O error).
	CodeUnreadable = "unreadable"
	// CodeZipInvalid: the archive is not a zip file this package reads
	// (damaged, encrypted, an unsupported compression method).
	CodeZipInvalid = "zip_invalid"
	// CodeZipUnsafe: an entry's name is absolute, holds "..", a backslash
	// or is otherwise not a clean path; it is a symbolic link or special
	// file; two entries share a name; or it is compressed more than
	// Limits.Ratio times (a zip bomb).
	CodeZipUnsafe = "zip_unsafe"
	// CodeZipTooLarge: an entry, or all of them together, unpack to more
	// than Limits.File or Limits.Total bytes (Params["Count"] in MiB).
	CodeZipTooLarge = "zip_too_large"
	// CodeTooManyFiles: the archive holds more than Limits.Files entries.
	CodeTooManyFiles = "too_many_files"
	// CodeTextTooLarge: the files under quizzes/ and banks/ hold more
	// than Params["Count"] MiB in all (MaxItemText).
	CodeTextTooLarge = "text_too_large"
	// CodeNeedsFormat: a folder of a later format (Params["Value"],
	// quizzes/ or banks/) in a package whose course.yaml names an older
	// one (Params["Format"] is the one it needs).
	CodeNeedsFormat = "needs_format"
	// CodeOutline: a quiz without keys (keys: false) sets a field an
	// outline does not have (Params["Value"]).
	CodeOutline = "outline"
)

// FieldCodes lists every problem code this package produces itself, for
// the catalogue test; problems of the course's structure and texts use
// courses.FieldCodes.
var FieldCodes = []string{
	CodeSyntax, CodeAlias, CodeFormatVersion, CodeMissingFile, CodePath,
	CodeLocaleFile, CodeStrayFile, CodeFileTooLarge, CodeUnreadable, CodeZipInvalid, CodeZipUnsafe,
	CodeZipTooLarge, CodeTooManyFiles, CodeTextTooLarge, CodeNeedsFormat, CodeOutline,
}

// MaxProblems is how many problems an Error lists at most.
const MaxProblems = 100

// Problem is one thing wrong with a package.
type Problem struct {
	// File is the path of the file in the package ("course.yaml",
	// "locales/fr.json", a zip entry's name), or empty for the archive as
	// a whole.
	File string
	// Line is the 1-based line in File, or 0 where there is none (a
	// binary file, a problem of the whole file).
	Line int
	// Field is the place in File: a course field path such as
	// "modules/1/lessons/0/blocks/3/media" in course.yaml, a message ID
	// and form such as "course.title/other" in a locale file (escaped as
	// in a JSON Pointer: "~0" for "~", "~1" for "/"); empty for the
	// whole file.
	Field string
	// Code is a stable reason the server translates: a Code* constant of
	// this package or of courses.
	Code string
	// Params are the values the translated message needs.
	Params map[string]any
	// Message says the same in plain English, for command-line output.
	Message string
}

// String formats the problem as "file:line field: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Field != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists every problem found in a package, ordered by file (the
// archive first, then course.yaml, locales/, media/ and the rest) and
// line.
type Error struct {
	Problems []Problem // at most MaxProblems
	Omitted  int       // how many more problems were found but not listed
}

// Error returns one "file:line field: message" line per problem.
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	if e.Omitted > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more problems", e.Omitted))
	}
	return strings.Join(lines, "\n")
}

// collector gathers the problems of one read.
type collector struct {
	list    []Problem
	omitted int
}

// keepMax bounds the memory a package with very many problems can take
// before they are sorted and cut to MaxProblems.
const keepMax = 100 * MaxProblems

// add records a problem; its message is msg if given, else describe's.
func (c *collector) add(file string, line int, field, code string, params map[string]any, msg ...string) {
	if len(c.list) >= keepMax {
		c.omitted++
		return
	}
	m := strings.Join(msg, " ")
	if m == "" {
		m = describe(code, params)
	}
	c.list = append(c.list, Problem{File: file, Line: line, Field: field, Code: code, Params: params, Message: m})
}

func (c *collector) empty() bool { return len(c.list) == 0 && c.omitted == 0 }

// err returns the problems as an *Error, or nil if there are none.
func (c *collector) err() error {
	if c.empty() {
		return nil
	}
	list := slices.Clone(c.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(fileRank(a.File), fileRank(b.File)), strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	e := &Error{Problems: list, Omitted: c.omitted}
	if len(list) > MaxProblems {
		e.Problems, e.Omitted = list[:MaxProblems:MaxProblems], e.Omitted+len(list)-MaxProblems
	}
	return e
}

func fileRank(file string) int {
	if file == "" {
		return 0
	}
	parts := strings.Split(file, "/")
	// The first name the format knows, past a folder the package sits in.
	for i, part := range parts {
		switch {
		case part == courseFile && i == len(parts)-1:
			return 1
		case part == localesDir:
			return 2
		case part == quizzesDir:
			return 3
		case part == banksDir:
			return 4
		case part == mediaDir:
			return 5
		}
	}
	return 6
}

// fieldErrors returns the field errors of a validation error and how many
// more it counted; any other error becomes one "invalid" field error.
func fieldErrors(err error) ([]pathways.FieldError, int) {
	if err == nil {
		return nil, 0
	}
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields, ve.Omitted
	}
	return []pathways.FieldError{{Code: pathways.CodeInvalid, Params: map[string]any{"Value": err.Error()}}}, 0
}

// describe says in English what a code means, for command-line output.
func describe(code string, p map[string]any) string {
	v := func(k string) string { return fmt.Sprint(p[k]) }
	switch code {
	case pathways.CodeRequired:
		return "this field is required"
	case pathways.CodeInvalid:
		if _, ok := p["Value"]; ok {
			return "not valid: " + v("Value")
		}
		return "this value is not valid"
	case pathways.CodeTooLong:
		return "too long: at most " + v("Count") + " characters"
	case i18n.CodeLocale:
		return "not a valid locale: use a canonical BCP 47 tag such as en, fr or fa-AF"
	case courses.CodeSlug:
		return "not a valid slug: use a-z, 0-9 and single hyphens"
	case pathways.CodeKey:
		return "not a valid ID: use a-z, 0-9 and single hyphens"
	case i18n.CodeMessageID:
		return "not a valid message ID: use letters, digits, '.', '_' and '-', starting with a letter or digit"
	case pathways.CodeDuplicate:
		return "appears more than once"
	case pathways.CodeDuplicateKey:
		return "given twice"
	case pathways.CodeEnum:
		return "must be one of: " + v("Value")
	case pathways.CodeRange:
		return "must be between " + v("Min") + " and " + v("Max")
	case pathways.CodeTooMany:
		return "too many: at most " + v("Count")
	case courses.CodeUnknownModule:
		return "no module has the ID " + strconv.Quote(v("Value"))
	case courses.CodeCycle:
		return "modules require each other in a circle: " + v("Value")
	case pathways.CodeNotAllowed:
		return "a " + v("Value") + " block does not use this field"
	case i18n.CodeMissingText:
		return "message " + strconv.Quote(v("Value")) + " has no text in locales/" + v("Locale") + ".json, the default locale"
	case i18n.CodeUnusedMessage:
		return "message " + strconv.Quote(v("Value")) + " is not named by course.yaml"
	case i18n.CodeNotOffered:
		return v("Value") + " is not one of the course's locales"
	case i18n.CodeURL:
		return "not a link: use an http or https URL, or a tel: number"
	case assets.CodeMediaKind:
		return "this kind of media does not fit the block"
	case assets.CodeUnknownMedia:
		return "no such media"
	case courses.CodeEmptyCourse:
		return "is empty"
	case i18n.CodeTooBig:
		return "the texts are too big: at most " + v("Count") + " MiB in all"
	case i18n.CodeNoPluralOther:
		return `the "other" text is required`
	case i18n.CodeTemplateSyntax:
		return "not a valid template"
	case courses.CodeUnknownQuiz:
		return "no published quiz " + v("Value") + " that every learner of the course may take"

	case CodeSyntax:
		return "syntax error"
	case pathways.CodeUnknown:
		return "unknown field"
	case pathways.CodeType:
		return "wrong type: expected " + v("Expected")
	case CodeAlias:
		return "YAML aliases are not allowed: write the value out"
	case CodeFormatVersion:
		return "unsupported format: this version reads format " + v("Value")
	case CodeMissingFile:
		if _, ok := p["Value"]; ok {
			return v("Value") + ": no such file in the package"
		}
		return "no such file in the package"
	case CodePath:
		return v("Value") + ": not a path under media/"
	case CodeLocaleFile:
		return "a locale file must be named after one of the course's locales, like fr.json or fa-AF.json"
	case CodeStrayFile:
		return "not part of the format: a package holds only course.yaml, locales/, media/, quizzes/ and banks/"
	case CodeFileTooLarge:
		return "too large: at most " + v("Count") + " MiB"
	case CodeUnreadable:
		return "cannot be read"
	case CodeZipInvalid:
		return "not a zip file this server reads"
	case CodeZipUnsafe:
		return "unsafe zip entry"
	case CodeZipTooLarge:
		return "unpacks to more than " + v("Count") + " MiB"
	case CodeTooManyFiles:
		return "more than " + v("Count") + " files"
	case CodeTextTooLarge:
		return "the quizzes and banks hold more than " + v("Count") + " MiB of files in all"
	case CodeNeedsFormat:
		return v("Value") + " needs format " + v("Format") + ": write \"format: " + v("Format") + "\" in course.yaml"
	case CodeOutline:
		return "a quiz without keys (keys: false) is an outline: kind, shared, defaultLocale, locales, title and intro only; " + v("Value") + " is not one of them"
	case assessments.CodeUnknownQuestion:
		return "the bank has no question " + strconv.Quote(v("Value"))
	case assessments.CodeNoQuestions:
		return "no question of the bank matches this pick"
	case assessments.CodeUnknownPretest:
		return "no pretest " + strconv.Quote(v("Value")) + " in the package"
	case assessments.CodeTimedOnline:
		return "a timed quiz cannot be taken offline"
	case assessments.CodeUnknownBank:
		return "no bank " + strconv.Quote(v("Value"))
	case assessments.CodeTooFew:
		return "too few: at least " + v("Count")
	case assessments.CodeNegative:
		return "must not be below zero"
	case assessments.CodeNotForType:
		return "a question of type " + v("Value") + " does not use this field"
	case assessments.CodeOneCorrect:
		return "exactly one option must be correct"
	case assessments.CodeNoCorrect:
		return "at least one option must be correct"
	case assessments.CodeUnknownOption:
		return "no option " + strconv.Quote(v("Value"))
	case assessments.CodeUnknownMatch:
		return "no match " + strconv.Quote(v("Value"))
	case assessments.CodeUnknownBlank:
		return "no blank " + strconv.Quote(v("Value"))
	case assessments.CodeMalformed, assessments.CodeEncoding, assessments.CodeNumber, assessments.CodeNotPermutation:
		return "not a valid answer"
	case pathways.CodeTooShort:
		return "too short: at least " + v("Count") + " characters"
	case pathways.CodeID:
		return "not a valid ID"
	}
	return code
}
