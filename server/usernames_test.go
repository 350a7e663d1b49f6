package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// TestLookalikeUsernames: invisible characters are refused, and so is a
// name that looks like an existing one (its TR39 skeleton is taken), with a
// translated message that does not say which; single-script names of any
// script stay allowed, and everyone still signs in as before.
func TestLookalikeUsernames(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	create := func(name string, lang string) response {
		t.Helper()
		h := map[string]string{}
		if lang != "" {
			h["Accept-Language"] = lang
		}
		return e.do(req{method: "POST", path: "/api/v1/users", token: edu, header: h,
			body: map[string]any{"orgId": e.orgA.ID, "username": name, "role": "learner", "pin": "7391"}})
	}
	for _, name := range []string{
		"adma", "олена", "أميرة", "ዮናስ", "می\u200cخواهم", "علي", "अमित", "dmitro", "дмитро",
	} {
		if r := create(name, ""); r.status != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, r.status, r.body)
		}
	}
	for _, tt := range []struct{ name, code string }{
		{"аdmа", "confusable"},    // Cyrillic а in "adma"
		{"adrna", "confusable"},   // rn for m
		{"ADMA", "taken"},         // the same name
		{"علی", "confusable"},     // Persian yeh for Arabic yeh
		{"میخواهم", "confusable"}, // without the non-joiner
		{"olena", "taken-not"},    // Latin vs Cyrillic "олена": they do not look alike
		{"ad\u034fma", "username_invisible"},
		{"adma\ufe0f", "username_invisible"},
		{"\u3164adma", "username_invisible"},
		{"ad\u00adma", "username_invisible"},
		{"\u200cadma", "username_invisible"},
	} {
		r := create(tt.name, "")
		if tt.code == "taken-not" {
			if r.status != http.StatusCreated {
				t.Errorf("create %q: %d %s", tt.name, r.status, r.body)
			}
			continue
		}
		p := wantProblem(t, r, 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"username:" + tt.code}) {
			t.Errorf("create %q: %v, want username:%s", tt.name, got, tt.code)
		}
	}

	// The message is translated and names no user.
	for _, lang := range []string{"en", "fr", "ar", "uk", "fa"} {
		p := wantProblem(t, create("аdmа", lang), 422, "validation")
		msg, _ := p["errors"].([]any)[0].(map[string]any)["detail"].(string)
		if msg == "" || strings.Contains(msg, "adma") || strings.Contains(msg, "{{") {
			t.Errorf("%s: message %q", lang, msg)
		}
		if lang != "en" && strings.Contains(msg, "looks like") {
			t.Errorf("%s: message not translated: %q", lang, msg)
		}
	}

	// Sign-in is unchanged, for the new names and the seeded ones.
	for _, name := range []string{"adma", "ADMA", "می\u200cخواهم", "علي", "олена"} {
		e.login(name, "7391")
	}
	e.token("a-learner")
}

// TestClaimsOfCrashedCreates: a username and a course slug claimed by
// creates that crashed before storing their user or course are refused
// while the claims are fresh, free once they are older than the grace, and
// the background jobs remove such claims.
func TestClaimsOfCrashedCreates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	crash := func(collection, key string) {
		t.Helper()
		err := e.db.Engine().Insert(ctx, collection, key, map[string]any{
			"owner": "0190f1e2-0000-7000-8000-00000000dead", "claimed_at": e.clock.Now().UnixMilli(), "pending": true})
		if err != nil {
			t.Fatal(err)
		}
	}
	crash("usernames", "samir")
	crash("usernames", "swept")
	crash("course_slugs", e.orgA.ID+"/crashing")
	crash("course_slugs", e.orgA.ID+"/swept")
	edu, trainer := e.token("a-edu"), e.token("a-trainer")
	img := e.mustUpload(trainer, formFile{name: "p.png", data: pngFile(t, 8, 8, 51)})["id"].(string)
	createUser := func() response {
		return e.do(req{method: "POST", path: "/api/v1/users", token: edu,
			body: map[string]any{"orgId": e.orgA.ID, "username": "Samir", "role": "learner", "pin": "7391"}})
	}
	createCourse := func() response {
		return e.do(req{method: "POST", path: "/api/v1/courses", token: trainer, body: draft("crashing", img, false)})
	}
	if got := fieldCodes(wantProblem(t, createUser(), 422, "validation")); !slices.Equal(got, []string{"username:taken"}) {
		t.Fatalf("fresh username claim: %v", got)
	}
	wantProblem(t, createCourse(), 409, "slug-taken")

	e.clock.Advance(pathways.ClaimGrace + time.Minute)
	if r := createUser(); r.status != http.StatusCreated {
		t.Fatalf("username of a crashed create, later: %d %s", r.status, r.body)
	}
	e.login("samir", "7391")
	if r := createCourse(); r.status != http.StatusCreated {
		t.Fatalf("slug of a crashed create, later: %d %s", r.status, r.body)
	}
	if r, err := e.acc.Prune(ctx); err != nil || r.StaleClaims != 1 {
		t.Errorf("prune: %+v %v, want the one stale username claim", r, err)
	}
	if n, err := e.courses.SweepSlugs(ctx); err != nil || n != 1 {
		t.Errorf("slug sweep: %d %v, want the one stale slug claim", n, err)
	}
	for _, c := range [][2]string{{"usernames", "swept"}, {"course_slugs", e.orgA.ID + "/swept"}} {
		if _, err := e.db.Engine().Get(ctx, c[0], c[1], &map[string]any{}); err == nil {
			t.Errorf("%s %s survived the sweep", c[0], c[1])
		}
	}
}

// TestBackfillSkeletons: users made before skeletons were claimed get
// theirs at start-up, so a lookalike of their name is refused too; two
// such names that already look alike both keep working; a second run does
// nothing.
func TestBackfillSkeletons(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	edu := e.token("a-edu")
	create := func(name string) response {
		return e.do(req{method: "POST", path: "/api/v1/users", token: edu,
			body: map[string]any{"orgId": e.orgA.ID, "username": name, "role": "learner", "pin": "7391"}})
	}
	unclaim := func(name string) {
		if err := e.db.Engine().Delete(ctx, "username_skeletons", accounts.Skeleton(name), docdb.AnyRev); err != nil {
			t.Fatal(err)
		}
	}
	// Made "before": no skeleton claims.
	if r := create("adma"); r.status != http.StatusCreated {
		t.Fatal(r.status)
	}
	unclaim("adma")
	if r := create("adrna"); r.status != http.StatusCreated {
		t.Fatal(r.status)
	}
	unclaim("adrna")
	users, lookalikes, err := e.acc.BackfillSkeletons(ctx)
	if err != nil || users != 9 || len(lookalikes) != 1 {
		t.Fatalf("backfill: %d users, lookalikes %v, %v", users, lookalikes, err)
	}
	if got := fieldCodes(wantProblem(t, create("аdmа"), 422, "validation")); !slices.Equal(got, []string{"username:confusable"}) {
		t.Errorf("lookalike after the backfill: %v", got)
	}
	e.login("adma", "7391")
	e.login("adrna", "7391")
	if users, _, err := e.acc.BackfillSkeletons(ctx); err != nil || users != 0 {
		t.Errorf("second backfill: %d %v", users, err)
	}
}
