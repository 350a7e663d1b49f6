package courses

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/internal/lru"
)

// Library is what courses need of the media library; *assets.Service is
// one.
type Library interface {
	Asset(ctx context.Context, actor accounts.Actor, id string) (assets.Asset, error)
	Upload(ctx context.Context, actor accounts.Actor, m assets.Meta, body io.Reader, size int64) (assets.Asset, bool, error)
	Open(ctx context.Context, a assets.Asset, offset, length int64) (io.ReadCloser, error)
	AddUse(ctx context.Context, id string, u assets.Use) (assets.Asset, error)
	RemoveUse(ctx context.Context, id, ref string) (assets.Asset, error)
	Delete(ctx context.Context, actor accounts.Actor, id string) error
}

// Config tunes the service.
type Config struct {
	// CacheBytes bounds the memory of published versions kept ready to
	// render, and again that of rendered lessons and outlines.
	CacheBytes int64
}

// DefaultConfig has the defaults the README documents.
var DefaultConfig = Config{CacheBytes: 64 << 20}

// Service runs the rules of courses: who may author, see and read which
// course, drafts and their revisions, publishing, and delivery from memory.
type Service struct {
	store    Store
	lib      Library
	now      func() time.Time
	log      *slog.Logger
	versions *lru.Cache[versionKey, *content]
	// versionReads shares one read of a version among the requests that
	// miss it at once (a class opening a new lesson), so a crowd costs one
	// read and one decoding, not one each.
	versionReads singleflight.Group
	rendered     *lru.Cache[renderedKey, Rendered]
	cards        *lru.Cache[string, OutlineView]
	cat          catalogueCache
	orgExists    func(ctx context.Context, id string) error
	quizOK       func(ctx context.Context, orgID string, shared bool, quizID string) error
}

// NewService returns a service over store and the media library.
func NewService(store Store, lib Library, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultConfig.CacheBytes
	}
	return &Service{store: store, lib: lib, now: now, log: log, versions: lru.New[versionKey, *content](cfg.CacheBytes),
		rendered:  lru.New[renderedKey, Rendered](cfg.CacheBytes),
		cards:     lru.New[string, OutlineView](cfg.CacheBytes / 8),
		orgExists: func(context.Context, string) error { return nil },
		quizOK:    func(context.Context, string, bool, string) error { return nil }}
}

// CheckOrganisations makes the service refuse a course for an organisation
// exists does not find.
func (s *Service) CheckOrganisations(exists func(ctx context.Context, id string) error) {
	s.orgExists = exists
}

// CheckQuizzes makes publishing refuse a quiz block whose quiz usable
// does not accept: one that is not published, or that the course's
// learners may not take (usable returns ErrNotFound for those).
func (s *Service) CheckQuizzes(usable func(ctx context.Context, orgID string, shared bool, quizID string) error) {
	s.quizOK = usable
}

// CacheStats reports the published-version cache, for metrics and
// measurements.
func (s *Service) CacheStats() (versions, rendered lru.Stats) {
	return s.versions.Stats(), s.rendered.Stats()
}

// authored returns a course the actor may edit. Someone who cannot see it
// gets ErrNotFound; someone who can see but not edit it, ErrForbidden.
func (s *Service) authored(ctx context.Context, actor accounts.Actor, id string) (Course, error) {
	if !accounts.ValidID(id) {
		return Course{}, fmt.Errorf("course %q: %w", id, pathways.ErrNotFound)
	}
	c, err := s.store.Course(ctx, id)
	if err != nil {
		return Course{}, fmt.Errorf("course %s: %w", id, err)
	}
	if err := mayEdit(actor, c); err != nil {
		return Course{}, err
	}
	return c, nil
}

