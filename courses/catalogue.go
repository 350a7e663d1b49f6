package courses

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// The catalogue in memory. Every instance keeps the catalogue it last
// built, with the store's generation it was built at; a request reads the
// generation (one small document by id) and uses the built catalogue while
// it is unchanged, so a change made on any instance is seen by the next
// request everywhere, with no time-to-live to wait out or tune, and no
// request reads the entries unless something changed. Concurrent requests
// that find it stale share one build. A build reads the entries, and for
// each listable course what filters need of its latest version, which is
// immutable and so kept (listedVersion) across builds: after a change only
// the changed course's version is read, if at all.

// catalogue is the catalogue built at one generation.
type catalogue struct {
	gen     int64
	entries []Entry        // every course, as the store lists them
	byID    map[string]int // index in entries
	live    []listed       // the published, unarchived courses, in order
	used    map[string]*listedVersion

	// matches are the courses of live that requests matched, by
	// matchKey, so a request with a filter seen before at this
	// generation is as cheap with 5,000 courses as with 3.
	mu      sync.Mutex
	matches map[string][]*listed
}

// maxMatches bounds the filters one built catalogue remembers the
// matches of; more are answered by a walk of live.
const maxMatches = 256

// matchKey names what a match depends on: the filter, and the actor's
// role and organisation, which are all the access rules (mayList,
// mayRead) look at.
func matchKey(actor accounts.Actor, f Filter) string {
	return fmt.Sprintf("%s|%s|%s|%s|%s", actor.Role, actor.OrgID, f.Topic, f.Audience, f.Language)
}

// match returns the courses of live that actor may take and f keeps.
func (cat *catalogue) match(actor accounts.Actor, f Filter) []*listed {
	key := matchKey(actor, f)
	cat.mu.Lock()
	m, ok := cat.matches[key]
	cat.mu.Unlock()
	if ok {
		return m
	}
	m = []*listed{}
	base := baseOf(f.Language)
	for i := range cat.live {
		l := &cat.live[i]
		if !mayList(actor, l.entry) || !actor.CanSee(l.orgID, l.shared) ||
			(f.Topic != "" && l.topic != f.Topic) ||
			(f.Audience != "" && !slices.Contains(l.audiences, f.Audience)) ||
			(f.Language != "" && !l.offers(f.Language, base)) {
			continue
		}
		m = append(m, l)
	}
	cat.mu.Lock()
	if len(cat.matches) < maxMatches {
		cat.matches[key] = m
	}
	cat.mu.Unlock()
	return m
}

// listed is a course of the learners' catalogue: its entry and what the
// filters and access rules need of its latest version.
type listed struct {
	entry Entry
	*listedVersion
}

// listedVersion is what the catalogue needs of a published version.
type listedVersion struct {
	orgID     string
	shared    bool
	topic     Topic
	audiences []Audience
	complete  []string // CompleteLocales of the version
	bases     []string // the base language of each of complete
}

// offers reports whether the version, complete in its locales, serves
// language l, whose base language is base: "fr-CA" finds "fr".
func (lv *listedVersion) offers(l, base string) bool {
	for i, loc := range lv.complete {
		if loc == l || lv.bases[i] == base {
			return true
		}
	}
	return false
}

// catalogueCache is the last built catalogue and the build in flight.
type catalogueCache struct {
	mu     sync.Mutex
	cur    *catalogue
	flight *build
	// versions is what the catalogue needs of each version it lists, by
	// VersionID: those of the last kept build (and what builds since
	// added), so it stays as large as the catalogue.
	versions map[string]*listedVersion
}

// build is one build of the catalogue, shared by the requests that wait
// for it.
type build struct {
	gen  int64
	done chan struct{}
	cat  *catalogue
	err  error
}

