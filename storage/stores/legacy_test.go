package stores

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// oldCollections is every collection storage/mongodb's stores wrote
// (mongodb.go's list), copied here so that a collection missing from the
// legacy table fails this test, not a user's move.
var oldCollections = []string{
	"organisations", "users", "usernames", "username_skeletons", "rosters",
	"refresh_tokens", "token_families", "login_attempts", "settings",
	"media_assets", "media_blobs", "media_libraries", "media_uploads",
	"courses", "course_versions", "course_slugs", "course_catalogue",
	"assessment_banks", "quizzes", "quiz_versions", "quiz_attempts", "quiz_records", "quiz_stats",
}

// TestLegacyCoversEveryCollection: every old collection has a conversion,
// every collection of the stores is filled by one or rebuilt, and an
// unknown name has none.
func TestLegacyCoversEveryCollection(t *testing.T) {
	filled := map[string]bool{}
	for _, name := range oldCollections {
		l, ok := Legacy(name)
		if !ok {
			t.Errorf("old collection %s: no conversion", name)
			continue
		}
		if !l.Rebuilt() {
			filled[l.Name()] = true
		}
	}
	if len(legacyCollections) != len(oldCollections) {
		t.Errorf("%d conversions for %d old collections", len(legacyCollections), len(oldCollections))
	}
	for _, c := range Schema() {
		if !filled[c.Name] && !slices.Contains(derivedCollections, c.Name) && !slices.Contains(newCollections, c.Name) {
			t.Errorf("collection %s: neither copied from an old one, rebuilt nor new", c.Name)
		}
	}
	if _, ok := Legacy("surprise"); ok {
		t.Error("an unknown collection has a conversion")
	}
}

func legacyConvert(t *testing.T, coll string, old map[string]any) any {
	t.Helper()
	l, ok := Legacy(coll)
	if !ok {
		t.Fatalf("no conversion for %s", coll)
	}
	doc, err := l.Convert(old)
	if err != nil {
		t.Fatalf("convert %s: %v", coll, err)
	}
	return reflect.ValueOf(doc).Elem().Interface()
}