// Create stores a new draft. The client may give c.ID (a UUID): a retry
// with the same ID returns the course stored the first time (created
// false). Only trainers and admins create courses, in their organisation;
// a global admin names the organisation in c.OrgID. Messages without a
// hash are taken as translated from the current source texts.
func (s *Service) Create(ctx context.Context, actor accounts.Actor, c Course) (Course, bool, error) {
	var err error
	if c.OrgID, err = actor.ContentOwner(c.OrgID); err != nil {
		return Course{}, false, fmt.Errorf("create course: %w", err)
	}
	if c.ID == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	} else if !accounts.ValidID(c.ID) {
		v := (&pathways.ValidationError{}).Add("id", pathways.CodeID, nil)
		_ = v.Merge("", CheckDraft(c)) // every problem at once
		return Course{}, false, v
	}
	if prior, err := s.store.Course(ctx, c.ID); err == nil {
		if prior.OrgID != c.OrgID || mayEdit(actor, prior) != nil {
			return Course{}, false, fmt.Errorf("create course %s: %w", c.ID, pathways.ErrConflict)
		}
		return prior, false, nil
	} else if !errors.Is(err, pathways.ErrNotFound) {
		return Course{}, false, fmt.Errorf("create course %s: %w", c.ID, err)
	}
	if err := s.checkOrg(ctx, c.OrgID); err != nil {
		return Course{}, false, err
	}
	if len(c.Locales) == 0 && c.DefaultLocale != "" {
		c.Locales = []string{c.DefaultLocale}
	}
	if err := s.check(ctx, actor, c); err != nil {
		return Course{}, false, err
	}
	now := s.now().UTC()
	c.Revision, c.Published, c.Archived = 1, 0, false
	c.CreatedBy, c.Created, c.Updated = actor.UserID, now, now
	c.Messages = c.Messages.Clone()
	stampHashes(&c)
	if err := s.store.InsertCourse(ctx, c); err != nil {
		if errors.Is(err, pathways.ErrConflict) && !errors.Is(err, ErrSlugTaken) && !errors.Is(err, ErrCatalogueFull) {
			// A concurrent retry stored it first.
			if prior, gErr := s.store.Course(ctx, c.ID); gErr == nil && prior.OrgID == c.OrgID {
				return prior, false, nil
			}
		}
		return Course{}, false, fmt.Errorf("create course %s: %w", c.Slug, err)
	}
	return c, true, nil
}

// checkOrg checks that a new course names an organisation that exists.
func (s *Service) checkOrg(ctx context.Context, orgID string) error {
	if orgID == "" {
		return pathways.Invalid("orgId", pathways.CodeRequired)
	}
	if err := s.orgExists(ctx, orgID); err != nil {
		if errors.Is(err, pathways.ErrNotFound) {
			return pathways.Invalid("orgId", pathways.CodeInvalid)
		}
		return fmt.Errorf("organisation %s: %w", orgID, err)
	}
	return nil
}

// check validates a draft: structure, texts (not strictly: a draft may
// hold texts it no longer names) and media.
func (s *Service) check(ctx context.Context, actor accounts.Actor, c Course) error {
	if err := CheckDraft(c); err != nil {
		return err
	}
	_, err := s.checkMedia(ctx, actor, c)
	return err
}

// mediaRefs lists every media field of a course with the asset kind it
// needs.
func mediaRefs(c Course) []struct {
	field, id string
	kinds     []assets.Kind
} {
	var out []struct {
		field, id string
		kinds     []assets.Kind
	}
	add := func(field, id string, kinds ...assets.Kind) {
		out = append(out, struct {
			field, id string
			kinds     []assets.Kind
		}{field, id, kinds})
	}
	for i, m := range c.Modules {
		for j, l := range m.Lessons {
			for k, b := range l.Blocks {
				bp := pathways.Path("modules", i, "lessons", j, "blocks", k)
				want := map[BlockKind][]assets.Kind{
					BlockImage: {assets.KindImage}, BlockAudio: {assets.KindAudio},
					BlockVideo: {assets.KindVideo}, BlockResource: {assets.KindDocument},
				}[b.Kind]
				if b.Media != "" {
					add(bp+"/media", b.Media, want...)
				}
				for _, loc := range slices.Sorted(maps.Keys(b.MediaBy)) {
					add(bp+"/mediaBy/"+loc, b.MediaBy[loc], want...)
				}
				for _, loc := range slices.Sorted(maps.Keys(b.Subtitles)) {
					add(bp+"/subtitles/"+loc, b.Subtitles[loc], assets.KindSubtitle)
				}
			}
		}
	}
	return out
}

