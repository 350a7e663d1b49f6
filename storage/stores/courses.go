package stores

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of the courses store.
const (
	colCourses        = "courses"         // id: the course id
	colCourseVersions = "course_versions" // id: courses.VersionID
	colCourseSlugs    = "course_slugs"    // id: slugKey(org, slug); claims
	colCourseEntries  = "course_entries"  // id: the course id
	colCourseMeta     = "course_meta"     // id: catalogueMetaID
)

// catalogueMetaID is the id of the one document counting the catalogue's
// entries and its generation.
const catalogueMetaID = "catalogue"

// coursesSchema is the collections of the courses store. Everything a
// request reads is by id; the catalogue is a walk of course_entries' ids,
// bounded by courses.MaxCatalogue, that the service caches until the
// generation changes; course_slugs' index is the sweep's.
var coursesSchema = docdb.Schema{
	{Name: colCourses},
	{Name: colCourseVersions},
	{Name: colCourseSlugs, Indexes: claimIndexes},
	{Name: colCourseEntries},
	{Name: colCourseMeta},
}

// CoursesStore implements courses.Store on the document layer. A course,
// a version, a slug claim and a catalogue entry are each one document read
// by id. The catalogue is the small per-course entries (one document per
// course, so creates on any number of instances never overwrite each
// other) and a counter document (course_meta "catalogue") holding how many
// there are, which bounds the catalogue exactly, and a generation bumped
// by a compare-and-swap after every entry change, which lets the service
// keep the built catalogue in memory and notice any instance's change with
// one small read. Every write of a course is a compare-and-swap on its
// revision; versions and slug claims are unique inserts.
type CoursesStore struct {
	e docdb.Engine
}

var _ courses.Store = (*CoursesStore)(nil)

// Courses returns the course store of db.
func (db *DB) Courses() *CoursesStore { return &CoursesStore{e: db.e} }

func same[T any](v T) T { return v }

type blockDoc struct {
	ID         string        `json:"id"`
	Kind       string        `json:"kind"`
	Text       string        `json:"text,omitempty"`
	Media      string        `json:"media,omitempty"`
	MediaBy    list[pairDoc] `json:"media_by,omitzero"`
	Alt        string        `json:"alt,omitempty"`
	Transcript string        `json:"transcript,omitempty"`
	Subtitles  list[pairDoc] `json:"subtitles,omitzero"`
	URL        string        `json:"url,omitempty"`
	HelpURL    string        `json:"help_url,omitempty"`
	Quiz       string        `json:"quiz,omitempty"`
}

type lessonDoc struct {
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Minutes int            `json:"minutes"`
	Blocks  list[blockDoc] `json:"blocks,omitzero"`
}

type moduleDoc struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Summary  string          `json:"summary,omitempty"`
	Requires list[string]    `json:"requires,omitzero"`
	Lessons  list[lessonDoc] `json:"lessons,omitzero"`
}

// messageDoc is one text; message IDs contain dots, so they are values,
// never field names.
type messageDoc struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Hash        string `json:"hash,omitempty"`
	Zero        string `json:"zero,omitempty"`
	One         string `json:"one,omitempty"`
	Two         string `json:"two,omitempty"`
	Few         string `json:"few,omitempty"`
	Many        string `json:"many,omitempty"`
	Other       string `json:"other,omitempty"`
}

// localeDoc holds the messages of one locale, sorted by ID.
type localeDoc struct {
	Locale   string           `json:"locale"`
	Messages list[messageDoc] `json:"messages,omitzero"`
}

func toLocaleDocs(ms i18n.Messages) list[localeDoc] {
	if ms == nil {
		return nil
	}
	out := make(list[localeDoc], 0, len(ms))
	for loc, byID := range ms {
		d := localeDoc{Locale: loc}
		if byID != nil {
			d.Messages = make(list[messageDoc], 0, len(byID))
			for id, m := range byID {
				d.Messages = append(d.Messages, messageDoc{
					ID: id, Description: m.Description, Hash: m.Hash,
					Zero: m.Zero, One: m.One, Two: m.Two, Few: m.Few, Many: m.Many, Other: m.Other,
				})
			}
			slices.SortFunc(d.Messages, func(a, b messageDoc) int { return cmp.Compare(a.ID, b.ID) })
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b localeDoc) int { return cmp.Compare(a.Locale, b.Locale) })
	return out
}

