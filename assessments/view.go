package assessments

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
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
	ID      string `json:"id"`
	QuizID  string `json:"quizId"`
	Version int    `json:"version"`
	Number  int    `json:"number"`
	Kind    Kind   `json:"kind"`
	// Offline says the attempt may be answered without a connection and
	// its answers and submit synced later (POST /api/v1/sync); a timed
	// quiz is online only.
	Offline   bool              `json:"offline"`
	Title     i18n.Text         `json:"title"`
	Intro     *i18n.Text        `json:"intro,omitempty"`
	Lang      string            `json:"lang"`
	Dir       string            `json:"dir"`
	Started   time.Time         `json:"startedAt"`
	Deadline  *time.Time        `json:"deadline,omitempty"`
	Submitted *time.Time        `json:"submittedAt,omitempty"`
	Questions []QuestionView    `json:"questions"`
	Answers   map[string]Answer `json:"answers"`
	Score     *float64          `json:"score,omitempty"` // once submitted, for scored kinds, as the policy allows
	Max       *float64          `json:"max,omitempty"`
	Passed    *bool             `json:"passed,omitempty"`
	// ScoreHidden says that a submitted attempt was received and scored
	// but that the feedback policy keeps its score from the learner
	// (never, or not before the due date).
	ScoreHidden bool                  `json:"scoreHidden,omitempty"`
	Results     map[string]ResultView `json:"results,omitempty"`
	Keys        map[string]KeyView    `json:"keys,omitempty"`
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

// ViewOf renders the actor's own attempt a, as a start, save or submit
// returned it, in the languages wanted, without reading it again; the
// version comes from the cache. Anyone else's attempt is ErrNotFound.
func (s *Service) ViewOf(ctx context.Context, actor accounts.Actor, a Attempt, wanted []string) (AttemptView, error) {
	if !isOwn(actor, a) {
		return AttemptView{}, fmt.Errorf("attempt %s: %w", a.ID, pathways.ErrNotFound)
	}
	p, err := s.version(ctx, a.QuizID, a.Version)
	if err != nil {
		return AttemptView{}, err
	}
	return s.render(p, a, wanted, false), nil
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
		ID: a.ID, QuizID: a.QuizID, Version: a.Version, Number: a.Number, Kind: p.Quiz.Kind, Offline: p.Quiz.OfflineAllowed(),
		Title: t(p.Quiz.Title), Intro: opt(p.Quiz.Intro), Lang: chain[0], Dir: p.texts.Dir(chain[0]),
		Started: a.Started, Answers: map[string]Answer{},
	}
	if !a.Deadline.IsZero() {
		v.Deadline = &a.Deadline
	}
	items := make([]shownItems, len(a.Drawn))
	for i, dr := range a.Drawn {
		q := p.Questions[dr.Question]
		items[i] = shown(q, dr, a.Seed)
		qv := QuestionView{Key: dr.Question, Type: q.Type, Prompt: t(q.Prompt), Hint: opt(q.Hint),
			Image: mediaURL(q.Image), Audio: mediaURL(q.Audio), Points: q.MaxPoints()}
		switch q.Type {
		case TypeFree:
			qv.MaxLength = q.maxLength()
		case TypeShort:
			qv.MaxLength = AnswerTextMax
		}
		it := items[i]
		for _, id := range it.options {
			j := slices.IndexFunc(q.Options, func(o Option) bool { return o.ID == id })
			if j < 0 {
				continue
			}
			o := q.Options[j]
			qv.Options = append(qv.Options, ItemView{ID: rename(it.ids, id), Text: opt(o.Text), Image: mediaURL(o.Image), Audio: mediaURL(o.Audio)})
		}
		for _, id := range it.matches {
			j := slices.IndexFunc(q.Matches, func(m Match) bool { return m.ID == id })
			if j < 0 {
				continue
			}
			m := q.Matches[j]
			qv.Matches = append(qv.Matches, ItemView{ID: rename(it.matchIDs, id), Text: opt(m.Text), Image: mediaURL(m.Image), Audio: mediaURL(m.Audio)})
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
			v.Answers[dr.Question] = it.shownAnswer(saved.Answer)
		}
	}
	open := reveal(p.Quiz.Feedback, !a.Open(), p.Quiz.Due, s.now())
	if staff {
		open = Reveal{PerQuestion: true, Keys: true, Score: true}
	}
	if !a.Open() {
		sub := a.Submitted
		v.Submitted = &sub
		switch {
		case a.Max > 0 && open.Score:
			score, most := a.Score, a.Max
			v.Score, v.Max = &score, &most
			if p.Quiz.PassMark > 0 {
				passed := score >= p.Quiz.PassMark*most-1e-9
				v.Passed = &passed
			}
		case a.Max > 0:
			v.ScoreHidden = true
		}
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
		for i, dr := range a.Drawn {
			v.Keys[dr.Question] = key(items[i].question(p.Questions[dr.Question]), a.Locale, t, opt)
		}
	}
	return v
}

