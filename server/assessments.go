package server

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
)

// bankJSON is a question bank as authors send and receive it; questions
// carry their own JSON names (see assessments.Question).
type bankJSON struct {
	ID            string                            `json:"id,omitempty"`
	OrgID         string                            `json:"orgId,omitempty"`
	Revision      int                               `json:"revision,omitempty"`
	Name          string                            `json:"name"`
	DefaultLocale string                            `json:"defaultLocale"`
	Locales       []string                          `json:"locales"`
	Questions     []assessments.BankQuestion        `json:"questions"`
	Messages      map[string]map[string]messageJSON `json:"messages"`
}

func (b bankJSON) bank() assessments.Bank {
	return assessments.Bank{ID: b.ID, OrgID: b.OrgID, Name: b.Name, DefaultLocale: b.DefaultLocale, Locales: b.Locales,
		Questions: b.Questions, Messages: toMessages(b.Messages)}
}

func (b bankJSON) check() error { return assessments.CheckBank(b.bank()) }

// bankSummaryJSON is a bank as its organisation's listing shows it: what
// the listing reads, without the questions and texts (read the bank by id
// for them), so that a client never mistakes a summary for an empty bank.
type bankSummaryJSON struct {
	ID            string   `json:"id"`
	OrgID         string   `json:"orgId"`
	Revision      int      `json:"revision"`
	Name          string   `json:"name"`
	DefaultLocale string   `json:"defaultLocale"`
	Locales       []string `json:"locales"`
}

func toBankSummary(b assessments.Bank) bankSummaryJSON {
	return bankSummaryJSON{ID: b.ID, OrgID: b.OrgID, Revision: b.Revision, Name: b.Name,
		DefaultLocale: b.DefaultLocale, Locales: nonNil(b.Locales)}
}

func toBankJSON(b assessments.Bank) bankJSON {
	return bankJSON{ID: b.ID, OrgID: b.OrgID, Revision: b.Revision, Name: b.Name, DefaultLocale: b.DefaultLocale,
		Locales: nonNil(b.Locales), Questions: nonNil(b.Questions), Messages: fromMessages(b.Messages)}
}

func fromMessages(ms i18n.Messages) map[string]map[string]messageJSON {
	out := map[string]map[string]messageJSON{}
	for loc, msgs := range ms {
		out[loc] = make(map[string]messageJSON, len(msgs))
		for id, m := range msgs {
			out[loc][id] = messageJSON(m)
		}
	}
	return out
}

// quizJSON is a quiz draft: its settings, texts and picks.
type quizJSON struct {
	quizSettingsJSON
	Messages map[string]map[string]messageJSON `json:"messages"`
	Picks    []pickJSON                        `json:"picks"`
}

// quizSettingsJSON is a quiz without its texts and picks, which is also
// what the organisation's listing shows of each quiz (QuizSummary); the
// time limit is in whole seconds.
type quizSettingsJSON struct {
	ID               string                     `json:"id,omitempty"`
	OrgID            string                     `json:"orgId,omitempty"`
	Revision         int                        `json:"revision,omitempty"`
	Kind             assessments.Kind           `json:"kind"`
	Shared           bool                       `json:"shared"`
	DefaultLocale    string                     `json:"defaultLocale"`
	Locales          []string                   `json:"locales"`
	Title            string                     `json:"title"`
	Intro            string                     `json:"intro,omitempty"`
	ShuffleQuestions bool                       `json:"shuffleQuestions"`
	ShuffleOptions   bool                       `json:"shuffleOptions"`
	PassMark         float64                    `json:"passMark"`
	AttemptLimit     int                        `json:"attemptLimit"`
	TimeLimitSeconds int                        `json:"timeLimitSeconds"` // as sent: the domain checks it before any conversion
	Offline          bool                       `json:"offline"`
	Feedback         assessments.FeedbackPolicy `json:"feedback"`
	Due              *time.Time                 `json:"due,omitempty"`
	Grade            assessments.GradeMethod    `json:"grade"`
	Mastery          *masteryJSON               `json:"mastery,omitempty"`
	Pretest          string                     `json:"pretest,omitempty"`
	Published        int                        `json:"published"`
}