func fromLocaleDocs(l list[localeDoc]) i18n.Messages {
	if l == nil {
		return nil
	}
	ms := make(i18n.Messages, len(l))
	for _, d := range l {
		var byID map[string]i18n.Message
		if d.Messages != nil {
			byID = make(map[string]i18n.Message, len(d.Messages))
			for _, m := range d.Messages {
				byID[m.ID] = i18n.Message{
					Description: m.Description, Hash: m.Hash,
					Zero: m.Zero, One: m.One, Two: m.Two, Few: m.Few, Many: m.Many, Other: m.Other,
				}
			}
		}
		ms[d.Locale] = byID
	}
	return ms
}

// courseDoc is a whole course, draft texts included: one document. Its id
// is the document's, so it has none of its own (a version's embedded
// course keeps it in id).
type courseDoc struct {
	ID            string          `json:"id,omitempty"`
	OrgID         string          `json:"org_id,omitempty"`
	Slug          string          `json:"slug"`
	Shared        bool            `json:"shared,omitempty"`
	Topic         string          `json:"topic,omitempty"`
	Audiences     list[string]    `json:"audiences,omitzero"`
	Level         string          `json:"level,omitempty"`
	DefaultLocale string          `json:"default_locale"`
	Locales       list[string]    `json:"locales,omitzero"`
	Title         string          `json:"title"`
	Summary       string          `json:"summary,omitempty"`
	Modules       list[moduleDoc] `json:"modules,omitzero"`
	Messages      list[localeDoc] `json:"messages,omitzero"`
	Revision      int             `json:"revision"`
	Published     int             `json:"published"`
	Archived      bool            `json:"archived,omitempty"`
	CreatedBy     string          `json:"created_by,omitempty"`
	Created       time.Time       `json:"created_at"`
	Updated       time.Time       `json:"updated_at"`
}

func toCourseDoc(c courses.Course) courseDoc {
	return courseDoc{
		ID: c.ID, OrgID: c.OrgID, Slug: c.Slug, Shared: c.Shared, Topic: string(c.Topic),
		Audiences: convert(c.Audiences, func(a courses.Audience) string { return string(a) }),
		Level:     string(c.Level), DefaultLocale: c.DefaultLocale, Locales: convert(c.Locales, same[string]),
		Title: c.Title, Summary: c.Summary,
		Modules: convert(c.Modules, func(m courses.Module) moduleDoc {
			return moduleDoc{
				ID: m.ID, Title: m.Title, Summary: m.Summary, Requires: convert(m.Requires, same[string]),
				Lessons: convert(m.Lessons, func(l courses.Lesson) lessonDoc {
					return lessonDoc{
						ID: l.ID, Title: l.Title, Minutes: l.Minutes,
						Blocks: convert(l.Blocks, func(b courses.Block) blockDoc {
							return blockDoc{
								ID: b.ID, Kind: string(b.Kind), Text: b.Text, Media: b.Media, MediaBy: toPairs(b.MediaBy),
								Alt: b.Alt, Transcript: b.Transcript, Subtitles: toPairs(b.Subtitles),
								URL: b.URL, HelpURL: b.HelpURL, Quiz: b.Quiz,
							}
						}),
					}
				}),
			}
		}),
		Messages: toLocaleDocs(c.Messages), Revision: c.Revision, Published: c.Published, Archived: c.Archived,
		CreatedBy: c.CreatedBy, Created: msUTC(c.Created), Updated: msUTC(c.Updated),
	}
}

