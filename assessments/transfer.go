package assessments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// Exported is a quiz as a course package carries it.
type Exported struct {
	// Quiz is the draft, with its picks naming Banks by ID; without
	// Keys, only what a learner sees of the quiz before starting: ID,
	// Kind, Shared, languages, Title and Intro and their texts, as its
	// published version has them.
	Quiz Quiz
	// Banks are the banks the picks draw from, each once, in the order
	// the picks first name them; none without Keys.
	Banks []Bank
	// Keys says the quiz is whole, answer keys included: the exporter
	// may edit it (mayExportKeys).
	Keys bool
	// Published says a version is published and the quiz not archived,
	// so a course may show it.
	Published bool
}

// ExportQuiz returns quiz id as a course package that actor exports
// carries it: whole, banks and answer keys included, for its authors; to
// anyone else who may take its published version, only what a learner
// sees before starting (Keys false). Others get ErrNotFound. A pick that
// names a bank which is not the quiz's organisation's is a
// ValidationError (CodeUnknownBank at "picks/<i>/bank"): such a quiz
// could not be published, and a package carrying it could not be
// imported.
func (s *Service) ExportQuiz(ctx context.Context, actor accounts.Actor, id string) (Exported, error) {
	if !accounts.ValidID(id) {
		return Exported{}, fmt.Errorf("quiz %q: %w", id, pathways.ErrNotFound)
	}
	q, err := s.store.Quiz(ctx, id)
	if err != nil {
		return Exported{}, fmt.Errorf("export quiz %s: %w", id, err)
	}
	published := q.Published > 0 && !q.Archived
	if !mayExportKeys(actor, q) {
		if !published {
			return Exported{}, fmt.Errorf("export quiz %s: %w", id, pathways.ErrNotFound)
		}
		p, err := s.version(ctx, id, q.Published)
		if err != nil {
			return Exported{}, err
		}
		if !mayTake(actor, p.Quiz) {
			return Exported{}, fmt.Errorf("export quiz %s: %w", id, pathways.ErrNotFound)
		}
		return Exported{Quiz: outline(p.Version), Published: true}, nil
	}
	out := Exported{Quiz: q, Keys: true, Published: published}
	ve := &pathways.ValidationError{}
	seen := map[string]bool{}
	for i, p := range q.Picks {
		if seen[p.Bank] {
			continue
		}
		seen[p.Bank] = true
		b, err := s.Bank(ctx, actor, p.Bank)
		switch {
		case errors.Is(err, pathways.ErrNotFound), err == nil && b.OrgID != q.OrgID:
			ve.Add(fmt.Sprintf("picks/%d/bank", i), CodeUnknownBank, map[string]any{"Value": clip(p.Bank)})
		case err != nil:
			return Exported{}, fmt.Errorf("export quiz %s: %w", id, err)
		default:
			out.Banks = append(out.Banks, b)
		}
	}
	if err := ve.Err(); err != nil {
		return Exported{}, err
	}
	return out, nil
}

// outline is what a learner sees of a published quiz before starting it.
func outline(v Version) Quiz {
	q := v.Quiz
	out := Quiz{ID: q.ID, Kind: q.Kind, Shared: q.Shared, DefaultLocale: q.DefaultLocale, Locales: q.Locales,
		Title: q.Title, Intro: q.Intro, Messages: i18n.Messages{}}
	for loc, msgs := range v.Messages {
		for _, mid := range []string{q.Title, q.Intro} {
			if m, ok := msgs[mid]; ok && mid != "" {
				if out.Messages[loc] == nil {
					out.Messages[loc] = map[string]i18n.Message{}
				}
				out.Messages[loc][mid] = m
			}
		}
	}
	return out
}

// Discard removes what an import that failed created: each quiz with its
// published versions and the media uses they recorded, then each bank.
// Only their authors may. It is for undoing what the same request just
// made, before anyone could use it, and checks nothing else: attempts at
// a discarded quiz would lose it. What is gone already is skipped; the
// first other error is returned after trying everything. It works on a
// context of its own, since the caller's may be what failed.
func (s *Service) Discard(ctx context.Context, actor accounts.Actor, quizIDs, bankIDs []string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	keep := func(err error) {
		if err != nil && !errors.Is(err, pathways.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	for _, id := range quizIDs {
		q, err := s.Quiz(ctx, actor, id)
		if err != nil {
			keep(err)
			continue
		}
		// A publish that stored its version but not yet the quiz's
		// number leaves one more.
		for n := q.Published + 1; n >= 1; n-- {
			v, err := s.store.Version(ctx, id, n)
			if err != nil {
				keep(err)
				continue
			}
			keep(s.dropAllUses(ctx, v))
			keep(s.store.DeleteVersion(ctx, id, n))
			s.versions.Remove(id + "@" + strconv.Itoa(n))
		}
		keep(s.store.DeleteQuiz(ctx, id))
	}
	for _, id := range bankIDs {
		if _, err := s.Bank(ctx, actor, id); err != nil {
			keep(err)
			continue
		}
		keep(s.store.DeleteBank(ctx, id))
	}
	if len(errs) > 0 {
		s.log.WarnContext(ctx, "discard imported quizzes", slog.Any("error", errors.Join(errs...)))
		return fmt.Errorf("discard quizzes and banks: %w", errors.Join(errs...))
	}
	return nil
}

// dropAllUses removes the media uses version v recorded.
func (s *Service) dropAllUses(ctx context.Context, v Version) error {
	ref := UseRef(v.QuizID, v.Number)
	done := map[string]bool{}
	var errs []error
	for _, r := range mediaOf(v) {
		if done[r.id] {
			continue
		}
		done[r.id] = true
		if _, err := s.lib.RemoveUse(ctx, r.id, ref); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
