package stores

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of the assessments store, named as in the old store so
// a data mover copies them one to one.
const (
	collBanks    = "assessment_banks"
	collQuizzes  = "quizzes"
	collVersions = "quiz_versions"
	collAttempts = "quiz_attempts"
	collRecords  = "quiz_records"
	collStats    = "quiz_stats"
)

// assessmentsSchema is the collections of the assessments store. Authors
// list banks and quizzes by organisation; the follow-up worker lists the
// submitted attempts whose follow-up is pending; staff list a learner's
// records. Everything else is read by id.
var assessmentsSchema = docdb.Schema{
	{Name: collBanks, Indexes: []docdb.Index{{Name: "org", Fields: []string{"org_id"}}}},
	{Name: collQuizzes, Indexes: []docdb.Index{{Name: "org", Fields: []string{"org_id"}}}},
	{Name: collVersions},
	{Name: collAttempts, Indexes: []docdb.Index{{Name: "followup", Fields: []string{"followup", "followup_at"}}}},
	{Name: collRecords, Indexes: []docdb.Index{{Name: "learner", Fields: []string{"learner_id"}}}},
	{Name: collStats},
}

// AssessmentsStore implements assessments.Store on the document layer.
// Banks, quizzes and attempts are kept by id, versions by "<quiz>@<n>", a
// learner's record by "<learner>:<quiz>" and item statistics by
// "<quiz>@<n>:<org>#<shard>". Every update is a compare-and-swap on the
// document's revision, retried on conflict (docdb.Update), so it holds
// with any number of instances; versions and attempts are inserted once
// (a taken id is ErrConflict) and versions are never updated.
type AssessmentsStore struct {
	e docdb.Engine
}

var _ assessments.Store = (*AssessmentsStore)(nil)

// Assessments returns the assessments store of db.
func (db *DB) Assessments() *AssessmentsStore { return &AssessmentsStore{e: db.e} }

// versionID is the id of quiz version n.
func versionID(quizID string, n int) string { return quizID + "@" + strconv.Itoa(n) }

// recordID is the id of a learner's record at a quiz.
func recordID(learnerID, quizID string) string { return learnerID + ":" + quizID }

// statsID is the id of one shard of an organisation's item statistics of
// a quiz version.
func statsID(quizID string, n int, orgID string, shard int) string {
	return versionID(quizID, n) + ":" + orgID + "#" + strconv.Itoa(shard)
}

// clonePtr copies what p points to, keeping nil nil, so a document and
// the domain value never share a pointer.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// strs is a string slice as stored.
func strs(in []string) list[string] { return list[string](in) }

// textDoc is one message; its ID (with dots) is a value, never a field
// name.
type textDoc struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Hash        string `json:"hash,omitempty"`
	Zero        string `json:"zero,omitempty"`
	One         string `json:"one,omitempty"`
	Two         string `json:"two,omitempty"`
	Few         string `json:"few,omitempty"`
	Many        string `json:"many,omitempty"`
	Other       string `json:"other,omitempty"`
}

// textsDoc holds the messages of one locale, sorted by ID.
type textsDoc struct {
	Locale   string        `json:"locale"`
	Messages list[textDoc] `json:"messages,omitzero"`
}

func toTexts(ms i18n.Messages) list[textsDoc] {
	return keyed(ms, func(loc string, byID map[string]i18n.Message) textsDoc {
		return textsDoc{Locale: loc, Messages: keyed(byID, func(id string, m i18n.Message) textDoc {
			return textDoc{ID: id, Description: m.Description, Hash: m.Hash,
				Zero: m.Zero, One: m.One, Two: m.Two, Few: m.Few, Many: m.Many, Other: m.Other}
		})}
	})
}

func fromTexts(l list[textsDoc]) i18n.Messages {
	return unkeyed(l, func(d textsDoc) (string, map[string]i18n.Message) {
		return d.Locale, unkeyed(d.Messages, func(m textDoc) (string, i18n.Message) {
			return m.ID, i18n.Message{Description: m.Description, Hash: m.Hash,
				Zero: m.Zero, One: m.One, Two: m.Two, Few: m.Few, Many: m.Many, Other: m.Other}
		})
	})
}

// acceptedDoc holds the accepted answers of one locale ("*": any).
type acceptedDoc struct {
	Locale  string       `json:"locale"`
	Answers list[string] `json:"answers,omitzero"`
}

func toAccepted(m map[string][]string) list[acceptedDoc] {
	return keyed(m, func(loc string, as []string) acceptedDoc { return acceptedDoc{Locale: loc, Answers: strs(as)} })
}

func fromAccepted(l list[acceptedDoc]) map[string][]string {
	return unkeyed(l, func(d acceptedDoc) (string, []string) { return d.Locale, []string(d.Answers) })
}

type optionDoc struct {
	ID       string `json:"id"`
	Text     string `json:"text,omitempty"`
	Image    string `json:"image,omitempty"`
	Audio    string `json:"audio,omitempty"`
	Correct  bool   `json:"correct,omitempty"`
	Feedback string `json:"feedback,omitempty"`
}

type matchDoc struct {
	ID    string `json:"id"`
	Text  string `json:"text,omitempty"`
	Image string `json:"image,omitempty"`
	Audio string `json:"audio,omitempty"`
}

type blankDoc struct {
	ID       string            `json:"id"`
	Accepted list[acceptedDoc] `json:"accepted,omitzero"`
}

type numericDoc struct {
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance"`
}

// labelDoc names one point of a likert scale.
type labelDoc struct {
	Point int    `json:"point"`
	Text  string `json:"text"`
}

type likertDoc struct {
	Min    int            `json:"min"`
	Max    int            `json:"max"`
	Labels list[labelDoc] `json:"labels,omitzero"`
}

