package coursefile

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// The quizzes and question banks of a format 2 package, each in a folder
// of its own named by its key, laid out as the package root is: its
// structure in YAML and its texts in locales/<locale>.json.
//
//	quizzes/<key>/quiz.yaml
//	quizzes/<key>/locales/en.json
//	banks/<key>/bank.yaml
//	banks/<key>/locales/en.json

const (
	quizzesDir = "quizzes"
	banksDir   = "banks"
	quizFile   = "quiz.yaml"
	bankFile   = "bank.yaml"
)

// Limits on the quizzes and banks of a package, which Read holds in
// memory and an import turns into documents: a course has few quizzes,
// and a bank at most assessments.MaxQuestions questions.
const (
	MaxQuizzes   = 50       // folders under quizzes/
	MaxBanks     = 50       // folders under banks/
	MaxQuestions = 5000     // questions of all the banks together
	MaxQuizFile  = 1 << 20  // each quiz.yaml
	MaxBankFile  = 16 << 20 // each bank.yaml
	// MaxItemText bounds the bytes of every file under quizzes/ and
	// banks/ together (YAML and locale files): each bank's and quiz's
	// texts are at most i18n.MaxTextBytes, but fifty of each are more
	// than a request should hold.
	MaxItemText = 64 << 20
)

// Quiz is a quiz of a package, from quizzes/<Key>/.
type Quiz struct {
	// Key names the folder; a quiz block of the course names the quiz by
	// it. An export uses the quiz's ID, so that an import into the same
	// organisation finds the quiz it came from.
	Key string
	// Quiz holds the settings and texts. Its picks name banks by their
	// keys, and Pretest names a quiz of the package by its key or a quiz
	// outside the package by its ID. ID, OrgID, Revision, Published,
	// Archived and the times are zero.
	Quiz assessments.Quiz
	// Keys says the package carries the quiz whole: its picks, the banks
	// they draw from and their answer keys. Without (keys: false, written
	// by an exporter who may not edit the quiz) it is an outline: the
	// kind, languages, title and intro only, and its texts; an import
	// then keeps the course's quiz blocks pointing at the original quiz.
	Keys bool
	// Published says the quiz was published where it was exported: an
	// import publishes it too.
	Published bool
}

// Bank is a question bank of a package, from banks/<Key>/. Its questions'
// media fields (Image and Audio of questions, options and matches) hold
// package paths such as "media/x.png"; ID, OrgID, Revision and the times
// are zero.
type Bank struct {
	Key  string
	Bank assessments.Bank
}

// quizYAML is quiz.yaml, field by field under the JSON names the API
// gives a quiz.
type quizYAML struct {
	Keys             *bool        `json:"keys,omitempty"` // absent: true
	Published        bool         `json:"published,omitempty"`
	Kind             string       `json:"kind"`
	Shared           bool         `json:"shared,omitempty"`
	DefaultLocale    string       `json:"defaultLocale"`
	Locales          []string     `json:"locales"`
	Title            string       `json:"title"`
	Intro            string       `json:"intro,omitempty"`
	Picks            []pickYAML   `json:"picks,omitempty"`
	ShuffleQuestions bool         `json:"shuffleQuestions,omitempty"`
	ShuffleOptions   bool         `json:"shuffleOptions,omitempty"`
	PassMark         float64      `json:"passMark,omitempty"`
	AttemptLimit     int          `json:"attemptLimit,omitempty"`
	TimeLimitSeconds int          `json:"timeLimitSeconds,omitempty"`
	Offline          bool         `json:"offline,omitempty"`
	Feedback         string       `json:"feedback,omitempty"`
	Due              *time.Time   `json:"due,omitempty"`
	Grade            string       `json:"grade,omitempty"`
	Mastery          *masteryYAML `json:"mastery,omitempty"`
	Pretest          string       `json:"pretest,omitempty"`
}

