package stores

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
	"github.com/pathways-lms/pathways/storage/sqlite"
)

// The courses service on this store: its cached catalogue across two
// instances, and what a catalogue request costs as the catalogue grows.

const catalogueOrg = "0196a000-0000-7000-8000-000000000001"

var catalogueAdmin = accounts.Actor{UserID: "admin", Role: accounts.RoleAdmin}

// countingCourses is the real store, counting the catalogue builds.
type countingCourses struct {
	*CoursesStore
	builds *atomic.Int64
}

func (c countingCourses) Catalogue(ctx context.Context) ([]courses.Entry, error) {
	c.builds.Add(1)
	time.Sleep(10 * time.Millisecond) // widen the window concurrent misses arrive in
	return c.CoursesStore.Catalogue(ctx)
}

func newCourseService(store courses.Store) *courses.Service {
	return courses.NewService(store, nil, courses.DefaultConfig, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// publishCourse creates and publishes a one-lesson course with slug.
func publishCourse(tb testing.TB, s *courses.Service, slug string) courses.Course {
	tb.Helper()
	c := courses.Course{
		OrgID: catalogueOrg, Slug: slug, Shared: true, Topic: courses.TopicWork, Level: courses.LevelBeginner, Audiences: []courses.Audience{courses.AudienceYoungRefugees},
		DefaultLocale: "en", Locales: []string{"en", "fr"}, Title: "title", Summary: "summary",
		Modules: []courses.Module{{ID: "m", Title: "m.title", Lessons: []courses.Lesson{{ID: "l", Title: "l.title", Minutes: 5,
			Blocks: []courses.Block{{ID: "b", Kind: courses.BlockText, Text: "b.text"}}}}}},
		Messages: i18n.Messages{
			"en": {"title": {Other: "Course " + slug}, "summary": {Other: "About work"}, "m.title": {Other: "Module"}, "l.title": {Other: "Lesson"}, "b.text": {Other: "Some **text**."}},
			"fr": {"title": {Other: "Cours " + slug}, "summary": {Other: "Le travail"}, "m.title": {Other: "Module"}, "l.title": {Other: "Leçon"}, "b.text": {Other: "Du **texte**."}},
		},
	}
	c, _, err := s.Create(context.Background(), catalogueAdmin, c)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.Publish(context.Background(), catalogueAdmin, c.ID, c.Revision); err != nil {
		tb.Fatal(err)
	}
	return c
}

func slugsOf(vs []courses.OutlineView) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Slug)
	}
	return out
}