type questionDoc struct {
	ID                 string            `json:"id"`
	Prompt             string            `json:"prompt,omitempty"`
	Hint               string            `json:"hint,omitempty"`
	Feedback           string            `json:"feedback,omitempty"`
	Image              string            `json:"image,omitempty"`
	Audio              string            `json:"audio,omitempty"`
	Type               string            `json:"type"`
	Points             float64           `json:"points,omitempty"`
	Options            list[optionDoc]   `json:"options,omitzero"`
	Matches            list[matchDoc]    `json:"matches,omitzero"`
	Pairs              list[pairDoc]     `json:"pairs,omitzero"`
	Accepted           list[acceptedDoc] `json:"accepted,omitzero"`
	CaseSensitive      bool              `json:"case_sensitive,omitempty"`
	DiacriticSensitive bool              `json:"diacritic_sensitive,omitempty"`
	Numeric            *numericDoc       `json:"numeric,omitempty"`
	Blanks             list[blankDoc]    `json:"blanks,omitzero"`
	Partial            string            `json:"partial,omitempty"`
	Scale              *likertDoc        `json:"scale,omitempty"`
	MaxLength          int               `json:"max_length,omitempty"`
}

func toQuestionDoc(q assessments.Question) questionDoc {
	d := questionDoc{
		ID: q.ID, Prompt: q.Prompt, Hint: q.Hint, Feedback: q.Feedback, Image: q.Image, Audio: q.Audio,
		Type: string(q.Type), Points: q.Points,
		Options: convert(q.Options, func(o assessments.Option) optionDoc {
			return optionDoc{ID: o.ID, Text: o.Text, Image: o.Image, Audio: o.Audio, Correct: o.Correct, Feedback: o.Feedback}
		}),
		Matches: convert(q.Matches, func(m assessments.Match) matchDoc {
			return matchDoc{ID: m.ID, Text: m.Text, Image: m.Image, Audio: m.Audio}
		}),
		Pairs: toPairs(q.Pairs), Accepted: toAccepted(q.Accepted),
		CaseSensitive: q.CaseSensitive, DiacriticSensitive: q.DiacriticSensitive,
		Blanks: convert(q.Blanks, func(b assessments.Blank) blankDoc {
			return blankDoc{ID: b.ID, Accepted: toAccepted(b.Accepted)}
		}),
		Partial: string(q.Partial), MaxLength: q.MaxLength,
	}
	if n := q.Numeric; n != nil {
		d.Numeric = &numericDoc{Value: n.Value, Tolerance: n.Tolerance}
	}
	if sc := q.Scale; sc != nil {
		d.Scale = &likertDoc{
			Min: sc.Min, Max: sc.Max,
			Labels: keyed(sc.Labels, func(p int, text string) labelDoc { return labelDoc{Point: p, Text: text} }),
		}
	}
	return d
}

func (d questionDoc) question() assessments.Question {
	q := assessments.Question{
		ID: d.ID, Prompt: d.Prompt, Hint: d.Hint, Feedback: d.Feedback, Image: d.Image, Audio: d.Audio,
		Type: assessments.Type(d.Type), Points: d.Points,
		Options: convertBack(d.Options, func(o optionDoc) assessments.Option {
			return assessments.Option{ID: o.ID, Text: o.Text, Image: o.Image, Audio: o.Audio, Correct: o.Correct, Feedback: o.Feedback}
		}),
		Matches: convertBack(d.Matches, func(m matchDoc) assessments.Match {
			return assessments.Match{ID: m.ID, Text: m.Text, Image: m.Image, Audio: m.Audio}
		}),
		Pairs: fromPairs(d.Pairs), Accepted: fromAccepted(d.Accepted),
		CaseSensitive: d.CaseSensitive, DiacriticSensitive: d.DiacriticSensitive,
		Blanks: convertBack(d.Blanks, func(b blankDoc) assessments.Blank {
			return assessments.Blank{ID: b.ID, Accepted: fromAccepted(b.Accepted)}
		}),
		Partial: assessments.Partial(d.Partial), MaxLength: d.MaxLength,
	}
	if n := d.Numeric; n != nil {
		q.Numeric = &assessments.Numeric{Value: n.Value, Tolerance: n.Tolerance}
	}
	if sc := d.Scale; sc != nil {
		q.Scale = &assessments.Likert{
			Min: sc.Min, Max: sc.Max,
			Labels: unkeyed(sc.Labels, func(l labelDoc) (int, string) { return l.Point, l.Text }),
		}
	}
	return q
}

// The documents that others inline are embedded under exported names: the
// MongoDB driver skips unexported embedded structs.
type (
	InlineQuestion = questionDoc
	InlineQuizHead = quizHead
	InlineQuiz     = quizDoc
)

// bankQuestionDoc is a bank's question with what quizzes pick it by; the
// question's fields are inline, as in the old documents.
type bankQuestionDoc struct {
	InlineQuestion `json:",inline"`
	Tags           list[string] `json:"tags,omitzero"`
	Difficulty     int          `json:"difficulty,omitempty"`
}

// bankDoc is a whole question bank, texts included: one document
// (assessments.MaxQuestions bounds it).
type bankDoc struct {
	OrgID         string                `json:"org_id,omitempty"`
	Name          string                `json:"name"`
	DefaultLocale string                `json:"default_locale"`
	Locales       list[string]          `json:"locales,omitzero"`
	Questions     list[bankQuestionDoc] `json:"questions,omitzero"`
	Messages      list[textsDoc]        `json:"messages,omitzero"`
	Revision      int                   `json:"revision"`
	Created       time.Time             `json:"created_at"`
	Updated       time.Time             `json:"updated_at"`
}

func toBankDoc(b assessments.Bank) bankDoc {
	return bankDoc{
		OrgID: b.OrgID, Name: b.Name, DefaultLocale: b.DefaultLocale, Locales: strs(b.Locales),
		Questions: convert(b.Questions, func(q assessments.BankQuestion) bankQuestionDoc {
			return bankQuestionDoc{InlineQuestion: toQuestionDoc(q.Question), Tags: strs(q.Tags), Difficulty: q.Difficulty}
		}),
		Messages: toTexts(b.Messages), Revision: b.Revision, Created: msUTC(b.Created), Updated: msUTC(b.Updated),
	}
}