func (d courseDoc) toDomain() courses.Course {
	return courses.Course{
		ID: d.ID, OrgID: d.OrgID, Slug: d.Slug, Shared: d.Shared, Topic: courses.Topic(d.Topic),
		Audiences: convertBack(d.Audiences, func(a string) courses.Audience { return courses.Audience(a) }),
		Level:     courses.Level(d.Level), DefaultLocale: d.DefaultLocale, Locales: []string(d.Locales),
		Title: d.Title, Summary: d.Summary,
		Modules: convertBack(d.Modules, func(m moduleDoc) courses.Module {
			return courses.Module{
				ID: m.ID, Title: m.Title, Summary: m.Summary, Requires: []string(m.Requires),
				Lessons: convertBack(m.Lessons, func(l lessonDoc) courses.Lesson {
					return courses.Lesson{
						ID: l.ID, Title: l.Title, Minutes: l.Minutes,
						Blocks: convertBack(l.Blocks, func(b blockDoc) courses.Block {
							return courses.Block{
								ID: b.ID, Kind: courses.BlockKind(b.Kind), Text: b.Text, Media: b.Media,
								MediaBy: fromPairs(b.MediaBy), Alt: b.Alt, Transcript: b.Transcript,
								Subtitles: fromPairs(b.Subtitles), URL: b.URL, HelpURL: b.HelpURL, Quiz: b.Quiz,
							}
						}),
					}
				}),
			}
		}),
		Messages: fromLocaleDocs(d.Messages), Revision: d.Revision, Published: d.Published, Archived: d.Archived,
		CreatedBy: d.CreatedBy, Created: d.Created.UTC(), Updated: d.Updated.UTC(),
	}
}

// mediaInfoDoc is what a version records of one media file, stored as an
// array element keyed by asset ID (like every map of this store).
type mediaInfoDoc struct {
	AssetID string `json:"asset_id"`
	Type    string `json:"type,omitempty"`
	Size    int64  `json:"size"`
	Name    string `json:"name,omitempty"`
	Locale  string `json:"locale,omitempty"`
}

func toMediaInfoDocs(m map[string]courses.MediaInfo) list[mediaInfoDoc] {
	if m == nil {
		return nil
	}
	out := make(list[mediaInfoDoc], 0, len(m))
	for id, mi := range m {
		out = append(out, mediaInfoDoc{AssetID: id, Type: mi.Type, Size: mi.Size, Name: mi.Name, Locale: mi.Locale})
	}
	slices.SortFunc(out, func(a, b mediaInfoDoc) int { return cmp.Compare(a.AssetID, b.AssetID) })
	return out
}

func fromMediaInfoDocs(l list[mediaInfoDoc]) map[string]courses.MediaInfo {
	if l == nil {
		return nil
	}
	m := make(map[string]courses.MediaInfo, len(l))
	for _, d := range l {
		m[d.AssetID] = courses.MediaInfo{Type: d.Type, Size: d.Size, Name: d.Name, Locale: d.Locale}
	}
	return m
}

// courseVersionDoc is a published version, immutable once inserted; the course
// is embedded whole.
type courseVersionDoc struct {
	CourseID    string             `json:"course_id"`
	Number      int                `json:"number"`
	Course      courseDoc          `json:"course"`
	Revision    int                `json:"revision"`
	Media       list[mediaInfoDoc] `json:"media,omitzero"`
	PublishedBy string             `json:"published_by,omitempty"`
	Published   time.Time          `json:"published_at"`
}

func toCourseVersionDoc(v courses.Version) courseVersionDoc {
	return courseVersionDoc{
		CourseID: v.CourseID, Number: v.Number,
		Course: toCourseDoc(v.Course), Revision: v.Revision, Media: toMediaInfoDocs(v.Media),
		PublishedBy: v.PublishedBy, Published: msUTC(v.Published),
	}
}

func (d courseVersionDoc) toDomain() courses.Version {
	return courses.Version{
		CourseID: d.CourseID, Number: d.Number, Course: d.Course.toDomain(), Revision: d.Revision,
		Media: fromMediaInfoDocs(d.Media), PublishedBy: d.PublishedBy, Published: d.Published.UTC(),
	}
}