// checkMedia checks that every media file a course names is in its
// organisation's library, readable by the actor, and of the kind its block
// shows; it returns what a version records of each.
func (s *Service) checkMedia(ctx context.Context, actor accounts.Actor, c Course) (map[string]MediaInfo, error) {
	v := &pathways.ValidationError{}
	infos := map[string]MediaInfo{}
	for _, r := range mediaRefs(c) {
		a, err := s.lib.Asset(ctx, actor, r.id)
		switch {
		case errors.Is(err, pathways.ErrNotFound), err == nil && a.OrgID != c.OrgID:
			v.Add(r.field, assets.CodeUnknownMedia, map[string]any{"Value": r.id})
			continue
		case err != nil:
			return nil, fmt.Errorf("media %s: %w", r.id, err)
		}
		if !slices.Contains(r.kinds, a.Kind) {
			v.Add(r.field, assets.CodeMediaKind, map[string]any{"Value": string(r.kinds[0])})
			continue
		}
		infos[a.ID] = MediaInfo{Type: a.ContentType, Size: a.Size, Name: a.Name, Locale: a.Locale}
	}
	return infos, v.Err()
}

// checkQuizzes checks every quiz block of a course about to be published.
func (s *Service) checkQuizzes(ctx context.Context, c Course) error {
	v := &pathways.ValidationError{}
	for i, m := range c.Modules {
		for j, l := range m.Lessons {
			for k, b := range l.Blocks {
				if b.Kind != BlockQuiz {
					continue
				}
				err := s.quizOK(ctx, c.OrgID, c.Shared, b.Quiz)
				switch {
				case errors.Is(err, pathways.ErrNotFound):
					v.Add(pathways.Path("modules", i, "lessons", j, "blocks", k, "quiz"), CodeUnknownQuiz, map[string]any{"Value": b.Quiz})
				case err != nil:
					return fmt.Errorf("quiz %s: %w", b.Quiz, err)
				}
			}
		}
	}
	return v.Err()
}

// Draft returns a course's draft, for its authors.
func (s *Service) Draft(ctx context.Context, actor accounts.Actor, id string) (Course, error) {
	return s.authored(ctx, actor, id)
}

// Update replaces a draft's structure, settings and texts with c's. It
// returns ErrStale if the draft is no longer at revision, ErrArchived for
// an archived course, and a ValidationError for a draft that does not
// hold together. The course's identity, owner and history are kept.
func (s *Service) Update(ctx context.Context, actor accounts.Actor, id string, revision int, c Course) (Course, error) {
	cur, err := s.authored(ctx, actor, id)
	if err != nil {
		return Course{}, err
	}
	c.ID, c.OrgID = cur.ID, cur.OrgID
	if len(c.Locales) == 0 && c.DefaultLocale != "" {
		c.Locales = []string{c.DefaultLocale}
	}
	if err := s.check(ctx, actor, c); err != nil {
		return Course{}, err
	}
	return s.store.UpdateCourse(ctx, id, func(d *Course) error {
		if err := editable(d, revision); err != nil {
			return err
		}
		next := c
		next.Messages = c.Messages.Clone()
		next.Revision, next.Published, next.Archived = d.Revision+1, d.Published, d.Archived
		next.CreatedBy, next.Created, next.Updated = d.CreatedBy, d.Created, s.now().UTC()
		stampHashes(&next)
		*d = next
		return nil
	})
}

func editable(d *Course, revision int) error {
	if d.Archived {
		return ErrArchived
	}
	if revision != d.Revision {
		return fmt.Errorf("course %s at revision %d, edit made on %d: %w", d.ID, d.Revision, revision, ErrStale)
	}
	return nil
}