func (d bankDoc) bank(id string) assessments.Bank {
	return assessments.Bank{
		ID: id, OrgID: d.OrgID, Name: d.Name, DefaultLocale: d.DefaultLocale, Locales: []string(d.Locales),
		Questions: convertBack(d.Questions, func(q bankQuestionDoc) assessments.BankQuestion {
			return assessments.BankQuestion{Question: q.question(), Tags: []string(q.Tags), Difficulty: q.Difficulty}
		}),
		Messages: fromTexts(d.Messages), Revision: d.Revision, Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
}

// bankHead is what the authors' listing decodes of a bank: not its
// questions nor texts.
type bankHead struct {
	OrgID         string       `json:"org_id,omitempty"`
	Name          string       `json:"name"`
	DefaultLocale string       `json:"default_locale"`
	Locales       list[string] `json:"locales,omitzero"`
	Revision      int          `json:"revision"`
	Created       time.Time    `json:"created_at"`
	Updated       time.Time    `json:"updated_at"`
}

type pickDoc struct {
	Bank       string       `json:"bank"`
	Questions  list[string] `json:"questions,omitzero"`
	Tags       list[string] `json:"tags,omitzero"`
	Difficulty int          `json:"difficulty,omitempty"`
	Count      int          `json:"count,omitempty"`
}

// quizDoc is a quiz's draft, texts included: one document. quizHead, the
// listing's part of it, is inline.
type quizDoc struct {
	InlineQuizHead `json:",inline"`
	Messages       list[textsDoc] `json:"messages,omitzero"`
	Picks          list[pickDoc]  `json:"picks,omitzero"`
}

// quizHead is a quiz without its picks and texts: what the authors'
// listing decodes.
type quizHead struct {
	OrgID            string       `json:"org_id,omitempty"`
	Kind             string       `json:"kind"`
	Shared           bool         `json:"shared,omitempty"`
	DefaultLocale    string       `json:"default_locale"`
	Locales          list[string] `json:"locales,omitzero"`
	Title            string       `json:"title"`
	Intro            string       `json:"intro,omitempty"`
	ShuffleQuestions bool         `json:"shuffle_questions,omitempty"`
	ShuffleOptions   bool         `json:"shuffle_options,omitempty"`
	PassMark         float64      `json:"pass_mark,omitempty"`
	AttemptLimit     int          `json:"attempt_limit,omitempty"`
	TimeLimit        int64        `json:"time_limit_ns,omitempty"` // nanoseconds, as a time.Duration
	Offline          bool         `json:"offline,omitempty"`
	Feedback         string       `json:"feedback,omitempty"`
	Due              time.Time    `json:"due_at,omitzero"`
	Grade            string       `json:"grade,omitempty"`
	MasteryM         int          `json:"mastery_m,omitempty"`
	MasteryN         int          `json:"mastery_n,omitempty"`
	Pretest          string       `json:"pretest,omitempty"`
	Revision         int          `json:"revision"`
	Published        int          `json:"published"`
	Archived         bool         `json:"archived,omitempty"`
	Created          time.Time    `json:"created_at"`
	Updated          time.Time    `json:"updated_at"`
}

func toQuizDoc(q assessments.Quiz) quizDoc {
	return quizDoc{
		InlineQuizHead: quizHead{
			OrgID: q.OrgID, Kind: string(q.Kind), Shared: q.Shared,
			DefaultLocale: q.DefaultLocale, Locales: strs(q.Locales), Title: q.Title, Intro: q.Intro,
			ShuffleQuestions: q.ShuffleQuestions, ShuffleOptions: q.ShuffleOptions,
			PassMark: q.PassMark, AttemptLimit: q.AttemptLimit, TimeLimit: int64(time.Duration(q.TimeLimitSeconds) * time.Second), Offline: q.Offline,
			Feedback: string(q.Feedback), Due: msUTC(q.Due), Grade: string(q.Grade),
			MasteryM: q.Mastery.M, MasteryN: q.Mastery.N, Pretest: q.Pretest,
			Revision: q.Revision, Published: q.Published, Archived: q.Archived,
			Created: msUTC(q.Created), Updated: msUTC(q.Updated),
		},
		Messages: toTexts(q.Messages),
		Picks: convert(q.Picks, func(p assessments.Pick) pickDoc {
			return pickDoc{Bank: p.Bank, Questions: strs(p.Questions), Tags: strs(p.Tags), Difficulty: p.Difficulty, Count: p.Count}
		}),
	}
}

func (d quizDoc) quiz(id string) assessments.Quiz {
	q := d.InlineQuizHead.quiz(id)
	q.Messages = fromTexts(d.Messages)
	q.Picks = convertBack(d.Picks, func(p pickDoc) assessments.Pick {
		return assessments.Pick{Bank: p.Bank, Questions: []string(p.Questions), Tags: []string(p.Tags), Difficulty: p.Difficulty, Count: p.Count}
	})
	return q
}

func (d quizHead) quiz(id string) assessments.Quiz {
	return assessments.Quiz{
		ID: id, OrgID: d.OrgID, Kind: assessments.Kind(d.Kind), Shared: d.Shared,
		DefaultLocale: d.DefaultLocale, Locales: []string(d.Locales), Title: d.Title, Intro: d.Intro,
		ShuffleQuestions: d.ShuffleQuestions, ShuffleOptions: d.ShuffleOptions,
		PassMark: d.PassMark, AttemptLimit: d.AttemptLimit, TimeLimitSeconds: int(time.Duration(d.TimeLimit) / time.Second), Offline: d.Offline,
		Feedback: assessments.FeedbackPolicy(d.Feedback), Due: d.Due.UTC(), Grade: assessments.GradeMethod(d.Grade),
		Mastery: assessments.Mastery{M: d.MasteryM, N: d.MasteryN}, Pretest: d.Pretest,
		Revision: d.Revision, Published: d.Published, Archived: d.Archived,
		Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
}

// versionQuizDoc is the quiz of a version, with its id as the ordinary
// field "_id" of the subdocument, as in the old documents.
type versionQuizDoc struct {
	ID         string `json:"_id"`
	InlineQuiz `json:",inline"`
}

// keyedQuestionDoc is a version's question under its key.
type keyedQuestionDoc struct {
	Key      string      `json:"key"`
	Question questionDoc `json:"question"`
}

// poolDoc is the keys one pick may draw: a subdocument, because MongoDB
// stand-ins refuse arrays nested directly in arrays.
type poolDoc struct {
	Keys list[string] `json:"keys,omitzero"`
}

// versionDoc is a published quiz version with the quiz embedded whole.
// Inserted once, never updated.
type versionDoc struct {
	QuizID    string                 `json:"quiz_id"`
	Number    int                    `json:"number"`
	Quiz      versionQuizDoc         `json:"quiz"`
	Questions list[keyedQuestionDoc] `json:"questions,omitzero"`
	Pools     list[poolDoc]          `json:"pools,omitzero"`
	Messages  list[textsDoc]         `json:"messages,omitzero"`
	Revision  int                    `json:"revision"`
	Published time.Time              `json:"published_at"`
}

func toVersionDoc(v assessments.Version) versionDoc {
	return versionDoc{
		QuizID: v.QuizID, Number: v.Number, Quiz: versionQuizDoc{ID: v.Quiz.ID, InlineQuiz: toQuizDoc(v.Quiz)},
		Questions: keyed(v.Questions, func(k string, q assessments.Question) keyedQuestionDoc {
			return keyedQuestionDoc{Key: k, Question: toQuestionDoc(q)}
		}),
		Pools:    convert(v.Pools, func(p []string) poolDoc { return poolDoc{Keys: strs(p)} }),
		Messages: toTexts(v.Messages), Revision: v.Revision, Published: msUTC(v.Published),
	}
}

func (d versionDoc) version() assessments.Version {
	return assessments.Version{
		QuizID: d.QuizID, Number: d.Number, Quiz: d.Quiz.quiz(d.Quiz.ID),
		Questions: unkeyed(d.Questions, func(q keyedQuestionDoc) (string, assessments.Question) {
			return q.Key, q.Question.question()
		}),
		Pools:    convertBack(d.Pools, func(p poolDoc) []string { return []string(p.Keys) }),
		Messages: fromTexts(d.Messages), Revision: d.Revision, Published: d.Published.UTC(),
	}
}

// answerDoc is a learner's answer; its maps (option → match, blank →
// text) are arrays of pairs.
type answerDoc struct {
	Option  string        `json:"option,omitempty"`
	Options list[string]  `json:"options,omitzero"`
	Order   list[string]  `json:"order,omitzero"`
	Pairs   list[pairDoc] `json:"pairs,omitzero"`
	Text    string        `json:"text,omitempty"`
	Number  *float64      `json:"number,omitempty"`
	Blanks  list[pairDoc] `json:"blanks,omitzero"`
	Value   *int          `json:"value,omitempty"`
}

func toAnswerDoc(a assessments.Answer) answerDoc {
	return answerDoc{
		Option: a.Option, Options: strs(a.Options), Order: strs(a.Order), Pairs: toPairs(a.Pairs),
		Text: a.Text, Number: clonePtr(a.Number), Blanks: toPairs(a.Blanks), Value: clonePtr(a.Value),
	}
}

func (d answerDoc) answer() assessments.Answer {
	return assessments.Answer{
		Option: d.Option, Options: []string(d.Options), Order: []string(d.Order), Pairs: fromPairs(d.Pairs),
		Text: d.Text, Number: clonePtr(d.Number), Blanks: fromPairs(d.Blanks), Value: clonePtr(d.Value),
	}
}

// savedDoc is the answer saved to the question Key.
type savedDoc struct {
	Key      string    `json:"key"`
	AnswerID string    `json:"answer_id,omitempty"`
	Answer   answerDoc `json:"answer"`
	Saved    time.Time `json:"saved_at"`
}

// resultDoc is the score of the question Key.
type resultDoc struct {
	Key      string       `json:"key"`
	Points   float64      `json:"points"`
	Max      float64      `json:"max"`
	Correct  bool         `json:"correct,omitempty"`
	Answered bool         `json:"answered,omitempty"`
	Feedback list[string] `json:"feedback,omitzero"`
}

type drawnDoc struct {
	Question string       `json:"question"`
	Options  list[string] `json:"options,omitzero"`
	Matches  list[string] `json:"matches,omitzero"` // absent in attempts stored before it was kept
}

// attemptDoc is one attempt, answers and results included: one document
// (assessments.MaxDrawn bounds it). FollowUp and FollowUpAt are the
// pending follow-up of a submitted attempt (assessments.Attempt.FollowUp)
// in the "followup" index; both are absent once it is applied.
type attemptDoc struct {
	QuizID     string          `json:"quiz_id"`
	Version    int             `json:"version"`
	LearnerID  string          `json:"learner_id"`
	OrgID      string          `json:"org_id,omitempty"`
	Number     int             `json:"number"`
	Locale     string          `json:"locale,omitempty"`
	Seed       int64           `json:"seed"` // the uint64 seed's bits: BSON has no unsigned integers
	Drawn      list[drawnDoc]  `json:"drawn,omitzero"`
	Answers    list[savedDoc]  `json:"answers,omitzero"`
	Started    time.Time       `json:"started_at"`
	Deadline   time.Time       `json:"deadline,omitzero"`
	Submitted  time.Time       `json:"submitted_at,omitzero"`
	Results    list[resultDoc] `json:"results,omitzero"`
	Score      float64         `json:"score"`
	Max        float64         `json:"max"`
	FollowUp   bool            `json:"followup,omitempty"`
	FollowUpAt int64           `json:"followup_at,omitempty"` // Unix ms
}

func toAttemptDoc(a assessments.Attempt) attemptDoc {
	return attemptDoc{
		QuizID: a.QuizID, Version: a.Version, LearnerID: a.LearnerID, OrgID: a.OrgID,
		Number: a.Number, Locale: a.Locale, Seed: int64(a.Seed),
		Drawn: convert(a.Drawn, func(dr assessments.Drawn) drawnDoc {
			return drawnDoc{Question: dr.Question, Options: strs(dr.Options), Matches: strs(dr.Matches)}
		}),
		Answers: keyed(a.Answers, func(k string, s assessments.Saved) savedDoc {
			return savedDoc{Key: k, AnswerID: s.AnswerID, Answer: toAnswerDoc(s.Answer), Saved: msUTC(s.Saved)}
		}),
		Started: msUTC(a.Started), Deadline: msUTC(a.Deadline), Submitted: msUTC(a.Submitted),
		Results: keyed(a.Results, func(k string, r assessments.Result) resultDoc {
			return resultDoc{Key: k, Points: r.Points, Max: r.Max, Correct: r.Correct, Answered: r.Answered, Feedback: strs(r.Feedback)}
		}),
		Score: a.Score, Max: a.Max,
		FollowUp: !a.FollowUp.IsZero(), FollowUpAt: unixMS(a.FollowUp),
	}
}

func (d attemptDoc) attempt(id string) assessments.Attempt {
	return assessments.Attempt{
		ID: id, QuizID: d.QuizID, Version: d.Version, LearnerID: d.LearnerID, OrgID: d.OrgID,
		Number: d.Number, Locale: d.Locale, Seed: uint64(d.Seed),
		Drawn: convertBack(d.Drawn, func(dr drawnDoc) assessments.Drawn {
			return assessments.Drawn{Question: dr.Question, Options: []string(dr.Options), Matches: []string(dr.Matches)}
		}),
		Answers: unkeyed(d.Answers, func(s savedDoc) (string, assessments.Saved) {
			return s.Key, assessments.Saved{AnswerID: s.AnswerID, Answer: s.Answer.answer(), Saved: s.Saved.UTC()}
		}),
		Started: d.Started.UTC(), Deadline: d.Deadline.UTC(), Submitted: d.Submitted.UTC(),
		Results: unkeyed(d.Results, func(r resultDoc) (string, assessments.Result) {
			return r.Key, assessments.Result{Points: r.Points, Max: r.Max, Correct: r.Correct, Answered: r.Answered, Feedback: []string(r.Feedback)}
		}),
		Score: d.Score, Max: d.Max, FollowUp: fromMS(d.FollowUpAt),
	}
}

type summaryDoc struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Number    int       `json:"number"`
	Started   time.Time `json:"started_at"`
	Submitted time.Time `json:"submitted_at,omitzero"`
	Score     float64   `json:"score"`
	Max       float64   `json:"max"`
}

// recordDoc is a learner's record at a quiz; assessments.MaxAttempts and
// MaxHistory bound it.
type recordDoc struct {
	LearnerID string           `json:"learner_id"`
	QuizID    string           `json:"quiz_id"`
	OrgID     string           `json:"org_id,omitempty"`
	Attempts  list[summaryDoc] `json:"attempts,omitzero"`
	History   list[bool]       `json:"history,omitzero"`
	Mastered  bool             `json:"mastered,omitempty"`
	Gain      *float64         `json:"gain,omitempty"`
	Updated   time.Time        `json:"updated_at,omitzero"`
}

func toRecordDoc(r assessments.Record) recordDoc {
	return recordDoc{
		LearnerID: r.LearnerID, QuizID: r.QuizID, OrgID: r.OrgID,
		Attempts: convert(r.Attempts, func(a assessments.AttemptSummary) summaryDoc {
			return summaryDoc{
				ID: a.ID, Version: a.Version, Number: a.Number, Started: msUTC(a.Started),
				Submitted: msUTC(a.Submitted), Score: a.Score, Max: a.Max,
			}
		}),
		History: list[bool](r.History), Mastered: r.Mastered, Gain: clonePtr(r.Gain), Updated: msUTC(r.Updated),
	}
}

func (d recordDoc) record() assessments.Record {
	return assessments.Record{
		LearnerID: d.LearnerID, QuizID: d.QuizID, OrgID: d.OrgID,
		Attempts: convertBack(d.Attempts, func(a summaryDoc) assessments.AttemptSummary {
			return assessments.AttemptSummary{
				ID: a.ID, Version: a.Version, Number: a.Number, Started: a.Started.UTC(),
				Submitted: a.Submitted.UTC(), Score: a.Score, Max: a.Max,
			}
		}),
		History: []bool(d.History), Mastered: d.Mastered, Gain: clonePtr(d.Gain), Updated: d.Updated.UTC(),
	}
}

// countDoc is how many gave one wrong answer (the answer is the key).
type countDoc struct {
	Answer string `json:"answer"`
	Count  int    `json:"count"`
}

// itemStatsDoc holds the running sums of the question Key.
type itemStatsDoc struct {
	Key   string         `json:"key"`
	N     int            `json:"n"`
	SumX  float64        `json:"sum_x"`
	SumX2 float64        `json:"sum_x2"`
	SumY  float64        `json:"sum_y"`
	SumY2 float64        `json:"sum_y2"`
	SumXY float64        `json:"sum_xy"`
	Wrong list[countDoc] `json:"wrong,omitzero"`
}

// appliedDoc is an attempt counted in a statistics shard whose follow-up
// is not yet cleared.
type appliedDoc struct {
	Attempt string `json:"attempt"`
	At      int64  `json:"at"` // Unix ms
}

// statsDoc is one shard of an organisation's item statistics of one quiz
// version.
type statsDoc struct {
	QuizID  string             `json:"quiz_id"`
	Version int                `json:"version"`
	OrgID   string             `json:"org_id,omitempty"`
	Shard   int                `json:"shard,omitempty"`
	Items   list[itemStatsDoc] `json:"items,omitzero"`
	Applied list[appliedDoc]   `json:"applied,omitzero"`
}

func toStatsDoc(st assessments.Stats) statsDoc {
	return statsDoc{
		QuizID: st.QuizID, Version: st.Version, OrgID: st.OrgID, Shard: st.Shard,
		Items: keyed(st.Items, func(k string, it assessments.ItemStats) itemStatsDoc {
			return itemStatsDoc{
				Key: k, N: it.N, SumX: it.SumX, SumX2: it.SumX2, SumY: it.SumY, SumY2: it.SumY2, SumXY: it.SumXY,
				Wrong: keyed(it.Wrong, func(a string, n int) countDoc { return countDoc{Answer: a, Count: n} }),
			}
		}),
		Applied: keyed(st.Applied, func(id string, at time.Time) appliedDoc { return appliedDoc{Attempt: id, At: unixMS(at)} }),
	}
}

func (d statsDoc) stats() assessments.Stats {
	return assessments.Stats{
		QuizID: d.QuizID, Version: d.Version, OrgID: d.OrgID, Shard: d.Shard,
		Items: unkeyed(d.Items, func(it itemStatsDoc) (string, assessments.ItemStats) {
			return it.Key, assessments.ItemStats{
				N: it.N, SumX: it.SumX, SumX2: it.SumX2, SumY: it.SumY, SumY2: it.SumY2, SumXY: it.SumXY,
				Wrong: unkeyed(it.Wrong, func(c countDoc) (string, int) { return c.Answer, c.Count }),
			}
		}),
		Applied: unkeyed(d.Applied, func(a appliedDoc) (string, time.Time) { return a.Attempt, fromMS(a.At) }),
	}
}

// get reads document id of coll into d.
func (s *AssessmentsStore) get(ctx context.Context, coll, id string, d any) error {
	if _, err := s.e.Get(ctx, coll, id, d); err != nil {
		return fmt.Errorf("read %s %s: %w", coll, id, err)
	}
	return nil
}

// update is docdb.Update over the domain value T of a document D: from
// and to convert, missing (nil: ErrNotFound) starts a missing document,
// and a change returning assessments.ErrNoChange writes nothing and
// gives the value as read. It returns the value as stored.
func update[D, T any](ctx context.Context, e docdb.Engine, coll, id string, missing func() T, from func(D) T, to func(T) D, change func(*T) error) (T, error) {
	var (
		zero, unchanged T
		start           func() (D, error)
		same            = errors.New("unchanged")
	)
	if missing != nil {
		start = func() (D, error) { return to(missing()), nil }
	}
	d, _, err := docdb.Update(ctx, e, coll, id, start, func(d *D) error {
		v := from(*d)
		err := change(&v)
		if errors.Is(err, assessments.ErrNoChange) {
			unchanged = from(*d)
			return same
		}
		if err != nil {
			return err
		}
		*d = to(v)
		return nil
	})
	switch {
	case errors.Is(err, same):
		return unchanged, nil
	case err != nil:
		return zero, fmt.Errorf("update %s %s: %w", coll, id, err)
	}
	return from(d), nil
}

// Bank reads one question bank by id.
func (s *AssessmentsStore) Bank(ctx context.Context, id string) (assessments.Bank, error) {
	var d bankDoc
	if err := s.get(ctx, collBanks, id, &d); err != nil {
		return assessments.Bank{}, err
	}
	return d.bank(id), nil
}

// InsertBank stores a new bank; an existing id is ErrConflict.
func (s *AssessmentsStore) InsertBank(ctx context.Context, b assessments.Bank) error {
	if err := s.e.Insert(ctx, collBanks, b.ID, toBankDoc(b)); err != nil {
		return fmt.Errorf("insert bank %s: %w", b.ID, err)
	}
	return nil
}

// UpdateBank applies change to the bank and writes it back if nobody did
// meanwhile (else it reads again and calls change again); change may not
// move the bank to another id. It returns the bank as stored.
func (s *AssessmentsStore) UpdateBank(ctx context.Context, id string, change func(*assessments.Bank) error) (assessments.Bank, error) {
	return update(ctx, s.e, collBanks, id, nil, func(d bankDoc) assessments.Bank { return d.bank(id) }, toBankDoc, change)
}

// Quiz reads one quiz draft by id.
func (s *AssessmentsStore) Quiz(ctx context.Context, id string) (assessments.Quiz, error) {
	var d quizDoc
	if err := s.get(ctx, collQuizzes, id, &d); err != nil {
		return assessments.Quiz{}, err
	}
	return d.quiz(id), nil
}

// InsertQuiz stores a new quiz; an existing id is ErrConflict.
func (s *AssessmentsStore) InsertQuiz(ctx context.Context, q assessments.Quiz) error {
	if err := s.e.Insert(ctx, collQuizzes, q.ID, toQuizDoc(q)); err != nil {
		return fmt.Errorf("insert quiz %s: %w", q.ID, err)
	}
	return nil
}

// UpdateQuiz applies change to the quiz by compare-and-swap, as
// UpdateBank; it returns the quiz as stored.
func (s *AssessmentsStore) UpdateQuiz(ctx context.Context, id string, change func(*assessments.Quiz) error) (assessments.Quiz, error) {
	return update(ctx, s.e, collQuizzes, id, nil, func(d quizDoc) assessments.Quiz { return d.quiz(id) }, toQuizDoc, change)
}

// InsertVersion stores a published version under "<quiz>@<n>", so a
// number stored twice is ErrConflict (a unique insert: of two publishes
// of one number only one is stored).
func (s *AssessmentsStore) InsertVersion(ctx context.Context, v assessments.Version) error {
	id := versionID(v.QuizID, v.Number)
	if err := s.e.Insert(ctx, collVersions, id, toVersionDoc(v)); err != nil {
		return fmt.Errorf("insert quiz version %s: %w", id, err)
	}
	return nil
}

// Version reads one published quiz version.
func (s *AssessmentsStore) Version(ctx context.Context, quizID string, n int) (assessments.Version, error) {
	var d versionDoc
	if err := s.get(ctx, collVersions, versionID(quizID, n), &d); err != nil {
		return assessments.Version{}, err
	}
	return d.version(), nil
}

// DeleteBank removes a bank; a missing one is ErrNotFound.
func (s *AssessmentsStore) DeleteBank(ctx context.Context, id string) error {
	return s.delete(ctx, collBanks, id)
}

// DeleteQuiz removes a quiz draft (not its versions); a missing one is
// ErrNotFound.
func (s *AssessmentsStore) DeleteQuiz(ctx context.Context, id string) error {
	return s.delete(ctx, collQuizzes, id)
}

// DeleteVersion removes one published version; a missing one is
// ErrNotFound.
func (s *AssessmentsStore) DeleteVersion(ctx context.Context, quizID string, n int) error {
	return s.delete(ctx, collVersions, versionID(quizID, n))
}

// DeleteAttempt removes one attempt.
func (s *AssessmentsStore) DeleteAttempt(ctx context.Context, id string) error {
	return s.delete(ctx, collAttempts, id)
}

// DeleteRecord removes a learner's record at a quiz.
func (s *AssessmentsStore) DeleteRecord(ctx context.Context, learnerID, quizID string) error {
	return s.delete(ctx, collRecords, recordID(learnerID, quizID))
}

func (s *AssessmentsStore) delete(ctx context.Context, coll, id string) error {
	if err := s.e.Delete(ctx, coll, id, docdb.AnyRev); err != nil {
		return fmt.Errorf("delete %s %s: %w", coll, id, err)
	}
	return nil
}

// Attempt reads one attempt by id.
func (s *AssessmentsStore) Attempt(ctx context.Context, id string) (assessments.Attempt, error) {
	var d attemptDoc
	if err := s.get(ctx, collAttempts, id, &d); err != nil {
		return assessments.Attempt{}, err
	}
	return d.attempt(id), nil
}

// StartAttempt stores a new attempt and lists it in the learner's record,
// in two writes ordered so that no crash lets a learner exceed a limit:
//
//  1. a compare-and-swap on the record (a missing one starts as an empty
//     record of a.LearnerID, a.QuizID and a.OrgID) reserves the attempt:
//     check sees the record as read and may refuse (its error is returned
//     as it is and nothing is stored), else the attempt's summary is
//     appended, numbered one more than the highest number listed. A record
//     that already lists a.ID (a retry of a start interrupted after this
//     step, or a concurrent one) is left as it is and its number kept.
//  2. the attempt is inserted with that number (a.Number is always set
//     here, whatever the caller passed; the attempt returned has it).
//
// A crash between the two leaves a reservation without its attempt: it
// counts towards the limit (the learner may lose that one attempt, never
// gain one) and the client's retry with the same attempt id, which every
// client makes until it gets an answer, inserts the attempt under the
// reserved number. If the id is taken by an attempt of another learner or
// quiz the reservation is withdrawn (by compare-and-swap) and
// ErrConflict returned; one of the same learner and quiz (a concurrent
// retry) is ErrConflict too, with the record as it is. A failed insert
// that may have been stored (an unreachable database) keeps its
// reservation, for the same reason.
func (s *AssessmentsStore) StartAttempt(ctx context.Context, a assessments.Attempt, check func(assessments.Record) error) (_ assessments.Attempt, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("start attempt %s: %w", a.ID, err)
		}
	}()
	reserved := false
	r, err := s.UpdateRecord(ctx, a.LearnerID, a.QuizID, func(r *assessments.Record) error {
		reserved = false
		if r.OrgID == "" && len(r.Attempts) == 0 {
			r.OrgID = a.OrgID
		}
		if slices.ContainsFunc(r.Attempts, func(sum assessments.AttemptSummary) bool { return sum.ID == a.ID }) {
			return assessments.ErrNoChange
		}
		if err := check(*r); err != nil {
			return err
		}
		n := 0
		for _, sum := range r.Attempts {
			n = max(n, sum.Number)
		}
		r.Attempts = append(r.Attempts, assessments.AttemptSummary{ID: a.ID, Version: a.Version, Number: n + 1, Started: msUTC(a.Started)})
		reserved = true
		return nil
	})
	if err != nil {
		return assessments.Attempt{}, err
	}
	i := slices.IndexFunc(r.Attempts, func(sum assessments.AttemptSummary) bool { return sum.ID == a.ID })
	if i < 0 {
		return assessments.Attempt{}, fmt.Errorf("record %s lost the reservation: %w", recordID(a.LearnerID, a.QuizID), docdb.ErrStale)
	}
	a.Number = r.Attempts[i].Number
	d := toAttemptDoc(a)
	err = s.e.Insert(ctx, collAttempts, a.ID, d)
	if err == nil {
		return d.attempt(a.ID), nil // as stored: the caller need not read it back
	}
	if !errors.Is(err, pathways.ErrConflict) {
		return assessments.Attempt{}, err
	}
	if prior, gErr := s.Attempt(ctx, a.ID); gErr == nil && prior.LearnerID == a.LearnerID && prior.QuizID == a.QuizID {
		return assessments.Attempt{}, err // a retry's attempt: the reservation is its own
	}
	if reserved {
		_, uErr := s.UpdateRecord(context.WithoutCancel(ctx), a.LearnerID, a.QuizID, func(r *assessments.Record) error {
			i := slices.IndexFunc(r.Attempts, func(sum assessments.AttemptSummary) bool { return sum.ID == a.ID })
			if i < 0 {
				return assessments.ErrNoChange
			}
			r.Attempts = slices.Delete(r.Attempts, i, i+1)
			return nil
		})
		if uErr != nil {
			return assessments.Attempt{}, fmt.Errorf("%w (withdrawing the reservation: %w)", err, uErr)
		}
	}
	return assessments.Attempt{}, err
}

