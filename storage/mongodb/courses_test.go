package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/mongodb/mongotest"
)

func newCourses(t *testing.T) *mongodb.CoursesStore {
	t.Helper()
	return mongotest.NewDB(t).Courses()
}

// richCourse uses every field of every block kind, locale maps, plural
// forms, hashes and descriptions, and both nil and empty slices and maps.
func richCourse(id, orgID, slug string) courses.Course {
	return courses.Course{
		ID: id, OrgID: orgID, Slug: slug, Shared: true,
		Topic: courses.TopicSoftSkills, Audiences: []courses.Audience{courses.AudienceYoungRefugees, courses.AudienceProfessionals},
		Level: courses.LevelBeginner, DefaultLocale: "en", Locales: []string{"en", "fr", "ar"},
		Title: "course.title", Summary: "course.summary",
		Modules: []courses.Module{
			{
				ID: "listening", Title: "listening.title", Summary: "listening.summary", Requires: []string{},
				Lessons: []courses.Lesson{{
					ID: "active", Title: "listening.active.title", Minutes: 8,
					Blocks: []courses.Block{
						{ID: "intro", Kind: courses.BlockText, Text: "listening.active.intro"},
						{ID: "picture", Kind: courses.BlockImage, Media: "a-img", Alt: "p.alt", Text: "p.caption", MediaBy: map[string]string{}},
						{ID: "narration", Kind: courses.BlockAudio, Media: "a-audio", MediaBy: map[string]string{"fr": "a-audio-fr", "ar": "a-audio-ar"}, Transcript: "n.transcript"},
						{ID: "film", Kind: courses.BlockVideo, Media: "a-film", Subtitles: map[string]string{"en": "a-vtt-en", "pt-BR": "a-vtt-pt"}, MediaBy: map[string]string{"fr": "a-film-fr"}, Transcript: "f.transcript"},
						{ID: "checklist", Kind: courses.BlockResource, Text: "c.title", Media: "a-pdf", URL: "c.url"},
						{ID: "think", Kind: courses.BlockReflection, Text: "t.prompt"},
						{ID: "check", Kind: courses.BlockQuiz, Quiz: "0b5e4f2c-quiz"},
						{ID: "warning", Kind: courses.BlockNote, Text: "w.text", HelpURL: "w.help"},
					},
				}},
			},
			{ID: "empty", Title: "empty.title", Requires: []string{"listening"}},
		},
		Messages: i18n.Messages{
			"en": {
				"course.title":           {Description: "Name of the course in the catalogue", Other: "Talking at work"},
				"listening.active.intro": {Other: "When someone speaks to you, **look at them**."},
				"items.count":            {One: "{{.Count}} item", Other: "{{.Count}} items"},
			},
			"ar": {
				"course.title": {Hash: "sha1-3e1d", Other: "التواصل في العمل"},
				"items.count":  {Hash: "sha1-99aa", Zero: "لا عناصر", One: "عنصر", Two: "عنصران", Few: "{{.Count}} عناصر", Many: "{{.Count}} عنصرًا", Other: "{{.Count}} عنصر"},
			},
			"fr": {},
		},
		Revision: 3, Published: 0, Archived: false, CreatedBy: "u1",
		Created: t0, Updated: t0.Add(time.Minute),
	}
}