// SetMessages changes the texts of one locale of a draft: each entry of
// changes sets a message, or deletes it when nil. A translation given
// without a hash is taken as made from the current source text. Changing
// a default-locale text makes its translations outdated.
func (s *Service) SetMessages(ctx context.Context, actor accounts.Actor, id string, revision int, locale string, changes map[string]*i18n.Message) (Course, error) {
	cur, err := s.authored(ctx, actor, id)
	if err != nil {
		return Course{}, err
	}
	if !slices.Contains(cur.Locales, locale) {
		if !i18n.ValidLocale(locale) {
			return Course{}, pathways.Invalid("locale", i18n.CodeLocale)
		}
		return Course{}, (&pathways.ValidationError{}).Add("locale", i18n.CodeNotOffered, map[string]any{"Value": locale})
	}
	return s.store.UpdateCourse(ctx, id, func(d *Course) error {
		if err := editable(d, revision); err != nil {
			return err
		}
		next := *d
		next.Messages = d.Messages.Clone()
		if next.Messages[locale] == nil {
			next.Messages[locale] = map[string]i18n.Message{}
		}
		for _, mid := range slices.Sorted(maps.Keys(changes)) {
			if m := changes[mid]; m == nil {
				delete(next.Messages[locale], mid)
			} else {
				if locale == next.DefaultLocale {
					m.Hash = ""
				}
				next.Messages[locale][mid] = *m
			}
		}
		if err := CheckMessages(next, false); err != nil {
			return err
		}
		stampHashes(&next)
		next.Revision++
		next.Updated = s.now().UTC()
		*d = next
		return nil
	})
}

// Publish freezes the draft at revision as the next numbered version and
// makes it what the catalogue shows. It returns ErrStale if the draft
// moved on, ErrArchived for an archived course, and a ValidationError if
// the draft is incomplete (no lessons, a text missing in the default
// locale, media missing or of the wrong kind). Publishing the same
// revision again returns the version made the first time.
func (s *Service) Publish(ctx context.Context, actor accounts.Actor, id string, revision int) (Version, error) {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return Version{}, err
	}
	if c.Published > 0 {
		if v, err := s.store.Version(ctx, id, c.Published); err == nil && v.Revision == revision {
			return v, nil // a retry
		}
	}
	if err := editable(&c, revision); err != nil {
		return Version{}, err
	}
	if err := errors.Join(CheckStructure(c), CheckPublishable(c), CheckMessages(c, false)); err != nil {
		return Version{}, joinValidation(err)
	}
	media, err := s.checkMedia(ctx, actor, c)
	if err != nil {
		return Version{}, err
	}
	if err := s.checkQuizzes(ctx, c); err != nil {
		return Version{}, err
	}
	frozen := c.Clone()
	prune(&frozen)
	stampHashes(&frozen)
	n := c.Published + 1
	v := Version{CourseID: id, Number: n, Course: frozen, Revision: revision, Media: media,
		PublishedBy: actor.UserID, Published: s.now().UTC()}
	v.Course.Published = n
	use := assets.Use{Ref: UseRef(id, n), OrgID: c.OrgID}
	if c.Shared {
		use.OrgID = ""
	}
	// The uses are recorded before the version is stored, so that no
	// asset it shows is ever without one; a publish that fails or loses
	// the race for number n undoes what the winner does not need.
	for _, aid := range slices.Sorted(maps.Keys(media)) {
		if _, err := s.lib.AddUse(ctx, aid, use); err != nil {
			s.dropUses(ctx, id, n, media)
			return Version{}, fmt.Errorf("publish %s: record use of %s: %w", id, aid, err)
		}
	}
	if err := s.store.InsertVersion(ctx, v); err != nil && !errors.Is(err, pathways.ErrConflict) {
		s.dropUses(ctx, id, n, media)
		return Version{}, fmt.Errorf("publish %s@%d: %w", id, n, err)
	} else if err != nil {
		// Someone published number n first: ours was a concurrent retry
		// or lost the race.
		prior, gErr := s.store.Version(ctx, id, n)
		if gErr != nil || prior.Revision != revision {
			s.dropUses(ctx, id, n, media)
			return Version{}, fmt.Errorf("publish %s@%d: %w", id, n, ErrStale)
		}
		v = prior
	}
	_, err = s.store.UpdateCourse(ctx, id, func(d *Course) error {
		if d.Published < n {
			d.Published = n
		}
		return nil
	})
	if err != nil {
		return Version{}, fmt.Errorf("publish %s@%d: %w", id, n, err)
	}
	return v, nil
}