// UpdateAttempt applies change to the attempt by compare-and-swap (one
// read, one conditional write when nobody wrote it meanwhile); change may
// not move it to another id. It returns the attempt as stored.
func (s *AssessmentsStore) UpdateAttempt(ctx context.Context, id string, change func(*assessments.Attempt) error) (assessments.Attempt, error) {
	return update(ctx, s.e, collAttempts, id, nil, func(d attemptDoc) assessments.Attempt { return d.attempt(id) }, toAttemptDoc, change)
}

// FollowUps lists, through the "followup" index, up to limit submitted
// attempts whose follow-up is pending and was queued before before,
// oldest first.
func (s *AssessmentsStore) FollowUps(ctx context.Context, before time.Time, limit int) ([]assessments.Attempt, error) {
	out := []assessments.Attempt{}
	q := docdb.Query{Index: "followup", Eq: []any{true}, Below: unixMS(before), Limit: min(max(limit, 1), docdb.MaxLimit)}
	err := s.e.List(ctx, collAttempts, q, func(doc docdb.Doc) error {
		var d attemptDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.attempt(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list pending follow-ups: %w", err)
	}
	return out, nil
}

// Record reads a learner's record at a quiz; before their first attempt
// it is ErrNotFound.
func (s *AssessmentsStore) Record(ctx context.Context, learnerID, quizID string) (assessments.Record, error) {
	var d recordDoc
	if err := s.get(ctx, collRecords, recordID(learnerID, quizID), &d); err != nil {
		return assessments.Record{}, err
	}
	return d.record(), nil
}

// Records lists page p of a learner's records, one per quiz they started,
// through the "learner" index, in id (so quiz) order.
func (s *AssessmentsStore) Records(ctx context.Context, learnerID string, p pathways.Page) ([]assessments.Record, error) {
	out := []assessments.Record{}
	q := docdb.Query{Index: "learner", Eq: []any{learnerID}, Offset: max(p.Offset, 0), Limit: min(max(p.Limit, 1), docdb.MaxLimit)}
	err := s.e.List(ctx, collRecords, q, func(doc docdb.Doc) error {
		var d recordDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.record())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list records of %s: %w", learnerID, err)
	}
	return out, nil
}

// UpdateRecord applies change to the record by compare-and-swap; a
// missing record starts empty (with LearnerID and QuizID set) and is
// created by a unique insert (a concurrent creation makes it decide
// again). change may not move the record. It returns the record as
// stored.
func (s *AssessmentsStore) UpdateRecord(ctx context.Context, learnerID, quizID string, change func(*assessments.Record) error) (assessments.Record, error) {
	empty := func() assessments.Record { return assessments.Record{LearnerID: learnerID, QuizID: quizID} }
	return update(ctx, s.e, collRecords, recordID(learnerID, quizID), empty, recordDoc.record,
		func(r assessments.Record) recordDoc {
			r.LearnerID, r.QuizID = learnerID, quizID
			return toRecordDoc(r)
		}, change)
}

// Stats reads one shard of an organisation's item statistics of a quiz
// version; before the first submitted attempt they are ErrNotFound.
func (s *AssessmentsStore) Stats(ctx context.Context, quizID string, version int, orgID string, shard int) (assessments.Stats, error) {
	var d statsDoc
	if err := s.get(ctx, collStats, statsID(quizID, version, orgID, shard), &d); err != nil {
		return assessments.Stats{}, err
	}
	return d.stats(), nil
}

// UpdateStats applies change to a statistics shard by compare-and-swap;
// missing statistics start empty (with QuizID, Version, OrgID and Shard
// set) and are created by a unique insert.
func (s *AssessmentsStore) UpdateStats(ctx context.Context, quizID string, version int, orgID string, shard int, change func(*assessments.Stats) error) error {
	empty := func() assessments.Stats {
		return assessments.Stats{QuizID: quizID, Version: version, OrgID: orgID, Shard: shard}
	}
	_, err := update(ctx, s.e, collStats, statsID(quizID, version, orgID, shard), empty, statsDoc.stats,
		func(st assessments.Stats) statsDoc {
			st.QuizID, st.Version, st.OrgID, st.Shard = quizID, version, orgID, shard
			return toStatsDoc(st)
		}, change)
	return err
}

// listHeads decodes one page of an organisation's documents of coll
// through its "org" index, in id order, into H.
func listHeads[H, T any](ctx context.Context, e docdb.Engine, coll, orgID string, p pathways.Page, f func(H, string) T) ([]T, error) {
	out := []T{}
	q := docdb.Query{Index: "org", Eq: []any{orgID}, Offset: max(p.Offset, 0), Limit: min(max(p.Limit, 1), docdb.MaxLimit)}
	err := e.List(ctx, coll, q, func(doc docdb.Doc) error {
		var h H
		if err := doc.Decode(&h); err != nil {
			return err
		}
		out = append(out, f(h, doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s of %s: %w", coll, orgID, err)
	}
	return out, nil
}

// Banks lists a page of an organisation's banks, without their questions
// and texts.
func (s *AssessmentsStore) Banks(ctx context.Context, orgID string, p pathways.Page) ([]assessments.Bank, error) {
	return listHeads(ctx, s.e, collBanks, orgID, p, func(h bankHead, id string) assessments.Bank {
		return bankDoc{OrgID: h.OrgID, Name: h.Name, DefaultLocale: h.DefaultLocale, Locales: h.Locales,
			Revision: h.Revision, Created: h.Created, Updated: h.Updated}.bank(id)
	})
}

// Quizzes lists a page of an organisation's quizzes, without their picks
// and texts.
func (s *AssessmentsStore) Quizzes(ctx context.Context, orgID string, p pathways.Page) ([]assessments.Quiz, error) {
	return listHeads(ctx, s.e, collQuizzes, orgID, p, quizHead.quiz)
}