type pickJSON struct {
	Bank       string   `json:"bank"`
	Questions  []string `json:"questions,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Difficulty int      `json:"difficulty,omitempty"`
	Count      int      `json:"count,omitempty"`
}

type masteryJSON struct {
	M int `json:"m"`
	N int `json:"n"`
}

func (q quizJSON) quiz() assessments.Quiz {
	out := assessments.Quiz{
		ID: q.ID, OrgID: q.OrgID, Kind: q.Kind, Shared: q.Shared, DefaultLocale: q.DefaultLocale, Locales: q.Locales,
		Title: q.Title, Intro: q.Intro, Messages: toMessages(q.Messages), ShuffleQuestions: q.ShuffleQuestions,
		ShuffleOptions: q.ShuffleOptions, PassMark: q.PassMark, AttemptLimit: q.AttemptLimit,
		TimeLimitSeconds: q.TimeLimitSeconds, Offline: q.Offline, Feedback: q.Feedback, Grade: q.Grade, Pretest: q.Pretest,
	}
	if q.Due != nil {
		out.Due = *q.Due
	}
	if q.Mastery != nil {
		out.Mastery = assessments.Mastery{M: q.Mastery.M, N: q.Mastery.N}
	}
	for _, p := range q.Picks {
		out.Picks = append(out.Picks, assessments.Pick(p))
	}
	return out
}

func (q quizJSON) check() error { return assessments.CheckQuiz(q.quiz()) }

func toQuizJSON(q assessments.Quiz) quizJSON {
	out := quizJSON{quizSettingsJSON: toQuizSettings(q), Messages: fromMessages(q.Messages), Picks: []pickJSON{}}
	for _, p := range q.Picks {
		out.Picks = append(out.Picks, pickJSON(p))
	}
	return out
}

func toQuizSettings(q assessments.Quiz) quizSettingsJSON {
	out := quizSettingsJSON{
		ID: q.ID, OrgID: q.OrgID, Revision: q.Revision, Kind: q.Kind, Shared: q.Shared, DefaultLocale: q.DefaultLocale,
		Locales: nonNil(q.Locales), Title: q.Title, Intro: q.Intro, ShuffleQuestions: q.ShuffleQuestions,
		ShuffleOptions: q.ShuffleOptions, PassMark: q.PassMark, AttemptLimit: q.AttemptLimit,
		TimeLimitSeconds: q.TimeLimitSeconds, Offline: q.Offline, Feedback: q.Feedback, Grade: q.Grade, Pretest: q.Pretest, Published: q.Published,
	}
	if !q.Due.IsZero() {
		out.Due = &q.Due
	}
	if q.Mastery != (assessments.Mastery{}) {
		out.Mastery = &masteryJSON{M: q.Mastery.M, N: q.Mastery.N}
	}
	return out
}

func (s *Server) createBank(c *fiber.Ctx) error {
	var in bankJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	b, created, err := s.assess.CreateBank(c.UserContext(), actor(c), in.bank())
	if err != nil {
		return err
	}
	c.Location("/api/v1/banks/" + b.ID)
	setDraftETag(c, b.Revision)
	return c.Status(createdStatus(created)).JSON(toBankJSON(b))
}

func (s *Server) getBank(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	b, err := s.assess.Bank(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	setDraftETag(c, b.Revision)
	return c.JSON(toBankJSON(b))
}

func (s *Server) updateBank(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in bankJSON
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, in)
	if err != nil {
		return err
	}
	if in.ID != "" || in.OrgID != "" {
		cur, err := s.assess.Bank(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		var r readOnly
		r.id("id", in.ID, cur.ID)
		r.id("orgId", in.OrgID, cur.OrgID)
		if err := r.err(); err != nil {
			return err
		}
	}
	b, err := s.assess.UpdateBank(c.UserContext(), actor(c), id, rev, in.bank())
	if err != nil {
		return err
	}
	setDraftETag(c, b.Revision)
	return c.JSON(toBankJSON(b))
}

func (s *Server) createQuiz(c *fiber.Ctx) error {
	var in quizJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	q, created, err := s.assess.CreateQuiz(c.UserContext(), actor(c), in.quiz())
	if err != nil {
		return err
	}
	c.Location("/api/v1/quizzes/" + q.ID)
	setDraftETag(c, q.Revision)
	return c.Status(createdStatus(created)).JSON(toQuizJSON(q))
}

func (s *Server) getQuiz(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	q, err := s.assess.Quiz(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	setDraftETag(c, q.Revision)
	return c.JSON(toQuizJSON(q))
}

func (s *Server) updateQuiz(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in quizJSON
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, in)
	if err != nil {
		return err
	}
	if in.ID != "" || in.OrgID != "" || in.Published != 0 {
		// Published only rises, without a new revision: a number read
		// before a later publication is accepted.
		cur, err := s.assess.Quiz(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		var r readOnly
		r.id("id", in.ID, cur.ID)
		r.id("orgId", in.OrgID, cur.OrgID)
		r.published(&in.Published, cur.Published)
		if err := r.err(); err != nil {
			return err
		}
	}
	q, err := s.assess.UpdateQuiz(c.UserContext(), actor(c), id, rev, in.quiz())
	if err != nil {
		return err
	}
	setDraftETag(c, q.Revision)
	return c.JSON(toQuizJSON(q))
}

func (s *Server) publishQuiz(c *fiber.Ctx) error {
	pv := &pathways.ValidationError{}
	id := pathIDInto(c, pv)
	var in struct {
		Revision int `json:"revision"`
	}
	if c.Request().Header.ContentLength() != 0 || c.Get(fiber.HeaderContentType) != "" {
		if err := decodeRequest(c, pv, &in); err != nil {
			return err
		}
	} else if err := paramErr(pv); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, nil)
	if err != nil {
		return err
	}
	v, created, err := s.assess.PublishQuiz(c.UserContext(), actor(c), id, rev)
	if err != nil {
		return err
	}
	return c.Status(createdStatus(created)).JSON(fiber.Map{"quizId": id, "version": v.Number, "revision": v.Revision,
		"questions": len(v.Questions), "publishedAt": v.Published})
}

func (s *Server) quizStats(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	n := versionInto(c, v)
	p := pageParams(c, v, pathways.DefaultPages)
	org := orgParam(c, v)
	if org == "" {
		org = actor(c).OrgID
	}
	if org == "" {
		v.Add("orgId", pathways.CodeRequired, nil)
	}
	if err := paramErr(v); err != nil {
		return err
	}
	items, err := s.assess.QuizStats(c.UserContext(), actor(c), id, n, org)
	if err != nil {
		return err
	}
	type itemJSON struct {
		Question       string                    `json:"question"`
		N              int                       `json:"n"`
		Facility       float64                   `json:"facility"`
		Discrimination float64                   `json:"discrimination"`
		Wrong          []assessments.WrongAnswer `json:"commonWrongAnswers"`
	}
	return sendList(c, listOf(pathways.Window(items, p), func(it assessments.ItemReport) itemJSON {
		return itemJSON{Question: it.Question, N: it.N, Facility: it.Facility, Discrimination: it.Discrimination, Wrong: nonNil(it.Wrong)}
	}), p, len(items))
}

// sendAttempt sends an attempt as its learner may see it, in langs.
func (s *Server) sendAttempt(c *fiber.Ctx, status int, id string, langs []string) error {
	v, err := s.assess.View(c.UserContext(), actor(c), id, langs)
	if err != nil {
		return err
	}
	return sendView(c, status, v)
}

// sendViewOf sends an attempt a start, save or submit just returned, as
// its learner may see it, without reading it again.
func (s *Server) sendViewOf(c *fiber.Ctx, status int, a assessments.Attempt, langs []string) error {
	v, err := s.assess.ViewOf(c.UserContext(), actor(c), a, langs)
	if err != nil {
		return err
	}
	return sendView(c, status, v)
}

func sendView(c *fiber.Ctx, status int, v assessments.AttemptView) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentLanguage, v.Lang)
	return c.Status(status).JSON(v)
}

func (s *Server) startAttempt(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	quizID := pathIDInto(c, v)
	langs := s.wantedInto(c, v)
	var in struct {
		ID string `json:"id"`
	}
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	a, created, err := s.assess.StartAttempt(c.UserContext(), actor(c), quizID, in.ID, langs)
	if err != nil {
		return err
	}
	c.Location("/api/v1/attempts/" + a.ID)
	return s.sendViewOf(c, createdStatus(created), a, langs)
}

// attemptParams reads the attempt id and the languages of an attempt
// request, reporting both at once.
func (s *Server) attemptParams(c *fiber.Ctx, v *pathways.ValidationError) (id string, langs []string) {
	return pathIDInto(c, v), s.wantedInto(c, v)
}

func (s *Server) getAttempt(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, langs := s.attemptParams(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	return s.sendAttempt(c, fiber.StatusOK, id, langs)
}

type saveAnswerRequest struct {
	AnswerID string          `json:"answerId"`
	Answer   json.RawMessage `json:"answer"`
}

// check checks that there is an answer; what it holds depends on the
// question (assessments.DecodeAnswer).
func (r saveAnswerRequest) check() error {
	if len(r.Answer) == 0 {
		return pathways.Invalid("answer", pathways.CodeRequired)
	}
	return nil
}

func (s *Server) saveAnswer(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, langs := s.attemptParams(c, v)
	var in saveAnswerRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	a, err := s.assess.SaveAnswer(c.UserContext(), actor(c), id, c.Params("key"), in.AnswerID, in.Answer)
	if err != nil {
		return under("answer", err) // the answer's problems are relative to it
	}
	return s.sendViewOf(c, fiber.StatusOK, a, langs)
}

// saveAnswersRequest is a batch of answers to one attempt.
type saveAnswersRequest struct {
	Answers []assessments.AnswerSave `json:"answers"`
}

// check checks that there are answers, each with a key and an answer;
// what an answer holds depends on its question (assessments.DecodeAnswer).
func (r saveAnswersRequest) check() error {
	v := &pathways.ValidationError{}
	if len(r.Answers) == 0 {
		v.Add("answers", pathways.CodeRequired, nil)
	}
	for i, a := range r.Answers {
		if a.Key == "" {
			v.Add(pathways.Path("answers", i, "key"), pathways.CodeRequired, nil)
		}
		if len(a.Answer) == 0 {
			v.Add(pathways.Path("answers", i, "answer"), pathways.CodeRequired, nil)
		}
	}
	return v.Err()
}

// saveAnswers saves a batch of answers (an offline or slow client's page)
// in one write.
func (s *Server) saveAnswers(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, langs := s.attemptParams(c, v)
	var in saveAnswersRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	a, err := s.assess.SaveAnswers(c.UserContext(), actor(c), id, in.Answers)
	if err != nil {
		return err
	}
	return s.sendViewOf(c, fiber.StatusOK, a, langs)
}

func (s *Server) submitAttempt(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, langs := s.attemptParams(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	a, err := s.assess.SubmitAttempt(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.sendViewOf(c, fiber.StatusOK, a, langs)
}

func (s *Server) quizProgress(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p, err := s.assess.Progress(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p)
}

func (s *Server) listBanks(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, assessments.BankPages)
	org := orgParam(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	banks, err := s.assess.Banks(c.UserContext(), actor(c), org, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(banks, toBankSummary), p, -1)
}

func (s *Server) listQuizzes(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, assessments.QuizPages)
	org := orgParam(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	quizzes, err := s.assess.Quizzes(c.UserContext(), actor(c), org, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(quizzes, toQuizSettings), p, -1)
}

// orgParam reads ?orgId=, an organisation a global admin names (others
// may only name their own), adding a malformed one to v.
func orgParam(c *fiber.Ctx, v *pathways.ValidationError) string {
	org := c.Query("orgId")
	if org != "" && !accounts.ValidID(org) {
		v.Add("orgId", pathways.CodeID, nil)
	}
	return org
}

// listLearnerResults is a learner's results at every quiz they started,
// for the staff of their organisation who follow them: the user is read
// first (accounts decides who may see them), then assessments decides who
// may see their results.
func (s *Server) listLearnerResults(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, assessments.ResultPages)
	langs := s.wantedInto(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	ctx, a := c.UserContext(), actor(c)
	u, err := s.acc.User(ctx, a, id)
	if err != nil {
		return err
	}
	rs, err := s.assess.LearnerResults(ctx, a, u.ID, u.OrgID, langs, p)
	if err != nil {
		return err
	}
	return sendList(c, rs, p, -1)
}
