package assessments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// Views are what a learner receives. They are built field by field from
// the question, never by copying it, so answer keys, correct flags and
// per-option feedback can only appear in the parts the feedback policy
// opens (Results, Keys).

// ItemView is an option, a matching item or a scale point as shown.
type ItemView struct {
	ID    string     `json:"id"`
	Text  *i18n.Text `json:"text,omitempty"`
	Image string     `json:"image,omitempty"` // media URLs
	Audio string     `json:"audio,omitempty"`
}

// ScaleView is a Likert scale.
type ScaleView struct {
	Min    int               `json:"min"`
	Max    int               `json:"max"`
	Labels map[int]i18n.Text `json:"labels,omitempty"`
}

// QuestionView is a question as the learner sees it.
type QuestionView struct {
	Key       string     `json:"key"`
	Type      Type       `json:"type"`
	Prompt    i18n.Text  `json:"prompt"`
	Hint      *i18n.Text `json:"hint,omitempty"`
	Image     string     `json:"image,omitempty"`
	Audio     string     `json:"audio,omitempty"`
	Points    float64    `json:"points"`
	Options   []ItemView `json:"options,omitempty"` // in the order drawn
	Matches   []ItemView `json:"matches,omitempty"`
	Blanks    []string   `json:"blanks,omitempty"` // blank IDs, as marked in the prompt
	Scale     *ScaleView `json:"scale,omitempty"`
	MaxLength int        `json:"maxLength,omitempty"`
}

// ResultView is the score of one answer, with its feedback.
type ResultView struct {
	Points   float64     `json:"points"`
	Max      float64     `json:"max"`
	Correct  bool        `json:"correct"`
	Feedback []i18n.Text `json:"feedback,omitempty"`
}

// KeyView is the right answer to a question.
type KeyView struct {
	Options  []string            `json:"options,omitempty"` // the correct options (single, multiple, true/false)
	Order    []string            `json:"order,omitempty"`
	Pairs    map[string]string   `json:"pairs,omitempty"`
	Accepted []string            `json:"accepted,omitempty"` // short answers accepted in the attempt's language
	Number   *Numeric            `json:"number,omitempty"`
	Blanks   map[string][]string `json:"blanks,omitempty"`
	Feedback *i18n.Text          `json:"feedback,omitempty"` // the question's general feedback
	// OptionFeedback is the feedback of every option, chosen or not.
	OptionFeedback map[string]i18n.Text `json:"optionFeedback,omitempty"`
}

// AttemptView is an attempt as its learner sees it.
type AttemptView struct {
	ID        string                `json:"id"`
	QuizID    string                `json:"quizId"`
	Version   int                   `json:"version"`
	Number    int                   `json:"number"`
	Kind      Kind                  `json:"kind"`
	Title     i18n.Text             `json:"title"`
	Intro     *i18n.Text            `json:"intro,omitempty"`
	Lang      string                `json:"lang"`
	Dir       string                `json:"dir"`
	Started   time.Time             `json:"startedAt"`
	Deadline  *time.Time            `json:"deadline,omitempty"`
	Submitted *time.Time            `json:"submittedAt,omitempty"`
	Questions []QuestionView        `json:"questions"`
	Answers   map[string]Answer     `json:"answers"`
	Score     *float64              `json:"score,omitempty"` // once submitted, for scored kinds
	Max       *float64              `json:"max,omitempty"`
	Passed    *bool                 `json:"passed,omitempty"`
	Results   map[string]ResultView `json:"results,omitempty"`
	Keys      map[string]KeyView    `json:"keys,omitempty"`
}

// View renders an attempt of the actor's for them, in the languages
// wanted, opening results and keys as the quiz's feedback policy allows.
//
// Staff of the learner's organisation (educators, trainers, admins) and
// global admins may read any attempt of its learners too, read-only and
// with everything shown (results, keys, feedback), to follow a learner;
// anyone else gets ErrNotFound.
func (s *Service) View(ctx context.Context, actor accounts.Actor, attemptID string, wanted []string) (AttemptView, error) {
	a, p, err := s.own(ctx, actor, attemptID)
	staff := false
	if errors.Is(err, pathways.ErrNotFound) && accounts.ValidID(attemptID) {
		if a, err = s.store.Attempt(ctx, attemptID); err == nil {
			if !mayFollow(actor, a) {
				return AttemptView{}, fmt.Errorf("attempt %s: %w", attemptID, pathways.ErrNotFound)
			}
			staff = true
			p, err = s.version(ctx, a.QuizID, a.Version)
		}
	}
	if err != nil {
		return AttemptView{}, err
	}
	if a.Open() && s.expired(a) {
		if a, err = s.finish(ctx, p, attemptID); err != nil {
			return AttemptView{}, err
		}
	}
	return s.render(p, a, wanted, staff), nil
}

func mediaURL(id string) string {
	if id == "" {
		return ""
	}
	return "/media/" + id
}

