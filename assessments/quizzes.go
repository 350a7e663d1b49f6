package assessments

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/i18n"
)

// Kinds lists every quiz kind.
var Kinds = []Kind{KindQuiz, KindPractice, KindSurvey, KindPretest, KindPosttest}

var (
	policies = []FeedbackPolicy{FeedbackImmediate, FeedbackAfterSubmit, FeedbackAfterDue, FeedbackNever}
	methods  = []GradeMethod{GradeHighest, GradeLatest, GradeAverage, GradeFirst}
)

// CheckQuiz validates a quiz's settings and texts (not yet its banks,
// which publishing reads). A quiz without locales offers its default
// locale.
func CheckQuiz(q Quiz) error {
	if len(q.Locales) == 0 && q.DefaultLocale != "" {
		q.Locales = []string{q.DefaultLocale}
	}
	v := &pathways.ValidationError{}
	pathways.CheckEnum(v, "kind", q.Kind, Kinds)
	pathways.CheckEnum(v, "feedback", q.Feedback, policies)
	pathways.CheckEnum(v, "grade", q.Grade, methods)
	if !i18n.ValidLocale(q.DefaultLocale) {
		v.Add("defaultLocale", i18n.CodeLocale, nil)
	}
	// The items of an oversized list are not looked at.
	locales := q.Locales
	if !pathways.CheckCount(v, "locales", len(locales), i18n.MaxLocales) {
		locales = nil
	}
	for i, l := range locales {
		if !i18n.ValidLocale(l) {
			v.Add(fmt.Sprintf("locales/%d", i), i18n.CodeLocale, nil)
		}
	}
	if !slices.Contains(q.Locales, q.DefaultLocale) {
		v.Add("locales", i18n.CodeNotOffered, map[string]any{"Value": q.DefaultLocale})
	}
	if math.IsNaN(q.PassMark) || q.PassMark < 0 || q.PassMark > 1 {
		v.Add("passMark", pathways.CodeRange, map[string]any{"Min": 0, "Max": 1})
	}
	if q.AttemptLimit < 0 || q.AttemptLimit > MaxAttempts {
		v.Add("attemptLimit", pathways.CodeRange, map[string]any{"Min": 0, "Max": MaxAttempts})
	}
	if q.TimeLimitSeconds < 0 || q.TimeLimitSeconds > MaxTimeLimitSeconds {
		v.Add("timeLimitSeconds", pathways.CodeRange, map[string]any{"Min": 0, "Max": MaxTimeLimitSeconds})
	}
	if q.Offline && q.TimeLimitSeconds > 0 {
		v.Add("offline", CodeTimedOnline, nil)
	}
	if q.Feedback == FeedbackAfterDue && q.Due.IsZero() {
		v.Add("due", pathways.CodeRequired, nil)
	}
	switch {
	case q.Kind == KindPractice && (q.Mastery.M < 1 || q.Mastery.M > q.Mastery.N || q.Mastery.N > 50):
		v.Add("mastery", pathways.CodeRange, map[string]any{"Min": 1, "Max": 50})
	case q.Kind != KindPractice && q.Mastery != (Mastery{}):
		v.Add("mastery", pathways.CodeNotAllowed, map[string]any{"Value": string(q.Kind)})
	}
	if (q.Kind == KindPosttest) != (q.Pretest != "") {
		if q.Kind == KindPosttest {
			v.Add("pretest", pathways.CodeRequired, nil)
		} else {
			v.Add("pretest", pathways.CodeNotAllowed, map[string]any{"Value": string(q.Kind)})
		}
	}
	if len(q.Picks) == 0 {
		v.Add("picks", pathways.CodeRequired, nil)
	}
	picks := q.Picks
	if !pathways.CheckCount(v, "picks", len(picks), MaxPicks) {
		picks = nil
	}
	for i, p := range picks {
		if v.Full() {
			break
		}
		pp := fmt.Sprintf("picks/%d/", i)
		pathways.CheckCount(v, pp+"questions", len(p.Questions), MaxDrawn)
		pathways.CheckCount(v, pp+"tags", len(p.Tags), MaxTagsPerItem)
		if !accounts.ValidID(p.Bank) {
			v.Add(pp+"bank", pathways.CodeID, nil)
		}
		switch {
		case len(p.Questions) > 0 && (p.Count != 0 || len(p.Tags) > 0 || p.Difficulty != 0):
			v.Add(pp+"count", pathways.CodeNotAllowed, map[string]any{"Value": "questions"})
		case len(p.Questions) == 0 && (p.Count < 1 || p.Count > MaxDrawn):
			v.Add(pp+"count", pathways.CodeRange, map[string]any{"Min": 1, "Max": MaxDrawn})
		}
		if p.Difficulty < 0 || p.Difficulty > 5 {
			v.Add(pp+"difficulty", pathways.CodeRange, map[string]any{"Min": 0, "Max": 5})
		}
	}
	refs := []i18n.Ref{{Field: "title", ID: q.Title}}
	if q.Intro != "" {
		refs = append(refs, i18n.Ref{Field: "intro", ID: q.Intro})
	}
	if q.Title == "" {
		v.Add("title", pathways.CodeRequired, nil)
	}
	if err := v.Merge("", i18n.CheckTexts(q.DefaultLocale, q.Locales, q.Messages, refs, false)); err != nil {
		return err
	}
	return v.Err()
}