// entryDoc is a course's catalogue entry. CourseRev is the revision of
// the course document it was made from: an entry is only ever replaced by
// one made from a later revision, so of two updates of a course on two
// instances the later course wins the entry too, whatever order their
// entry writes arrive in. ListedAt (the course's creation, Unix ms) orders
// the catalogue as courses were created.
type entryDoc struct {
	CourseRev int64        `json:"course_rev"`
	ListedAt  int64        `json:"listed_at"`
	OrgID     string       `json:"org_id,omitempty"`
	Slug      string       `json:"slug"`
	Published int          `json:"published"`
	Shared    bool         `json:"shared,omitempty"`
	Topic     string       `json:"topic,omitempty"`
	Audiences list[string] `json:"audiences,omitzero"`
	Level     string       `json:"level,omitempty"`
	Locales   list[string] `json:"locales,omitzero"`
	Archived  bool         `json:"archived,omitempty"`
	Updated   time.Time    `json:"updated_at"`
}

// entryOf is the catalogue entry of a course at revision rev. Shared,
// Topic, Audiences, Level and Locales are copied from the course; the
// service keeps those fields current.
func entryOf(c courses.Course, rev docdb.Rev) entryDoc {
	return entryDoc{
		CourseRev: int64(rev), ListedAt: unixMS(c.Created),
		OrgID: c.OrgID, Slug: c.Slug, Published: c.Published, Shared: c.Shared, Topic: string(c.Topic),
		Audiences: convert(c.Audiences, func(a courses.Audience) string { return string(a) }),
		Level:     string(c.Level), Locales: convert(c.Locales, same[string]), Archived: c.Archived,
		Updated: msUTC(c.Updated),
	}
}

func (d entryDoc) toDomain(courseID string) courses.Entry {
	return courses.Entry{
		CourseID: courseID, OrgID: d.OrgID, Slug: d.Slug, Published: d.Published, Shared: d.Shared,
		Topic:     courses.Topic(d.Topic),
		Audiences: convertBack(d.Audiences, func(a string) courses.Audience { return courses.Audience(a) }),
		Level:     courses.Level(d.Level), Locales: []string(d.Locales), Archived: d.Archived, Updated: d.Updated.UTC(),
	}
}

// metaDoc counts the catalogue's entries (Count, which bounds it at
// courses.MaxCatalogue exactly: the count and the check are one
// compare-and-swap) and numbers its states (Generation, one more after
// every change of an entry).
type metaDoc struct {
	Count      int   `json:"count"`
	Generation int64 `json:"generation"`
}

// slugKey is the id of a slug claim; the installation's own courses have
// an empty organisation, hence "/slug".
func slugKey(orgID, slug string) string { return orgID + "/" + slug }

// slugs are the claims on course slugs (see claims).
func (s *CoursesStore) slugs() claims { return claims{e: s.e, name: colCourseSlugs} }

