package ferretmove

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/storage/ferretmove/movetest"
	"github.com/pathways-lms/pathways/storage/mongodb/embedded"
	"github.com/pathways-lms/pathways/storage/sqlite"
	"github.com/pathways-lms/pathways/storage/stores"
)

// fixture is a data directory holding the old database (see movetest).
func fixture(t *testing.T) string { return movetest.DataDir(t) }

// withOld runs fn on the old database of dir through FerretDB, as the old
// server did: the oracle the tests compare with, and how they plant what
// a move must refuse.
func withOld(t *testing.T, dir string, fn func(db *mongo.Database)) {
	t.Helper()
	srv, err := embedded.Start(t.Context(), embedded.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.WithoutCancel(t.Context()))
	fn(client.Database("pathways"))
}

var (
	oracleOnce sync.Once
	oracleIDs  map[string][]string // the old database's ids, by collection
)

// oldIDs reads the ids of every old collection, from a fixture of its own.
func oldIDs(t *testing.T) map[string][]string {
	t.Helper()
	oracleOnce.Do(func() {
		ids := map[string][]string{}
		withOld(t, fixture(t), func(db *mongo.Database) {
			names, err := db.ListCollectionNames(t.Context(), bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				cur, err := db.Collection(n).Find(t.Context(), bson.D{})
				if err != nil {
					t.Fatal(err)
				}
				var docs []struct {
					ID string `bson:"_id"`
				}
				if err := cur.All(t.Context(), &docs); err != nil {
					t.Fatal(err)
				}
				ids[n] = []string{}
				for _, d := range docs {
					ids[n] = append(ids[n], d.ID)
				}
			}
		})
		oracleIDs = ids
	})
	if oracleIDs == nil {
		t.Fatal("no oracle")
	}
	return oracleIDs
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// openMoved opens the moved database as the server does.
func openMoved(t *testing.T, dir string) *stores.DB {
	t.Helper()
	e, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(dir, sqlite.FileName)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	db := stores.New(e)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMove moves the fixture and uses the result through the stores and
// the services: every document is there, under its id, and works.
func TestMove(t *testing.T) {
	ctx := t.Context()
	want := oldIDs(t)
	dir := fixture(t)
	before := fileHash(t, OldFile(dir, "pathways"))
	// What an interrupted earlier run left is cleared first.
	if err := os.WriteFile(filepath.Join(dir, sqlite.FileName+".moving"), []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".pathways-move-123", "pathways.sqlite"), 0o700); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	rep, err := Move(ctx, Options{DataDir: dir, DBName: "pathways", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("report and files", func(t *testing.T) {
		for coll, ids := range want {
			l, ok := stores.Legacy(coll)
			if !ok {
				t.Errorf("fixture collection %s unknown", coll)
				continue
			}
			got, counted := rep.Moved[coll]
			if l.Rebuilt() {
				got, counted = rep.Skipped[coll]
			}
			if !counted || got != len(ids) {
				t.Errorf("%s: reported %d (%v), the old database has %d", coll, got, counted, len(ids))
			}
		}
		if len(rep.Moved)+len(rep.Skipped) != len(want) {
			t.Errorf("report: %d moved + %d skipped, %d old collections", len(rep.Moved), len(rep.Skipped), len(want))
		}
		backup := OldFile(dir, "pathways") + ".moved-20261204T103000"
		if rep.Backup != backup || rep.File != filepath.Join(dir, sqlite.FileName) {
			t.Errorf("report: backup %s, file %s", rep.Backup, rep.File)
		}
		if got := fileHash(t, backup); got != before {
			t.Error("the backup is not the old file as it was")
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{sqlite.FileName, "pathways.sqlite.moved-20261204T103000"}) {
			t.Errorf("data directory after the move: %v", names)
		}
	})

	db := openMoved(t, dir)
	e := db.Engine()

	t.Run("every document under its id", func(t *testing.T) {
		for coll, ids := range want {
			if l, _ := stores.Legacy(coll); l.Rebuilt() {
				continue
			}
			for _, id := range ids {
				var doc map[string]any
				if _, err := e.Get(ctx, coll, id, &doc); err != nil {
					t.Errorf("%s %s: %v", coll, id, err)
				}
			}
			n, err := count(ctx, e, coll)
			if err != nil || n != len(ids) {
				t.Errorf("%s: %d documents (%v), the old database has %d", coll, n, err, len(ids))
			}
		}
	})

	store := db.Accounts()
	key, err := store.Secret(ctx, "jwt", func() ([]byte, error) { return nil, errors.New("the old key was lost") })
	if err != nil || len(key) < 32 {
		t.Fatalf("signing key: %d bytes, %v", len(key), err)
	}
	tokens, err := accounts.NewTokenIssuer(key, 15*time.Minute, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.NewService(ctx, store, accounts.NewHasher(accounts.DefaultHashParams), tokens, key, accounts.DefaultConfig, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]accounts.Actor{}

	t.Run("accounts", func(t *testing.T) {
		if a, err := store.Attempts(ctx, "user:learner2"); err != nil || a.Failures != 1 || a.WindowStart.IsZero() {
			t.Errorf("learner2's failed sign-in: %+v %v", a, err)
		}
		if ok, err := store.Flag(ctx, "admin-bootstrapped"); err != nil || !ok {
			t.Errorf("admin-bootstrapped flag: %v %v", ok, err)
		}
		for _, c := range []struct{ username, secret string }{
			{"admin", movetest.AdminPassword}, {"edu1", movetest.EduPassword}, {"learner1", movetest.Learner1PIN}, {"learner2", movetest.Learner2PIN},
		} {
			sess, err := acc.Login(ctx, c.username, c.secret, "127.0.0.1")
			if err != nil {
				t.Errorf("sign-in of %s: %v", c.username, err)
				continue
			}
			actor, err := acc.Authenticate(ctx, sess.AccessToken)
			if err != nil {
				t.Errorf("token of %s: %v", c.username, err)
			}
			actors[c.username] = actor
		}
		if _, err := acc.Login(ctx, "learner1", "0000", "127.0.0.1"); !errors.Is(err, accounts.ErrLoginFailed) {
			t.Errorf("a wrong PIN: %v", err)
		}
		orgs, err := store.Organisations(ctx, pathways.Page{Limit: 10})
		if err != nil || len(orgs) != 2 || orgs[1].Slug != "move-test" || orgs[0].CreatedAt.After(orgs[1].CreatedAt) {
			t.Fatalf("organisations in creation order: %+v %v", orgs, err)
		}
		roster, err := store.Roster(ctx, orgs[1].ID, pathways.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var members []string
		for _, m := range roster {
			members = append(members, m.Username)
		}
		if !slices.Equal(members, []string{"trainer1", "learner1", "learner2", "edu1"}) {
			t.Errorf("roster of move-test: %v", members)
		}
		for _, name := range []string{"admin", "trainer1", "learner1", "learner2", "edu1"} {
			if u, err := store.UserByUsername(ctx, name); err != nil || u.Username != name {
				t.Errorf("user %s: %+v %v", name, u, err)
			}
		}
		// The claims came along: a taken name and a lookalike of one are refused.
		u := accounts.User{ID: "01a23f00-0000-7000-8000-000000000001", OrgID: orgs[1].ID, Username: "learner1", UsernameKey: "learner1",
			Role: accounts.RoleLearner, Credential: accounts.CredentialPIN, CreatedAt: time.Now()}
		if err := store.CreateUser(ctx, u); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("a second learner1: %v", err)
		}
		u.Username, u.UsernameKey = "learnerl", "learnerl"
		if accounts.Skeleton("learnerl") != accounts.Skeleton("learner1") {
			t.Fatal("learnerl is no lookalike of learner1")
		}
		if err := store.CreateUser(ctx, u); !errors.Is(err, accounts.ErrLookalike) {
			t.Errorf("a lookalike of learner1: %v", err)
		}
	})

	t.Run("courses", func(t *testing.T) {
		crs := courses.NewService(db.Courses(), nil, courses.DefaultConfig, time.Now, slog.New(slog.DiscardHandler))
		learner := actors["learner1"]
		views, total, err := crs.Catalogue(ctx, learner, courses.Filter{}, []string{"en"}, pathways.Page{Limit: 20})
		if err != nil || total != 3 || len(views) != 3 {
			t.Fatalf("catalogue: %d of %d, %v", len(views), total, err)
		}
		for _, id := range want["courses"] {
			c, err := db.Courses().Course(ctx, id)
			if err != nil || c.Published != 1 {
				t.Fatalf("course %s: published %d, %v", id, c.Published, err)
			}
			v, err := db.Courses().Version(ctx, id, 1)
			if err != nil || v.Course.ID != id || len(v.Course.Modules) == 0 || len(v.Course.Modules[0].Lessons) == 0 {
				t.Fatalf("version 1 of %s: %v", id, err)
			}
			lesson := v.Course.Modules[0].Lessons[0].ID
			if lv, err := crs.Lesson(ctx, learner, id, 1, lesson, []string{"en"}); err != nil || lv.CourseID != id {
				t.Errorf("lesson %s of %s: %v", lesson, id, err)
			}
			if err := crs.SlugFree(ctx, c.OrgID, c.Slug); !errors.Is(err, courses.ErrSlugTaken) {
				t.Errorf("slug %s of a moved course: %v, want taken", c.Slug, err)
			}
		}
	})

	t.Run("assessments", func(t *testing.T) {
		as := assessments.NewService(db.Assessments(), nil, 0, time.Now, slog.New(slog.DiscardHandler))
		q, err := as.Quiz(ctx, actors["admin"], movetest.QuizID)
		if err != nil || q.Published != 1 {
			t.Fatalf("quiz: published %d, %v", q.Published, err)
		}
		if v, err := db.Assessments().Version(ctx, movetest.QuizID, 1); err != nil || len(v.Questions) == 0 {
			t.Fatalf("quiz version 1: %d questions, %v", len(v.Questions), err)
		}
		banks, err := as.Banks(ctx, actors["admin"], q.OrgID, pathways.Page{Limit: 10})
		if err != nil || len(banks) != 1 {
			t.Errorf("banks: %d, %v", len(banks), err)
		}
		v1, err := as.View(ctx, actors["learner1"], movetest.Attempt1, []string{"en"})
		if err != nil || v1.Submitted == nil {
			t.Fatalf("learner1's attempt: %+v %v", v1, err)
		}
		p, err := as.Progress(ctx, actors["learner1"], movetest.QuizID)
		if err != nil || len(p.Attempts) != 1 || p.Grade == nil || *p.Grade != 0.5 {
			t.Errorf("learner1's progress: %+v %v", p, err)
		}
		a2, err := db.Assessments().Attempt(ctx, movetest.Attempt2)
		if err != nil || !a2.Submitted.IsZero() || len(a2.Answers) != 1 {
			t.Fatalf("learner2's open attempt: %+v %v", a2, err)
		}
		done, err := as.SubmitAttempt(ctx, actors["learner2"], movetest.Attempt2)
		if err != nil || done.Submitted.IsZero() {
			t.Errorf("learner2 submits the moved attempt: %v", err)
		}
	})

	t.Run("media", func(t *testing.T) {
		lib, err := db.Assets().Library(ctx, movetest.DemoOrg)
		if err != nil || len(lib.Items) != len(want["media_assets"]) {
			t.Errorf("library: %d items, %v", len(lib.Items), err)
		}
		for _, id := range want["media_assets"] {
			a, err := db.Assets().Asset(ctx, id)
			if err != nil {
				t.Errorf("asset %s: %v", id, err)
				continue
			}
			b, err := db.Assets().Blob(ctx, a.SHA256)
			if err != nil || !slices.Contains(b.Assets, id) || b.Key != a.BlobKey {
				t.Errorf("blob record of %s: %+v %v", id, b, err)
			}
		}
	})

	if _, err := Move(ctx, Options{DataDir: dir, DBName: "pathways"}); !errors.Is(err, ErrMoved) {
		t.Errorf("a second move: %v, want ErrMoved", err)
	}
}

// TestMoveFailsWhole: a move that cannot carry everything over (a
// collection this version does not know, a field its document has no
// place for, found after other collections were copied) moves nothing:
// the old file is as it was, and there is no new file.
func TestMoveFailsWhole(t *testing.T) {
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, db *mongo.Database)
		want  string
	}{
		{"unknown collection", func(t *testing.T, db *mongo.Database) {
			if _, err := db.Collection("surprise").InsertOne(t.Context(), bson.D{{Key: "_id", Value: "x"}}); err != nil {
				t.Fatal(err)
			}
		}, "surprise"},
		{"field without a place", func(t *testing.T, db *mongo.Database) {
			_, err := db.Collection("users").UpdateOne(t.Context(), bson.D{{Key: "username", Value: "learner1"}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "nickname", Value: "L1"}}}})
			if err != nil {
				t.Fatal(err)
			}
		}, "nickname"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := fixture(t)
			withOld(t, dir, func(db *mongo.Database) { c.plant(t, db) })
			old := OldFile(dir, "pathways")
			hashes := map[string]string{}
			for _, s := range sqliteSuffixes {
				if _, err := os.Stat(old + s); err == nil {
					hashes[s] = fileHash(t, old+s)
				}
			}
			_, err := Move(t.Context(), Options{DataDir: dir, DBName: "pathways"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("move: %v, want an error naming %s", err, c.want)
			}
			for s, h := range hashes {
				if fileHash(t, old+s) != h {
					t.Errorf("the old %s%s changed", old, s)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), "pathways.sqlite") {
					t.Errorf("left in the data directory: %s", e.Name())
				}
			}
		})
	}
}

// TestMoveNothing: a directory without an old database is no move.
func TestMoveNothing(t *testing.T) {
	if _, err := Move(t.Context(), Options{DataDir: t.TempDir(), DBName: "pathways"}); err == nil || errors.Is(err, ErrMoved) {
		t.Errorf("move of an empty directory: %v", err)
	}
}

// BenchmarkMove moves the fixture (about 100 documents, 1.3 MB): FerretDB's
// start on the copy, the reads, the inserts and the checks.
func BenchmarkMove(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		dir := movetest.DataDir(b)
		b.StartTimer()
		if _, err := Move(b.Context(), Options{DataDir: dir, DBName: movetest.DBName}); err != nil {
			b.Fatal(err)
		}
	}
}
