package mongodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// CoursesStore implements courses.Store. Every request-path read and
// write filters on _id alone: courses by id, versions by
// courses.VersionID, slug claims by "<org>/<slug>", and the catalogue is
// one document. Updates hold the document's lock; locks nest only
// courses → course_catalogue and courses → course_slugs. Slug claims are
// inserted, and changed or deleted only by a compare-and-swap (see
// claims): a release, a takeover of a claim left by a crashed create, the
// sweep.
type CoursesStore struct {
	db    *mongo.Database
	locks *docLocks
	gen   atomic.Int64
}

var _ courses.Store = (*CoursesStore)(nil)

// Courses returns the course store of db.
func (db *DB) Courses() *CoursesStore { return &CoursesStore{db: db.db, locks: db.locks} }

func (s *CoursesStore) col(name string) *mongo.Collection { return s.db.Collection(name) }

// catalogueID is the _id of the one catalogue document.
const catalogueID = "catalogue"

// list is a slice stored without its field when nil and as an array
// (possibly empty) otherwise, so nil and empty survive a round trip apart
// and absent fields keep the documents small.
type list[T any] []T

// IsZero tells the driver's omitempty to leave out nil lists only.
func (l list[T]) IsZero() bool { return l == nil }

// convert maps in through f, keeping nil nil.
func convert[T, U any](in []T, f func(T) U) list[U] {
	if in == nil {
		return nil
	}
	out := make(list[U], len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// convertBack maps a stored list back through f, keeping nil nil.
func convertBack[T, U any](in list[T], f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// msUTC is t as the database keeps it: UTC, whole milliseconds.
func msUTC(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// pairDoc is one entry of a locale-keyed map, stored as an array element
// so no key ever becomes a field name.
type pairDoc struct {
	Key   string `bson:"k"`
	Value string `bson:"v"`
}

func toPairs(m map[string]string) list[pairDoc] {
	if m == nil {
		return nil
	}
	out := make(list[pairDoc], 0, len(m))
	for k, v := range m {
		out = append(out, pairDoc{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b pairDoc) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

func fromPairs(l list[pairDoc]) map[string]string {
	if l == nil {
		return nil
	}
	m := make(map[string]string, len(l))
	for _, p := range l {
		m[p.Key] = p.Value
	}
	return m
}

type blockDoc struct {
	ID         string        `bson:"id"`
	Kind       string        `bson:"kind"`
	Text       string        `bson:"text,omitempty"`
	Media      string        `bson:"media,omitempty"`
	MediaBy    list[pairDoc] `bson:"media_by,omitempty"`
	Alt        string        `bson:"alt,omitempty"`
	Transcript string        `bson:"transcript,omitempty"`
	Subtitles  list[pairDoc] `bson:"subtitles,omitempty"`
	URL        string        `bson:"url,omitempty"`
	HelpURL    string        `bson:"help_url,omitempty"`
	Quiz       string        `bson:"quiz,omitempty"`
}

type lessonDoc struct {
	ID      string         `bson:"id"`
	Title   string         `bson:"title"`
	Minutes int            `bson:"minutes"`
	Blocks  list[blockDoc] `bson:"blocks,omitempty"`
}

type moduleDoc struct {
	ID       string          `bson:"id"`
	Title    string          `bson:"title"`
	Summary  string          `bson:"summary,omitempty"`
	Requires list[string]    `bson:"requires,omitempty"`
	Lessons  list[lessonDoc] `bson:"lessons,omitempty"`
}

// messageDoc is one text; message IDs contain dots, so they are values,
// never field names.
type messageDoc struct {
	ID          string `bson:"id"`
	Description string `bson:"description,omitempty"`
	Hash        string `bson:"hash,omitempty"`
	Zero        string `bson:"zero,omitempty"`
	One         string `bson:"one,omitempty"`
	Two         string `bson:"two,omitempty"`
	Few         string `bson:"few,omitempty"`
	Many        string `bson:"many,omitempty"`
	Other       string `bson:"other,omitempty"`
}

// localeDoc holds the messages of one locale, sorted by ID.
type localeDoc struct {
	Locale   string           `bson:"locale"`
	Messages list[messageDoc] `bson:"messages,omitempty"`
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

// courseDoc is a whole course, draft texts included: one document.
type courseDoc struct {
	ID            string          `bson:"_id"`
	OrgID         string          `bson:"org_id,omitempty"`
	Slug          string          `bson:"slug"`
	Shared        bool            `bson:"shared,omitempty"`
	Topic         string          `bson:"topic,omitempty"`
	Audiences     list[string]    `bson:"audiences,omitempty"`
	Level         string          `bson:"level,omitempty"`
	DefaultLocale string          `bson:"default_locale"`
	Locales       list[string]    `bson:"locales,omitempty"`
	Title         string          `bson:"title"`
	Summary       string          `bson:"summary,omitempty"`
	Modules       list[moduleDoc] `bson:"modules,omitempty"`
	Messages      list[localeDoc] `bson:"messages,omitempty"`
	Revision      int             `bson:"revision"`
	Published     int             `bson:"published"`
	Archived      bool            `bson:"archived,omitempty"`
	CreatedBy     string          `bson:"created_by,omitempty"`
	Created       time.Time       `bson:"created_at"`
	Updated       time.Time       `bson:"updated_at"`
}

func toCourseDoc(c courses.Course) courseDoc {
	return courseDoc{
		ID: c.ID, OrgID: c.OrgID, Slug: c.Slug, Shared: c.Shared, Topic: string(c.Topic),
		Audiences: convert(c.Audiences, func(a courses.Audience) string { return string(a) }),
		Level:     string(c.Level), DefaultLocale: c.DefaultLocale, Locales: list[string](c.Locales),
		Title: c.Title, Summary: c.Summary,
		Modules: convert(c.Modules, func(m courses.Module) moduleDoc {
			return moduleDoc{
				ID: m.ID, Title: m.Title, Summary: m.Summary, Requires: list[string](m.Requires),
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
	AssetID string `bson:"asset_id"`
	Type    string `bson:"type,omitempty"`
	Size    int64  `bson:"size"`
	Name    string `bson:"name,omitempty"`
	Locale  string `bson:"locale,omitempty"`
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

// versionDoc is a published version; the course is embedded whole (its
// "_id" is then an ordinary field of the subdocument).
type versionDoc struct {
	ID          string             `bson:"_id"` // courses.VersionID(CourseID, Number)
	CourseID    string             `bson:"course_id"`
	Number      int                `bson:"number"`
	Course      courseDoc          `bson:"course"`
	Revision    int                `bson:"revision"`
	Media       list[mediaInfoDoc] `bson:"media,omitempty"`
	PublishedBy string             `bson:"published_by,omitempty"`
	Published   time.Time          `bson:"published_at"`
}

func toVersionDoc(v courses.Version) versionDoc {
	return versionDoc{
		ID: courses.VersionID(v.CourseID, v.Number), CourseID: v.CourseID, Number: v.Number,
		Course: toCourseDoc(v.Course), Revision: v.Revision, Media: toMediaInfoDocs(v.Media),
		PublishedBy: v.PublishedBy, Published: msUTC(v.Published),
	}
}

func (d versionDoc) toDomain() courses.Version {
	return courses.Version{
		CourseID: d.CourseID, Number: d.Number, Course: d.Course.toDomain(), Revision: d.Revision,
		Media: fromMediaInfoDocs(d.Media), PublishedBy: d.PublishedBy, Published: d.Published.UTC(),
	}
}

// slugs are the claims on course slugs: documents whose _id is
// slugKey(org, slug), so the unique _id makes a claim atomic, naming the
// course in course_id (see claims).
func (s *CoursesStore) slugs() claims {
	return claims{db: s.db, locks: s.locks, name: colCourseSlugs, ownerField: "course_id"}
}

// slugOwned is the owner check of slug claims: the course exists and has
// that slug. A claim made by a course that moved to another slug and
// crashed before releasing the old one is not owned either.
func (s *CoursesStore) slugOwned(ctx context.Context, c claim) (bool, error) {
	course, err := s.Course(ctx, c.Owner)
	if errors.Is(err, pathways.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slugKey(course.OrgID, course.Slug) == c.Key, nil
}

// slugKey is the _id of a slug claim; the installation's own courses have
// an empty organisation, hence "/slug".
func slugKey(orgID, slug string) string { return orgID + "/" + slug }

// entryDoc is a course's line in the catalogue document.
type entryDoc struct {
	CourseID  string       `bson:"course_id"`
	OrgID     string       `bson:"org_id,omitempty"`
	Slug      string       `bson:"slug"`
	Published int          `bson:"published"`
	Shared    bool         `bson:"shared,omitempty"`
	Topic     string       `bson:"topic,omitempty"`
	Audiences list[string] `bson:"audiences,omitempty"`
	Level     string       `bson:"level,omitempty"`
	Locales   list[string] `bson:"locales,omitempty"`
	Archived  bool         `bson:"archived,omitempty"`
	Updated   time.Time    `bson:"updated_at"`
}

func toEntryDoc(e courses.Entry) entryDoc {
	return entryDoc{
		CourseID: e.CourseID, OrgID: e.OrgID, Slug: e.Slug, Published: e.Published, Shared: e.Shared,
		Topic:     string(e.Topic),
		Audiences: convert(e.Audiences, func(a courses.Audience) string { return string(a) }),
		Level:     string(e.Level), Locales: list[string](e.Locales), Archived: e.Archived, Updated: msUTC(e.Updated),
	}
}

func (d entryDoc) toDomain() courses.Entry {
	return courses.Entry{
		CourseID: d.CourseID, OrgID: d.OrgID, Slug: d.Slug, Published: d.Published, Shared: d.Shared,
		Topic:     courses.Topic(d.Topic),
		Audiences: convertBack(d.Audiences, func(a string) courses.Audience { return courses.Audience(a) }),
		Level:     courses.Level(d.Level), Locales: []string(d.Locales), Archived: d.Archived, Updated: d.Updated.UTC(),
	}
}

// catalogueDoc lists every course: "lists are documents", so a listing is
// one _id read. At courses.MaxCatalogue entries of a few hundred bytes it
// stays near 1–2 MB.
type catalogueDoc struct {
	ID      string         `bson:"_id"`
	Entries list[entryDoc] `bson:"entries"`
}

// entryOf is the catalogue entry of a course. Shared, Topic, Audiences,
// Level and Locales are copied from the course; the service keeps those
// fields current.
func entryOf(c courses.Course) courses.Entry {
	return courses.Entry{
		CourseID: c.ID, OrgID: c.OrgID, Slug: c.Slug, Published: c.Published,
		Shared: c.Shared, Topic: c.Topic, Audiences: slices.Clone(c.Audiences), Level: c.Level,
		Locales: slices.Clone(c.Locales), Archived: c.Archived, Updated: c.Updated,
	}
}

// Course reads one course by id.
func (s *CoursesStore) Course(ctx context.Context, id string) (courses.Course, error) {
	var d courseDoc
	if err := s.col(colCourses).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return courses.Course{}, fmt.Errorf("find course %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// InsertCourse claims the course's slug, inserts the course and lists it in
// the catalogue, undoing the earlier steps if a later one fails (there are
// no multi-document transactions on the embedded database).
func (s *CoursesStore) InsertCourse(ctx context.Context, c courses.Course) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("insert course %s: %w", c.ID, err)
		}
	}()
	// Held throughout, so an update or delete of the same id waits until
	// the course is listed.
	defer s.locks.lock(colCourses, c.ID)()
	key := slugKey(c.OrgID, c.Slug)
	claimed, err := s.claimSlug(ctx, key, c.ID, c.Created)
	if err != nil {
		return err
	}
	// Undo with a context that outlives a cancelled request.
	undo := context.WithoutCancel(ctx)
	if _, err := s.col(colCourses).InsertOne(ctx, toCourseDoc(c)); err != nil {
		if claimed {
			_ = s.releaseSlug(undo, key, c.ID)
		}
		return translate(err)
	}
	if err := s.listEntry(ctx, entryOf(c), true); err != nil { // courses → course_catalogue
		_, _ = s.col(colCourses).DeleteOne(undo, byID(c.ID))
		if claimed {
			_ = s.releaseSlug(undo, key, c.ID)
		}
		return err
	}
	return nil
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

// SweepSlugs removes slug claims made before before whose course does not
// exist or has another slug, and returns how many. It scans: background
// jobs only.
func (s *CoursesStore) SweepSlugs(ctx context.Context, before time.Time) (int, error) {
	return s.slugs().sweep(ctx, before, s.slugOwned)
}

// UpdateCourse applies change to a fresh read of the course under its
// lock, claims a changed slug, writes the course, rewrites its catalogue
// entry and releases the old slug.
func (s *CoursesStore) UpdateCourse(ctx context.Context, id string, change func(*courses.Course) error) (courses.Course, error) {
	defer s.locks.lock(colCourses, id)()
	c, err := s.Course(ctx, id)
	if err != nil {
		return courses.Course{}, err
	}
	oldKey := slugKey(c.OrgID, c.Slug)
	if err := change(&c); err != nil {
		return courses.Course{}, err
	}
	c.ID = id // change may not move the document
	d := toCourseDoc(c)
	newKey := slugKey(c.OrgID, c.Slug)
	claimed := false
	if newKey != oldKey {
		if claimed, err = s.claimSlug(ctx, newKey, id, c.Updated); err != nil {
			return courses.Course{}, fmt.Errorf("update course %s: %w", id, err)
		}
	}
	res, err := s.col(colCourses).ReplaceOne(ctx, byID(id), d)
	if err == nil && res.MatchedCount == 0 {
		err = pathways.ErrNotFound
	}
	if err != nil {
		if claimed {
			_ = s.releaseSlug(context.WithoutCancel(ctx), newKey, id)
		}
		return courses.Course{}, fmt.Errorf("update course %s: %w", id, translate(err))
	}
	c = d.toDomain() // as stored: times in UTC milliseconds
	// The course is stored; what follows only tidies up after it, and a
	// failure is reported with the course left as written.
	errList := s.listEntry(ctx, entryOf(c), false) // courses → course_catalogue
	var errRelease error
	if newKey != oldKey {
		errRelease = s.releaseSlug(ctx, oldKey, id)
	}
	if err := errors.Join(errList, errRelease); err != nil {
		return courses.Course{}, fmt.Errorf("update course %s: stored, but: %w", id, err)
	}
	return c, nil
}

// DeleteCourse removes a course that was never published: its catalogue
// entry, the course, then its slug. Unlisting first means a failure leaves
// a course without an entry, which its next update lists again, never an
// entry of a deleted course.
func (s *CoursesStore) DeleteCourse(ctx context.Context, id string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("delete course %s: %w", id, err)
		}
	}()
	defer s.locks.lock(colCourses, id)()
	c, err := s.Course(ctx, id)
	if err != nil {
		return err
	}
	if c.Published > 0 {
		return fmt.Errorf("%w: version %d is published", pathways.ErrConflict, c.Published)
	}
	// A version stored but not yet recorded in the course (a publish in
	// progress outside this lock) also forbids it.
	err = s.col(colCourseVersions).FindOne(ctx, byID(courses.VersionID(id, 1))).Err()
	switch {
	case err == nil:
		return fmt.Errorf("%w: version 1 is published", pathways.ErrConflict)
	case !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("find version 1: %w", translate(err))
	}
	if err := s.unlistEntry(ctx, id); err != nil { // courses → course_catalogue
		return err
	}
	res, err := s.col(colCourses).DeleteOne(ctx, byID(id))
	if err != nil {
		return translate(err)
	}
	if res.DeletedCount == 0 {
		return pathways.ErrNotFound
	}
	return s.releaseSlug(ctx, slugKey(c.OrgID, c.Slug), id)
}

// catalogue reads the catalogue document; before the first course it is
// empty. Callers that write it back hold its lock.
func (s *CoursesStore) catalogue(ctx context.Context) (catalogueDoc, error) {
	var d catalogueDoc
	err := s.col(colCourseCatalogue).FindOne(ctx, byID(catalogueID)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return catalogueDoc{ID: catalogueID, Entries: list[entryDoc]{}}, nil
	}
	if err != nil {
		return catalogueDoc{}, fmt.Errorf("find catalogue: %w", translate(err))
	}
	if d.Entries == nil {
		d.Entries = list[entryDoc]{}
	}
	return d, nil
}

// writeCatalogue replaces the catalogue document, creating it the first
// time; the caller holds its lock.
func (s *CoursesStore) writeCatalogue(ctx context.Context, d catalogueDoc) error {
	_, err := s.col(colCourseCatalogue).ReplaceOne(ctx, byID(catalogueID), d, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write catalogue: %w", translate(err))
	}
	return nil
}

// listEntry writes a course's catalogue entry in place, or appends it if
// it is missing; a new course (isNew) is refused with ErrCatalogueFull when
// the catalogue holds courses.MaxCatalogue entries. An existing course
// whose entry went missing is listed again whatever the count.
func (s *CoursesStore) listEntry(ctx context.Context, e courses.Entry, isNew bool) error {
	defer s.locks.lock(colCourseCatalogue, catalogueID)()
	d, err := s.catalogue(ctx)
	if err != nil {
		return err
	}
	ed := toEntryDoc(e)
	if i := slices.IndexFunc(d.Entries, func(x entryDoc) bool { return x.CourseID == e.CourseID }); i >= 0 {
		d.Entries[i] = ed
	} else {
		if isNew && len(d.Entries) >= courses.MaxCatalogue {
			return courses.ErrCatalogueFull
		}
		d.Entries = append(d.Entries, ed)
	}
	if err := s.writeCatalogue(ctx, d); err != nil {
		return fmt.Errorf("list course %s: %w", e.CourseID, err)
	}
	return nil
}

// unlistEntry removes a course's catalogue entry, if it has one.
func (s *CoursesStore) unlistEntry(ctx context.Context, courseID string) error {
	defer s.locks.lock(colCourseCatalogue, catalogueID)()
	d, err := s.catalogue(ctx)
	if err != nil {
		return err
	}
	n := len(d.Entries)
	d.Entries = slices.DeleteFunc(d.Entries, func(x entryDoc) bool { return x.CourseID == courseID })
	if len(d.Entries) == n {
		return nil
	}
	if err := s.writeCatalogue(ctx, d); err != nil {
		return fmt.Errorf("unlist course %s: %w", courseID, err)
	}
	return nil
}

// Catalogue returns every course's entry, in the order they were listed:
// one _id read.
func (s *CoursesStore) Catalogue(ctx context.Context) ([]courses.Entry, error) {
	d, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]courses.Entry, len(d.Entries))
	for i, e := range d.Entries {
		out[i] = e.toDomain()
	}
	return out, nil
}

// InsertVersion stores a published version; a version's _id is
// courses.VersionID, so a number stored twice is ErrConflict. It takes no
// course lock, so the service may call it inside UpdateCourse's change.
func (s *CoursesStore) InsertVersion(ctx context.Context, v courses.Version) error {
	d := toVersionDoc(v)
	if _, err := s.col(colCourseVersions).InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert version %s: %w", d.ID, translate(err))
	}
	return nil
}

// Version reads one published version.
func (s *CoursesStore) Version(ctx context.Context, courseID string, number int) (courses.Version, error) {
	id := courses.VersionID(courseID, number)
	var d versionDoc
	if err := s.col(colCourseVersions).FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return courses.Version{}, fmt.Errorf("find version %s: %w", id, translate(err))
	}
	return d.toDomain(), nil
}

// CatalogueGeneration is a new number at every call: this store keeps no
// generation, so the service builds the catalogue again for every request,
// as it did before it cached it.
func (s *CoursesStore) CatalogueGeneration(context.Context) (int64, error) {
	return s.gen.Add(1), nil
}
