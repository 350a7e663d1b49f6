package assessments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/internal/lru"
)

// Service runs the rules of assessments: who may author and take which
// quiz, drawing, saving and scoring attempts, what a learner may see of
// the keys, and item statistics.
type Service struct {
	store    Store
	lib      Library
	now      func() time.Time
	log      *slog.Logger
	versions *lru.Cache[string, *published]
	// versionReads shares one read of a quiz version among the requests
	// that miss it at once (a class starting a quiz together).
	versionReads singleflight.Group
	// nudges holds a slot for each follow-up running in the background;
	// running counts them for Wait.
	nudges  chan struct{}
	running sync.WaitGroup
	// orgExists finds an organisation a global admin names (nil: any).
	orgExists func(ctx context.Context, id string) error
}

// published is a quiz version made ready to render.
type published struct {
	Version
	texts *i18n.Texts
}

// Library is what assessments need of the media library (pictures and
// recordings of questions and options); *assets.Service is one.
type Library interface {
	Asset(ctx context.Context, actor accounts.Actor, id string) (assets.Asset, error)
	AddUse(ctx context.Context, id string, u assets.Use) (assets.Asset, error)
	RemoveUse(ctx context.Context, id, ref string) (assets.Asset, error)
}

// NewService returns a service over store and the media library;
// cacheBytes bounds the memory of published versions kept ready.
func NewService(store Store, lib Library, cacheBytes int64, now func() time.Time, log *slog.Logger) *Service {
	if cacheBytes <= 0 {
		cacheBytes = 32 << 20
	}
	return &Service{store: store, lib: lib, now: now, log: log, versions: lru.New[string, *published](cacheBytes), nudges: make(chan struct{}, 64)}
}

// CheckOrganisations makes the service refuse a bank or quiz that a global
// admin creates for an organisation exists does not find (code invalid on
// orgId, as for courses), instead of storing content nobody can reach.
func (s *Service) CheckOrganisations(exists func(ctx context.Context, id string) error) {
	s.orgExists = exists
}

// owner is the organisation new content of actor's belongs to (see the
// package function owner), which must exist.
func (s *Service) owner(ctx context.Context, actor accounts.Actor, orgID string) (string, error) {
	orgID, err := owner(actor, orgID)
	if err != nil || !actor.IsGlobalAdmin() || s.orgExists == nil {
		return orgID, err
	}
	if err := s.orgExists(ctx, orgID); err != nil {
		if errors.Is(err, pathways.ErrNotFound) {
			return "", pathways.Invalid("orgId", pathways.CodeInvalid)
		}
		return "", fmt.Errorf("organisation %s: %w", orgID, err)
	}
	return orgID, nil
}

func newID(id string) (string, error) {
	if id == "" {
		return uuid.Must(uuid.NewV7()).String(), nil
	}
	if !accounts.ValidID(id) {
		return "", pathways.Invalid("id", pathways.CodeID)
	}
	return id, nil
}

// CreateBank stores a new question bank (idempotent with b.ID).
func (s *Service) CreateBank(ctx context.Context, actor accounts.Actor, b Bank) (Bank, bool, error) {
	var err error
	if b.OrgID, err = s.owner(ctx, actor, b.OrgID); err != nil {
		return Bank{}, false, err
	}
	if b.ID, err = newID(b.ID); err != nil {
		v := &pathways.ValidationError{}
		_ = v.Merge("", err)
		_ = v.Merge("", CheckBank(b)) // every problem at once
		return Bank{}, false, v
	}
	if prior, err := s.store.Bank(ctx, b.ID); err == nil {
		if prior.OrgID != b.OrgID {
			return Bank{}, false, fmt.Errorf("create bank %s: %w", b.ID, pathways.ErrConflict)
		}
		return prior, false, nil
	}
	if len(b.Locales) == 0 && b.DefaultLocale != "" {
		b.Locales = []string{b.DefaultLocale}
	}
	if err := CheckBank(b); err != nil {
		return Bank{}, false, err
	}
	now := s.now().UTC()
	b.Revision, b.Created, b.Updated = 1, now, now
	i18n.StampHashes(b.DefaultLocale, b.Messages)
	if err := s.store.InsertBank(ctx, b); err != nil {
		return Bank{}, false, fmt.Errorf("create bank: %w", err)
	}
	return b, true, nil
}

// Bank returns a bank for its authors; others get ErrNotFound.
func (s *Service) Bank(ctx context.Context, actor accounts.Actor, id string) (Bank, error) {
	if !accounts.ValidID(id) {
		return Bank{}, fmt.Errorf("bank %q: %w", id, pathways.ErrNotFound)
	}
	b, err := s.store.Bank(ctx, id)
	if err != nil {
		return Bank{}, fmt.Errorf("bank %s: %w", id, err)
	}
	if !mayAuthor(actor, b.OrgID) {
		return Bank{}, fmt.Errorf("bank %s: %w", id, pathways.ErrNotFound)
	}
	return b, nil
}