// joinValidation merges the ValidationErrors in err (from errors.Join)
// into one.
func joinValidation(err error) error {
	var all pathways.ValidationError
	var walk func(error) bool
	walk = func(e error) bool {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				if !walk(x) {
					return false
				}
			}
			return true
		}
		return all.Merge("", e) == nil
	}
	if !walk(err) {
		return err
	}
	return all.Err()
}

// SetArchived archives or restores a course. An archived course leaves
// the catalogue and cannot be edited; its published versions stay
// readable, so learners who started one can finish it.
func (s *Service) SetArchived(ctx context.Context, actor accounts.Actor, id string, archived bool) (Course, error) {
	if _, err := s.authored(ctx, actor, id); err != nil {
		return Course{}, err
	}
	return s.store.UpdateCourse(ctx, id, func(d *Course) error {
		if d.Archived != archived {
			d.Archived = archived
			d.Updated = s.now().UTC()
		}
		return nil
	})
}

// Duplicate copies a course's draft into a new draft under slug, in the
// actor's organisation (or the source's, for a global admin). The client
// may give newID to make it idempotent. Module, lesson and block IDs are
// kept; the copy has no versions.
func (s *Service) Duplicate(ctx context.Context, actor accounts.Actor, id, newID, slug string) (Course, bool, error) {
	src, err := s.authored(ctx, actor, id)
	if err != nil {
		return Course{}, false, err
	}
	cp := src.Clone()
	cp.ID, cp.Slug = newID, slug
	return s.Create(ctx, actor, cp)
}

// Delete removes a draft that was never published. A published course is
// archived instead (ErrPublished), because learners may be reading it.
func (s *Service) Delete(ctx context.Context, actor accounts.Actor, id string) error {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return err
	}
	if c.Published > 0 {
		return fmt.Errorf("delete course %s: %w", id, ErrPublished)
	}
	return s.store.DeleteCourse(ctx, id)
}

// ErrPublished: a course with published versions cannot be deleted.
var ErrPublished = fmt.Errorf("%w: the course has published versions; archive it instead", pathways.ErrConflict)

// Status returns the translation status of every locale of a draft.
func (s *Service) Status(ctx context.Context, actor accounts.Actor, id string) ([]i18n.LocaleStatus, error) {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return TranslationStatus(c), nil
}

// Preview renders a lesson of the draft as a learner with languages wanted
// would see it. A text missing everywhere shows its message ID.
func (s *Service) Preview(ctx context.Context, actor accounts.Actor, id, lessonID string, wanted []string) (LessonView, error) {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return LessonView{}, err
	}
	media, _ := s.checkMedia(ctx, actor, c) // preview shows what it can
	ct, err := newContent(c, 0, media)
	if err != nil {
		return LessonView{}, pathways.Invalid("locales", i18n.CodeLocale)
	}
	v, err := ct.lesson(lessonID, wanted)
	if errors.Is(err, errNoLesson) {
		return LessonView{}, fmt.Errorf("preview %s: lesson %s: %w", id, lessonID, pathways.ErrNotFound)
	}
	return v, nil // missing texts are shown as their IDs
}

// AuthoredPages are the page sizes of the authors' listing.
var AuthoredPages = pathways.DefaultPages

// Clone returns a deep copy, so a cached or stored course is never shared
// with a caller that edits it.
func (c Course) Clone() Course {
	cp := c
	cp.Audiences = slices.Clone(c.Audiences)
	cp.Locales = slices.Clone(c.Locales)
	cp.Messages = c.Messages.Clone()
	cp.Modules = make([]Module, len(c.Modules))
	for i, m := range c.Modules {
		m.Requires = slices.Clone(m.Requires)
		ls := make([]Lesson, len(m.Lessons))
		for j, l := range m.Lessons {
			bs := make([]Block, len(l.Blocks))
			for k, b := range l.Blocks {
				b.MediaBy = maps.Clone(b.MediaBy)
				b.Subtitles = maps.Clone(b.Subtitles)
				bs[k] = b
			}
			l.Blocks = bs
			ls[j] = l
		}
		m.Lessons = ls
		cp.Modules[i] = m
	}
	return cp
}