type pickYAML struct {
	Bank       string   `json:"bank"`
	Questions  []string `json:"questions,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Difficulty int      `json:"difficulty,omitempty"`
	Count      int      `json:"count,omitempty"`
}

type masteryYAML struct {
	M int `json:"m"`
	N int `json:"n"`
}

// outlineFields are the fields of quiz.yaml an outline (keys: false) has.
var outlineFields = []string{"keys", "published", "kind", "shared", "defaultLocale", "locales", "title", "intro"}

// bankYAML is bank.yaml; questions carry the JSON names of the API.
type bankYAML struct {
	Name          string                     `json:"name"`
	DefaultLocale string                     `json:"defaultLocale"`
	Locales       []string                   `json:"locales"`
	Questions     []assessments.BankQuestion `json:"questions"`
}

// placeholders stand in for package keys and media paths where the
// domain checks want IDs: the checks only look at their form.
var placeholders = uuid.MustParse("0b8f7e2c-54a1-4c8e-9f0e-7d1f3a2b6c90")

func placeholder(s string) string { return uuid.NewSHA1(placeholders, []byte(s)).String() }

// validKey reports whether name may name a quiz or bank folder.
func validKey(name string) bool {
	return pathways.CheckKey(&pathways.ValidationError{}, "", name)
}

// itemFile sorts a path under quizzes/ or banks/ (rest is the part after
// the folder) into its item's files, reporting what does not belong; it
// says whether to go into a folder.
func (r *reader) itemFile(top, p, rest string, dir bool) bool {
	key, sub, _ := strings.Cut(rest, "/")
	items := r.items[top]
	main, limit := quizFile, MaxQuizzes
	if top == banksDir {
		main, limit = bankFile, MaxBanks
	}
	if sub == "" {
		switch {
		case !dir:
			r.probs.add(r.file(p), 0, "", CodeStrayFile, map[string]any{"Value": p},
				top+"/ holds one folder per item, named by its key: "+top+"/<key>/"+main)
		case !validKey(key):
			r.probs.add(r.file(p+"/"), 0, "", pathways.CodeKey, map[string]any{"Value": key},
				"not a key: a "+strings.TrimSuffix(top, "zes")+" folder is named with a-z, 0-9 and single hyphens")
		case len(items) == limit:
			r.probs.add(r.file(top+"/"), 0, "", pathways.CodeTooMany, map[string]any{"Count": limit},
				fmt.Sprintf("more than %d folders in %s/", limit, top))
			items[key] = nil // reported once: refuse the rest quietly
		case len(items) > limit:
		default:
			pl := newPlace(top+"/"+key+"/", main)
			items[key] = &pl
			return true
		}
		return false
	}
	pl := items[key]
	if pl == nil {
		return false
	}
	switch {
	case sub == main && !dir:
		pl.hasMain = true
	case sub == localesDir && dir:
		return true
	case strings.HasPrefix(sub, localesDir+"/"):
		if loc, ok := r.localeFile(p, strings.TrimPrefix(sub, localesDir+"/"), dir); ok {
			pl.locales[loc] = p
		}
	default:
		name := p
		if dir {
			name += "/"
		}
		r.probs.add(r.file(name), 0, "", CodeStrayFile, map[string]any{"Value": name},
			"not part of the format: "+pl.dir+" holds only "+main+" and locales/")
	}
	return false
}

// readItems reads the quizzes and banks of a format 2 package and returns
// those the course reaches (its quiz blocks, their pretests and the banks
// their picks draw from), adding the media those banks show to r.used.
// Everything is checked, reached or not, as unused media are.
func (r *reader) readItems(c courses.Course) ([]Quiz, []Bank) {
	if r.format < 2 {
		for _, top := range []string{quizzesDir, banksDir} {
			if len(r.items[top]) > 0 {
				r.probs.add(r.file(top+"/"), 0, "", CodeNeedsFormat, map[string]any{"Value": top + "/", "Format": 2},
					"a format 1 package holds no "+top+"/: write \"format: 2\" in course.yaml")
			}
		}
		return nil, nil
	}
	banks, media := r.readBanks()
	quizzes := r.readQuizzes(banks)

	reached := map[string]bool{}
	var visit func(key string)
	visit = func(key string) {
		q, ok := quizzes[key]
		if !ok || reached[key] {
			return
		}
		reached[key] = true
		if q.Keys {
			visit(q.Quiz.Pretest)
		}
	}
	for _, m := range c.Modules {
		for _, l := range m.Lessons {
			for _, b := range l.Blocks {
				if b.Kind == courses.BlockQuiz {
					visit(b.Quiz)
				}
			}
		}
	}
	var outQ []Quiz
	picked := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(reached)) {
		q := quizzes[key]
		outQ = append(outQ, *q)
		for _, p := range q.Quiz.Picks {
			picked[p.Bank] = true
		}
	}
	var outB []Bank
	for _, key := range slices.Sorted(maps.Keys(picked)) {
		if b, ok := banks[key]; ok && b != nil {
			outB = append(outB, *b)
			for p := range media[key] {
				r.used[p] = true
			}
		}
	}
	return outQ, outB
}

// readMain reads the YAML file of an item, or reports it missing.
func (r *reader) readMain(pl *place, max int64, what string) (*yamlReader, *yaml.Node, bool) {
	if !pl.hasMain {
		r.probs.add(r.file(pl.main), 0, "", CodeMissingFile, map[string]any{"Value": pl.main},
			"no "+baseName(pl.main)+" in "+pl.dir)
		return nil, nil, false
	}
	data, ok := r.readFile(pl.main, max)
	if !ok {
		return nil, nil, false
	}
	y := r.yamlOf(pl)
	root, ok := y.document(data, what)
	return y, root, ok
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// readBanks reads every bank; a bank that cannot be decoded is listed as
// nil, so that quizzes picking from it are not also told it is missing.
// media holds, per bank, the media paths its questions show.
func (r *reader) readBanks() (map[string]*Bank, map[string]map[string]bool) {
	banks := map[string]*Bank{}
	media := map[string]map[string]bool{}
	questions := 0
	for _, key := range slices.Sorted(maps.Keys(r.items[banksDir])) {
		pl := r.items[banksDir][key]
		if pl == nil {
			continue
		}
		banks[key] = nil
		y, root, ok := r.readMain(pl, MaxBankFile, "name, questions, …")
		var bf bankYAML
		if ok {
			ok = y.decodeTyped(root, &bf)
		}
		msgs := r.readTexts(pl, bf.DefaultLocale, bf.Locales, ok, MaxLocaleFile, "the bank's locales (locales in bank.yaml)")
		if !ok {
			continue
		}
		if questions += len(bf.Questions); questions > MaxQuestions && questions-len(bf.Questions) <= MaxQuestions {
			r.probs.add(r.file(banksDir+"/"), 0, "", pathways.CodeTooMany, map[string]any{"Count": MaxQuestions},
				fmt.Sprintf("the banks hold more than %d questions in all", MaxQuestions))
		}
		b := assessments.Bank{Name: bf.Name, DefaultLocale: bf.DefaultLocale, Locales: bf.Locales,
			Questions: bf.Questions, Messages: msgs}
		if b.Messages == nil {
			b.Messages = i18n.Messages{}
		}
		// The domain checks asset IDs; the package has paths, checked
		// here against its files.
		check := assessments.Bank{Name: b.Name, DefaultLocale: b.DefaultLocale, Locales: b.Locales, Messages: b.Messages,
			Questions: slices.Clone(b.Questions)}
		used := map[string]bool{}
		for i := range check.Questions {
			eachMedia(&check.Questions[i].Question, func(field string, p *string) {
				r.checkMedia(pl, fmt.Sprintf("questions/%d/%s", i, field), *p, used)
				*p = placeholder(*p)
			})
		}
		r.report(pl, assessments.CheckBank(check))
		media[key] = used
		banks[key] = &Bank{Key: key, Bank: b}
	}
	return banks, media
}

// eachMedia calls fn with each media field q sets (its path, as the
// domain names it, and the field); it copies what it passes, so fn may
// change the value in q without touching a question shared with others.
func eachMedia(q *assessments.Question, fn func(field string, p *string)) {
	at := func(field string, p *string) {
		if *p != "" {
			fn(field, p)
		}
	}
	at("image", &q.Image)
	at("audio", &q.Audio)
	q.Options = slices.Clone(q.Options)
	for i := range q.Options {
		at(fmt.Sprintf("options/%d/image", i), &q.Options[i].Image)
		at(fmt.Sprintf("options/%d/audio", i), &q.Options[i].Audio)
	}
	q.Matches = slices.Clone(q.Matches)
	for i := range q.Matches {
		at(fmt.Sprintf("matches/%d/image", i), &q.Matches[i].Image)
		at(fmt.Sprintf("matches/%d/audio", i), &q.Matches[i].Audio)
	}
}

// EachMedia calls fn with each media field of question q, so that the
// caller can rename what it holds (a package path, an asset ID).
func EachMedia(q *assessments.Question, fn func(p *string)) {
	eachMedia(q, func(_ string, p *string) { fn(p) })
}

// readQuizzes reads every quiz, checking its picks against banks.
func (r *reader) readQuizzes(banks map[string]*Bank) map[string]*Quiz {
	quizzes := map[string]*Quiz{}
	keys := slices.Sorted(maps.Keys(r.items[quizzesDir]))
	for _, key := range keys {
		pl := r.items[quizzesDir][key]
		if pl == nil {
			continue
		}
		y, root, ok := r.readMain(pl, MaxQuizFile, "kind, title, picks, …")
		var qf quizYAML
		if ok {
			ok = y.decodeTyped(root, &qf)
		}
		msgs := r.readTexts(pl, qf.DefaultLocale, qf.Locales, ok, MaxLocaleFile, "the quiz's locales (locales in quiz.yaml)")
		if !ok {
			continue
		}
		if msgs == nil {
			msgs = i18n.Messages{}
		}
		q := Quiz{Key: key, Keys: qf.Keys == nil || *qf.Keys, Published: qf.Published, Quiz: qf.quiz(msgs)}
		if q.Keys {
			r.checkQuiz(pl, q, banks)
		} else {
			r.checkOutline(pl, root, q.Quiz)
		}
		quizzes[key] = &q
	}
	// A pretest in the package must be a pretest.
	for _, key := range keys {
		q := quizzes[key]
		if q == nil || !q.Keys || q.Quiz.Pretest == "" {
			continue
		}
		if pre, ok := quizzes[q.Quiz.Pretest]; ok && (pre.Quiz.Kind != assessments.KindPretest || !pre.Keys) {
			r.fieldProblem(r.items[quizzesDir][key], "pretest", assessments.CodeUnknownPretest, map[string]any{"Value": q.Quiz.Pretest})
		}
	}
	return quizzes
}

func (qf quizYAML) quiz(msgs i18n.Messages) assessments.Quiz {
	q := assessments.Quiz{
		Kind: assessments.Kind(qf.Kind), Shared: qf.Shared, DefaultLocale: qf.DefaultLocale, Locales: qf.Locales,
		Title: qf.Title, Intro: qf.Intro, Messages: msgs, ShuffleQuestions: qf.ShuffleQuestions,
		ShuffleOptions: qf.ShuffleOptions, PassMark: qf.PassMark, AttemptLimit: qf.AttemptLimit,
		TimeLimitSeconds: qf.TimeLimitSeconds, Offline: qf.Offline, Feedback: assessments.FeedbackPolicy(qf.Feedback),
		Grade: assessments.GradeMethod(qf.Grade), Pretest: qf.Pretest,
	}
	if qf.Due != nil {
		q.Due = qf.Due.UTC()
	}
	if qf.Mastery != nil {
		q.Mastery = assessments.Mastery{M: qf.Mastery.M, N: qf.Mastery.N}
	}
	for _, p := range qf.Picks {
		q.Picks = append(q.Picks, assessments.Pick(p))
	}
	return q
}

func toQuizYAML(q Quiz) quizYAML {
	qq := q.Quiz
	out := quizYAML{
		Published: q.Published, Kind: string(qq.Kind), Shared: qq.Shared, DefaultLocale: qq.DefaultLocale,
		Locales: qq.Locales, Title: qq.Title, Intro: qq.Intro,
	}
	if !q.Keys {
		out.Keys = new(false)
		return out
	}
	out.ShuffleQuestions, out.ShuffleOptions, out.PassMark = qq.ShuffleQuestions, qq.ShuffleOptions, qq.PassMark
	out.AttemptLimit, out.TimeLimitSeconds, out.Offline = qq.AttemptLimit, qq.TimeLimitSeconds, qq.Offline
	out.Feedback, out.Grade, out.Pretest = string(qq.Feedback), string(qq.Grade), qq.Pretest
	if !qq.Due.IsZero() {
		due := qq.Due.UTC()
		out.Due = &due
	}
	if qq.Mastery != (assessments.Mastery{}) {
		out.Mastery = &masteryYAML{M: qq.Mastery.M, N: qq.Mastery.N}
	}
	for _, p := range qq.Picks {
		out.Picks = append(out.Picks, pickYAML(p))
	}
	return out
}

// checkQuiz checks a whole quiz: its settings and texts as the domain does
// (banks and pretests of the package standing in as IDs) and that each
// pick names a bank of the package; for a quiz to publish, also that the
// picks can draw, as publishing will check.
func (r *reader) checkQuiz(pl *place, q Quiz, banks map[string]*Bank) {
	check := q.Quiz
	check.Picks = slices.Clone(check.Picks)
	for i, p := range check.Picks {
		if _, ok := banks[p.Bank]; !ok {
			name := banksDir + "/" + p.Bank + "/" + bankFile
			if !validKey(p.Bank) {
				name = p.Bank
			}
			r.fieldProblem(pl, fmt.Sprintf("picks/%d/bank", i), CodeMissingFile, map[string]any{"Value": pathways.Clip(name)})
			pl.bad[fmt.Sprintf("picks/%d/bank", i)] = true
		}
		check.Picks[i].Bank = placeholder(p.Bank)
	}
	if _, ok := r.items[quizzesDir][check.Pretest]; ok {
		check.Pretest = placeholder(check.Pretest)
	}
	r.report(pl, assessments.CheckQuiz(check))
	if !q.Published {
		return
	}
	for i, p := range q.Quiz.Picks {
		b := banks[p.Bank]
		if b == nil {
			continue
		}
		pp := fmt.Sprintf("picks/%d/", i)
		have := map[string]bool{}
		draws := false
		for _, bq := range b.Bank.Questions {
			have[bq.ID] = true
			if hasAll(bq.Tags, p.Tags) && (p.Difficulty == 0 || bq.Difficulty == p.Difficulty) {
				draws = true
			}
		}
		for j, id := range p.Questions {
			if !have[id] {
				r.fieldProblem(pl, fmt.Sprintf("%squestions/%d", pp, j), assessments.CodeUnknownQuestion, map[string]any{"Value": pathways.Clip(id)})
			}
		}
		if len(p.Questions) == 0 && !draws {
			r.fieldProblem(pl, pp+"tags", assessments.CodeNoQuestions, nil)
		}
	}
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// checkOutline checks a quiz without keys: only the fields of an outline,
// a kind, languages, a title and the texts they name.
func (r *reader) checkOutline(pl *place, root *yaml.Node, q assessments.Quiz) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && !slices.Contains(outlineFields, k.Value) {
			r.probs.add(r.file(pl.main), k.Line, pathways.EscapeToken(k.Value), CodeOutline, map[string]any{"Value": k.Value})
		}
	}
	v := &pathways.ValidationError{}
	pathways.CheckEnum(v, "kind", q.Kind, assessments.Kinds)
	if len(q.Locales) == 0 && q.DefaultLocale != "" {
		q.Locales = []string{q.DefaultLocale}
	}
	i18n.CheckLocales(v, q.DefaultLocale, q.Locales)
	i18n.CheckMessageID(v, "title", q.Title, true)
	i18n.CheckMessageID(v, "intro", q.Intro, false)
	refs := []i18n.Ref{{Field: "title", ID: q.Title}}
	if q.Intro != "" {
		refs = append(refs, i18n.Ref{Field: "intro", ID: q.Intro})
	}
	_ = v.Merge("", i18n.CheckTexts(q.DefaultLocale, q.Locales, q.Messages, refs, false))
	r.report(pl, v.Err())
}

// Writing.

// itemFiles lists the files of the package's quizzes and banks: their
// YAML and locale files, quizzes first, each sorted by key.
func itemFiles(p *Package, pr *collector) ([]outFile, error) {
	var out []outFile
	add := func(dir, key, main string, v any, msgs i18n.Messages) error {
		base := dir + "/" + key + "/"
		if !validKey(key) {
			pr.add(base, 0, "", pathways.CodeKey, map[string]any{"Value": key}, "not a key: a folder is named with a-z, 0-9 and single hyphens")
			return nil
		}
		n, err := typedNode(v)
		if err != nil {
			return fmt.Errorf("encode %s%s: %w", base, main, err)
		}
		data, err := encodeYAML(n)
		if err != nil {
			return fmt.Errorf("encode %s%s: %w", base, main, err)
		}
		out = append(out, outFile{path: base + main, data: data})
		for _, loc := range slices.Sorted(maps.Keys(msgs)) {
			if !i18n.ValidLocale(loc) {
				pr.add(base+localesDir+"/"+loc+".json", 0, "", CodeLocaleFile, map[string]any{"Value": loc},
					fmt.Sprintf("%q is not a canonical BCP 47 tag, so it cannot name a locale file", loc))
				continue
			}
			data, err := encodeMessages(msgs[loc])
			if err != nil {
				return fmt.Errorf("encode %slocales/%s.json: %w", base, loc, err)
			}
			out = append(out, outFile{path: base + localesDir + "/" + loc + ".json", data: data})
		}
		return nil
	}
	seen := map[string]bool{}
	for _, q := range slices.SortedFunc(slices.Values(p.Quizzes), func(a, b Quiz) int { return strings.Compare(a.Key, b.Key) }) {
		if seen["q/"+q.Key] {
			pr.add(quizzesDir+"/"+q.Key+"/", 0, "", pathways.CodeDuplicate, map[string]any{"Value": q.Key}, "more than one quiz has this key")
			continue
		}
		seen["q/"+q.Key] = true
		if err := add(quizzesDir, q.Key, quizFile, toQuizYAML(q), q.Quiz.Messages); err != nil {
			return nil, err
		}
	}
	for _, b := range slices.SortedFunc(slices.Values(p.Banks), func(a, b Bank) int { return strings.Compare(a.Key, b.Key) }) {
		if seen["b/"+b.Key] {
			pr.add(banksDir+"/"+b.Key+"/", 0, "", pathways.CodeDuplicate, map[string]any{"Value": b.Key}, "more than one bank has this key")
			continue
		}
		seen["b/"+b.Key] = true
		bb := b.Bank
		v := bankYAML{Name: bb.Name, DefaultLocale: bb.DefaultLocale, Locales: bb.Locales, Questions: bb.Questions}
		if v.Questions == nil {
			v.Questions = []assessments.BankQuestion{}
		}
		if err := add(banksDir, b.Key, bankFile, v, bb.Messages); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// format is the format a package is written in: 1 while it has neither
// quizzes nor banks, so that servers that read only format 1 read it.
func (p *Package) format() int {
	if len(p.Quizzes) == 0 && len(p.Banks) == 0 {
		return 1
	}
	return FormatVersion
}