// UpdateBank replaces a bank's questions and texts; revision must be the
// bank's current one (ErrStale otherwise).
func (s *Service) UpdateBank(ctx context.Context, actor accounts.Actor, id string, revision int, b Bank) (Bank, error) {
	cur, err := s.Bank(ctx, actor, id)
	if err != nil {
		return Bank{}, err
	}
	b.ID, b.OrgID = cur.ID, cur.OrgID
	if len(b.Locales) == 0 && b.DefaultLocale != "" {
		b.Locales = []string{b.DefaultLocale}
	}
	if err := CheckBank(b); err != nil {
		return Bank{}, err
	}
	return s.store.UpdateBank(ctx, id, func(d *Bank) error {
		if d.Revision != revision {
			return ErrStale
		}
		next := b
		next.Messages = b.Messages.Clone()
		i18n.StampHashes(next.DefaultLocale, next.Messages)
		next.Revision, next.Created, next.Updated = d.Revision+1, d.Created, s.now().UTC()
		*d = next
		return nil
	})
}

// questionRefs lists the messages a question names.
func questionRefs(prefix string, q Question) []i18n.Ref {
	var refs []i18n.Ref
	add := func(field, id string) {
		if id != "" {
			refs = append(refs, i18n.Ref{Field: prefix + field, ID: id})
		}
	}
	add("prompt", q.Prompt)
	add("hint", q.Hint)
	add("feedback", q.Feedback)
	for i, o := range q.Options {
		add(fmt.Sprintf("options/%d/text", i), o.Text)
		add(fmt.Sprintf("options/%d/feedback", i), o.Feedback)
	}
	for i, m := range q.Matches {
		add(fmt.Sprintf("matches/%d/text", i), m.Text)
	}
	if q.Scale != nil {
		for _, v := range slices.Sorted(maps.Keys(q.Scale.Labels)) {
			add(fmt.Sprintf("scale/labels/%d", v), q.Scale.Labels[v])
		}
	}
	return refs
}

// CheckBank validates a bank: its languages, every question (see
// CheckQuestion), unique question IDs, tags and difficulty, and that the
// source language holds every text the questions name. A bank without
// locales offers its default locale. A list longer than its limit is one
// problem (its items are not looked at), and checking stops once the
// error list is full.
func CheckBank(b Bank) error {
	if len(b.Locales) == 0 && b.DefaultLocale != "" {
		b.Locales = []string{b.DefaultLocale}
	}
	v := &pathways.ValidationError{}
	i18n.CheckLocales(v, b.DefaultLocale, b.Locales)
	if strings.TrimSpace(b.Name) == "" {
		v.Add("name", pathways.CodeRequired, nil)
	}
	if !pathways.CheckCount(v, "questions", len(b.Questions), MaxQuestions) {
		return v.Err()
	}
	var refs []i18n.Ref
	seen := map[string]bool{}
	for i, q := range b.Questions {
		if v.Full() {
			return v.Err()
		}
		qp := fmt.Sprintf("questions/%d/", i)
		if err := v.Merge(qp, CheckQuestion(q.Question)); err != nil {
			return err
		}
		if seen[q.ID] {
			v.Add(qp+"id", pathways.CodeDuplicate, nil)
		}
		seen[q.ID] = true
		if q.Difficulty < 0 || q.Difficulty > 5 {
			v.Add(qp+"difficulty", pathways.CodeRange, map[string]any{"Min": 0, "Max": 5})
		}
		pathways.CheckCount(v, qp+"tags", len(q.Tags), MaxTagsPerItem)
		refs = append(refs, questionRefs(qp, q.Question)...)
	}
	if err := v.Merge("", i18n.CheckTexts(b.DefaultLocale, b.Locales, b.Messages, refs, false)); err != nil {
		return err
	}
	return v.Err()
}

// version returns quiz version n ready to render, from memory when it can.
func (s *Service) version(ctx context.Context, quizID string, n int) (*published, error) {
	key := quizID + "@" + strconv.Itoa(n)
	if p, ok := s.versions.Get(key); ok {
		return p, nil
	}
	// Shared by the callers that miss at once; without the request's
	// cancellation, so one caller giving up does not fail the others, and
	// within its own bound.
	got, err, _ := s.versionReads.Do(key, func() (any, error) {
		if p, ok := s.versions.Get(key); ok {
			return p, nil
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		v, err := s.store.Version(rctx, quizID, n)
		if err != nil {
			return nil, err
		}
		t, err := i18n.NewTexts(v.Quiz.DefaultLocale, v.Quiz.Locales, v.Messages)
		if err != nil {
			return nil, err
		}
		p := &published{Version: v, texts: t}
		s.versions.Add(key, p, t.Size()*2)
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("quiz version %s: %w", key, err)
	}
	return got.(*published), nil
}

// Page sizes of the authors' listings.
var (
	BankPages = pathways.DefaultPages
	QuizPages = pathways.DefaultPages
)

// Banks lists a page of an organisation's question banks (names,
// languages, revisions; not their questions) for its authors.
func (s *Service) Banks(ctx context.Context, actor accounts.Actor, orgID string, p pathways.Page) ([]Bank, error) {
	orgID, err := listOrg(actor, orgID)
	if err != nil {
		return nil, err
	}
	return s.store.Banks(ctx, orgID, p.Normalise(BankPages))
}

// Quizzes lists a page of an organisation's quizzes (settings, not picks
// nor texts) for its authors.
func (s *Service) Quizzes(ctx context.Context, actor accounts.Actor, orgID string, p pathways.Page) ([]Quiz, error) {
	orgID, err := listOrg(actor, orgID)
	if err != nil {
		return nil, err
	}
	return s.store.Quizzes(ctx, orgID, p.Normalise(QuizPages))
}
