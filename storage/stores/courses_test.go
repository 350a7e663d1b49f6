package stores

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// eachCourses runs fn on a fresh courses store of every engine.
func eachCourses(t *testing.T, fn func(t *testing.T, s *CoursesStore)) {
	dbtest.Each(t, coursesSchema, func(t *testing.T, e docdb.Engine) { fn(t, New(e).Courses()) })
}

// secondCourses is the courses store of another instance on s's database.
func secondCourses(t *testing.T, s *CoursesStore) *CoursesStore {
	return New(dbtest.Second(t, s.e, coursesSchema)).Courses()
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
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
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
	})
}

func TestInsertCourseConflicts(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
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
		if m, _ := s.meta(ctx); m.Count != 4 {
			t.Errorf("catalogue counts %d, want 4", m.Count)
		}
	})
}

func entryIDs(es []courses.Entry) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.CourseID)
	}
	return ids
}

func setSlug(orgID, slug string) func(*courses.Course) error {
	return func(c *courses.Course) error { c.OrgID, c.Slug = orgID, slug; c.Revision++; return nil }
}

func TestUpdateCourseSlug(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		for _, c := range []courses.Course{richCourse("c1", "o1", "a"), richCourse("c2", "o1", "taken")} {
			if err := s.InsertCourse(ctx, c); err != nil {
				t.Fatal(err)
			}
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
	})
}

func TestUpdateCourseChangeError(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Catalogue(ctx)
		gen, _ := s.CatalogueGeneration(ctx)
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
		if g, _ := s.CatalogueGeneration(ctx); g != gen {
			t.Errorf("generation moved from %d to %d on an aborted change", gen, g)
		}
		if err := s.InsertCourse(ctx, richCourse("c2", "o1", "b")); err != nil {
			t.Fatalf("slug of an aborted change claimed: %v", err)
		}
		if _, err := s.UpdateCourse(ctx, "nope", func(*courses.Course) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("update of a missing course: %v, want ErrNotFound", err)
		}
	})
}

// TestConcurrentCourseUpdates: concurrent updates of one course, and
// concurrent creates of courses, alternating between two instances, all
// count: 20 creates are 20 entries (the one catalogue document of the
// old store lost 7 of them with two instances).
func TestConcurrentCourseUpdates(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		other := secondCourses(t, s)
		c := richCourse("c0", "o1", "c0")
		c.Revision = 0
		if err := s.InsertCourse(ctx, c); err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				st := []*CoursesStore{s, other}[i%2]
				if _, err := st.UpdateCourse(ctx, "c0", func(c *courses.Course) error { c.Revision++; return nil }); err != nil {
					t.Error(err)
				}
				id := fmt.Sprintf("c%02d", i+1)
				if err := st.InsertCourse(ctx, richCourse(id, "o1", id)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := s.Course(ctx, "c0")
		if err != nil || got.Revision != n {
			t.Fatalf("revision %d after %d concurrent increments: %v", got.Revision, n, err)
		}
		cat, err := other.Catalogue(ctx)
		if err != nil || len(cat) != n+1 {
			t.Fatalf("catalogue has %d entries after %d concurrent inserts: %v", len(cat), n+1, err)
		}
		for _, e := range cat {
			if e.CourseID == "c0" && e.Updated != got.Updated {
				t.Errorf("entry of c0 behind its course")
			}
		}
		if m, err := s.meta(ctx); err != nil || m.Count != n+1 || m.Generation < n+1 {
			t.Errorf("counter %+v %v, want %d entries and a generation of at least %[3]d", m, err, n+1)
		}
	})
}