// shownItems is how the items of one question of an attempt are shown.
//
// The IDs of ordering and matching items are the author's, who may well
// number them in the key's order ("step-1", "step-2") or name a match
// after its option, so the learner sees the attempt's own instead: o1,
// o2… for the options and m1, m2… for the matches, in the order shown
// (which is never the key's, see draw). Answers come in these IDs and are
// kept in the author's. Other types keep the author's IDs: their order
// gives nothing away.
type shownItems struct {
	options, matches []string          // the author's IDs, in the order shown
	ids, matchIDs    map[string]string // ordering and matching: the author's ID → the one shown
}

// shown is how question q, drawn as dr in an attempt with seed, is shown.
func shown(q Question, dr Drawn, seed uint64) shownItems {
	s := shownItems{options: dr.Options, matches: dr.Matches}
	if q.Type != TypeOrdering && q.Type != TypeMatching {
		return s
	}
	// Attempts drawn before ordering and matching were always shuffled
	// may hold the key's order, or no order of matches: these are
	// shuffled here, the same way on every read.
	h := fnv.New64a()
	h.Write([]byte(dr.Question))
	replay := rand.New(rand.NewPCG(seed, h.Sum64()))
	if q.Type == TypeOrdering && inKeyOrder(q, s.options) {
		s.options = slices.Clone(s.options)
		shuffleAway(replay, s.options, func(o []string) bool { return inKeyOrder(q, o) })
	}
	if q.Type == TypeMatching && (s.matches == nil || pairOrder(q.Pairs, s.options, s.matches)) {
		s.matches = matchOrder(replay, q, s.options)
	}
	s.ids, s.matchIDs = make(map[string]string, len(s.options)), make(map[string]string, len(s.matches))
	for i, id := range s.options {
		s.ids[id] = "o" + strconv.Itoa(i+1)
	}
	for i, id := range s.matches {
		s.matchIDs[id] = "m" + strconv.Itoa(i+1)
	}
	return s
}

// question is q with its items under the IDs shown, in the authored order
// still (it is the key's for ordering): what answers are decoded against
// and keys written from.
func (s shownItems) question(q Question) Question {
	if s.ids == nil {
		return q
	}
	q.Options = slices.Clone(q.Options)
	for i := range q.Options {
		q.Options[i].ID = rename(s.ids, q.Options[i].ID)
	}
	q.Matches = slices.Clone(q.Matches)
	for i := range q.Matches {
		q.Matches[i].ID = rename(s.matchIDs, q.Matches[i].ID)
	}
	if q.Pairs != nil {
		pairs := make(map[string]string, len(q.Pairs))
		for o, m := range q.Pairs {
			pairs[rename(s.ids, o)] = rename(s.matchIDs, m)
		}
		q.Pairs = pairs
	}
	return q
}

// shownAnswer is an answer kept in the author's IDs, in those shown.
func (s shownItems) shownAnswer(a Answer) Answer { return renameAnswer(a, s.ids, s.matchIDs) }

// authorsAnswer is an answer given in the IDs shown, in the author's.
func (s shownItems) authorsAnswer(a Answer) Answer {
	return renameAnswer(a, invert(s.ids), invert(s.matchIDs))
}

func renameAnswer(a Answer, ids, matchIDs map[string]string) Answer {
	if ids == nil {
		return a
	}
	if a.Order != nil {
		order := make([]string, len(a.Order))
		for i, id := range a.Order {
			order[i] = rename(ids, id)
		}
		a.Order = order
	}
	if a.Pairs != nil {
		pairs := make(map[string]string, len(a.Pairs))
		for o, m := range a.Pairs {
			pairs[rename(ids, o)] = rename(matchIDs, m) // "" (not paired) stays ""
		}
		a.Pairs = pairs
	}
	return a
}

// rename is id under names, or id itself if names has no other.
func rename(names map[string]string, id string) string {
	if to, ok := names[id]; ok {
		return to
	}
	return id
}

func invert(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
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
