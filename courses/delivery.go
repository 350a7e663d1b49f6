package courses

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// published returns version n of a course ready to render, from memory
// when it can: versions never change, so a cached one is never stale.
func (s *Service) published(ctx context.Context, courseID string, n int) (*content, error) {
	key := versionKey{courseID, n}
	if ct, ok := s.versions.Get(key); ok {
		return ct, nil
	}
	id := VersionID(courseID, n)
	// The read runs without the request's cancellation, so one impatient
	// caller does not fail the others sharing it, and within its own
	// bound (sharedReadTimeout).
	got, err, _ := s.versionReads.Do(id, func() (any, error) {
		if ct, ok := s.versions.Get(key); ok {
			return ct, nil
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		defer cancel()
		v, err := s.store.Version(rctx, courseID, n)
		if err != nil {
			return nil, err
		}
		ct, err := newContent(v.Course, n, v.Media)
		if err != nil {
			return nil, err
		}
		s.versions.Add(key, ct, ct.Size())
		return ct, nil
	})
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", id, err)
	}
	return got.(*content), nil
}

// sharedReadTimeout bounds a version read that several requests share.
const sharedReadTimeout = 10 * time.Second

// The keys of the delivery caches are structs, so that a look-up builds
// no string (VersionID formats one).
type (
	// versionKey is version n of a course.
	versionKey struct {
		course string
		n      int
	}
	// renderedKey is a rendered outline or lesson of a version, for one
	// resolved fallback chain (chainKey).
	renderedKey struct {
		version versionKey
		outline bool
		lesson  string
		chain   string
	}
)

// cost is what a key holds in memory, roughly.
func (k renderedKey) cost() int { return len(k.version.course) + len(k.lesson) + len(k.chain) + 64 }

// readable returns version n (0: the latest) of a course the actor may
// read: a member of the owning organisation, anyone when that version is
// shared, a global admin. Anyone else gets ErrNotFound.
func (s *Service) readable(ctx context.Context, actor accounts.Actor, courseID string, n int) (*content, error) {
	if !accounts.ValidID(courseID) || n < 0 {
		return nil, fmt.Errorf("course %q: %w", courseID, pathways.ErrNotFound)
	}
	if n == 0 {
		e, err := s.entry(ctx, courseID)
		if err != nil {
			return nil, err
		}
		if e.Published == 0 {
			return nil, fmt.Errorf("course %s: not published: %w", courseID, pathways.ErrNotFound)
		}
		n = e.Published
	}
	ct, err := s.published(ctx, courseID, n)
	if err != nil {
		return nil, err
	}
	if !mayRead(actor, ct.course) {
		return nil, fmt.Errorf("course %s: %w", courseID, pathways.ErrNotFound)
	}
	return ct, nil
}

// Lesson renders a lesson of version n of a course (0: the latest) for a
// learner whose languages are wanted, most wanted first. A version the
// actor may not read and a lesson it does not have are ErrNotFound.
func (s *Service) Lesson(ctx context.Context, actor accounts.Actor, courseID string, n int, lessonID string, wanted []string) (LessonView, error) {
	ct, err := s.readable(ctx, actor, courseID, n)
	if err != nil {
		return LessonView{}, err
	}
	return ct.renderLesson(lessonID, wanted)
}

// renderLesson renders a lesson of a readable version; a lesson it does
// not have is ErrNotFound.
func (ct *content) renderLesson(lessonID string, wanted []string) (LessonView, error) {
	courseID := ct.course.ID
	v, err := ct.lesson(lessonID, wanted)
	if errors.Is(err, errNoLesson) {
		return LessonView{}, fmt.Errorf("course %s@%d: %w: %w", courseID, ct.version, err, pathways.ErrNotFound)
	}
	if err != nil {
		return LessonView{}, fmt.Errorf("render %s@%d/%s: %w", courseID, ct.version, lessonID, err)
	}
	return v, nil
}

