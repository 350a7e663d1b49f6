package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
	"github.com/pathways-lms/pathways/storage/stores"
)

// newInstance is a second server process on first's database, media
// store and clock: its own database handle (dbtest.Second, as another
// process opens the same SQLite file or MongoDB), its own services,
// caches and locks. Unlike newEnvOn it shares nothing in memory with
// first but the blob store client.
func newInstance(t *testing.T, first *env) *env {
	t.Helper()
	e := *first
	e.t, e.logs = t, &bytes.Buffer{}
	e.db = stores.New(dbtest.Second(t, first.db.Engine(), stores.Schema()))
	e.build()
	return &e
}

// TestTwoInstances: two servers on one database and one MinIO, a load
// balancer's view: whichever instance answers, a learner's token and
// refresh work, sign-in limits count every failure, submits are
// idempotent and counted once, concurrent course creates all land in the
// catalogue both instances serve, and media uploaded through one are
// served by the other.
func TestTwoInstances(t *testing.T) {
	a := newMediaEnv(t, miniotest.NewS3(t), nil, assets.DefaultConfig)
	b := newInstance(t, a)
	both := []*env{a, b}

	// A token from A works on B; a refresh on B rotates it; a retry of
	// the old refresh token on A gets the same successor.
	s := a.login("a-learner", fixturePIN)
	if r := b.do(req{method: "GET", path: "/api/v1/me", token: s["accessToken"].(string)}); r.status != 200 {
		t.Fatalf("A's token on B: %d %s", r.status, r.body)
	}
	r1 := refresh(b, s["refreshToken"].(string))
	if r1.status != 200 {
		t.Fatalf("refresh on B: %d %s", r1.status, r1.body)
	}
	if r := refresh(a, s["refreshToken"].(string)); r.status != 200 || r.json(t)["refreshToken"] != r1.json(t)["refreshToken"] {
		t.Fatalf("retried refresh on A: %d %s", r.status, r.body)
	}

	// Five wrong PINs, alternating instances and sent at once, lock the
	// account on both: none of the failures is lost.
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			r := both[i%2].do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "b-learner", "password": "0000"}})
			if r.status != http.StatusUnauthorized {
				t.Errorf("wrong PIN: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	for _, e := range both {
		r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "b-learner", "password": fixturePIN}})
		if r.status == 200 {
			t.Errorf("the right PIN after five failures on two instances signed in: the lock was lost")
		}
	}

	// Submits of one attempt on both instances at once agree, and the
	// statistics count it once.
	trainer, learner := a.token("a-trainer"), a.token("a-learner")
	quizID := a.publishedQuiz(trainer, nil)
	id := "0190f1e2-0000-7000-8000-0000000f0001"
	a.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
	if r := answer(b, learner, id, "b1.who", "1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("save on B: %d %s", r.status, r.body)
	}
	submitted := make([]any, 8)
	for i := range submitted {
		wg.Go(func() {
			r := both[i%2].do(req{method: "POST", path: "/api/v1/attempts/" + id + "/submit", token: learner})
			submitted[i] = r.json(t)["submittedAt"]
		})
	}
	wg.Wait()
	for _, at := range submitted {
		if at == nil || at != submitted[0] {
			t.Fatalf("submits on two instances disagree: %v", submitted)
		}
	}
	for _, e := range both {
		st := e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/versions/1/stats", token: trainer}).json(t)
		if n := st["items"].([]any)[0].(map[string]any)["n"]; n != 1.0 {
			t.Errorf("statistics counted the attempt %v times", n)
		}
	}

	// Courses created at once on both instances all reach the catalogue
	// each instance lists.
	img := a.mustUpload(trainer, formFile{name: "p.png", data: pngFile(t, 8, 8, 61)})["id"].(string)
	const creates = 10
	for i := range creates {
		wg.Go(func() {
			r := both[i%2].do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft(fmt.Sprint("two-", i), img, false)})
			if r.status != http.StatusCreated {
				t.Errorf("create on instance %d: %d %s", i%2, r.status, r.body)
			}
		})
	}
	wg.Wait()
	for name, e := range map[string]*env{"A": a, "B": b} {
		list := e.do(req{method: "GET", path: "/api/v1/courses?limit=200", token: trainer}).json(t)["items"].([]any)
		n := 0
		for _, c := range list {
			if slug, _ := c.(map[string]any)["slug"].(string); len(slug) > 4 && slug[:4] == "two-" {
				n++
			}
		}
		if n != creates {
			t.Errorf("instance %s lists %d of the %d courses created", name, n, creates)
		}
	}

	// Media uploaded through A are served by B.
	png := pngFile(t, 16, 16, 62)
	mid := a.mustUpload(trainer, formFile{name: "shared.png", data: png})["id"].(string)
	if r := b.do(req{method: "GET", path: "/media/" + mid, token: trainer}); r.status != 200 || sha(r.body) != sha(png) {
		t.Errorf("A's upload through B: %d", r.status)
	}
}