// TestUpdateCourseInterleaved: B updates the course between A's read and
// A's write; A reads again and applies its change on top, and the entry
// ends with both.
func TestUpdateCourseInterleaved(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
			t.Fatal(err)
		}
		b := secondCourses(t, s)
		a := &CoursesStore{e: dbtest.AfterGet(s.e, colCourses, "c1", func() {
			if _, err := b.UpdateCourse(ctx, "c1", func(c *courses.Course) error {
				c.Topic, c.Revision = courses.TopicHealth, c.Revision+1
				return nil
			}); err != nil {
				t.Errorf("B: %v", err)
			}
		})}
		calls := 0
		got, err := a.UpdateCourse(ctx, "c1", func(c *courses.Course) error {
			calls++
			c.Level, c.Revision = courses.LevelAdvanced, c.Revision+1
			return nil
		})
		if err != nil || calls != 2 || got.Revision != 5 || got.Topic != courses.TopicHealth || got.Level != courses.LevelAdvanced {
			t.Fatalf("A after B: %d calls, revision %d, %s %s, %v", calls, got.Revision, got.Topic, got.Level, err)
		}
		cat, _ := b.Catalogue(ctx)
		if len(cat) != 1 || cat[0].Topic != courses.TopicHealth || cat[0].Level != courses.LevelAdvanced {
			t.Errorf("entry: %+v", cat)
		}
	})
}

// TestSlugChangeRace: a slug change interleaved with another course's
// change onto the same slug (A reads, B claims the slug, A is refused);
// and many courses moving onto one slug at once from two instances:
// exactly one gets it, and the others keep theirs.
func TestSlugChangeRace(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		b := secondCourses(t, s)
		for i := range 8 {
			c := richCourse(fmt.Sprint("c", i), "o1", fmt.Sprint("s", i))
			if err := s.InsertCourse(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		a := &CoursesStore{e: dbtest.AfterGet(s.e, colCourses, "c0", func() {
			if _, err := b.UpdateCourse(ctx, "c1", setSlug("o1", "wanted")); err != nil {
				t.Errorf("B: %v", err)
			}
		})}
		if _, err := a.UpdateCourse(ctx, "c0", setSlug("o1", "wanted")); !errors.Is(err, courses.ErrSlugTaken) {
			t.Fatalf("A after B took the slug: %v, want ErrSlugTaken", err)
		}
		if c, _ := s.Course(ctx, "c0"); c.Slug != "s0" {
			t.Errorf("c0 has slug %q", c.Slug)
		}

		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = []*CoursesStore{s, b}[i%2].UpdateCourse(ctx, fmt.Sprint("c", i), setSlug("o1", "prize"))
			})
		}
		wg.Wait()
		won := countWins(t, errs, courses.ErrSlugTaken)
		cat, _ := s.Catalogue(ctx)
		prize := 0
		for _, e := range cat {
			if e.Slug == "prize" {
				prize++
			}
		}
		if won != 1 || prize != 1 {
			t.Fatalf("%d slug changes won, %d entries have the slug; want 1", won, prize)
		}
		// The losers' slugs stayed theirs; the winner's old one is free.
		for i, err := range errs {
			old := fmt.Sprint("s", i)
			if i == 1 {
				old = "wanted" // B's change above
			}
			free := s.InsertCourse(ctx, richCourse(fmt.Sprint("n", i), "o1", old))
			if err == nil && free != nil || err != nil && !errors.Is(free, courses.ErrSlugTaken) {
				t.Errorf("old slug %s after the race (changed: %v): insert %v", old, err == nil, free)
			}
		}
	})
}

// TestInsertCourseRace: one id created at once on two instances (a retry
// racing itself), and one slug: exactly one create wins each, and the
// catalogue counts it once.
func TestInsertCourseRace(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		b := secondCourses(t, s)
		var wg sync.WaitGroup
		sameID, sameSlug := make([]error, 8), make([]error, 8)
		for i := range 8 {
			wg.Go(func() {
				st := []*CoursesStore{s, b}[i%2]
				sameID[i] = st.InsertCourse(ctx, richCourse("one", "o1", fmt.Sprint("x", i)))
				sameSlug[i] = st.InsertCourse(ctx, richCourse(fmt.Sprint("y", i), "o1", "slug"))
			})
		}
		wg.Wait()
		for name, errs := range map[string][]error{"id": sameID, "slug": sameSlug} {
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, pathways.ErrConflict):
					t.Errorf("same %s: %v", name, err)
				}
			}
			if won != 1 {
				t.Errorf("same %s: %d creates won, want 1", name, won)
			}
		}
		cat, _ := s.Catalogue(ctx)
		if m, _ := s.meta(ctx); len(cat) != 2 || m.Count != 2 {
			t.Fatalf("catalogue %v, count %d; want 2", entryIDs(cat), m.Count)
		}
		// The winner of the id holds its slug; the losers' slugs are free.
		one, _ := s.Course(ctx, "one")
		for i := range 8 {
			err := s.InsertCourse(ctx, richCourse(fmt.Sprint("z", i), "o1", fmt.Sprint("x", i)))
			if taken := fmt.Sprint("x", i) == one.Slug; taken != errors.Is(err, courses.ErrSlugTaken) || !taken && err != nil {
				t.Errorf("slug x%d (the winner's: %v): %v", i, taken, err)
			}
		}
	})
}