// TestCatalogueCache: an instance's cached catalogue shows what another
// instance published, archived or created at its next request, and
// concurrent requests that find it stale share one build.
func TestCatalogueCache(t *testing.T) {
	dbtest.Each(t, coursesSchema, func(t *testing.T, e docdb.Engine) {
		var builds atomic.Int64
		a := newCourseService(countingCourses{New(e).Courses(), &builds})
		b := newCourseService(New(dbtest.Second(t, e, coursesSchema)).Courses())
		learner := accounts.Actor{UserID: "l", OrgID: catalogueOrg, Role: accounts.RoleLearner}
		page := pathways.Page{Limit: 20}
		list := func() []string {
			t.Helper()
			vs, n, err := a.Catalogue(ctx, learner, courses.Filter{}, []string{"fr"}, page)
			if err != nil || n != len(vs) {
				t.Fatalf("catalogue: %d of %d, %v", len(vs), n, err)
			}
			return slugsOf(vs)
		}
		publishCourse(t, a, "one")
		if got := fmt.Sprint(list()); got != "[one]" {
			t.Fatalf("catalogue %s", got)
		}
		before := builds.Load()
		for range 3 {
			list()
		}
		if builds.Load() != before {
			t.Errorf("%d builds for requests with nothing changed, want 0", builds.Load()-before)
		}
		two := publishCourse(t, b, "two")
		if got := fmt.Sprint(list()); got != "[one two]" {
			t.Fatalf("after a publish on the other instance: %s", got)
		}
		if _, err := b.SetArchived(ctx, catalogueAdmin, two.ID, true); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(list()); got != "[one]" {
			t.Fatalf("after an archive on the other instance: %s", got)
		}
		// The latest version's number comes from the cached entries too.
		if _, err := b.SetArchived(ctx, catalogueAdmin, two.ID, false); err != nil {
			t.Fatal(err)
		}
		if o, err := a.Outline(ctx, learner, two.ID, 0, []string{"fr"}); err != nil || o.Version != 1 || o.Title.Value != "Cours two" {
			t.Fatalf("outline of the latest version: %+v %v", o, err)
		}
		draft, _, err := b.Create(ctx, catalogueAdmin, courses.Course{OrgID: catalogueOrg, Slug: "draft", DefaultLocale: "en", Title: "t", Topic: courses.TopicWork, Level: courses.LevelBeginner, Audiences: []courses.Audience{courses.AudienceYoungRefugees},
			Messages: i18n.Messages{"en": {"t": {Other: "T"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, n, err := a.Authored(ctx, catalogueAdmin, page); err != nil || n != 3 {
			t.Fatalf("authored listing after a create on the other instance: %d %v", n, err)
		}
		if err := a.SlugFree(ctx, catalogueOrg, "draft"); err == nil {
			t.Errorf("slug of the other instance's draft free")
		}
		if err := b.Delete(ctx, catalogueAdmin, draft.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.SlugFree(ctx, catalogueOrg, "draft"); err != nil {
			t.Errorf("slug of a deleted draft: %v", err)
		}

		// Stale, then eight requests at once: one build.
		publishCourse(t, b, "three")
		before = builds.Load()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if vs, _, err := a.Catalogue(ctx, learner, courses.Filter{}, nil, page); err != nil || len(vs) != 3 {
					t.Errorf("concurrent catalogue: %v %v", slugsOf(vs), err)
				}
			})
		}
		wg.Wait()
		if n := builds.Load() - before; n != 1 {
			t.Errorf("%d builds for 8 concurrent requests after one change, want 1", n)
		}
	})
}

// BenchmarkCatalogue is one catalogue request (first page of 20, in
// French, as a learner) through the courses service on SQLite, with 3 to
// 1,000 published courses: the built catalogue is cached, so a request
// reads the generation and renders at most the page, whatever the size.
//
//	go test -run '^$' -bench Catalogue -benchtime 2000x -count 3 ./storage/stores
func BenchmarkCatalogue(b *testing.B) {
	for _, n := range []int{3, 10, 100, 1000} {
		b.Run(fmt.Sprint("courses=", n), func(b *testing.B) {
			db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), sqlite.FileName), Synchronous: sqlite.SyncNormal})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Close(ctx) })
			if err := db.Migrate(ctx, coursesSchema); err != nil {
				b.Fatal(err)
			}
			s := newCourseService(New(db).Courses())
			for i := range n {
				publishCourse(b, s, fmt.Sprint("c", i))
			}
			learner := accounts.Actor{UserID: "l", OrgID: catalogueOrg, Role: accounts.RoleLearner}
			page := pathways.Page{Limit: 20}
			if vs, total, err := s.Catalogue(ctx, learner, courses.Filter{Language: "fr"}, []string{"fr"}, page); err != nil || total != n || len(vs) != min(n, 20) {
				b.Fatalf("catalogue: %d of %d, %v", len(vs), total, err)
			}
			b.ResetTimer()
			for range b.N {
				if _, _, err := s.Catalogue(ctx, learner, courses.Filter{Language: "fr"}, []string{"fr"}, page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingVersions is the real store, counting the reads of versions.
type countingVersions struct {
	*CoursesStore
	reads *atomic.Int64
}

func (c countingVersions) Version(ctx context.Context, courseID string, n int) (courses.Version, error) {
	c.reads.Add(1)
	time.Sleep(10 * time.Millisecond) // widen the window concurrent misses arrive in
	return c.CoursesStore.Version(ctx, courseID, n)
}

// TestVersionReadShared: a class opening a lesson of a version no request
// has read yet (a fresh instance) costs one read of the version, not one
// each; a cancelled caller does not fail the others.
func TestVersionReadShared(t *testing.T) {
	dbtest.Each(t, coursesSchema, func(t *testing.T, e docdb.Engine) {
		c := publishCourse(t, newCourseService(New(e).Courses()), "shared")
		var reads atomic.Int64
		fresh := newCourseService(countingVersions{New(e).Courses(), &reads})
		learner := accounts.Actor{UserID: "l", OrgID: catalogueOrg, Role: accounts.RoleLearner}
		cancelled, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		errs := make([]error, 30)
		for i := range errs {
			wg.Go(func() {
				c0 := ctx
				if i == 0 {
					c0 = cancelled
				}
				_, errs[i] = fresh.Outline(c0, learner, c.ID, 1, []string{"en"})
			})
		}
		cancel()
		wg.Wait()
		for i, err := range errs[1:] {
			if err != nil {
				t.Errorf("reader %d: %v", i+1, err)
			}
		}
		if n := reads.Load(); n != 1 {
			t.Errorf("%d concurrent first reads read the version %d times, want once", len(errs), n)
		}
	})
}