// TestLegacyConvert: the declared differences between the old documents
// and today's, one of each kind.
func TestLegacyConvert(t *testing.T) {
	at := t0.Add(1500 * time.Millisecond)
	t.Run("claim renamed, dated, pending", func(t *testing.T) {
		got := legacyConvert(t, colUsernames, map[string]any{"user_id": "u1", "claimed_at": at, "pending": false})
		if want := (claimDoc{Owner: "u1", ClaimedAt: at.UnixMilli()}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		got = legacyConvert(t, colCourseSlugs, map[string]any{"course_id": "c1"})
		if want := (claimDoc{Owner: "c1", Pending: true}); got != want {
			t.Errorf("an old claim without a time or pending: got %+v, want %+v", got, want)
		}
	})
	t.Run("dates now milliseconds, other times kept", func(t *testing.T) {
		got := legacyConvert(t, colRefreshTokens, map[string]any{"family": "f", "user_id": "u", "epoch": int64(2), "issued_at": t0, "expires_at": at})
		if want := (refreshDoc{Family: "f", UserID: "u", Epoch: 2, IssuedAt: t0, ExpiresAt: at.UnixMilli()}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		// The zero time the old store wrote for "no time" is 0.
		got = legacyConvert(t, colTokenFamilies, map[string]any{"revoked_at": time.Time{}})
		if want := (familyDoc{}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("through arrays", func(t *testing.T) {
		got := legacyConvert(t, collStats, map[string]any{"quiz_id": "q", "version": int64(1), "applied": []any{
			map[string]any{"attempt": "a1", "at": t0}, map[string]any{"attempt": "a2", "at": at},
		}}).(statsDoc)
		want := list[appliedDoc]{{Attempt: "a1", At: t0.UnixMilli()}, {Attempt: "a2", At: at.UnixMilli()}}
		if !reflect.DeepEqual(got.Applied, want) {
			t.Errorf("applied: got %+v, want %+v", got.Applied, want)
		}
	})
	t.Run("a version's course id", func(t *testing.T) {
		got := legacyConvert(t, colCourseVersions, map[string]any{"course_id": "c1", "number": int64(1), "revision": int64(3), "published_at": t0,
			"course": map[string]any{"_id": "c1", "slug": "s", "default_locale": "en", "title": "t", "revision": int64(3), "published": int64(1),
				"created_at": t0, "updated_at": t0, "locales": []any{}}}).(courseVersionDoc)
		if got.Course.ID != "c1" || got.Course.Slug != "s" || got.Course.Locales == nil || got.Course.Audiences != nil {
			t.Errorf("course: %+v (locales empty, not nil; audiences nil)", got.Course)
		}
	})
	t.Run("binary", func(t *testing.T) {
		got := legacyConvert(t, colSettings, map[string]any{"value": []byte{0, 1, 2}}).(settingDoc)
		if !reflect.DeepEqual(got.Value, []byte{0, 1, 2}) {
			t.Errorf("value: %v", got.Value)
		}
	})
}

// TestLegacyRefuses: what the new document has no place for fails the
// conversion, naming the field, rather than being dropped.
func TestLegacyRefuses(t *testing.T) {
	for _, c := range []struct {
		coll string
		old  map[string]any
		want string
	}{
		{colUsers, map[string]any{"username": "amira", "nickname": "Ami"}, `"nickname"`},
		{collAssets, map[string]any{"uses": []any{map[string]any{"ref": "r", "weight": int64(2)}}}, `"weight"`},
		{colOrganisations, map[string]any{"created_at": "yesterday"}, "created_at"},
		{colUsers, map[string]any{"created_at": int64(5)}, "created_at"},
		{colUsernames, map[string]any{"user_id": "u", "owner": "v"}, "user_id"},
	} {
		l, _ := Legacy(c.coll)
		_, err := l.Convert(c.old)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want an error naming %s", c.coll, c.old, err, c.want)
		}
	}
	if _, err := (LegacyCollection{name: "rosters"}).Convert(map[string]any{}); err == nil {
		t.Error("a rebuilt collection converted")
	}
}

// TestRebuild: courses inserted as a mover does (documents only) are
// listed in creation order and counted; an update of one afterwards
// replaces its entry (the entry records the copied revision); Rebuild
// again changes nothing but the generation.
func TestRebuild(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		db := New(e)
		for i, slug := range []string{"second", "first", "third"} {
			created := []time.Time{t0.Add(time.Hour), t0, t0.Add(2 * time.Hour)}[i]
			d := courseDoc{Slug: slug, DefaultLocale: "en", Title: "t", Revision: 1, Published: 1, Created: created, Updated: created}
			if err := e.Insert(ctx, colCourses, "c-"+slug, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		s := db.Courses()
		slugs := func() []string {
			t.Helper()
			all, err := s.Catalogue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, en := range all {
				out = append(out, en.Slug)
			}
			return out
		}
		if got := slugs(); !slices.Equal(got, []string{"first", "second", "third"}) {
			t.Errorf("catalogue: %v", got)
		}
		m, err := s.meta(ctx)
		if err != nil || m.Count != 3 || m.Generation == 0 {
			t.Errorf("counter: %+v %v", m, err)
		}
		if _, err := s.UpdateCourse(ctx, "c-first", func(c *courses.Course) error { c.Slug = "renamed"; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := slugs(); !slices.Equal(got, []string{"renamed", "second", "third"}) {
			t.Errorf("catalogue after an update: %v", got)
		}
		if err := db.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		again, err := s.meta(ctx)
		if err != nil || again.Count != 3 || again.Generation <= m.Generation {
			t.Errorf("counter after a second rebuild: %+v %v", again, err)
		}
		if got := slugs(); !slices.Equal(got, []string{"renamed", "second", "third"}) {
			t.Errorf("catalogue after a second rebuild: %v", got)
		}
	})
}
