package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// fixture is what set-up made through the API: an organisation, its
// trainer's published course and quiz, an educator, and signed-in
// learners.
type fixture struct {
	run      string // this run's tag, in every name it made
	orgID    string
	courseID string
	version  int
	lessons  []string // lesson paths of the published version, ?lang=ar
	quizID   string
	learners []*session
}

// Course shape: modules × lessons, each lesson textBlocks blocks of text
// in English and Arabic. The last lesson also shows the quiz.
const (
	modules, lessonsPerModule, textBlocks = 2, 4, 5
	questions                             = 20
	learnerPIN                            = "739164"
)

var lessonText = strings.Repeat("When someone speaks to you, **look at them** and nod. Ask a question if you are not sure. ", 6)
var lessonTextAr = strings.Repeat("عندما يتحدث إليك أحد، **انظر إليه** وأومئ برأسك. اسأل سؤالًا إن لم تكن متأكدًا. ", 6)

// setUp builds the fixture with admin's credentials, creating n
// learners and signing them in, at most par requests at once.
func setUp(ctx context.Context, c *client, admin *session, n, par int, logf func(string, ...any)) (*fixture, error) {
	f := &fixture{run: randomTag()}
	start := time.Now()
	if err := c.login(ctx, nil, admin); err != nil {
		return nil, fmt.Errorf("admin sign-in (set -admin-user/-admin-password or PATHWAYS_ADMIN_USERNAME/PASSWORD): %w", err)
	}
	var org struct{ ID string }
	if _, err := c.do(ctx, nil, call{op: "create organisation", method: "POST", path: "/api/v1/organisations", sess: admin,
		body: map[string]string{"slug": "load-" + f.run, "name": "Load test " + f.run}, want: &org}); err != nil {
		return nil, err
	}
	f.orgID = org.ID
	staffPassword := "load-" + randomTag() + randomTag()
	trainer := &session{username: "trainer-" + f.run, secret: staffPassword}
	educator := &session{username: "educator-" + f.run, secret: staffPassword}
	for _, u := range []struct {
		s    *session
		role string
	}{{trainer, "trainer"}, {educator, "educator"}} {
		if _, err := c.do(ctx, nil, call{op: "create " + u.role, method: "POST", path: "/api/v1/users", sess: admin,
			body: map[string]string{"orgId": f.orgID, "username": u.s.username, "role": u.role, "password": u.s.secret}}); err != nil {
			return nil, err
		}
		if err := c.login(ctx, nil, u.s); err != nil {
			return nil, err
		}
	}

	var bank, quiz struct{ ID string }
	if _, err := c.do(ctx, nil, call{op: "create bank", method: "POST", path: "/api/v1/banks", sess: trainer, body: bankJSON(), want: &bank}); err != nil {
		return nil, err
	}
	if _, err := c.do(ctx, nil, call{op: "create quiz", method: "POST", path: "/api/v1/quizzes", sess: trainer, body: quizJSON(bank.ID), want: &quiz}); err != nil {
		return nil, err
	}
	if _, err := c.do(ctx, nil, call{op: "publish quiz", method: "POST", path: "/api/v1/quizzes/" + quiz.ID + "/publish", sess: trainer,
		body: map[string]int{"revision": 1}}); err != nil {
		return nil, err
	}
	f.quizID = quiz.ID
	var course struct{ ID string }
	var published struct{ Version int }
	if _, err := c.do(ctx, nil, call{op: "create course", method: "POST", path: "/api/v1/courses", sess: trainer,
		body: courseJSON("load-"+f.run, quiz.ID), want: &course}); err != nil {
		return nil, err
	}
	if _, err := c.do(ctx, nil, call{op: "publish course", method: "POST", path: "/api/v1/courses/" + course.ID + "/publish", sess: trainer,
		body: map[string]int{"revision": 1}, want: &published}); err != nil {
		return nil, err
	}
	f.courseID, f.version = course.ID, published.Version
	for m := range modules {
		for l := range lessonsPerModule {
			f.lessons = append(f.lessons, fmt.Sprintf("/api/v1/catalogue/%s/versions/%d/lessons/m%d-l%d?lang=ar", course.ID, f.version, m, l))
		}
	}
	logf("set-up: organisation, trainer, course of %d lessons, %d-question quiz, educator (%s)", len(f.lessons), questions, since(start))

	// Learners: the educator creates them (as an NGO does), then each
	// signs in; both hash the PIN with argon2id, which is what takes time.
	start = time.Now()
	f.learners = make([]*session, n)
	err := parallel(ctx, n, par, func(i int) error {
		s := &session{username: fmt.Sprintf("l%s-%05d", f.run, i), secret: learnerPIN}
		if _, err := c.do(ctx, nil, call{op: "create learner", method: "POST", path: "/api/v1/users", sess: educator,
			body: map[string]string{"id": uuid.NewString(), "orgId": f.orgID, "username": s.username, "role": "learner", "pin": s.secret}}); err != nil {
			return err
		}
		if err := c.login(ctx, nil, s); err != nil {
			return err
		}
		f.learners[i] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	logf("set-up: %d learners created and signed in (%s)", n, since(start))
	return f, nil
}

// parallel runs f(0..n-1) with at most par at once and returns the first
// error.
func parallel(ctx context.Context, n, par int, f func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(par, 1))
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func randomTag() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// bankJSON is a bank of 20 questions of every type the scorer takes.
func bankJSON() map[string]any {
	en := map[string]any{}
	opt := func(q, id string, correct bool) map[string]any {
		key := q + "." + id
		en[key] = "Option " + id
		o := map[string]any{"id": id, "text": key}
		if correct {
			o["correct"] = true
		}
		return o
	}
	types := []string{
		"single", "multiple", "truefalse", "short", "numeric", "matching", "ordering", "blanks", "single", "multiple",
		"truefalse", "short", "numeric", "matching", "ordering", "single", "multiple", "likert", "free", "single",
	}
	var qs []any
	for i, typ := range types {
		id := fmt.Sprintf("q%02d", i+1)
		q := map[string]any{"id": id, "type": typ, "prompt": id + ".prompt"}
		en[id+".prompt"] = fmt.Sprintf("Question %d (%s)", i+1, typ)
		switch typ {
		case "single":
			q["options"] = []any{opt(id, "a", true), opt(id, "b", false), opt(id, "c", false)}
		case "multiple":
			q["options"] = []any{opt(id, "a", true), opt(id, "b", true), opt(id, "c", false)}
			q["partial"] = "proportional"
		case "truefalse":
			q["options"] = []any{map[string]any{"id": "true", "correct": true}, map[string]any{"id": "false"}}
		case "short":
			q["accepted"] = map[string]any{"en": []string{"source"}}
		case "numeric":
			q["numeric"] = map[string]any{"value": 112, "tolerance": 0}
		case "matching":
			q["options"] = []any{opt(id, "a", false), opt(id, "b", false), opt(id, "c", false)}
			q["matches"] = []any{opt(id, "x", false), opt(id, "y", false), opt(id, "z", false)}
			q["pairs"] = map[string]any{"a": "x", "b": "y", "c": "z"}
		case "ordering":
			q["options"] = []any{opt(id, "one", false), opt(id, "two", false), opt(id, "three", false), opt(id, "four", false)}
		case "blanks":
			en[id+".prompt"] = "Check the [[gap]] first."
			q["blanks"] = []any{map[string]any{"id": "gap", "accepted": map[string]any{"*": []string{"source"}}}}
		case "likert":
			q["scale"] = map[string]any{"min": 1, "max": 5}
		}
		qs = append(qs, q)
	}
	return map[string]any{"name": "Load test bank", "defaultLocale": "en", "locales": []string{"en"},
		"questions": qs, "messages": map[string]any{"en": en}}
}

func quizJSON(bankID string) map[string]any {
	ids := make([]string, questions)
	for i := range ids {
		ids[i] = fmt.Sprintf("q%02d", i+1)
	}
	return map[string]any{
		"kind": "quiz", "defaultLocale": "en", "locales": []string{"en"}, "title": "quiz.title",
		"messages": map[string]any{"en": map[string]any{"quiz.title": "Load test quiz"}},
		"picks":    []any{map[string]any{"bank": bankID, "questions": ids}},
		"passMark": 0.5, "attemptLimit": 0, "feedback": "after-submit", "grade": "highest", "shuffleOptions": true,
	}
}

// courseJSON is a course of modules × lessonsPerModule lessons of
// textBlocks blocks, in English and Arabic.
func courseJSON(slug, quizID string) map[string]any {
	en, ar := map[string]any{"course.title": "Talking at work (load test)"}, map[string]any{"course.title": "التواصل في العمل"}
	var mods []any
	for m := range modules {
		mt := fmt.Sprintf("m%d.title", m)
		en[mt], ar[mt] = fmt.Sprintf("Module %d", m+1), fmt.Sprintf("الوحدة %d", m+1)
		var lessons []any
		for l := range lessonsPerModule {
			id := fmt.Sprintf("m%d-l%d", m, l)
			en[id+".title"], ar[id+".title"] = "Lesson "+id, "الدرس "+id
			var blocks []any
			for b := range textBlocks {
				key := fmt.Sprintf("%s.b%d", id, b)
				en[key], ar[key] = lessonText, lessonTextAr
				blocks = append(blocks, map[string]any{"id": fmt.Sprintf("b%d", b), "kind": "text", "text": key})
			}
			if m == modules-1 && l == lessonsPerModule-1 {
				blocks = append(blocks, map[string]any{"id": "quiz", "kind": "quiz", "quiz": quizID})
			}
			lessons = append(lessons, map[string]any{"id": id, "title": id + ".title", "minutes": 6, "blocks": blocks})
		}
		mods = append(mods, map[string]any{"id": fmt.Sprintf("m%d", m), "title": mt, "lessons": lessons})
	}
	return map[string]any{
		"slug": slug, "topic": "soft-skills", "audiences": []string{"young-refugees"}, "level": "beginner",
		"defaultLocale": "en", "locales": []string{"en", "ar"}, "title": "course.title", "modules": mods,
		"messages": map[string]any{"en": en, "ar": ar},
	}
}