func TestCourseRoundTrip(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	c := richCourse("c1", "o1", "talking-at-work")
	// Stored times are UTC whole milliseconds, whatever the zone.
	zone := time.FixedZone("UTC+3", 3*3600)
	c.Created = t0.Add(123456789 * time.Nanosecond).In(zone)
	if err := s.InsertCourse(ctx, c); err != nil {
		t.Fatal(err)
	}
	want := c
	want.Created = t0.Add(123 * time.Millisecond)
	got, err := s.Course(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
	}

	// What UpdateCourse returns is what a later read gives.
	updated, err := s.UpdateCourse(ctx, "c1", func(c *courses.Course) error {
		c.Revision++
		c.Updated = t0.Add(time.Hour + 999999*time.Nanosecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want.Revision, want.Updated = 4, t0.Add(time.Hour)
	if !reflect.DeepEqual(updated, want) {
		t.Fatalf("UpdateCourse returned:\n got %#v\nwant %#v", updated, want)
	}
	if got, err := s.Course(ctx, "c1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after update:\n got %#v, %v\nwant %#v", got, err, want)
	}

	// A bare course keeps its nil slices and maps nil.
	bare := courses.Course{ID: "c2", Slug: "bare", DefaultLocale: "en", Title: "t", Created: t0, Updated: t0}
	if err := s.InsertCourse(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Course(ctx, "c2"); err != nil || !reflect.DeepEqual(got, bare) {
		t.Fatalf("bare course:\n got %#v, %v\nwant %#v", got, err, bare)
	}
	if _, err := s.Course(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("missing course: %v, want ErrNotFound", err)
	}
}

func TestInsertCourseConflicts(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "intro")); err != nil {
		t.Fatal(err)
	}

	// Same id, another slug: ErrConflict, and the new slug is not kept.
	err := s.InsertCourse(ctx, richCourse("c1", "o1", "other"))
	if !errors.Is(err, pathways.ErrConflict) || errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c2", "o1", "other")); err != nil {
		t.Fatalf("slug of a refused insert still taken: %v", err)
	}
	// Same id and slug: the slug is the existing course's and stays so.
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "intro")); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("duplicate id and slug: %v, want ErrConflict", err)
	}

	// Same slug in the same organisation: ErrSlugTaken, nothing stored.
	err = s.InsertCourse(ctx, richCourse("c3", "o1", "intro"))
	if !errors.Is(err, courses.ErrSlugTaken) || !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("duplicate slug: %v, want ErrSlugTaken", err)
	}
	if _, err := s.Course(ctx, "c3"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("course of a refused insert: %v, want ErrNotFound", err)
	}

	// The same slug in another organisation, and in none, is fine.
	if err := s.InsertCourse(ctx, richCourse("c3", "o2", "intro")); err != nil {
		t.Fatalf("same slug, other organisation: %v", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c4", "", "intro")); err != nil {
		t.Fatalf("same slug, no organisation: %v", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c5", "", "intro")); !errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("duplicate slug, no organisation: %v, want ErrSlugTaken", err)
	}

	cat, err := s.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids := entryIDs(cat); !reflect.DeepEqual(ids, []string{"c1", "c2", "c3", "c4"}) {
		t.Fatalf("catalogue after refused inserts: %v", ids)
	}
}

func entryIDs(es []courses.Entry) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.CourseID)
	}
	return ids
}

