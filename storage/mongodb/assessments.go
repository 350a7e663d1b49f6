package mongodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
)

// AssessmentsStore implements assessments.Store. Every read and write
// filters on _id alone: banks, quizzes and attempts by id, versions by
// "<quiz>@<n>", a learner's record by "<learner>:<quiz>" and item
// statistics by "<quiz>@<n>:<org>". Updates hold the document's lock and
// never nest; StartAttempt inserts the attempt under the record's lock.
// Versions and attempts are inserted once (a duplicate _id is
// ErrConflict); versions are never updated.
type AssessmentsStore struct {
	db    *mongo.Database
	locks *docLocks
}

var _ assessments.Store = (*AssessmentsStore)(nil)

// Assessments returns the assessment store of db.
func (db *DB) Assessments() *AssessmentsStore {
	return &AssessmentsStore{db: db.db, locks: db.locks}
}

func (s *AssessmentsStore) col(name string) *mongo.Collection { return s.db.Collection(name) }

// quizVersionID is the _id of quiz version n.
func quizVersionID(quizID string, n int) string { return quizID + "@" + strconv.Itoa(n) }

// recordID is the _id of a learner's record at a quiz.
func recordID(learnerID, quizID string) string { return learnerID + ":" + quizID }

// statsID is the _id of one organisation's item statistics of a quiz
// version.
func statsID(quizID string, n int, orgID string, shard int) string {
	return quizVersionID(quizID, n) + ":" + orgID + "#" + strconv.Itoa(shard)
}

// keyed stores a map as an array sorted by key, each entry made by f, so
// no key (message IDs with dots, question keys with "/", answers) ever
// becomes a field name; nil stays nil.
func keyed[K cmp.Ordered, V, D any](m map[K]V, f func(K, V) D) list[D] {
	if m == nil {
		return nil
	}
	out := make(list[D], 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, f(k, m[k]))
	}
	return out
}

