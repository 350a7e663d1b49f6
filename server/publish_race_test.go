package server_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
)

// gate holds a publisher just before it stores its version, after it
// recorded its media uses, so a test can let another publisher win.
type gate struct{ arrived, release chan struct{} }

func newGate() *gate { return &gate{arrived: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) wait() { g.arrived <- struct{}{}; <-g.release }

type gatedCourses struct {
	courses.Store
	g *gate
}

func (s gatedCourses) InsertVersion(ctx context.Context, v courses.Version) error {
	s.g.wait()
	return s.Store.InsertVersion(ctx, v)
}

type gatedQuizzes struct {
	assessments.Store
	g *gate
}

func (s gatedQuizzes) InsertVersion(ctx context.Context, v assessments.Version) error {
	s.g.wait()
	return s.Store.InsertVersion(ctx, v)
}

// arrive waits until the gated publisher reached its gate, or failed.
func arrive(t *testing.T, g *gate, failed <-chan error) {
	t.Helper()
	select {
	case <-g.arrived:
	case err := <-failed:
		t.Fatalf("the first publisher ended before storing its version: %v", err)
	}
}

// unaccountedUses lists the uses of org A's assets whose version does not
// show the asset, reading the versions from the store.
func unaccountedUses(t *testing.T, e *env) []string {
	t.Helper()
	ctx := context.Background()
	lib, err := e.db.Assets().Library(ctx, e.orgA.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range lib.Items {
		a, err := e.db.Assets().Asset(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range a.Uses {
			if !e.versionShows(u.Ref, a.ID) {
				out = append(out, a.ID+" "+u.Ref)
			}
		}
	}
	return out
}

// versionShows reads the course or quiz version ref names and says
// whether it shows asset id.
func (e *env) versionShows(ref, id string) bool {
	ctx := context.Background()
	kind, v, _ := strings.Cut(ref, ":")
	at := strings.LastIndexByte(v, '@')
	n, err := strconv.Atoi(v[at+1:])
	if at < 0 || err != nil {
		return false
	}
	switch kind {
	case "course":
		ver, err := e.db.Courses().Version(ctx, v[:at], n)
		_, ok := ver.Media[id]
		return err == nil && ok
	case "quiz":
		ver, err := e.db.Assessments().Version(ctx, v[:at], n)
		for _, q := range ver.Questions {
			for _, o := range q.Options {
				if err == nil && o.Image == id {
					return true
				}
			}
		}
	}
	return false
}

// TestCoursePublishRace: two instances publish one course at once and so
// compute the same version number and the same use reference. The loser
// removes its uses of the media the winner does not show, and no other:
// afterwards every use is accounted for by a stored version, and the media
// only the loser showed can be deleted.
func TestCoursePublishRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	trainer := e.token("a-trainer")
	up := func(seed uint64) string {
		return e.mustUpload(trainer, formFile{name: "p.png", data: pngFile(t, 8, 8, seed)})["id"].(string)
	}
	x, y, z := up(21), up(22), up(23)
	body := func(pic, pic2 string) map[string]any {
		d := draft("racing", pic, false)
		l := d["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)
		l["blocks"] = append(l["blocks"].([]any), map[string]any{"id": "pic2", "kind": "image", "media": pic2, "alt": "active.pic.alt"})
		return d
	}
	id := e.mustCreateCourse(trainer, body(x, y))["id"].(string)
	actor := accounts.Actor{UserID: e.trainerA.ID, OrgID: e.orgA.ID, Role: accounts.RoleTrainer}

	g := newGate()
	first := courses.NewService(gatedCourses{e.db.Courses(), g}, e.media, courses.DefaultConfig, e.clock.Now, discardLogger())
	second := newEnvOn(t, e).courses
	failed := make(chan error, 1)
	go func() { _, err := first.Publish(ctx, actor, id, 1); failed <- err }()
	arrive(t, g, failed) // revision 1 (x, y) recorded as version 1's uses
	if r := e.do(req{method: "PUT", path: "/api/v1/courses/" + id, token: trainer, body: withRevision(body(z, y), 1)}); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	v, err := second.Publish(ctx, actor, id, 2) // revision 2 (z, y) wins number 1
	if err != nil || v.Number != 1 {
		t.Fatalf("second publisher: %+v %v", v.Number, err)
	}
	close(g.release)
	if err := <-failed; !errors.Is(err, courses.ErrStale) {
		t.Fatalf("first publisher: %v, want ErrStale", err)
	}

	if left := unaccountedUses(t, e); len(left) != 0 {
		t.Errorf("uses no version accounts for: %v", left)
	}
	if err := e.media.Delete(ctx, actor, x); err != nil {
		t.Errorf("delete the media only the loser showed: %v", err)
	}
	for _, id := range []string{y, z} {
		if err := e.media.Delete(ctx, actor, id); !errors.Is(err, assets.ErrInUse) {
			t.Errorf("delete media the published version shows: %v", err)
		}
	}
}

// TestQuizPublishRace: the same for quizzes: the bank changed a picture
// between two publishes of one quiz revision.
func TestQuizPublishRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	trainer := e.token("a-trainer")
	x := e.mustUpload(trainer, formFile{name: "x.png", data: pngFile(t, 8, 8, 31)})["id"].(string)
	z := e.mustUpload(trainer, formFile{name: "z.png", data: pngFile(t, 8, 8, 32)})["id"].(string)
	withImage := func(img string) map[string]any {
		b := bank()
		b["questions"].([]any)[0].(map[string]any)["options"].([]any)[1].(map[string]any)["image"] = img
		return b
	}
	bk := e.mustPost(trainer, "/api/v1/banks", withImage(x), 201)["id"].(string)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(bk, nil), 201)["id"].(string)
	actor := accounts.Actor{UserID: e.trainerA.ID, OrgID: e.orgA.ID, Role: accounts.RoleTrainer}

	g := newGate()
	first := assessments.NewService(gatedQuizzes{e.db.Assessments(), g}, e.media, 0, e.clock.Now, discardLogger())
	second := newEnvOn(t, e).assess
	failed := make(chan error, 1)
	go func() { _, _, err := first.PublishQuiz(ctx, actor, q, 1); failed <- err }()
	arrive(t, g, failed)
	nb := withImage(z)
	nb["revision"] = 1
	if r := e.do(req{method: "PUT", path: "/api/v1/banks/" + bk, token: trainer, body: nb}); r.status != 200 {
		t.Fatalf("update bank: %d %s", r.status, r.body)
	}
	if v, _, err := second.PublishQuiz(ctx, actor, q, 1); err != nil || v.Number != 1 {
		t.Fatalf("second publisher: %v", err)
	}
	close(g.release)
	if err := <-failed; !errors.Is(err, pathways.ErrConflict) {
		t.Fatalf("first publisher: %v, want a conflict", err)
	}
	if left := unaccountedUses(t, e); len(left) != 0 {
		t.Errorf("uses no version accounts for: %v", left)
	}
	if err := e.media.Delete(ctx, actor, x); err != nil {
		t.Errorf("delete the picture only the loser showed: %v", err)
	}
	if err := e.media.Delete(ctx, actor, z); !errors.Is(err, assets.ErrInUse) {
		t.Errorf("delete the picture the published version shows: %v", err)
	}
}

// TestCleanRemovesUsesOfMissingVersions: a publisher that crashed after
// recording its uses leaves uses of a version that was never stored. The
// media clean-up leaves them alone while they are young (the publisher may
// be about to store it), then removes them, so the media can be deleted;
// uses of stored versions stay.
func TestCleanRemovesUsesOfMissingVersions(t *testing.T) {
	e := newEnv(t)
	e.media.CheckUses(courses.UseRefPrefix, e.courses.ShowsMedia)
	e.media.CheckUses(assessments.UseRefPrefix, e.assess.ShowsMedia)
	ctx := context.Background()
	trainer := e.token("a-trainer")
	shown := e.mustUpload(trainer, formFile{name: "s.png", data: pngFile(t, 8, 8, 41)})["id"].(string)
	orphan := e.mustUpload(trainer, formFile{name: "o.png", data: pngFile(t, 8, 8, 42)})["id"].(string)
	id := e.mustCreateCourse(trainer, draft("crashing", shown, false))["id"].(string)
	e.mustPublish(trainer, id, 1)
	// What a crashed publisher of version 2 and of a quiz left.
	for _, ref := range []string{courses.UseRef(id, 2), assessments.UseRef("0190f1e2-0000-7000-8000-00000000dead", 1)} {
		for _, a := range []string{shown, orphan} {
			if _, err := e.media.AddUse(ctx, a, assets.Use{Ref: ref, OrgID: e.orgA.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	actor := accounts.Actor{UserID: e.trainerA.ID, OrgID: e.orgA.ID, Role: accounts.RoleTrainer}
	if r, err := e.media.Clean(ctx); err != nil || r.StaleUses != 0 {
		t.Fatalf("clean while the uses are young: %+v %v", r, err)
	}
	if err := e.media.Delete(ctx, actor, orphan); !errors.Is(err, assets.ErrInUse) {
		t.Fatalf("delete while a young use is there: %v", err)
	}
	e.clock.Advance(pathways.ClaimGrace + time.Minute)
	if r, err := e.media.Clean(ctx); err != nil || r.StaleUses != 4 {
		t.Fatalf("clean once the uses are old: %+v %v", r, err)
	}
	if err := e.media.Delete(ctx, actor, orphan); err != nil {
		t.Errorf("delete after the clean-up: %v", err)
	}
	a, err := e.db.Assets().Asset(ctx, shown)
	if err != nil || len(a.Uses) != 1 || a.Uses[0].Ref != courses.UseRef(id, 1) {
		t.Errorf("the published version's use: %+v %v", a.Uses, err)
	}
	if r, err := e.media.Clean(ctx); err != nil || r.StaleUses != 0 {
		t.Errorf("second clean: %+v %v", r, err)
	}
}