func TestVersions(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
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

		// Two instances publishing one number: exactly one version is stored.
		b := secondCourses(t, s)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				w := v
				w.Number, w.PublishedBy = 3, fmt.Sprint("u", i)
				errs[i] = []*CoursesStore{s, b}[i%2].InsertVersion(ctx, w)
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil || !errors.Is(err, pathways.ErrConflict):
				t.Errorf("insert of version 3 by u%d: %v", i, err)
			}
		}
		if got, err := b.Version(ctx, "c1", 3); err != nil || got.PublishedBy != fmt.Sprint("u", won) {
			t.Errorf("version 3 by %q (%v), the winner was u%d", got.PublishedBy, err, won)
		}
	})
}

func TestCatalogue(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		cat, err := s.Catalogue(ctx)
		if err != nil || cat == nil || len(cat) != 0 {
			t.Fatalf("empty catalogue: %#v, %v", cat, err)
		}
		if g, err := s.CatalogueGeneration(ctx); err != nil || g != 0 {
			t.Fatalf("generation of the empty catalogue: %d %v", g, err)
		}
		// Listed in the order created, not by id.
		a, b := richCourse("c2", "o1", "a"), richCourse("c1", "", "b")
		b.Shared, b.Audiences, b.Locales = false, nil, nil
		b.Created = t0.Add(time.Second)
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
		g1, _ := s.CatalogueGeneration(ctx)

		a, err = s.UpdateCourse(ctx, "c2", func(c *courses.Course) error {
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
		g2, _ := s.CatalogueGeneration(ctx)
		// An update that changes nothing writes nothing and keeps the
		// generation.
		if _, err := s.UpdateCourse(ctx, "c2", func(*courses.Course) error { return nil }); err != nil {
			t.Fatal(err)
		}
		g3, _ := s.CatalogueGeneration(ctx)

		if err := s.DeleteCourse(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		if cat, err := s.Catalogue(ctx); err != nil || !reflect.DeepEqual(cat, []courses.Entry{entry(a)}) {
			t.Fatalf("catalogue after delete:\n got %#v, %v", cat, err)
		}
		g4, _ := s.CatalogueGeneration(ctx)
		if !(g1 > 0 && g2 > g1 && g3 == g2 && g4 > g3) {
			t.Errorf("generations %d %d %d %d: want them to move on at every change only", g1, g2, g3, g4)
		}
	})
}

// TestCatalogueFull: the count bounds the catalogue exactly, a refused
// create leaves nothing, and two instances racing for the last place get
// one.
func TestCatalogueFull(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		if err := s.e.Insert(ctx, colCourseMeta, catalogueMetaID, metaDoc{Count: courses.MaxCatalogue, Generation: 7}); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); !errors.Is(err, courses.ErrCatalogueFull) {
			t.Fatalf("insert into a full catalogue: %v, want ErrCatalogueFull", err)
		}
		if _, err := s.Course(ctx, "c1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("course refused by a full catalogue stored: %v", err)
		}
		// Room for one: of eight creates on two instances, one wins; the
		// others leave no course, entry or slug.
		var meta metaDoc
		rev, err := s.e.Get(ctx, colCourseMeta, catalogueMetaID, &meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.e.Replace(ctx, colCourseMeta, catalogueMetaID, rev, metaDoc{Count: courses.MaxCatalogue - 1, Generation: 8}); err != nil {
			t.Fatal(err)
		}
		b := secondCourses(t, s)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				errs[i] = []*CoursesStore{s, b}[i%2].InsertCourse(ctx, richCourse(fmt.Sprint("c", i), "o1", fmt.Sprint("s", i)))
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil || !errors.Is(err, courses.ErrCatalogueFull):
				t.Errorf("create c%d: %v", i, err)
			}
		}
		cat, err := s.Catalogue(ctx)
		if err != nil || !reflect.DeepEqual(entryIDs(cat), []string{fmt.Sprint("c", won)}) {
			t.Fatalf("catalogue %v (%v), want only c%d", entryIDs(cat), err, won)
		}
		if m, _ := s.meta(ctx); m.Count != courses.MaxCatalogue {
			t.Errorf("count %d, want %d", m.Count, courses.MaxCatalogue)
		}
		// The losers' slugs were released, and the winner's goes with it.
		if err := s.DeleteCourse(ctx, fmt.Sprint("c", won)); err != nil {
			t.Fatal(err)
		}
		keys := []string{}
		for i := range errs {
			keys = append(keys, fmt.Sprint("o1/s", i))
		}
		if got := slugsHeld(t, s, keys...); strings.Contains(got, "true") {
			t.Errorf("slugs after the race: %s", got)
		}
	})
}