// checkQuiz is CheckQuiz with the rule that reads the store: a
// posttest's pretest (checkPretest). It lists every problem at once.
func (s *Service) checkQuiz(ctx context.Context, q Quiz) error {
	v := &pathways.ValidationError{}
	if err := v.Merge("", CheckQuiz(q)); err != nil {
		return err
	}
	if err := v.Merge("", s.checkPretest(ctx, q)); err != nil {
		return err
	}
	return v.Err()
}

// checkPretest refuses a posttest whose pretest is not a pretest of the
// quiz's own organisation (see pretestOf) with CodeUnknownPretest at
// "pretest": the same answer for an unknown ID, another organisation's
// quiz (shared or not) and a quiz of another kind. Drafts, updates and
// publishing all check it, since the pretest may have changed between.
func (s *Service) checkPretest(ctx context.Context, q Quiz) error {
	if q.Kind != KindPosttest || q.Pretest == "" {
		return nil // CheckQuiz says whether one is needed
	}
	if accounts.ValidID(q.Pretest) {
		pre, err := s.store.Quiz(ctx, q.Pretest)
		switch {
		case err == nil && pretestOf(q, pre):
			return nil
		case err != nil && !errors.Is(err, pathways.ErrNotFound):
			return fmt.Errorf("pretest %s: %w", q.Pretest, err)
		}
	}
	return (&pathways.ValidationError{}).Add("pretest", CodeUnknownPretest, map[string]any{"Value": clip(q.Pretest)})
}

// CreateQuiz stores a new quiz draft (idempotent with q.ID).
func (s *Service) CreateQuiz(ctx context.Context, actor accounts.Actor, q Quiz) (Quiz, bool, error) {
	var err error
	if q.OrgID, err = s.owner(ctx, actor, q.OrgID); err != nil {
		return Quiz{}, false, err
	}
	if q.ID, err = newID(q.ID); err != nil {
		return Quiz{}, false, err
	}
	if prior, err := s.store.Quiz(ctx, q.ID); err == nil {
		if prior.OrgID != q.OrgID {
			return Quiz{}, false, fmt.Errorf("create quiz %s: %w", q.ID, pathways.ErrConflict)
		}
		return prior, false, nil
	}
	if len(q.Locales) == 0 && q.DefaultLocale != "" {
		q.Locales = []string{q.DefaultLocale}
	}
	if err := s.checkQuiz(ctx, q); err != nil {
		return Quiz{}, false, err
	}
	now := s.now().UTC()
	q.Revision, q.Published, q.Archived, q.Created, q.Updated = 1, 0, false, now, now
	i18n.StampHashes(q.DefaultLocale, q.Messages)
	if err := s.store.InsertQuiz(ctx, q); err != nil {
		return Quiz{}, false, fmt.Errorf("create quiz: %w", err)
	}
	return q, true, nil
}

