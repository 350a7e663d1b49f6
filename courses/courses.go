// Package courses owns course content: courses, their modules, lessons and
// blocks, the texts of all of them in every language, drafts and their
// revisions, and the immutable numbered versions learners read.
//
// Every text of a course is a message with an ID (the structure holds only
// IDs); the texts live with the course as go-i18n messages, one set per
// locale. A translation remembers the hash of the source text it was made
// from, the way `goi18n merge` does, so a trainer sees which translations are
// missing and which are outdated.
//
// Progress and versions. Published versions never change, and the IDs of
// modules, lessons and blocks are kept from one version to the next (a
// duplicate gets new course ID but keeps them). A learner's progress is
// recorded against (course, version, lesson ID): a learner stays on the
// version they started until they finish or choose to move on; moving on
// carries over the progress of every lesson whose ID the new version still
// has, and progress in lessons the new version dropped is kept but no
// longer counted. So publishing can never take away what a learner did.
//
// The package knows neither HTTP nor the database; it declares the Store it
// needs.
package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// Topic is what a course is about.
type Topic string

// Topics a course may have.
const (
	TopicSoftSkills      Topic = "soft-skills"
	TopicMediaLiteracy   Topic = "media-literacy"
	TopicDigitalLiteracy Topic = "digital-literacy"
	TopicResilience      Topic = "resilience"
	TopicLanguage        Topic = "language"
	TopicWork            Topic = "work"
	TopicHealth          Topic = "health"
	TopicRights          Topic = "rights"
	TopicOther           Topic = "other"
)

// Topics lists every topic, in the order a catalogue shows them.
var Topics = []Topic{
	TopicSoftSkills, TopicMediaLiteracy, TopicDigitalLiteracy, TopicResilience,
	TopicLanguage, TopicWork, TopicHealth, TopicRights, TopicOther,
}

// Audience is who a course is written for.
type Audience string

// Audiences a course may have.
const (
	AudienceYoungRefugees Audience = "young-refugees"
	AudienceProfessionals Audience = "ngo-professionals"
)

// Audiences lists every audience.
var Audiences = []Audience{AudienceYoungRefugees, AudienceProfessionals}

// Level is how much a learner should know before starting.
type Level string

// Levels, from easiest.
const (
	LevelBeginner     Level = "beginner"
	LevelIntermediate Level = "intermediate"
	LevelAdvanced     Level = "advanced"
)

// Levels lists every level.
var Levels = []Level{LevelBeginner, LevelIntermediate, LevelAdvanced}

// BlockKind is what a block of a lesson shows.
type BlockKind string

// Block kinds.
const (
	// BlockText is Markdown (Text), rendered and sanitised on the server.
	BlockText BlockKind = "text"
	// BlockImage is a picture (Media) with alt text (Alt) and an
	// optional caption (Text).
	BlockImage BlockKind = "image"
	// BlockAudio is a recording (Media) with its transcript (Transcript).
	BlockAudio BlockKind = "audio"
	// BlockVideo is a film (Media) with subtitles per locale (Subtitles)
	// and a transcript (Transcript).
	BlockVideo BlockKind = "video"
	// BlockResource is a document to open or keep: an uploaded PDF
	// (Media) or a link (URL), titled Text.
	BlockResource BlockKind = "resource"
	// BlockReflection asks the learner a question (Text) they answer in
	// private free text.
	BlockReflection BlockKind = "reflection"
	// BlockQuiz refers to a quiz of the assessments package (Quiz).
	BlockQuiz BlockKind = "quiz"
	// BlockNote warns before sensitive material (Text) and links to local
	// help services (HelpURL, a message so each locale has its own).
	BlockNote BlockKind = "note"
)

// BlockKinds lists every block kind.
var BlockKinds = []BlockKind{
	BlockText, BlockImage, BlockAudio, BlockVideo, BlockResource, BlockReflection, BlockQuiz, BlockNote,
}

// Course is a course as its authors see it: the draft they edit, and what
// is known about its published versions. The draft's fields are the
// course's structure; its texts are in Messages.
type Course struct {
	ID     string
	OrgID  string // the organisation that owns it; empty for the installation's own (demo) courses
	Slug   string // unique in its organisation, URL-safe
	Shared bool   // visible to every organisation, not only OrgID

	Topic         Topic
	Audiences     []Audience
	Level         Level
	DefaultLocale string // the source language; every text exists in it
	// Locales are the languages the course is offered in, the default
	// included; a translation status is kept for each.
	Locales []string
	Title   string // message IDs
	Summary string
	Modules []Module

	// Messages holds every text, by locale and then by message ID.
	Messages i18n.Messages

	// Revision counts the draft's edits; an edit must name the revision
	// it was made on (optimistic concurrency).
	Revision int
	// Published is the number of the latest published version, 0 if none.
	Published int
	Archived  bool

	CreatedBy string
	Created   time.Time
	Updated   time.Time
}

// Module is a part of a course, a few lessons long.
type Module struct {
	ID       string // stable across versions, unique in the course
	Title    string
	Summary  string
	Requires []string // IDs of modules to finish first; never a cycle
	Lessons  []Lesson
}