// catalogue returns the catalogue as of the store's current generation.
func (s *Service) catalogue(ctx context.Context) (*catalogue, error) {
	gen, err := s.store.CatalogueGeneration(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue generation: %w", err)
	}
	cc := &s.cat
	cc.mu.Lock()
	if cc.cur != nil && cc.cur.gen >= gen {
		cat := cc.cur
		cc.mu.Unlock()
		return cat, nil
	}
	b := cc.flight
	if b == nil || b.gen < gen {
		b = &build{gen: gen, done: make(chan struct{})}
		cc.flight = b
		// The build outlives the request that started it: others wait for it.
		go s.build(context.WithoutCancel(ctx), b)
	}
	cc.mu.Unlock()
	select {
	case <-b.done:
		return b.cat, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// build builds the catalogue at b.gen and keeps it unless a later one was
// kept meanwhile.
func (s *Service) build(ctx context.Context, b *build) {
	b.cat, b.err = s.buildCatalogue(ctx, b.gen)
	cc := &s.cat
	cc.mu.Lock()
	if b.err == nil && (cc.cur == nil || cc.cur.gen < b.gen) {
		cc.cur, cc.versions = b.cat, b.cat.used
		b.cat.used = nil
	}
	if cc.flight == b {
		cc.flight = nil
	}
	cc.mu.Unlock()
	close(b.done)
}

func (s *Service) buildCatalogue(ctx context.Context, gen int64) (*catalogue, error) {
	all, err := s.store.Catalogue(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	cat := &catalogue{gen: gen, entries: all, byID: make(map[string]int, len(all)), used: map[string]*listedVersion{}, matches: map[string][]*listed{}}
	for i, e := range all {
		cat.byID[e.CourseID] = i
		if e.Published == 0 || e.Archived {
			continue
		}
		lv, err := s.listedVersion(ctx, e.CourseID, e.Published)
		if err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		cat.live = append(cat.live, listed{entry: e, listedVersion: lv})
		cat.used[VersionID(e.CourseID, e.Published)] = lv
	}
	return cat, nil
}

// listedVersion returns what the catalogue needs of a published version,
// computed once per version.
func (s *Service) listedVersion(ctx context.Context, courseID string, n int) (*listedVersion, error) {
	key := VersionID(courseID, n)
	s.cat.mu.Lock()
	lv, ok := s.cat.versions[key]
	s.cat.mu.Unlock()
	if ok {
		return lv, nil
	}
	ct, err := s.published(ctx, courseID, n)
	if err != nil {
		return nil, err
	}
	c := ct.course
	lv = &listedVersion{orgID: c.OrgID, shared: c.Shared, topic: c.Topic,
		audiences: slices.Clone(c.Audiences), complete: CompleteLocales(c)}
	for _, loc := range lv.complete {
		lv.bases = append(lv.bases, baseOf(loc))
	}
	s.cat.mu.Lock()
	if s.cat.versions == nil {
		s.cat.versions = map[string]*listedVersion{}
	}
	s.cat.versions[key] = lv
	s.cat.mu.Unlock()
	return lv, nil
}

// entry returns the catalogue entry of a course, or ErrNotFound.
func (s *Service) entry(ctx context.Context, courseID string) (Entry, error) {
	cat, err := s.catalogue(ctx)
	if err != nil {
		return Entry{}, err
	}
	i, ok := cat.byID[courseID]
	if !ok {
		return Entry{}, fmt.Errorf("course %s: %w", courseID, pathways.ErrNotFound)
	}
	return cat.entries[i], nil
}

// Catalogue lists a page of the latest published versions of the courses
// the actor may take, archived ones left out, filtered, as outlines
// rendered in the languages wanted (modules left out), with how many match
// in all. The catalogue and its matches come from memory (see catalogue),
// and only the page's outlines are rendered, each once per version and
// languages.
func (s *Service) Catalogue(ctx context.Context, actor accounts.Actor, f Filter, wanted []string, p pathways.Page) ([]OutlineView, int, error) {
	cat, err := s.catalogue(ctx)
	if err != nil {
		return nil, 0, err
	}
	match := cat.match(actor, f)
	page := pathways.Window(match, p.Normalise(CataloguePages))
	out := make([]OutlineView, 0, len(page))
	for _, l := range page {
		v, err := s.card(ctx, l.entry.CourseID, l.entry.Published, wanted)
		if err != nil {
			return nil, 0, fmt.Errorf("catalogue: %w", err)
		}
		out = append(out, v)
	}
	return out, len(match), nil
}

// card is a version's outline without its modules, as the catalogue shows
// it, rendered once per version and languages wanted.
func (s *Service) card(ctx context.Context, courseID string, n int, wanted []string) (OutlineView, error) {
	key := VersionID(courseID, n) + "/card/" + wantedKey(wanted)
	if v, ok := s.cards.Get(key); ok {
		return v, nil
	}
	ct, err := s.published(ctx, courseID, n)
	if err != nil {
		return OutlineView{}, err
	}
	v, err := ct.outline(wanted)
	if err != nil {
		return OutlineView{}, fmt.Errorf("render %s@%d: %w", courseID, n, err)
	}
	v.Modules = nil
	s.cards.Add(key, v, int64(512+len(key)))
	return v, nil
}

// SlugFree returns ErrSlugTaken if a course of organisation orgID has
// slug. It reads the catalogue, so an import can refuse a taken slug
// before it stores anything; InsertCourse's claim stays what decides.
func (s *Service) SlugFree(ctx context.Context, orgID, slug string) error {
	cat, err := s.catalogue(ctx)
	if err != nil {
		return fmt.Errorf("check slug %s: %w", slug, err)
	}
	for _, e := range cat.entries {
		if e.OrgID == orgID && e.Slug == slug {
			return fmt.Errorf("slug %s: %w", slug, ErrSlugTaken)
		}
	}
	return nil
}

// Authored lists a page of the catalogue entries of the courses the actor
// may edit, drafts included: those of their organisation (every
// organisation's for a global admin), with how many there are in all.
func (s *Service) Authored(ctx context.Context, actor accounts.Actor, p pathways.Page) ([]Entry, int, error) {
	if !actor.IsAuthor() {
		return nil, 0, fmt.Errorf("list authored courses: %w", pathways.ErrForbidden)
	}
	cat, err := s.catalogue(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list authored courses: %w", err)
	}
	mine := []Entry{}
	for _, e := range cat.entries {
		if mayListAuthored(actor, e) {
			mine = append(mine, e)
		}
	}
	page := pathways.Window(mine, p.Normalise(AuthoredPages))
	out := make([]Entry, len(page))
	for i, e := range page {
		out[i] = e
		out[i].Audiences, out[i].Locales = slices.Clone(e.Audiences), slices.Clone(e.Locales)
	}
	return out, len(mine), nil
}