// unkeyed turns an array stored by keyed back into its map; nil stays nil.
func unkeyed[K comparable, V, D any](l list[D], f func(D) (K, V)) map[K]V {
	if l == nil {
		return nil
	}
	m := make(map[K]V, len(l))
	for _, d := range l {
		k, v := f(d)
		m[k] = v
	}
	return m
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

// acceptedDoc holds the accepted answers of one locale ("*": any).
type acceptedDoc struct {
	Locale  string       `bson:"locale"`
	Answers list[string] `bson:"answers,omitempty"`
}

func toAcceptedDocs(m map[string][]string) list[acceptedDoc] {
	return keyed(m, func(loc string, as []string) acceptedDoc {
		return acceptedDoc{Locale: loc, Answers: list[string](as)}
	})
}

func fromAcceptedDocs(l list[acceptedDoc]) map[string][]string {
	return unkeyed(l, func(d acceptedDoc) (string, []string) { return d.Locale, []string(d.Answers) })
}

type optionDoc struct {
	ID       string `bson:"id"`
	Text     string `bson:"text,omitempty"`
	Image    string `bson:"image,omitempty"`
	Audio    string `bson:"audio,omitempty"`
	Correct  bool   `bson:"correct,omitempty"`
	Feedback string `bson:"feedback,omitempty"`
}

type matchDoc struct {
	ID    string `bson:"id"`
	Text  string `bson:"text,omitempty"`
	Image string `bson:"image,omitempty"`
	Audio string `bson:"audio,omitempty"`
}

type blankDoc struct {
	ID       string            `bson:"id"`
	Accepted list[acceptedDoc] `bson:"accepted,omitempty"`
}

type numericDoc struct {
	Value     float64 `bson:"value"`
	Tolerance float64 `bson:"tolerance"`
}

// labelDoc names one point of a likert scale.
type labelDoc struct {
	Point int    `bson:"point"`
	Text  string `bson:"text"`
}

type likertDoc struct {
	Min    int            `bson:"min"`
	Max    int            `bson:"max"`
	Labels list[labelDoc] `bson:"labels,omitempty"`
}

type questionDoc struct {
	ID                 string            `bson:"id"`
	Prompt             string            `bson:"prompt,omitempty"`
	Hint               string            `bson:"hint,omitempty"`
	Feedback           string            `bson:"feedback,omitempty"`
	Image              string            `bson:"image,omitempty"`
	Audio              string            `bson:"audio,omitempty"`
	Type               string            `bson:"type"`
	Points             float64           `bson:"points,omitempty"`
	Options            list[optionDoc]   `bson:"options,omitempty"`
	Matches            list[matchDoc]    `bson:"matches,omitempty"`
	Pairs              list[pairDoc]     `bson:"pairs,omitempty"`
	Accepted           list[acceptedDoc] `bson:"accepted,omitempty"`
	CaseSensitive      bool              `bson:"case_sensitive,omitempty"`
	DiacriticSensitive bool              `bson:"diacritic_sensitive,omitempty"`
	Numeric            *numericDoc       `bson:"numeric,omitempty"`
	Blanks             list[blankDoc]    `bson:"blanks,omitempty"`
	Partial            string            `bson:"partial,omitempty"`
	Scale              *likertDoc        `bson:"scale,omitempty"`
	MaxLength          int               `bson:"max_length,omitempty"`
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
		Pairs: toPairs(q.Pairs), Accepted: toAcceptedDocs(q.Accepted),
		CaseSensitive: q.CaseSensitive, DiacriticSensitive: q.DiacriticSensitive,
		Blanks: convert(q.Blanks, func(b assessments.Blank) blankDoc {
			return blankDoc{ID: b.ID, Accepted: toAcceptedDocs(b.Accepted)}
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

func (d questionDoc) toDomain() assessments.Question {
	q := assessments.Question{
		ID: d.ID, Prompt: d.Prompt, Hint: d.Hint, Feedback: d.Feedback, Image: d.Image, Audio: d.Audio,
		Type: assessments.Type(d.Type), Points: d.Points,
		Options: convertBack(d.Options, func(o optionDoc) assessments.Option {
			return assessments.Option{ID: o.ID, Text: o.Text, Image: o.Image, Audio: o.Audio, Correct: o.Correct, Feedback: o.Feedback}
		}),
		Matches: convertBack(d.Matches, func(m matchDoc) assessments.Match {
			return assessments.Match{ID: m.ID, Text: m.Text, Image: m.Image, Audio: m.Audio}
		}),
		Pairs: fromPairs(d.Pairs), Accepted: fromAcceptedDocs(d.Accepted),
		CaseSensitive: d.CaseSensitive, DiacriticSensitive: d.DiacriticSensitive,
		Blanks: convertBack(d.Blanks, func(b blankDoc) assessments.Blank {
			return assessments.Blank{ID: b.ID, Accepted: fromAcceptedDocs(b.Accepted)}
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

// bankQuestionDoc is a bank's question with what quizzes pick it by.
type bankQuestionDoc struct {
	Question   questionDoc  `bson:",inline"`
	Tags       list[string] `bson:"tags,omitempty"`
	Difficulty int          `bson:"difficulty,omitempty"`
}

// bankDoc is a whole question bank, texts included: one document
// (assessments.MaxQuestions bounds it).
type bankDoc struct {
	ID            string                `bson:"_id"`
	OrgID         string                `bson:"org_id,omitempty"`
	Name          string                `bson:"name"`
	DefaultLocale string                `bson:"default_locale"`
	Locales       list[string]          `bson:"locales,omitempty"`
	Questions     list[bankQuestionDoc] `bson:"questions,omitempty"`
	Messages      list[localeDoc]       `bson:"messages,omitempty"`
	Revision      int                   `bson:"revision"`
	Created       time.Time             `bson:"created_at"`
	Updated       time.Time             `bson:"updated_at"`
}

func toBankDoc(b assessments.Bank) bankDoc {
	return bankDoc{
		ID: b.ID, OrgID: b.OrgID, Name: b.Name, DefaultLocale: b.DefaultLocale, Locales: list[string](b.Locales),
		Questions: convert(b.Questions, func(q assessments.BankQuestion) bankQuestionDoc {
			return bankQuestionDoc{Question: toQuestionDoc(q.Question), Tags: list[string](q.Tags), Difficulty: q.Difficulty}
		}),
		Messages: toLocaleDocs(b.Messages), Revision: b.Revision, Created: msUTC(b.Created), Updated: msUTC(b.Updated),
	}
}

func (d bankDoc) toDomain() assessments.Bank {
	return assessments.Bank{
		ID: d.ID, OrgID: d.OrgID, Name: d.Name, DefaultLocale: d.DefaultLocale, Locales: []string(d.Locales),
		Questions: convertBack(d.Questions, func(q bankQuestionDoc) assessments.BankQuestion {
			return assessments.BankQuestion{Question: q.Question.toDomain(), Tags: []string(q.Tags), Difficulty: q.Difficulty}
		}),
		Messages: fromLocaleDocs(d.Messages), Revision: d.Revision, Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
}

type pickDoc struct {
	Bank       string       `bson:"bank"`
	Questions  list[string] `bson:"questions,omitempty"`
	Tags       list[string] `bson:"tags,omitempty"`
	Difficulty int          `bson:"difficulty,omitempty"`
	Count      int          `bson:"count,omitempty"`
}

// quizDoc is a quiz's draft, texts included: one document.
type quizDoc struct {
	ID               string          `bson:"_id"`
	OrgID            string          `bson:"org_id,omitempty"`
	Kind             string          `bson:"kind"`
	Shared           bool            `bson:"shared,omitempty"`
	DefaultLocale    string          `bson:"default_locale"`
	Locales          list[string]    `bson:"locales,omitempty"`
	Title            string          `bson:"title"`
	Intro            string          `bson:"intro,omitempty"`
	Messages         list[localeDoc] `bson:"messages,omitempty"`
	Picks            list[pickDoc]   `bson:"picks,omitempty"`
	ShuffleQuestions bool            `bson:"shuffle_questions,omitempty"`
	ShuffleOptions   bool            `bson:"shuffle_options,omitempty"`
	PassMark         float64         `bson:"pass_mark,omitempty"`
	AttemptLimit     int             `bson:"attempt_limit,omitempty"`
	TimeLimit        int64           `bson:"time_limit_ns,omitempty"` // nanoseconds, as a time.Duration
	Feedback         string          `bson:"feedback,omitempty"`
	Due              time.Time       `bson:"due_at,omitempty"`
	Grade            string          `bson:"grade,omitempty"`
	MasteryM         int             `bson:"mastery_m,omitempty"`
	MasteryN         int             `bson:"mastery_n,omitempty"`
	Pretest          string          `bson:"pretest,omitempty"`
	Revision         int             `bson:"revision"`
	Published        int             `bson:"published"`
	Archived         bool            `bson:"archived,omitempty"`
	Created          time.Time       `bson:"created_at"`
	Updated          time.Time       `bson:"updated_at"`
}

func toQuizDoc(q assessments.Quiz) quizDoc {
	return quizDoc{
		ID: q.ID, OrgID: q.OrgID, Kind: string(q.Kind), Shared: q.Shared,
		DefaultLocale: q.DefaultLocale, Locales: list[string](q.Locales),
		Title: q.Title, Intro: q.Intro, Messages: toLocaleDocs(q.Messages),
		Picks: convert(q.Picks, func(p assessments.Pick) pickDoc {
			return pickDoc{Bank: p.Bank, Questions: list[string](p.Questions), Tags: list[string](p.Tags), Difficulty: p.Difficulty, Count: p.Count}
		}),
		ShuffleQuestions: q.ShuffleQuestions, ShuffleOptions: q.ShuffleOptions,
		PassMark: q.PassMark, AttemptLimit: q.AttemptLimit, TimeLimit: int64(time.Duration(q.TimeLimitSeconds) * time.Second),
		Feedback: string(q.Feedback), Due: msUTC(q.Due), Grade: string(q.Grade),
		MasteryM: q.Mastery.M, MasteryN: q.Mastery.N, Pretest: q.Pretest,
		Revision: q.Revision, Published: q.Published, Archived: q.Archived,
		Created: msUTC(q.Created), Updated: msUTC(q.Updated),
	}
}

func (d quizDoc) toDomain() assessments.Quiz {
	return assessments.Quiz{
		ID: d.ID, OrgID: d.OrgID, Kind: assessments.Kind(d.Kind), Shared: d.Shared,
		DefaultLocale: d.DefaultLocale, Locales: []string(d.Locales),
		Title: d.Title, Intro: d.Intro, Messages: fromLocaleDocs(d.Messages),
		Picks: convertBack(d.Picks, func(p pickDoc) assessments.Pick {
			return assessments.Pick{Bank: p.Bank, Questions: []string(p.Questions), Tags: []string(p.Tags), Difficulty: p.Difficulty, Count: p.Count}
		}),
		ShuffleQuestions: d.ShuffleQuestions, ShuffleOptions: d.ShuffleOptions,
		PassMark: d.PassMark, AttemptLimit: d.AttemptLimit, TimeLimitSeconds: int(time.Duration(d.TimeLimit) / time.Second),
		Feedback: assessments.FeedbackPolicy(d.Feedback), Due: d.Due.UTC(), Grade: assessments.GradeMethod(d.Grade),
		Mastery: assessments.Mastery{M: d.MasteryM, N: d.MasteryN}, Pretest: d.Pretest,
		Revision: d.Revision, Published: d.Published, Archived: d.Archived,
		Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
}

// keyedQuestionDoc is a version's question under its key ("b<n>/<id>").
type keyedQuestionDoc struct {
	Key      string      `bson:"key"`
	Question questionDoc `bson:"question"`
}

// poolDoc is the keys one pick may draw: a subdocument, because the
// embedded database refuses arrays nested directly in arrays.
type poolDoc struct {
	Keys list[string] `bson:"keys,omitempty"`
}

// quizVersionDoc is a published quiz version; the quiz is embedded whole
// (its "_id" is then an ordinary field of the subdocument). Inserted
// once, never updated.
type quizVersionDoc struct {
	ID        string                 `bson:"_id"` // quizVersionID(QuizID, Number)
	QuizID    string                 `bson:"quiz_id"`
	Number    int                    `bson:"number"`
	Quiz      quizDoc                `bson:"quiz"`
	Questions list[keyedQuestionDoc] `bson:"questions,omitempty"`
	Pools     list[poolDoc]          `bson:"pools,omitempty"`
	Messages  list[localeDoc]        `bson:"messages,omitempty"`
	Revision  int                    `bson:"revision"`
	Published time.Time              `bson:"published_at"`
}

func toQuizVersionDoc(v assessments.Version) quizVersionDoc {
	return quizVersionDoc{
		ID: quizVersionID(v.QuizID, v.Number), QuizID: v.QuizID, Number: v.Number, Quiz: toQuizDoc(v.Quiz),
		Questions: keyed(v.Questions, func(k string, q assessments.Question) keyedQuestionDoc {
			return keyedQuestionDoc{Key: k, Question: toQuestionDoc(q)}
		}),
		Pools:    convert(v.Pools, func(p []string) poolDoc { return poolDoc{Keys: list[string](p)} }),
		Messages: toLocaleDocs(v.Messages), Revision: v.Revision, Published: msUTC(v.Published),
	}
}

func (d quizVersionDoc) toDomain() assessments.Version {
	return assessments.Version{
		QuizID: d.QuizID, Number: d.Number, Quiz: d.Quiz.toDomain(),
		Questions: unkeyed(d.Questions, func(q keyedQuestionDoc) (string, assessments.Question) {
			return q.Key, q.Question.toDomain()
		}),
		Pools:    convertBack(d.Pools, func(p poolDoc) []string { return []string(p.Keys) }),
		Messages: fromLocaleDocs(d.Messages), Revision: d.Revision, Published: d.Published.UTC(),
	}
}

// answerDoc is a learner's answer; its maps (option → match, blank →
// text) are arrays of pairs.
type answerDoc struct {
	Option  string        `bson:"option,omitempty"`
	Options list[string]  `bson:"options,omitempty"`
	Order   list[string]  `bson:"order,omitempty"`
	Pairs   list[pairDoc] `bson:"pairs,omitempty"`
	Text    string        `bson:"text,omitempty"`
	Number  *float64      `bson:"number,omitempty"`
	Blanks  list[pairDoc] `bson:"blanks,omitempty"`
	Value   *int          `bson:"value,omitempty"`
}

func toAnswerDoc(a assessments.Answer) answerDoc {
	return answerDoc{
		Option: a.Option, Options: list[string](a.Options), Order: list[string](a.Order), Pairs: toPairs(a.Pairs),
		Text: a.Text, Number: clonePtr(a.Number), Blanks: toPairs(a.Blanks), Value: clonePtr(a.Value),
	}
}

func (d answerDoc) toDomain() assessments.Answer {
	return assessments.Answer{
		Option: d.Option, Options: []string(d.Options), Order: []string(d.Order), Pairs: fromPairs(d.Pairs),
		Text: d.Text, Number: clonePtr(d.Number), Blanks: fromPairs(d.Blanks), Value: clonePtr(d.Value),
	}
}

// savedDoc is the answer saved to the question Key.
type savedDoc struct {
	Key      string    `bson:"key"`
	AnswerID string    `bson:"answer_id,omitempty"`
	Answer   answerDoc `bson:"answer"`
	Saved    time.Time `bson:"saved_at"`
}

// resultDoc is the score of the question Key.
type resultDoc struct {
	Key      string       `bson:"key"`
	Points   float64      `bson:"points"`
	Max      float64      `bson:"max"`
	Correct  bool         `bson:"correct,omitempty"`
	Answered bool         `bson:"answered,omitempty"`
	Feedback list[string] `bson:"feedback,omitempty"`
}

type drawnDoc struct {
	Question string       `bson:"question"`
	Options  list[string] `bson:"options,omitempty"`
	Matches  list[string] `bson:"matches,omitempty"` // absent in attempts stored before it was kept
}

// attemptDoc is one attempt, answers and results included: one document
// (assessments.MaxDrawn bounds it).
type attemptDoc struct {
	ID        string          `bson:"_id"`
	QuizID    string          `bson:"quiz_id"`
	Version   int             `bson:"version"`
	LearnerID string          `bson:"learner_id"`
	OrgID     string          `bson:"org_id,omitempty"`
	Number    int             `bson:"number"`
	Locale    string          `bson:"locale,omitempty"`
	Seed      int64           `bson:"seed"` // the uint64 seed's bits: BSON has no unsigned integers
	Drawn     list[drawnDoc]  `bson:"drawn,omitempty"`
	Answers   list[savedDoc]  `bson:"answers,omitempty"`
	Started   time.Time       `bson:"started_at"`
	Deadline  time.Time       `bson:"deadline,omitempty"`
	Submitted time.Time       `bson:"submitted_at,omitempty"`
	Results   list[resultDoc] `bson:"results,omitempty"`
	Score     float64         `bson:"score"`
	Max       float64         `bson:"max"`
	FollowUp  bool            `bson:"followup,omitempty"`
	FollowAt  time.Time       `bson:"followup_at,omitempty"`
}

func toAttemptDoc(a assessments.Attempt) attemptDoc {
	return attemptDoc{
		ID: a.ID, QuizID: a.QuizID, Version: a.Version, LearnerID: a.LearnerID, OrgID: a.OrgID,
		Number: a.Number, Locale: a.Locale, Seed: int64(a.Seed),
		Drawn: convert(a.Drawn, func(dr assessments.Drawn) drawnDoc {
			return drawnDoc{Question: dr.Question, Options: list[string](dr.Options), Matches: list[string](dr.Matches)}
		}),
		Answers: keyed(a.Answers, func(k string, s assessments.Saved) savedDoc {
			return savedDoc{Key: k, AnswerID: s.AnswerID, Answer: toAnswerDoc(s.Answer), Saved: msUTC(s.Saved)}
		}),
		Started: msUTC(a.Started), Deadline: msUTC(a.Deadline), Submitted: msUTC(a.Submitted),
		Results: keyed(a.Results, func(k string, r assessments.Result) resultDoc {
			return resultDoc{Key: k, Points: r.Points, Max: r.Max, Correct: r.Correct, Answered: r.Answered, Feedback: list[string](r.Feedback)}
		}),
		Score: a.Score, Max: a.Max, FollowUp: !a.FollowUp.IsZero(), FollowAt: msUTC(a.FollowUp),
	}
}

func (d attemptDoc) toDomain() assessments.Attempt {
	a := assessments.Attempt{
		ID: d.ID, QuizID: d.QuizID, Version: d.Version, LearnerID: d.LearnerID, OrgID: d.OrgID,
		Number: d.Number, Locale: d.Locale, Seed: uint64(d.Seed),
		Drawn: convertBack(d.Drawn, func(dr drawnDoc) assessments.Drawn {
			return assessments.Drawn{Question: dr.Question, Options: []string(dr.Options), Matches: []string(dr.Matches)}
		}),
		Answers: unkeyed(d.Answers, func(s savedDoc) (string, assessments.Saved) {
			return s.Key, assessments.Saved{AnswerID: s.AnswerID, Answer: s.Answer.toDomain(), Saved: s.Saved.UTC()}
		}),
		Started: d.Started.UTC(), Deadline: d.Deadline.UTC(), Submitted: d.Submitted.UTC(),
		Results: unkeyed(d.Results, func(r resultDoc) (string, assessments.Result) {
			return r.Key, assessments.Result{Points: r.Points, Max: r.Max, Correct: r.Correct, Answered: r.Answered, Feedback: []string(r.Feedback)}
		}),
		Score: d.Score, Max: d.Max,
	}
	if d.FollowUp {
		a.FollowUp = d.FollowAt.UTC()
	}
	return a
}

type summaryDoc struct {
	ID        string    `bson:"id"`
	Version   int       `bson:"version"`
	Number    int       `bson:"number"`
	Started   time.Time `bson:"started_at"`
	Submitted time.Time `bson:"submitted_at,omitempty"`
	Score     float64   `bson:"score"`
	Max       float64   `bson:"max"`
}

// recordDoc is a learner's record at a quiz; its _id is recordID.
// assessments.MaxAttempts and MaxHistory bound it.
type recordDoc struct {
	ID        string           `bson:"_id"`
	LearnerID string           `bson:"learner_id"`
	QuizID    string           `bson:"quiz_id"`
	OrgID     string           `bson:"org_id,omitempty"`
	Attempts  list[summaryDoc] `bson:"attempts,omitempty"`
	History   list[bool]       `bson:"history,omitempty"`
	Mastered  bool             `bson:"mastered,omitempty"`
	Gain      *float64         `bson:"gain,omitempty"`
	Updated   time.Time        `bson:"updated_at,omitempty"`
}

func toRecordDoc(r assessments.Record) recordDoc {
	return recordDoc{
		ID: recordID(r.LearnerID, r.QuizID), LearnerID: r.LearnerID, QuizID: r.QuizID, OrgID: r.OrgID,
		Attempts: convert(r.Attempts, func(a assessments.AttemptSummary) summaryDoc {
			return summaryDoc{
				ID: a.ID, Version: a.Version, Number: a.Number, Started: msUTC(a.Started),
				Submitted: msUTC(a.Submitted), Score: a.Score, Max: a.Max,
			}
		}),
		History: list[bool](r.History), Mastered: r.Mastered, Gain: r.Gain, Updated: msUTC(r.Updated),
	}
}

func (d recordDoc) toDomain() assessments.Record {
	return assessments.Record{
		LearnerID: d.LearnerID, QuizID: d.QuizID, OrgID: d.OrgID,
		Attempts: convertBack(d.Attempts, func(a summaryDoc) assessments.AttemptSummary {
			return assessments.AttemptSummary{
				ID: a.ID, Version: a.Version, Number: a.Number, Started: a.Started.UTC(),
				Submitted: a.Submitted.UTC(), Score: a.Score, Max: a.Max,
			}
		}),
		History: []bool(d.History), Mastered: d.Mastered, Gain: d.Gain, Updated: d.Updated.UTC(),
	}
}

// countDoc is how many gave one wrong answer (the answer is the key).
type countDoc struct {
	Answer string `bson:"answer"`
	Count  int    `bson:"count"`
}

// itemStatsDoc holds the running sums of the question Key.
type itemStatsDoc struct {
	Key   string         `bson:"key"`
	N     int            `bson:"n"`
	SumX  float64        `bson:"sum_x"`
	SumX2 float64        `bson:"sum_x2"`
	SumY  float64        `bson:"sum_y"`
	SumY2 float64        `bson:"sum_y2"`
	SumXY float64        `bson:"sum_xy"`
	Wrong list[countDoc] `bson:"wrong,omitempty"`
}

// statsDoc is one organisation's item statistics of one quiz version;
// its _id is statsID.
type statsDoc struct {
	ID      string             `bson:"_id"`
	QuizID  string             `bson:"quiz_id"`
	Version int                `bson:"version"`
	OrgID   string             `bson:"org_id,omitempty"`
	Shard   int                `bson:"shard,omitempty"`
	Items   list[itemStatsDoc] `bson:"items,omitempty"`
	Applied list[appliedDoc]   `bson:"applied,omitempty"`
}

// appliedDoc is an attempt counted in the statistics whose follow-up is
// not yet cleared.
type appliedDoc struct {
	Attempt string    `bson:"attempt"`
	At      time.Time `bson:"at"`
}

func toStatsDoc(st assessments.Stats) statsDoc {
	return statsDoc{
		ID: statsID(st.QuizID, st.Version, st.OrgID, st.Shard), QuizID: st.QuizID, Version: st.Version, OrgID: st.OrgID, Shard: st.Shard,
		Items: keyed(st.Items, func(k string, it assessments.ItemStats) itemStatsDoc {
			return itemStatsDoc{
				Key: k, N: it.N, SumX: it.SumX, SumX2: it.SumX2, SumY: it.SumY, SumY2: it.SumY2, SumXY: it.SumXY,
				Wrong: keyed(it.Wrong, func(a string, n int) countDoc { return countDoc{Answer: a, Count: n} }),
			}
		}),
		Applied: keyed(st.Applied, func(id string, at time.Time) appliedDoc { return appliedDoc{Attempt: id, At: msUTC(at)} }),
	}
}

func (d statsDoc) toDomain() assessments.Stats {
	return assessments.Stats{
		QuizID: d.QuizID, Version: d.Version, OrgID: d.OrgID, Shard: d.Shard,
		Items: unkeyed(d.Items, func(it itemStatsDoc) (string, assessments.ItemStats) {
			return it.Key, assessments.ItemStats{
				N: it.N, SumX: it.SumX, SumX2: it.SumX2, SumY: it.SumY, SumY2: it.SumY2, SumXY: it.SumXY,
				Wrong: unkeyed(it.Wrong, func(c countDoc) (string, int) { return c.Answer, c.Count }),
			}
		}),
		Applied: unkeyed(d.Applied, func(a appliedDoc) (string, time.Time) { return a.Attempt, a.At.UTC() }),
	}
}

// Bank reads one question bank by id.
func (s *AssessmentsStore) Bank(ctx context.Context, id string) (assessments.Bank, error) {
	var d bankDoc
	if err := s.col(colAssessmentBanks).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Bank{}, fmt.Errorf("find bank %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// InsertBank stores a new bank; an existing id is ErrConflict.
func (s *AssessmentsStore) InsertBank(ctx context.Context, b assessments.Bank) error {
	if _, err := s.col(colAssessmentBanks).InsertOne(ctx, toBankDoc(b)); err != nil {
		return fmt.Errorf("insert bank %s: %w", b.ID, translate(err))
	}
	return nil
}

// UpdateBank applies change to a fresh read of the bank under its lock
// and writes it back; it returns the bank as stored.
func (s *AssessmentsStore) UpdateBank(ctx context.Context, id string, change func(*assessments.Bank) error) (assessments.Bank, error) {
	defer s.locks.lock(colAssessmentBanks, id)()
	b, err := s.Bank(ctx, id)
	if err != nil {
		return assessments.Bank{}, err
	}
	if err := change(&b); err != nil {
		return assessments.Bank{}, err
	}
	b.ID = id // change may not move the document
	d := toBankDoc(b)
	if err := s.replace(ctx, colAssessmentBanks, id, d, false); err != nil {
		return assessments.Bank{}, fmt.Errorf("update bank %s: %w", id, err)
	}
	return d.toDomain(), nil // as stored: times in UTC milliseconds
}

// Quiz reads one quiz draft by id.
func (s *AssessmentsStore) Quiz(ctx context.Context, id string) (assessments.Quiz, error) {
	var d quizDoc
	if err := s.col(colQuizzes).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Quiz{}, fmt.Errorf("find quiz %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// InsertQuiz stores a new quiz; an existing id is ErrConflict.
func (s *AssessmentsStore) InsertQuiz(ctx context.Context, q assessments.Quiz) error {
	if _, err := s.col(colQuizzes).InsertOne(ctx, toQuizDoc(q)); err != nil {
		return fmt.Errorf("insert quiz %s: %w", q.ID, translate(err))
	}
	return nil
}

// UpdateQuiz applies change to a fresh read of the quiz under its lock
// and writes it back; it returns the quiz as stored.
func (s *AssessmentsStore) UpdateQuiz(ctx context.Context, id string, change func(*assessments.Quiz) error) (assessments.Quiz, error) {
	defer s.locks.lock(colQuizzes, id)()
	q, err := s.Quiz(ctx, id)
	if err != nil {
		return assessments.Quiz{}, err
	}
	if err := change(&q); err != nil {
		return assessments.Quiz{}, err
	}
	q.ID = id
	d := toQuizDoc(q)
	if err := s.replace(ctx, colQuizzes, id, d, false); err != nil {
		return assessments.Quiz{}, fmt.Errorf("update quiz %s: %w", id, err)
	}
	return d.toDomain(), nil
}

// InsertVersion stores a published version under "<quiz>@<n>", so a
// number stored twice is ErrConflict. It takes no lock: the service may
// call it inside UpdateQuiz's change.
func (s *AssessmentsStore) InsertVersion(ctx context.Context, v assessments.Version) error {
	d := toQuizVersionDoc(v)
	if _, err := s.col(colQuizVersions).InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert quiz version %s: %w", d.ID, translate(err))
	}
	return nil
}

// Version reads one published quiz version.
func (s *AssessmentsStore) Version(ctx context.Context, quizID string, n int) (assessments.Version, error) {
	id := quizVersionID(quizID, n)
	var d quizVersionDoc
	if err := s.col(colQuizVersions).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Version{}, fmt.Errorf("find quiz version %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// DeleteBank removes a bank; a missing one is ErrNotFound.
func (s *AssessmentsStore) DeleteBank(ctx context.Context, id string) error {
	defer s.locks.lock(colAssessmentBanks, id)()
	return s.delete(ctx, colAssessmentBanks, id)
}

// DeleteQuiz removes a quiz draft (not its versions); a missing one is
// ErrNotFound.
func (s *AssessmentsStore) DeleteQuiz(ctx context.Context, id string) error {
	defer s.locks.lock(colQuizzes, id)()
	return s.delete(ctx, colQuizzes, id)
}

// DeleteVersion removes one published version; a missing one is
// ErrNotFound.
func (s *AssessmentsStore) DeleteVersion(ctx context.Context, quizID string, n int) error {
	return s.delete(ctx, colQuizVersions, quizVersionID(quizID, n))
}

// delete removes document id of collection.
func (s *AssessmentsStore) delete(ctx context.Context, collection, id string) error {
	res, err := s.col(collection).DeleteOne(ctx, byID(id))
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", collection, id, translate(err))
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("delete %s %s: %w", collection, id, pathways.ErrNotFound)
	}
	return nil
}

// Attempt reads one attempt by id.
func (s *AssessmentsStore) Attempt(ctx context.Context, id string) (assessments.Attempt, error) {
	var d attemptDoc
	if err := s.col(colQuizAttempts).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Attempt{}, fmt.Errorf("find attempt %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// StartAttempt stores a new attempt and lists it in the learner's record,
// under the record's lock: it reads the record (a missing one is an empty
// record of a.LearnerID, a.QuizID and a.OrgID), lets check refuse (its
// error is returned as it is, and nothing is stored), then numbers the
// attempt: a.Number is always set here, to len(record.Attempts)+1,
// whatever the caller passed (the service leaves it 0); read the attempt
// back to see it. It then inserts the attempt (an existing id is
// ErrConflict, the record unchanged) and appends its summary to the
// record. If the record cannot be written the attempt is deleted again,
// so a failure leaves nothing behind.
func (s *AssessmentsStore) StartAttempt(ctx context.Context, a assessments.Attempt, check func(assessments.Record) error) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("start attempt %s: %w", a.ID, err)
		}
	}()
	key := recordID(a.LearnerID, a.QuizID)
	defer s.locks.lock(colQuizRecords, key)()
	r, err := s.Record(ctx, a.LearnerID, a.QuizID)
	if errors.Is(err, pathways.ErrNotFound) {
		r, err = assessments.Record{LearnerID: a.LearnerID, QuizID: a.QuizID, OrgID: a.OrgID}, nil
	}
	if err != nil {
		return err
	}
	if err := check(r); err != nil {
		return err
	}
	a.Number = len(r.Attempts) + 1
	ad := toAttemptDoc(a)
	if _, err := s.col(colQuizAttempts).InsertOne(ctx, ad); err != nil {
		return translate(err)
	}
	r.Attempts = append(r.Attempts, assessments.AttemptSummary{
		ID: a.ID, Version: a.Version, Number: a.Number, Started: ad.Started,
	})
	if err := s.replace(ctx, colQuizRecords, key, toRecordDoc(r), true); err != nil {
		// Undo with a context that outlives a cancelled request.
		_, _ = s.col(colQuizAttempts).DeleteOne(context.WithoutCancel(ctx), byID(a.ID))
		return fmt.Errorf("record %s: %w", key, err)
	}
	return nil
}

// UpdateAttempt applies change to a fresh read of the attempt under its
// lock and writes it back; it returns the attempt as stored.
func (s *AssessmentsStore) UpdateAttempt(ctx context.Context, id string, change func(*assessments.Attempt) error) (assessments.Attempt, error) {
	defer s.locks.lock(colQuizAttempts, id)()
	a, err := s.Attempt(ctx, id)
	if err != nil {
		return assessments.Attempt{}, err
	}
	if err := change(&a); errors.Is(err, assessments.ErrNoChange) {
		return s.Attempt(ctx, id)
	} else if err != nil {
		return assessments.Attempt{}, err
	}
	a.ID = id
	d := toAttemptDoc(a)
	if err := s.replace(ctx, colQuizAttempts, id, d, false); err != nil {
		return assessments.Attempt{}, fmt.Errorf("update attempt %s: %w", id, err)
	}
	return d.toDomain(), nil
}

// Record reads a learner's record at a quiz; before their first attempt
// it is ErrNotFound.
func (s *AssessmentsStore) Record(ctx context.Context, learnerID, quizID string) (assessments.Record, error) {
	id := recordID(learnerID, quizID)
	var d recordDoc
	if err := s.col(colQuizRecords).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Record{}, fmt.Errorf("find record %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// recordOrEmpty reads a record, or gives an empty one of learnerID and
// quizID if there is none yet.
func (s *AssessmentsStore) recordOrEmpty(ctx context.Context, learnerID, quizID string) (assessments.Record, error) {
	r, err := s.Record(ctx, learnerID, quizID)
	if errors.Is(err, pathways.ErrNotFound) {
		return assessments.Record{LearnerID: learnerID, QuizID: quizID}, nil
	}
	return r, err
}

// UpdateRecord applies change to a fresh read of the record under its
// lock and writes it back; a missing record starts empty (with LearnerID
// and QuizID set) and is created. It returns the record as stored.
func (s *AssessmentsStore) UpdateRecord(ctx context.Context, learnerID, quizID string, change func(*assessments.Record) error) (assessments.Record, error) {
	key := recordID(learnerID, quizID)
	defer s.locks.lock(colQuizRecords, key)()
	r, err := s.recordOrEmpty(ctx, learnerID, quizID)
	if err != nil {
		return assessments.Record{}, err
	}
	if err := change(&r); errors.Is(err, assessments.ErrNoChange) {
		return s.recordOrEmpty(ctx, learnerID, quizID)
	} else if err != nil {
		return assessments.Record{}, err
	}
	r.LearnerID, r.QuizID = learnerID, quizID // change may not move the document
	d := toRecordDoc(r)
	if err := s.replace(ctx, colQuizRecords, key, d, true); err != nil {
		return assessments.Record{}, fmt.Errorf("update record %s: %w", key, err)
	}
	return d.toDomain(), nil
}

// Stats reads one organisation's item statistics of a quiz version;
// before the first submitted attempt they are ErrNotFound.
func (s *AssessmentsStore) Stats(ctx context.Context, quizID string, version int, orgID string, shard int) (assessments.Stats, error) {
	id := statsID(quizID, version, orgID, shard)
	var d statsDoc
	if err := s.col(colQuizStats).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return assessments.Stats{}, fmt.Errorf("find stats %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// UpdateStats applies change to a fresh read of the statistics under
// their lock and writes them back; missing statistics start empty (with
// QuizID, Version and OrgID set) and are created.
func (s *AssessmentsStore) UpdateStats(ctx context.Context, quizID string, version int, orgID string, shard int, change func(*assessments.Stats) error) error {
	key := statsID(quizID, version, orgID, shard)
	defer s.locks.lock(colQuizStats, key)()
	st, err := s.Stats(ctx, quizID, version, orgID, shard)
	if errors.Is(err, pathways.ErrNotFound) {
		st, err = assessments.Stats{QuizID: quizID, Version: version, OrgID: orgID, Shard: shard}, nil
	}
	if err != nil {
		return err
	}
	if err := change(&st); errors.Is(err, assessments.ErrNoChange) {
		return nil
	} else if err != nil {
		return err
	}
	st.QuizID, st.Version, st.OrgID = quizID, version, orgID
	if err := s.replace(ctx, colQuizStats, key, toStatsDoc(st), true); err != nil {
		return fmt.Errorf("update stats %s: %w", key, err)
	}
	return nil
}

// replace writes the whole document id of collection; the caller holds
// its lock. Without upsert a missing document is ErrNotFound.
func (s *AssessmentsStore) replace(ctx context.Context, collection, id string, doc any, upsert bool) error {
	res, err := s.col(collection).ReplaceOne(ctx, byID(id), doc, options.Replace().SetUpsert(upsert))
	if err != nil {
		return translate(err)
	}
	if !upsert && res.MatchedCount == 0 {
		return pathways.ErrNotFound
	}
	return nil
}

// orgScan decodes, for the authors' listings, one page of the documents of
// an organisation in col, in _id order, without the heavy fields (a bank's
// questions, a quiz's picks, the texts of both): a scan,
// off the learners' path (DESIGN: scans only for listings and reports);
// real MongoDB uses the org_id index.
func orgScan[D any](ctx context.Context, c *mongo.Collection, orgID string, p pathways.Page, fn func(D)) error {
	cur, err := c.Find(ctx, bson.D{{Key: "org_id", Value: orgID}},
		options.Find().SetProjection(bson.D{{Key: "questions", Value: 0}, {Key: "picks", Value: 0}, {Key: "messages", Value: 0}}).
			SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(int64(p.Offset)).SetLimit(int64(p.Limit)).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("scan %s of %s: %w", c.Name(), orgID, translate(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("scan %s: decode: %w", c.Name(), err)
		}
		fn(d)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("scan %s of %s: %w", c.Name(), orgID, translate(err))
	}
	return nil
}

// Banks lists a page of an organisation's banks, without their questions
// and texts.
func (s *AssessmentsStore) Banks(ctx context.Context, orgID string, p pathways.Page) ([]assessments.Bank, error) {
	out := []assessments.Bank{}
	err := orgScan(ctx, s.col(colAssessmentBanks), orgID, p, func(d bankDoc) { out = append(out, d.toDomain()) })
	return out, err
}

// Quizzes lists a page of an organisation's quizzes, without their picks
// and texts.
func (s *AssessmentsStore) Quizzes(ctx context.Context, orgID string, p pathways.Page) ([]assessments.Quiz, error) {
	out := []assessments.Quiz{}
	err := orgScan(ctx, s.col(colQuizzes), orgID, p, func(d quizDoc) { out = append(out, d.toDomain()) })
	return out, err
}

// FollowUps lists the submitted attempts whose follow-up is pending and
// was queued before before, oldest first: a filter the embedded database
// evaluates over the collection (background worker only).
func (s *AssessmentsStore) FollowUps(ctx context.Context, before time.Time, limit int) ([]assessments.Attempt, error) {
	cur, err := s.col(colQuizAttempts).Find(ctx, bson.D{{Key: "followup", Value: true}, {Key: "followup_at", Value: bson.D{{Key: "$lt", Value: before}}}},
		options.Find().SetSort(bson.D{{Key: "followup_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(max(limit, 1))))
	if err != nil {
		return nil, fmt.Errorf("list pending follow-ups: %w", translate(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := []assessments.Attempt{}
	for cur.Next(ctx) {
		var d attemptDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("list pending follow-ups: decode: %w", err)
		}
		out = append(out, d.toDomain())
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("list pending follow-ups: %w", translate(err))
	}
	return out, nil
}