// Outline renders version n of a course (0: the latest).
func (s *Service) Outline(ctx context.Context, actor accounts.Actor, courseID string, n int, wanted []string) (OutlineView, error) {
	ct, err := s.readable(ctx, actor, courseID, n)
	if err != nil {
		return OutlineView{}, err
	}
	v, err := ct.outline(wanted)
	if err != nil {
		return OutlineView{}, fmt.Errorf("render %s@%d: %w", courseID, ct.version, err)
	}
	return v, nil
}

// Filter narrows the catalogue.
type Filter struct {
	Topic    Topic
	Audience Audience
	// Language keeps courses fully translated into it (or its base
	// language: "fr-CA" finds "fr").
	Language string
}

// CataloguePages are the page sizes of the catalogue.
var CataloguePages = pathways.DefaultPages

// Rendered is published content encoded for delivery, with its strong
// ETag (a hash of the bytes) and the languages it uses.
type Rendered struct {
	Body      []byte
	ETag      string
	Languages []string
}

func newRendered(v any, langs []string) (Rendered, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return Rendered{}, fmt.Errorf("encode: %w", err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	sum := sha256.Sum256(body)
	return Rendered{Body: body, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, Languages: langs}, nil
}

// LessonJSON is Lesson encoded, from the cache of rendered lessons when
// it is there: a read of a cached lesson touches neither the database nor
// the renderer. The cache key is the version, the lesson and the
// resolved fallback chain, so every learner reading in the same languages
// shares one entry.
func (s *Service) LessonJSON(ctx context.Context, actor accounts.Actor, courseID string, n int, lessonID string, wanted []string) (Rendered, error) {
	ct, err := s.readable(ctx, actor, courseID, n)
	if err != nil {
		return Rendered{}, err
	}
	key := renderedKey{version: versionKey{courseID, ct.version}, lesson: lessonID, chain: ct.chainKey(wanted)}
	if r, ok := s.rendered.Get(key); ok {
		return r, nil
	}
	v, err := ct.renderLesson(lessonID, wanted)
	if err != nil {
		return Rendered{}, err
	}
	return s.keep(key, v, v.Languages)
}

// OutlineJSON is Outline encoded, from the cache of rendered outlines for
// a numbered version; the latest version's number comes from the
// catalogue.
func (s *Service) OutlineJSON(ctx context.Context, actor accounts.Actor, courseID string, n int, wanted []string) (Rendered, error) {
	ct, err := s.readable(ctx, actor, courseID, n)
	if err != nil {
		return Rendered{}, err
	}
	key := renderedKey{version: versionKey{courseID, ct.version}, outline: true, chain: ct.chainKey(wanted)}
	if r, ok := s.rendered.Get(key); ok {
		return r, nil
	}
	v, err := ct.outline(wanted)
	if err != nil {
		return Rendered{}, fmt.Errorf("render %s@%d: %w", courseID, ct.version, err)
	}
	return s.keep(key, v, v.Languages)
}

func (s *Service) keep(key renderedKey, v any, langs []string) (Rendered, error) {
	r, err := newRendered(v, langs)
	if err != nil {
		return Rendered{}, err
	}
	s.rendered.Add(key, r, int64(len(r.Body)+key.cost()+len(r.ETag)+128))
	return r, nil
}

// Release is a published version of a course as other domains read it
// (learning counts progress against its modules and lessons): shared
// with the delivery cache, so it must not be modified.
type Release struct {
	Course  Course
	Version int
	texts   *i18n.Texts
}

// Text resolves message id of the version in the languages wanted, with
// the language it was found in and that language's direction.
func (r Release) Text(id string, wanted []string) (t i18n.Text, lang, dir string) {
	chain := r.texts.Chain(wanted)
	t, _, _ = r.texts.Find(chain, id, nil)
	return t, chain[0], r.texts.Dir(chain[0])
}

// Release returns version n of a course (0: the latest) that actor may
// read, from the delivery cache (see readable for who may).
func (s *Service) Release(ctx context.Context, actor accounts.Actor, courseID string, n int) (Release, error) {
	ct, err := s.readable(ctx, actor, courseID, n)
	if err != nil {
		return Release{}, err
	}
	return Release{Course: ct.course, Version: ct.version, texts: ct.Texts}, nil
}