// slugOwned is the owner check of slug claims: the course exists and has
// that slug. A claim made by a course that moved to another slug (or
// crashed before it stored the move) is not owned either.
func (s *CoursesStore) slugOwned(ctx context.Context, cl claim) (bool, error) {
	c, _, err := s.course(ctx, cl.Owner)
	if errors.Is(err, pathways.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slugKey(c.OrgID, c.Slug) == cl.Key, nil
}

// course reads a course and its revision.
func (s *CoursesStore) course(ctx context.Context, id string) (courses.Course, docdb.Rev, error) {
	var d courseDoc
	rev, err := s.e.Get(ctx, colCourses, id, &d)
	if err != nil {
		return courses.Course{}, 0, fmt.Errorf("read course %s: %w", id, err)
	}
	d.ID = id
	return d.toDomain(), rev, nil
}

// Course reads one course by id.
func (s *CoursesStore) Course(ctx context.Context, id string) (courses.Course, error) {
	c, _, err := s.course(ctx, id)
	return c, err
}

// claimSlug claims key for courseID at time at (the caller's now). It
// reports whether this call made the claim: a claim that already names
// courseID (left by an interrupted earlier call, or the course's own) is
// accepted but not new, so the caller must not release it on failure. A
// claim left by a create that crashed is taken over once it is older than
// pathways.ClaimGrace; a live one is ErrSlugTaken.
func (s *CoursesStore) claimSlug(ctx context.Context, key, courseID string, at time.Time) (bool, error) {
	made, err := s.slugs().take(ctx, key, courseID, at, s.slugOwned)
	if errors.Is(err, pathways.ErrConflict) {
		return false, fmt.Errorf("%w: %w", courses.ErrSlugTaken, err)
	}
	return made, err
}

// releaseSlug deletes the claim key if it names courseID (a
// compare-and-swap: a claim taken over meanwhile stays).
func (s *CoursesStore) releaseSlug(ctx context.Context, key, courseID string) error {
	if err := s.slugs().release(ctx, key, courseID); err != nil {
		return fmt.Errorf("release slug: %w", err)
	}
	return nil
}

// errCatalogueUnchanged aborts an entry write that would change nothing.
var errCatalogueUnchanged = errors.New("entry unchanged")

// bump counts delta more entries in the catalogue (refusing to go above
// courses.MaxCatalogue when delta is positive) and moves the generation
// on: a compare-and-swap, so concurrent writers on any instance all count.
// It comes after the entry write it reports, so a catalogue built from the
// generation it reads holds every change made before that generation.
func (s *CoursesStore) bump(ctx context.Context, delta int) error {
	_, _, err := docdb.Update(ctx, s.e, colCourseMeta, catalogueMetaID,
		func() (metaDoc, error) { return metaDoc{}, nil },
		func(m *metaDoc) error {
			if delta > 0 && m.Count+delta > courses.MaxCatalogue {
				return courses.ErrCatalogueFull
			}
			m.Count = max(m.Count+delta, 0)
			m.Generation++
			return nil
		})
	if err != nil {
		return fmt.Errorf("count catalogue: %w", err)
	}
	return nil
}

// meta reads the catalogue's counter; before the first course it is zero.
func (s *CoursesStore) meta(ctx context.Context) (metaDoc, error) {
	var m metaDoc
	_, err := s.e.Get(ctx, colCourseMeta, catalogueMetaID, &m)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return metaDoc{}, fmt.Errorf("read catalogue counter: %w", err)
	}
	return m, nil
}

// CatalogueGeneration returns the catalogue's generation: one small read
// by id, that changes after every change of any entry made on any
// instance.
func (s *CoursesStore) CatalogueGeneration(ctx context.Context) (int64, error) {
	m, err := s.meta(ctx)
	return m.Generation, err
}

// InsertCourse claims the course's slug, inserts the course, then its
// entry, then counts it (refusing a full catalogue), undoing the earlier
// steps if a later one fails. A crash between the steps leaves: a claim
// without a course (taken over after the grace, removed by SweepSlugs); a
// course without an entry (its claim is still pending, so SweepSlugs
// lists it, as does its next update); an entry not yet counted (the
// recount of SweepSlugs counts it and moves the generation on).
func (s *CoursesStore) InsertCourse(ctx context.Context, c courses.Course) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("insert course %s: %w", c.ID, err)
		}
	}()
	if m, err := s.meta(ctx); err != nil {
		return err
	} else if m.Count >= courses.MaxCatalogue {
		return courses.ErrCatalogueFull // early: the count decides below
	}
	key := slugKey(c.OrgID, c.Slug)
	claimed, err := s.claimSlug(ctx, key, c.ID, c.Created)
	if err != nil {
		return err
	}
	// Undo with a context that outlives a cancelled request.
	undo := context.WithoutCancel(ctx)
	release := func() {
		if claimed {
			_ = s.releaseSlug(undo, key, c.ID)
		}
	}
	d := toCourseDoc(c)
	d.ID = ""
	if err := s.e.Insert(ctx, colCourses, c.ID, d); err != nil {
		release()
		return err
	}
	created, err := s.writeEntry(ctx, c.ID, entryOf(c, 1), true)
	if err != nil {
		_ = s.e.Delete(undo, colCourses, c.ID, 1)
		release()
		return err
	}
	delta := 0
	if created {
		delta = 1
	}
	if err := s.bump(ctx, delta); err != nil {
		_ = s.e.Delete(undo, colCourseEntries, c.ID, docdb.AnyRev)
		_ = s.e.Delete(undo, colCourses, c.ID, 1)
		release()
		_ = s.bump(undo, 0) // the entry may have been seen meanwhile
		return err
	}
	return nil
}