func TestUpdateCourseSlug(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	for _, c := range []courses.Course{richCourse("c1", "o1", "a"), richCourse("c2", "o1", "taken")} {
		if err := s.InsertCourse(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	setSlug := func(orgID, slug string) func(*courses.Course) error {
		return func(c *courses.Course) error { c.OrgID, c.Slug = orgID, slug; c.Revision++; return nil }
	}

	// Onto a taken slug: refused, nothing changes.
	if _, err := s.UpdateCourse(ctx, "c1", setSlug("o1", "taken")); !errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("update onto a taken slug: %v, want ErrSlugTaken", err)
	}
	if c, err := s.Course(ctx, "c1"); err != nil || c.Slug != "a" || c.Revision != 3 {
		t.Fatalf("after refused slug change: %q rev %d, %v", c.Slug, c.Revision, err)
	}

	// a → b: b is claimed, a released.
	c, err := s.UpdateCourse(ctx, "c1", setSlug("o1", "b"))
	if err != nil || c.Slug != "b" {
		t.Fatalf("slug change: %+v, %v", c.Slug, err)
	}
	if err := s.InsertCourse(ctx, richCourse("c3", "o1", "b")); !errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("new slug not claimed: %v", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c3", "o1", "a")); err != nil {
		t.Fatalf("old slug not released: %v", err)
	}

	// Into another organisation, same slug: the claim moves.
	if _, err := s.UpdateCourse(ctx, "c1", setSlug("o2", "b")); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertCourse(ctx, richCourse("c4", "o1", "b")); err != nil {
		t.Fatalf("slug in the old organisation not released: %v", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c5", "o2", "b")); !errors.Is(err, courses.ErrSlugTaken) {
		t.Fatalf("slug in the new organisation not claimed: %v", err)
	}

	// An update that keeps the slug claims nothing.
	if _, err := s.UpdateCourse(ctx, "c1", func(c *courses.Course) error { c.Title = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	cat, err := s.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cat {
		if e.CourseID == "c1" && (e.OrgID != "o2" || e.Slug != "b") {
			t.Fatalf("catalogue entry of c1: %+v", e)
		}
	}
}

func TestUpdateCourseChangeError(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Catalogue(ctx)
	errNo := errors.New("no")
	_, err := s.UpdateCourse(ctx, "c1", func(c *courses.Course) error {
		c.Slug, c.Revision, c.Topic = "b", 99, courses.TopicHealth
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Fatalf("change error: %v", err)
	}
	if c, err := s.Course(ctx, "c1"); err != nil || !reflect.DeepEqual(c, richCourse("c1", "o1", "a")) {
		t.Fatalf("course after aborted change: %+v, %v", c, err)
	}
	if after, _ := s.Catalogue(ctx); !reflect.DeepEqual(after, before) {
		t.Fatalf("catalogue after aborted change: %+v, want %+v", after, before)
	}
	if err := s.InsertCourse(ctx, richCourse("c2", "o1", "b")); err != nil {
		t.Fatalf("slug of an aborted change claimed: %v", err)
	}
	if _, err := s.UpdateCourse(ctx, "nope", func(*courses.Course) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("update of a missing course: %v, want ErrNotFound", err)
	}
}

// TestConcurrentCourseUpdates: concurrent updates of one course, and
// concurrent inserts listing courses in the one catalogue, all count.
func TestConcurrentCourseUpdates(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	c := richCourse("c0", "o1", "c0")
	c.Revision = 0
	if err := s.InsertCourse(ctx, c); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := s.UpdateCourse(ctx, "c0", func(c *courses.Course) error { c.Revision++; return nil }); err != nil {
				t.Error(err)
			}
			id := fmt.Sprintf("c%02d", i+1)
			if err := s.InsertCourse(ctx, richCourse(id, "o1", id)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Course(ctx, "c0")
	if err != nil || got.Revision != n {
		t.Fatalf("revision %d after %d concurrent increments: %v", got.Revision, n, err)
	}
	cat, err := s.Catalogue(ctx)
	if err != nil || len(cat) != n+1 {
		t.Fatalf("catalogue has %d entries after %d concurrent inserts: %v", len(cat), n+1, err)
	}
}

func TestVersions(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	v := courses.Version{
		CourseID: "c1", Number: 1, Course: richCourse("c1", "o1", "a"), Revision: 3,
		Media: map[string]courses.MediaInfo{
			"a-img":    {Type: "image/png", Size: 1234, Name: "market.png"},
			"a-vtt-en": {Type: "text/vtt", Size: 56, Name: "film.en.vtt", Locale: "en"},
		},
		PublishedBy: "u2", Published: t0.Add(2 * time.Hour),
	}
	v.Course.Published = 1
	if err := s.InsertVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.Version(ctx, "c1", 1)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("Version:\n got %#v, %v\nwant %#v", got, err, v)
	}
	dup := v
	dup.PublishedBy = "someone else"
	if err := s.InsertVersion(ctx, dup); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("duplicate version: %v, want ErrConflict", err)
	}
	if got, _ := s.Version(ctx, "c1", 1); got.PublishedBy != "u2" {
		t.Fatalf("duplicate insert changed the version: %q", got.PublishedBy)
	}
	v2 := v
	v2.Number = 2
	if err := s.InsertVersion(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Version(ctx, "c1", 3); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("missing version: %v, want ErrNotFound", err)
	}
	if _, err := s.Version(ctx, "c2", 1); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("version of another course: %v, want ErrNotFound", err)
	}
}

func TestCatalogue(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	cat, err := s.Catalogue(ctx)
	if err != nil || cat == nil || len(cat) != 0 {
		t.Fatalf("empty catalogue: %#v, %v", cat, err)
	}
	a, b := richCourse("c1", "o1", "a"), richCourse("c2", "", "b")
	b.Shared, b.Audiences, b.Locales = false, nil, nil
	for _, c := range []courses.Course{a, b} {
		if err := s.InsertCourse(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(c courses.Course) courses.Entry {
		return courses.Entry{
			CourseID: c.ID, OrgID: c.OrgID, Slug: c.Slug, Published: c.Published, Shared: c.Shared,
			Topic: c.Topic, Audiences: c.Audiences, Level: c.Level, Locales: c.Locales,
			Archived: c.Archived, Updated: c.Updated,
		}
	}
	if cat, err := s.Catalogue(ctx); err != nil || !reflect.DeepEqual(cat, []courses.Entry{entry(a), entry(b)}) {
		t.Fatalf("catalogue after inserts:\n got %#v, %v\nwant %#v", cat, err, []courses.Entry{entry(a), entry(b)})
	}

	a, err = s.UpdateCourse(ctx, "c1", func(c *courses.Course) error {
		c.Published, c.Topic, c.Level, c.Archived = 1, courses.TopicWork, courses.LevelAdvanced, true
		c.Locales = append(c.Locales, "uk")
		c.Updated = t0.Add(3 * time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cat, err := s.Catalogue(ctx); err != nil || !reflect.DeepEqual(cat, []courses.Entry{entry(a), entry(b)}) {
		t.Fatalf("catalogue after update:\n got %#v, %v\nwant %#v", cat, err, []courses.Entry{entry(a), entry(b)})
	}

	if err := s.DeleteCourse(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	if cat, err := s.Catalogue(ctx); err != nil || !reflect.DeepEqual(cat, []courses.Entry{entry(a)}) {
		t.Fatalf("catalogue after delete:\n got %#v, %v", cat, err)
	}
}

func TestCatalogueFull(t *testing.T) {
	db := mongotest.NewDB(t)
	s, ctx := db.Courses(), context.Background()
	entries := make(bson.A, courses.MaxCatalogue)
	for i := range entries {
		entries[i] = bson.D{{Key: "course_id", Value: fmt.Sprint("x", i)}, {Key: "slug", Value: fmt.Sprint("x", i)}, {Key: "published", Value: 0}, {Key: "updated_at", Value: t0}}
	}
	if _, err := db.Collection("course_catalogue").InsertOne(ctx, bson.D{{Key: "_id", Value: "catalogue"}, {Key: "entries", Value: entries}}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); !errors.Is(err, courses.ErrCatalogueFull) {
		t.Fatalf("insert into a full catalogue: %v, want ErrCatalogueFull", err)
	}
	if _, err := s.Course(ctx, "c1"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("course refused by a full catalogue stored: %v", err)
	}
	// Its slug was released: once there is room, the same insert works.
	if _, err := db.Collection("course_catalogue").UpdateOne(ctx, bson.D{{Key: "_id", Value: "catalogue"}},
		bson.D{{Key: "$pop", Value: bson.D{{Key: "entries", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
		t.Fatalf("insert after making room: %v", err)
	}
	if cat, err := s.Catalogue(ctx); err != nil || len(cat) != courses.MaxCatalogue || cat[len(cat)-1].CourseID != "c1" {
		t.Fatalf("catalogue: %d entries, %v", len(cat), err)
	}
}

func TestDeleteCourse(t *testing.T) {
	s, ctx := newCourses(t), context.Background()
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCourse(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Course(ctx, "c1"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("deleted course: %v, want ErrNotFound", err)
	}
	if cat, err := s.Catalogue(ctx); err != nil || len(cat) != 0 {
		t.Fatalf("catalogue after delete: %+v, %v", cat, err)
	}
	if err := s.DeleteCourse(ctx, "c1"); !errors.Is(err, pathways.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	// The slug is free again, and so is the id.
	if err := s.InsertCourse(ctx, richCourse("c2", "o1", "a")); err != nil {
		t.Fatalf("slug of a deleted course: %v", err)
	}
	if err := s.InsertCourse(ctx, richCourse("c1", "o1", "z")); err != nil {
		t.Fatalf("id of a deleted course: %v", err)
	}

	// A published course stays.
	if _, err := s.UpdateCourse(ctx, "c1", func(c *courses.Course) error { c.Published = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCourse(ctx, "c1"); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("delete of a published course: %v, want ErrConflict", err)
	}
	// So does one whose first version is stored but not yet recorded.
	if err := s.InsertVersion(ctx, courses.Version{CourseID: "c2", Number: 1, Course: richCourse("c2", "o1", "a"), Published: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCourse(ctx, "c2"); !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("delete of a course with a version: %v, want ErrConflict", err)
	}
	if cat, err := s.Catalogue(ctx); err != nil || len(cat) != 2 {
		t.Fatalf("catalogue after refused deletes: %+v, %v", entryIDs(cat), err)
	}
}