func TestDeleteCourse(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
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
		if m, _ := s.meta(ctx); m.Count != 0 {
			t.Errorf("count after delete: %d", m.Count)
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
	})
}

// TestDeleteCourseInterleaved: a publish recorded between the delete's
// read and its write (A reads the draft, B publishes it) makes the delete
// look again and refuse; the course and its entry stay.
func TestDeleteCourseInterleaved(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		if err := s.InsertCourse(ctx, richCourse("c1", "o1", "a")); err != nil {
			t.Fatal(err)
		}
		b := secondCourses(t, s)
		a := &CoursesStore{e: dbtest.AfterGet(s.e, colCourses, "c1", func() {
			if _, err := b.UpdateCourse(ctx, "c1", func(c *courses.Course) error { c.Published = 1; return nil }); err != nil {
				t.Errorf("B: %v", err)
			}
		})}
		if err := a.DeleteCourse(ctx, "c1"); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("delete after a publish came between: %v, want ErrConflict", err)
		}
		cat, _ := s.Catalogue(ctx)
		if len(cat) != 1 || cat[0].Published != 1 {
			t.Errorf("catalogue: %+v", cat)
		}
		// Deletes racing on two instances: one deletes, the others find
		// nothing, and the count is right.
		if err := s.InsertCourse(ctx, richCourse("c2", "o1", "b")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() { errs[i] = []*CoursesStore{s, b}[i%2].DeleteCourse(ctx, "c2") })
		}
		wg.Wait()
		won := countWins(t, errs, pathways.ErrNotFound)
		if m, _ := s.meta(ctx); won != 1 || m.Count != 1 {
			t.Errorf("%d deletes won, count %d; want 1 and 1", won, m.Count)
		}
	})
}

// crashedSlug inserts a slug claim as a create (or slug change) that
// crashed after claiming leaves it.
func crashedSlug(t *testing.T, s *CoursesStore, key, owner string, at time.Time) {
	t.Helper()
	if err := s.e.Insert(ctx, colCourseSlugs, key, claimDoc{Owner: owner, ClaimedAt: unixMS(at), Pending: true}); err != nil {
		t.Fatal(err)
	}
}

func slugsHeld(t *testing.T, s *CoursesStore, keys ...string) string {
	t.Helper()
	return has(t, s.e, colCourseSlugs, keys...)
}