// UpdateCourse applies change to a fresh read of the course and writes
// it by compare-and-swap, reading and applying change again if another
// write came between, so change must decide from the course alone. A
// changed slug is claimed (as of the changed course's Updated) before the
// course is written; then the entry is written and counted, and the old
// slug released. A crash between them leaves: a claim for a slug the
// course does not have (not owned: taken over after the grace, swept); a
// course whose entry is behind (its next update or a retry of this one
// writes it; with a new slug, the sweep of its pending claim too); an old
// claim not released (not owned: swept).
func (s *CoursesStore) UpdateCourse(ctx context.Context, id string, change func(*courses.Course) error) (courses.Course, error) {
	var made []string // claims made here, released unless the course ends with them
	defer func() {
		for _, k := range made {
			_ = s.releaseSlug(context.WithoutCancel(ctx), k, id)
		}
	}()
	for try := 0; ; try++ {
		if try == docdb.MaxTries {
			return courses.Course{}, fmt.Errorf("update course %s: %d tries: %w", id, try, docdb.ErrStale)
		}
		cur, rev, err := s.course(ctx, id)
		if err != nil {
			return courses.Course{}, fmt.Errorf("update course %s: %w", id, err)
		}
		before, c := toCourseDoc(cur), cur // toCourseDoc copies: change cannot reach before
		if err := change(&c); err != nil {
			return courses.Course{}, err
		}
		c.ID = id // change may not move the document
		d := toCourseDoc(c)
		oldKey, newKey := slugKey(cur.OrgID, cur.Slug), slugKey(c.OrgID, c.Slug)
		if newKey != oldKey && !slices.Contains(made, newKey) {
			ok, err := s.claimSlug(ctx, newKey, id, c.Updated)
			if err != nil {
				return courses.Course{}, fmt.Errorf("update course %s: %w", id, err)
			}
			if ok {
				made = append(made, newKey)
			}
		}
		if !reflect.DeepEqual(d, before) {
			d.ID = ""
			rev, err = s.e.Replace(ctx, colCourses, id, rev, d)
			if errors.Is(err, docdb.ErrStale) {
				continue
			}
			if err != nil {
				return courses.Course{}, fmt.Errorf("update course %s: %w", id, err)
			}
			d.ID = id
		}
		made = slices.DeleteFunc(made, func(k string) bool { return k == newKey })
		c = d.toDomain() // as stored: times in UTC milliseconds
		// The course is stored; what follows only tidies up after it, and a
		// failure is reported with the course left as written.
		errList := s.list(ctx, c, rev)
		var errRelease error
		if newKey != oldKey {
			errRelease = s.releaseSlug(ctx, oldKey, id)
		}
		if err := errors.Join(errList, errRelease); err != nil {
			return courses.Course{}, fmt.Errorf("update course %s: stored, but: %w", id, err)
		}
		return c, nil
	}
}