// Quiz returns a quiz draft for its authors; others get ErrNotFound.
func (s *Service) Quiz(ctx context.Context, actor accounts.Actor, id string) (Quiz, error) {
	if !accounts.ValidID(id) {
		return Quiz{}, fmt.Errorf("quiz %q: %w", id, pathways.ErrNotFound)
	}
	q, err := s.store.Quiz(ctx, id)
	if err != nil {
		return Quiz{}, fmt.Errorf("quiz %s: %w", id, err)
	}
	if !mayAuthor(actor, q.OrgID) {
		return Quiz{}, fmt.Errorf("quiz %s: %w", id, pathways.ErrNotFound)
	}
	return q, nil
}

// UpdateQuiz replaces a quiz draft's settings and texts at revision.
func (s *Service) UpdateQuiz(ctx context.Context, actor accounts.Actor, id string, revision int, q Quiz) (Quiz, error) {
	cur, err := s.Quiz(ctx, actor, id)
	if err != nil {
		return Quiz{}, err
	}
	q.ID, q.OrgID = cur.ID, cur.OrgID
	if len(q.Locales) == 0 && q.DefaultLocale != "" {
		q.Locales = []string{q.DefaultLocale}
	}
	if err := s.checkQuiz(ctx, q); err != nil {
		return Quiz{}, err
	}
	return s.store.UpdateQuiz(ctx, id, func(d *Quiz) error {
		if d.Revision != revision {
			return ErrStale
		}
		next := q
		next.Messages = q.Messages.Clone()
		i18n.StampHashes(next.DefaultLocale, next.Messages)
		next.Revision, next.Published, next.Archived = d.Revision+1, d.Published, d.Archived
		next.Created, next.Updated = d.Created, s.now().UTC()
		*d = next
		return nil
	})
}

// PublishQuiz freezes the draft at revision, with copies of the questions
// its picks may draw, as the next version. It returns ErrStale if the
// draft moved on, a ValidationError if a pick names a bank or question
// that is not there (or not the organisation's) or can draw nothing, or
// if a posttest's pretest is not a pretest of the organisation.
// Publishing the same revision again returns the version made the first
// time (created false).
func (s *Service) PublishQuiz(ctx context.Context, actor accounts.Actor, id string, revision int) (Version, bool, error) {
	q, err := s.Quiz(ctx, actor, id)
	if err != nil {
		return Version{}, false, err
	}
	if q.Published > 0 {
		if v, err := s.store.Version(ctx, id, q.Published); err == nil && v.Revision == revision {
			return v, false, nil
		}
	}
	if q.Revision != revision {
		return Version{}, false, ErrStale
	}
	ve := &pathways.ValidationError{}
	if err := ve.Merge("", s.checkPretest(ctx, q)); err != nil {
		return Version{}, false, err
	}
	v, err := s.freeze(ctx, actor, q)
	if err := ve.Merge("", err); err != nil {
		return Version{}, false, err
	}
	if err := ve.Err(); err != nil {
		return Version{}, false, err
	}
	v.Revision, v.Published = revision, s.now().UTC()
	v.Number = q.Published + 1
	v.Quiz.Published = v.Number
	if err := s.useMedia(ctx, actor, v); err != nil {
		s.dropUses(ctx, v)
		return Version{}, false, err
	}
	if err := s.store.InsertVersion(ctx, v); err != nil {
		// Failed, or another publisher stored number v.Number first.
		s.dropUses(ctx, v)
		return Version{}, false, fmt.Errorf("publish quiz %s@%d: %w", id, v.Number, err)
	}
	if _, err := s.store.UpdateQuiz(ctx, id, func(d *Quiz) error {
		d.Published = max(d.Published, v.Number)
		return nil
	}); err != nil {
		return Version{}, false, fmt.Errorf("publish quiz %s@%d: %w", id, v.Number, err)
	}
	return v, true, nil
}