// TestSlugClaimOfCrashedCreate: a course slug reserved by a create that
// crashed is taken while fresh, free once older than the grace, and swept;
// so is the old slug of a course whose slug change crashed before it
// released it.
func TestSlugClaimOfCrashedCreate(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		crashedSlug(t, s, "org1/talking", "ghost", t0)
		c := richCourse("c1", "org1", "talking")
		c.Created, c.Updated = t0.Add(pathways.ClaimGrace-time.Minute), t0.Add(pathways.ClaimGrace-time.Minute)
		if err := s.InsertCourse(ctx, c); !errors.Is(err, courses.ErrSlugTaken) {
			t.Fatalf("create while the crashed reservation is fresh: %v", err)
		}
		late := t0.Add(pathways.ClaimGrace + time.Minute)
		c.Created, c.Updated = late, late
		if err := s.InsertCourse(ctx, c); err != nil {
			t.Fatalf("create once the crashed reservation is old: %v", err)
		}
		// A second course reserved "listening", then moved to another slug
		// and crashed before releasing the first: that reservation is stale.
		c2 := richCourse("c2", "org1", "working")
		c2.Created, c2.Updated = late, late
		if err := s.InsertCourse(ctx, c2); err != nil {
			t.Fatal(err)
		}
		crashedSlug(t, s, "org1/listening", "c2", t0)
		crashedSlug(t, s, "org1/young", "ghost", late)
		n, err := s.SweepSlugs(ctx, late)
		if err != nil || n != 1 {
			t.Fatalf("sweep: %d %v, want 1", n, err)
		}
		got := slugsHeld(t, s, "org1/talking", "org1/working", "org1/listening", "org1/young")
		if want := "map[org1/listening:false org1/talking:true org1/working:true org1/young:true]"; got != want {
			t.Errorf("slug reservations after the sweep: %v, want %v", got, want)
		}
		// Releasing names the owner: the reservation a course does not hold
		// stays, and the course's own goes with it.
		if err := s.DeleteCourse(ctx, "c2"); err != nil {
			t.Fatal(err)
		}
		if got := slugsHeld(t, s, "org1/working", "org1/young"); got != "map[org1/working:false org1/young:true]" {
			t.Errorf("after deleting c2: %v", got)
		}
	})
}

// TestCrashRepair: what a crash between the writes of a create, an update
// or a delete leaves is repaired by a later call or by SweepSlugs: a
// course without its entry is listed, an entry whose course is gone is
// removed, an uncounted entry is counted, and the generation moves on so
// every instance's cached catalogue is rebuilt.
func TestCrashRepair(t *testing.T) {
	eachCourses(t, func(t *testing.T, s *CoursesStore) {
		for _, id := range []string{"c1", "c2", "c3"} {
			if err := s.InsertCourse(ctx, richCourse(id, "o1", id)); err != nil {
				t.Fatal(err)
			}
		}
		// c4: created up to its course, crashed before its entry.
		c4 := richCourse("c4", "o1", "c4")
		crashedSlug(t, s, "o1/c4", "c4", t0)
		d := toCourseDoc(c4)
		d.ID = ""
		if err := s.e.Insert(ctx, colCourses, "c4", d); err != nil {
			t.Fatal(err)
		}
		// c1: deleted, crashed before its entry went.
		if err := s.e.Delete(ctx, colCourses, "c1", docdb.AnyRev); err != nil {
			t.Fatal(err)
		}
		// c2: its entry lost (a crash of an old delete that unlisted first).
		if err := s.e.Delete(ctx, colCourseEntries, "c2", docdb.AnyRev); err != nil {
			t.Fatal(err)
		}
		// c3: updated, crashed before its entry was written: a retry of the
		// same update (here one that changes nothing more) writes it.
		var cd courseDoc
		rev, _ := s.e.Get(ctx, colCourses, "c3", &cd)
		cd.Published = 1
		if _, err := s.e.Replace(ctx, colCourses, "c3", rev, cd); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCourse(ctx, "c3", func(c *courses.Course) error { c.Published = max(c.Published, 1); return nil }); err != nil {
			t.Fatal(err)
		}
		// c2's next update lists it again.
		if _, err := s.UpdateCourse(ctx, "c2", func(c *courses.Course) error { c.Title = "again"; return nil }); err != nil {
			t.Fatal(err)
		}
		g, _ := s.CatalogueGeneration(ctx)
		if _, err := s.SweepSlugs(ctx, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		cat, err := s.Catalogue(ctx)
		if err != nil || !reflect.DeepEqual(entryIDs(cat), []string{"c2", "c3", "c4"}) {
			t.Fatalf("catalogue after the sweep: %v %v, want c2 c3 c4", entryIDs(cat), err)
		}
		for _, e := range cat {
			if e.CourseID == "c3" && e.Published != 1 {
				t.Errorf("entry of c3 not repaired: %+v", e)
			}
		}
		if m, _ := s.meta(ctx); m.Count != 3 || m.Generation <= g {
			t.Errorf("counter after the sweep %+v, want 3 entries and a generation past %d", m, g)
		}
	})
}