func (s *Service) render(p *published, a Attempt, wanted []string, staff bool) AttemptView {
	chain := p.texts.Chain(wanted)
	t := func(id string) i18n.Text {
		txt, _, _ := p.texts.Find(chain, id, nil)
		return txt
	}
	opt := func(id string) *i18n.Text {
		if id == "" {
			return nil
		}
		txt := t(id)
		return &txt
	}
	v := AttemptView{
		ID: a.ID, QuizID: a.QuizID, Version: a.Version, Number: a.Number, Kind: p.Quiz.Kind,
		Title: t(p.Quiz.Title), Intro: opt(p.Quiz.Intro), Lang: chain[0], Dir: p.texts.Dir(chain[0]),
		Started: a.Started, Answers: map[string]Answer{},
	}
	if !a.Deadline.IsZero() {
		v.Deadline = &a.Deadline
	}
	for _, dr := range a.Drawn {
		q := p.Questions[dr.Question]
		qv := QuestionView{Key: dr.Question, Type: q.Type, Prompt: t(q.Prompt), Hint: opt(q.Hint),
			Image: mediaURL(q.Image), Audio: mediaURL(q.Audio), Points: q.MaxPoints()}
		switch q.Type {
		case TypeFree:
			qv.MaxLength = q.maxLength()
		case TypeShort:
			qv.MaxLength = AnswerTextMax
		}
		for _, id := range dr.Options {
			i := slices.IndexFunc(q.Options, func(o Option) bool { return o.ID == id })
			if i < 0 {
				continue
			}
			o := q.Options[i]
			qv.Options = append(qv.Options, ItemView{ID: o.ID, Text: opt(o.Text), Image: mediaURL(o.Image), Audio: mediaURL(o.Audio)})
		}
		for _, m := range q.Matches {
			qv.Matches = append(qv.Matches, ItemView{ID: m.ID, Text: opt(m.Text), Image: mediaURL(m.Image), Audio: mediaURL(m.Audio)})
		}
		for _, b := range q.Blanks {
			qv.Blanks = append(qv.Blanks, b.ID)
		}
		if q.Scale != nil {
			sv := &ScaleView{Min: q.Scale.Min, Max: q.Scale.Max, Labels: map[int]i18n.Text{}}
			for k, id := range q.Scale.Labels {
				sv.Labels[k] = t(id)
			}
			qv.Scale = sv
		}
		v.Questions = append(v.Questions, qv)
		if saved, ok := a.Answers[dr.Question]; ok {
			v.Answers[dr.Question] = saved.Answer
		}
	}
	if !a.Open() {
		sub := a.Submitted
		v.Submitted = &sub
		if a.Max > 0 {
			score, most := a.Score, a.Max
			v.Score, v.Max = &score, &most
			if p.Quiz.PassMark > 0 {
				passed := score >= p.Quiz.PassMark*most-1e-9
				v.Passed = &passed
			}
		}
	}
	open := reveal(p.Quiz.Feedback, !a.Open(), p.Quiz.Due, s.now())
	if staff {
		open = Reveal{PerQuestion: true, Keys: true}
	}
	if !open.PerQuestion && !open.Keys {
		return v
	}
	v.Results = map[string]ResultView{}
	for _, dr := range a.Drawn {
		q := p.Questions[dr.Question]
		saved, answered := a.Answers[dr.Question]
		if !open.Keys && !answered {
			continue
		}
		r, ok := a.Results[dr.Question]
		if !ok {
			r = Score(q, saved.Answer, a.Locale)
		}
		rv := ResultView{Points: r.Points, Max: r.Max, Correct: r.Correct}
		for _, id := range r.Feedback {
			rv.Feedback = append(rv.Feedback, t(id))
		}
		v.Results[dr.Question] = rv
	}
	if open.Keys {
		v.Keys = map[string]KeyView{}
		for _, dr := range a.Drawn {
			v.Keys[dr.Question] = key(p.Questions[dr.Question], a.Locale, t, opt)
		}
	}
	return v
}

// key is the right answer to q, for a learner whose attempt may show it.
func key(q Question, locale string, t func(string) i18n.Text, opt func(string) *i18n.Text) KeyView {
	k := KeyView{Feedback: opt(q.Feedback), Pairs: q.Pairs, Number: q.Numeric}
	for _, o := range q.Options {
		if o.Correct {
			k.Options = append(k.Options, o.ID)
		}
		if o.Feedback != "" {
			if k.OptionFeedback == nil {
				k.OptionFeedback = map[string]i18n.Text{}
			}
			k.OptionFeedback[o.ID] = t(o.Feedback)
		}
	}
	if q.Type == TypeOrdering {
		for _, o := range q.Options {
			k.Order = append(k.Order, o.ID)
		}
		k.Options = nil
	}
	// The answers scoring accepts: the attempt's language, its parents
	// ("fa" for "fa-AF") and any language.
	accepted := func(m map[string][]string) []string {
		var out []string
		for _, l := range localeChain(locale) { // ends with "*"
			out = append(out, m[l]...)
		}
		return out
	}
	k.Accepted = accepted(q.Accepted)
	for _, b := range q.Blanks {
		if k.Blanks == nil {
			k.Blanks = map[string][]string{}
		}
		k.Blanks[b.ID] = accepted(b.Accepted)
	}
	return k
}