// list writes the entry of course c at revision rev unless the stored one
// is the same or from a later revision, then counts it (one more if it was
// missing) and moves the generation on. An entry missing while the course
// is gone (a delete came between) is not written. An existing course
// listed again over the bound (its entry lost to a crash) stays listed,
// and is counted by the next recount.
func (s *CoursesStore) list(ctx context.Context, c courses.Course, rev docdb.Rev) error {
	created, err := s.writeEntry(ctx, c.ID, entryOf(c, rev), false)
	switch {
	case errors.Is(err, errCatalogueUnchanged), errors.Is(err, pathways.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	delta := 0
	if created {
		delta = 1
	}
	if err := s.bump(ctx, delta); errors.Is(err, courses.ErrCatalogueFull) {
		return s.bump(ctx, 0)
	} else if err != nil {
		return err
	}
	return nil
}

// writeEntry writes entry want of course id by compare-and-swap and
// reports whether it was missing. Unless force (a create, whose course was
// just inserted: any entry there is an orphan of a deleted course) it
// keeps an entry made from a later revision of the course
// (errCatalogueUnchanged, as for an entry already equal to want), and
// writes no missing entry for a course that is gone (ErrNotFound).
func (s *CoursesStore) writeEntry(ctx context.Context, id string, want entryDoc, force bool) (created bool, err error) {
	_, _, err = docdb.Update(ctx, s.e, colCourseEntries, id,
		func() (entryDoc, error) {
			if !force {
				if _, _, err := s.course(ctx, id); err != nil {
					return entryDoc{}, err
				}
			}
			return entryDoc{CourseRev: -1}, nil // -1: missing, see below
		},
		func(e *entryDoc) error {
			created = e.CourseRev == -1
			if !force && (e.CourseRev > want.CourseRev || reflect.DeepEqual(*e, want)) {
				return errCatalogueUnchanged
			}
			*e = want
			return nil
		})
	if err != nil && !errors.Is(err, errCatalogueUnchanged) && !errors.Is(err, pathways.ErrNotFound) {
		err = fmt.Errorf("list course %s: %w", id, err)
	}
	return created, err
}

// DeleteCourse removes a course that was never published: the course (a
// compare-and-swap on the revision it checked, so a publish or edit that
// came between makes it look again), then its entry, its count and its
// slug. A crash between them leaves an entry of a course that is gone
// (SweepSlugs' recount removes it) and a claim without a course (swept).
func (s *CoursesStore) DeleteCourse(ctx context.Context, id string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("delete course %s: %w", id, err)
		}
	}()
	for try := 0; ; try++ {
		if try == docdb.MaxTries {
			return fmt.Errorf("%d tries: %w", try, docdb.ErrStale)
		}
		c, rev, err := s.course(ctx, id)
		if err != nil {
			return err
		}
		if c.Published > 0 {
			return fmt.Errorf("%w: version %d is published", pathways.ErrConflict, c.Published)
		}
		// A version stored but not yet recorded in the course (a publish in
		// progress) also forbids it.
		var v courseVersionDoc
		_, err = s.e.Get(ctx, colCourseVersions, courses.VersionID(id, 1), &v)
		switch {
		case err == nil:
			return fmt.Errorf("%w: version 1 is published", pathways.ErrConflict)
		case !errors.Is(err, pathways.ErrNotFound):
			return fmt.Errorf("read version 1: %w", err)
		}
		err = s.e.Delete(ctx, colCourses, id, rev)
		if errors.Is(err, docdb.ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.unlist(ctx, id); err != nil {
			return err
		}
		return s.releaseSlug(ctx, slugKey(c.OrgID, c.Slug), id)
	}
}

// unlist removes a course's entry, if it has one, and counts it out.
func (s *CoursesStore) unlist(ctx context.Context, id string) error {
	err := s.e.Delete(ctx, colCourseEntries, id, docdb.AnyRev)
	if errors.Is(err, pathways.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unlist course %s: %w", id, err)
	}
	return s.bump(ctx, -1)
}

// Catalogue returns every course's entry, in the order the courses were
// created: a walk of the entries' ids, page by page, bounded by
// courses.MaxCatalogue and a page more (what only crashed creates leave
// over the bound). The service calls it only when CatalogueGeneration
// moved on.
func (s *CoursesStore) Catalogue(ctx context.Context) ([]courses.Entry, error) {
	type listed struct {
		at int64
		e  courses.Entry
	}
	all := []listed{}
	q := docdb.Query{Limit: docdb.MaxLimit}
	for len(all) < courses.MaxCatalogue+docdb.MaxLimit {
		n := 0
		err := s.e.List(ctx, colCourseEntries, q, func(d docdb.Doc) error {
			var ed entryDoc
			if err := d.Decode(&ed); err != nil {
				return fmt.Errorf("entry %s: %w", d.ID, err)
			}
			all = append(all, listed{at: ed.ListedAt, e: ed.toDomain(d.ID)})
			n++
			q.AfterID = d.ID
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list catalogue: %w", err)
		}
		if n < q.Limit {
			break
		}
	}
	slices.SortStableFunc(all, func(a, b listed) int { return cmp.Compare(a.at, b.at) })
	out := make([]courses.Entry, len(all))
	for i, l := range all {
		out[i] = l.e
	}
	return out, nil
}

// SweepSlugs removes slug claims made before before whose course does not
// exist or has another slug, and returns how many; a claim whose course
// exists is settled, and the course listed if a crashed create left it
// without an entry. It then recounts the catalogue (see recount). It
// scans: background jobs only.
func (s *CoursesStore) SweepSlugs(ctx context.Context, before time.Time) (int, error) {
	n, err := s.slugs().sweep(ctx, before, func(ctx context.Context, cl claim) (bool, error) {
		c, rev, err := s.course(ctx, cl.Owner)
		if errors.Is(err, pathways.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if slugKey(c.OrgID, c.Slug) != cl.Key {
			return false, nil
		}
		return true, s.list(ctx, c, rev)
	})
	if err != nil {
		return n, err
	}
	return n, s.recount(ctx)
}

// recount walks the entries, removes those whose course is gone (left by
// a delete that crashed, or an update that raced a delete), sets the count
// to what is left and moves the generation on, so a crash between an
// entry write and its count is repaired and seen by every instance. An
// entry written meanwhile whose count follows may be counted twice until
// the next recount: the bound errs on the safe side.
func (s *CoursesStore) recount(ctx context.Context) error {
	var ids []string
	err := docdb.Each(ctx, s.e, colCourseEntries, docdb.Query{}, func(d docdb.Doc) error {
		ids = append(ids, d.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("recount catalogue: %w", err)
	}
	live := 0
	for _, id := range ids {
		var exists struct{}
		_, err := s.e.Get(ctx, colCourses, id, &exists)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			if err := s.e.Delete(ctx, colCourseEntries, id, docdb.AnyRev); err != nil && !errors.Is(err, pathways.ErrNotFound) {
				return fmt.Errorf("recount catalogue: %w", err)
			}
		case err != nil:
			return fmt.Errorf("recount catalogue: %w", err)
		default:
			live++
		}
	}
	_, _, err = docdb.Update(ctx, s.e, colCourseMeta, catalogueMetaID,
		func() (metaDoc, error) { return metaDoc{}, nil },
		func(m *metaDoc) error { m.Count, m.Generation = live, m.Generation+1; return nil })
	if err != nil {
		return fmt.Errorf("recount catalogue: %w", err)
	}
	return nil
}

// InsertVersion stores a published version under courses.VersionID: a
// unique insert, so a number stored twice is ErrConflict and of two
// publishes of one number exactly one wins.
func (s *CoursesStore) InsertVersion(ctx context.Context, v courses.Version) error {
	id := courses.VersionID(v.CourseID, v.Number)
	if err := s.e.Insert(ctx, colCourseVersions, id, toCourseVersionDoc(v)); err != nil {
		return fmt.Errorf("insert version %s: %w", id, err)
	}
	return nil
}

// Version reads one published version by id.
func (s *CoursesStore) Version(ctx context.Context, courseID string, number int) (courses.Version, error) {
	id := courses.VersionID(courseID, number)
	var d courseVersionDoc
	if _, err := s.e.Get(ctx, colCourseVersions, id, &d); err != nil {
		return courses.Version{}, fmt.Errorf("read version %s: %w", id, err)
	}
	return d.toDomain(), nil
}