// freeze builds a version of q from its banks: every question a pick may
// draw, keyed "b<n>.<id>", with its texts renamed "b<n>.<id>" too (question
// keys and message IDs are different namespaces).
func (s *Service) freeze(ctx context.Context, actor accounts.Actor, q Quiz) (Version, error) {
	v := Version{QuizID: q.ID, Quiz: q, Questions: map[string]Question{}, Messages: q.Messages.Clone()}
	ve := &pathways.ValidationError{}
	bankIndex := map[string]int{}
	banks := map[string]Bank{}
	drawn := 0
	for i, p := range q.Picks {
		pp := fmt.Sprintf("picks/%d/", i)
		b, ok := banks[p.Bank]
		if !ok {
			var err error
			b, err = s.Bank(ctx, actor, p.Bank)
			if errors.Is(err, pathways.ErrNotFound) || (err == nil && b.OrgID != q.OrgID) {
				ve.Add(pp+"bank", CodeUnknownBank, map[string]any{"Value": p.Bank})
				v.Pools = append(v.Pools, nil)
				continue
			} else if err != nil {
				return Version{}, err
			}
			banks[p.Bank], bankIndex[p.Bank] = b, len(bankIndex)+1
		}
		prefix := fmt.Sprintf("b%d", bankIndex[p.Bank])
		var pool []string
		for _, bq := range b.Questions {
			switch {
			case len(p.Questions) > 0 && !slices.Contains(p.Questions, bq.ID):
				continue
			case len(p.Questions) == 0 && (!hasAll(bq.Tags, p.Tags) || (p.Difficulty != 0 && bq.Difficulty != p.Difficulty)):
				continue
			}
			key := prefix + "." + bq.ID
			v.Questions[key] = renamed(bq.Question, prefix+".")
			pool = append(pool, key)
		}
		for j, qid := range p.Questions {
			if !slices.Contains(pool, prefix+"."+qid) {
				ve.Add(fmt.Sprintf("%squestions/%d", pp, j), CodeUnknownQuestion, map[string]any{"Value": qid})
			}
		}
		if len(pool) == 0 {
			ve.Add(pp+"tags", CodeNoQuestions, nil)
		}
		if len(p.Questions) > 0 {
			drawn += len(p.Questions)
			// Fixed picks list their questions in the pick's order.
			pool = make([]string, len(p.Questions))
			for j, qid := range p.Questions {
				pool[j] = prefix + "." + qid
			}
		} else {
			drawn += min(p.Count, len(pool))
		}
		v.Pools = append(v.Pools, pool)
	}
	if drawn > MaxDrawn {
		ve.Add("picks", pathways.CodeTooMany, map[string]any{"Count": MaxDrawn})
	}
	if err := ve.Err(); err != nil {
		return Version{}, err
	}
	// The texts of the questions taken, renamed, in the quiz's locales.
	for id, b := range banks {
		prefix := fmt.Sprintf("b%d.", bankIndex[id])
		for _, loc := range q.Locales {
			for mid, m := range b.Messages[loc] {
				if v.Messages[loc] == nil {
					v.Messages[loc] = map[string]i18n.Message{}
				}
				v.Messages[loc][prefix+mid] = m
			}
		}
	}
	used := map[string]bool{"": true, q.Title: true, q.Intro: true}
	for _, key := range slices.Sorted(maps.Keys(v.Questions)) {
		for _, r := range questionRefs("", v.Questions[key]) {
			used[r.ID] = true
		}
	}
	for _, msgs := range v.Messages {
		maps.DeleteFunc(msgs, func(id string, _ i18n.Message) bool { return !used[id] })
	}
	return v, nil
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// renamed returns q with every message ID prefixed.
func renamed(q Question, prefix string) Question {
	p := func(id string) string {
		if id == "" {
			return ""
		}
		return prefix + id
	}
	q.Prompt, q.Hint, q.Feedback = p(q.Prompt), p(q.Hint), p(q.Feedback)
	q.Options = slices.Clone(q.Options)
	for i := range q.Options {
		q.Options[i].Text, q.Options[i].Feedback = p(q.Options[i].Text), p(q.Options[i].Feedback)
	}
	q.Matches = slices.Clone(q.Matches)
	for i := range q.Matches {
		q.Matches[i].Text = p(q.Matches[i].Text)
	}
	if q.Scale != nil {
		sc := *q.Scale
		sc.Labels = map[int]string{}
		for k, id := range q.Scale.Labels {
			sc.Labels[k] = p(id)
		}
		q.Scale = &sc
	}
	return q
}

// useMedia checks the pictures and recordings a version's questions show
// (in the quiz's organisation's library, of the right kind) and records
// the version's use of each, so every learner who may take the quiz may
// fetch them and they cannot be deleted under it.
func (s *Service) useMedia(ctx context.Context, actor accounts.Actor, v Version) error {
	refs := mediaOf(v)
	ve := &pathways.ValidationError{}
	for _, r := range refs {
		a, err := s.lib.Asset(ctx, actor, r.id)
		switch {
		case errors.Is(err, pathways.ErrNotFound), err == nil && a.OrgID != v.Quiz.OrgID:
			ve.Add(r.field, assets.CodeUnknownMedia, map[string]any{"Value": r.id})
		case err != nil:
			return fmt.Errorf("media %s: %w", r.id, err)
		case a.Kind != r.kind:
			ve.Add(r.field, assets.CodeMediaKind, map[string]any{"Value": string(r.kind)})
		}
	}
	if err := ve.Err(); err != nil {
		return err
	}
	use := assets.Use{Ref: UseRef(v.QuizID, v.Number), OrgID: v.Quiz.OrgID}
	if v.Quiz.Shared {
		use.OrgID = ""
	}
	for _, r := range refs {
		if _, err := s.lib.AddUse(ctx, r.id, use); err != nil {
			return fmt.Errorf("record use of %s: %w", r.id, err)
		}
	}
	return nil
}

// mediaRef is one picture or recording a version's question shows.
type mediaRef struct {
	field, id string
	kind      assets.Kind
}

// mediaOf lists the media a version's questions show, in a stable order.
func mediaOf(v Version) []mediaRef {
	var refs []mediaRef
	for _, key := range slices.Sorted(maps.Keys(v.Questions)) {
		q := v.Questions[key]
		add := func(field, id string, kind assets.Kind) {
			if id != "" {
				refs = append(refs, mediaRef{"questions/" + key + "/" + field, id, kind})
			}
		}
		add("image", q.Image, assets.KindImage)
		add("audio", q.Audio, assets.KindAudio)
		for i, o := range q.Options {
			add(fmt.Sprintf("options/%d/image", i), o.Image, assets.KindImage)
			add(fmt.Sprintf("options/%d/audio", i), o.Audio, assets.KindAudio)
		}
		for i, m := range q.Matches {
			add(fmt.Sprintf("matches/%d/image", i), m.Image, assets.KindImage)
			add(fmt.Sprintf("matches/%d/audio", i), m.Audio, assets.KindAudio)
		}
	}
	return refs
}

// QuizUsable tells courses whether a lesson of a course of organisation
// orgID (shared with every organisation, or not) may show quiz quizID: it
// must be published, not archived, and takeable by every learner of the
// course — the organisation's own quiz for an unshared course, a shared
// quiz otherwise. Whether it is shared is the published version's say,
// which learners take (the draft's may differ until it is published). It
// returns ErrNotFound if not.
func (s *Service) QuizUsable(ctx context.Context, orgID string, shared bool, quizID string) error {
	if !accounts.ValidID(quizID) {
		return fmt.Errorf("quiz %q: %w", quizID, pathways.ErrNotFound)
	}
	q, err := s.store.Quiz(ctx, quizID)
	if err != nil {
		return fmt.Errorf("quiz %s: %w", quizID, err)
	}
	if q.Published > 0 {
		p, err := s.version(ctx, quizID, q.Published)
		if err != nil {
			return err
		}
		q.Shared = p.Quiz.Shared
	}
	if !usableIn(q, orgID, shared) {
		return fmt.Errorf("quiz %s: not usable here: %w", quizID, pathways.ErrNotFound)
	}
	return nil
}