// Lesson is what a learner reads in one sitting.
type Lesson struct {
	ID      string // stable across versions, unique in the course
	Title   string
	Minutes int // estimated time to go through it
	Blocks  []Block
}

// Block is one piece of a lesson. Which fields it uses depends on its Kind
// (see BlockKind); text fields hold message IDs, media fields asset IDs.
type Block struct {
	ID         string // stable across versions, unique in the lesson
	Kind       BlockKind
	Text       string
	Media      string            // asset ID, used when no locale-specific one fits
	MediaBy    map[string]string // locale → asset ID, e.g. narration per language
	Alt        string
	Transcript string
	Subtitles  map[string]string // locale → subtitle asset ID (video)
	URL        string            // message ID: a link, possibly different per locale
	HelpURL    string            // message ID: local help services, per locale
	Quiz       string            // quiz ID
}

// Version is a published, immutable version of a course.
type Version struct {
	CourseID string
	Number   int
	Course   Course // the draft as it was, messages included
	// Revision is the draft revision it was published from, so a retried
	// publish finds the version it already made.
	Revision int
	// Media describes every media file the version shows, as it was at
	// publishing, so rendering never asks the library.
	Media       map[string]MediaInfo
	PublishedBy string
	Published   time.Time
}

// VersionID is the key of a version, "<course>@<number>", also the
// reference its media uses are recorded under.
func VersionID(courseID string, number int) string {
	return fmt.Sprintf("%s@%d", courseID, number)
}

// Limits that keep a course a bounded document (the whole draft, texts of
// every locale included, is one document well under MongoDB's 16 MB; its
// texts are bounded by i18n's limits).
const (
	MaxModules   = 50
	MaxLessons   = 50 // per module
	MaxBlocks    = 100
	MaxLocales   = i18n.MaxLocales
	MaxCatalogue = 5000 // courses in the installation
	MaxMinutes   = 600
)

// Errors specific to courses; each wraps a pathways sentinel.
var (
	// ErrStale: the draft changed since the revision the edit was made on.
	ErrStale = fmt.Errorf("%w: the draft changed since you loaded it", pathways.ErrConflict)
	// ErrArchived: the course is archived and cannot be edited or published.
	ErrArchived = fmt.Errorf("%w: the course is archived", pathways.ErrConflict)
	// ErrSlugTaken: another course of the organisation has the slug.
	ErrSlugTaken = fmt.Errorf("%w: slug taken", pathways.ErrConflict)
	// ErrCatalogueFull: the installation holds MaxCatalogue courses.
	ErrCatalogueFull = fmt.Errorf("%w: too many courses", pathways.ErrConflict)
)

// Store keeps courses and their versions. Implementations serialise the
// updates of each document (see docs/DECISIONS.md).
type Store interface {
	// Course returns one course, or ErrNotFound.
	Course(ctx context.Context, id string) (Course, error)
	// InsertCourse stores a new course, reserving its slug in its
	// organisation and listing it in the catalogue. It returns
	// ErrConflict if the id is taken, ErrSlugTaken if the slug is, and
	// ErrCatalogueFull if the catalogue is full. A reservation whose
	// course does not exist (or has another slug), made more than
	// pathways.ClaimGrace before c.Created, is taken over: a create that
	// crashed left it.
	InsertCourse(ctx context.Context, c Course) error
	// UpdateCourse applies change to a fresh read of the course and
	// stores the result (and its catalogue entry); change's error aborts.
	// A changed slug is reserved first (ErrSlugTaken), as of the changed
	// course's Updated, and the old one released after.
	UpdateCourse(ctx context.Context, id string, change func(*Course) error) (Course, error)
	// DeleteCourse removes a course that was never published, its slug
	// and catalogue entry.
	DeleteCourse(ctx context.Context, id string) error
	// InsertVersion stores a published version. It returns ErrConflict
	// if that number exists.
	InsertVersion(ctx context.Context, v Version) error
	// Version returns one version, or ErrNotFound.
	Version(ctx context.Context, courseID string, number int) (Version, error)
	// Catalogue returns the entry of every course, in the order they
	// were created, at most MaxCatalogue (and a page more, what crashed
	// creates may leave). It reads every entry, so the service calls it
	// only when CatalogueGeneration moved on.
	Catalogue(ctx context.Context) ([]Entry, error)
	// CatalogueGeneration returns a number that is larger after any
	// change of any entry, made on any instance: one small read, so a
	// catalogue built after reading generation g is current as long as
	// the generation is still g.
	CatalogueGeneration(ctx context.Context) (int64, error)
	// SweepSlugs removes slug reservations made before before whose
	// course does not exist or has another slug, and returns how many;
	// it scans, so only background jobs call it.
	SweepSlugs(ctx context.Context, before time.Time) (int, error)
}

// Entry is a course's line in the catalogue: what a listing needs to filter
// and find the version to show, a small document of its own.
type Entry struct {
	CourseID  string
	OrgID     string
	Slug      string
	Published int // latest published version, 0 if none
	// Shared, Topic, Audiences, Level and Locales are the draft's, for
	// authors' listings; what learners see of a course (and whether they
	// may) comes from its latest published version.
	Shared    bool
	Topic     Topic
	Audiences []Audience
	Level     Level
	Locales   []string
	Archived  bool
	Updated   time.Time
}
