package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// bank is a bank of four scored questions and a survey question, in
// English and Arabic.
func bank() map[string]any {
	return map[string]any{
		"name": "Checking sources", "defaultLocale": "en", "locales": []string{"en", "ar"},
		"questions": []any{
			map[string]any{"id": "who", "type": "single", "prompt": "who.prompt", "feedback": "who.feedback", "tags": []string{"sources"}, "difficulty": 1,
				"options": []any{
					map[string]any{"id": "friend", "text": "who.friend", "feedback": "who.friend.fb"},
					map[string]any{"id": "outlet", "text": "who.outlet", "correct": true, "feedback": "who.outlet.fb"},
				}},
			map[string]any{"id": "signs", "type": "multiple", "prompt": "signs.prompt", "partial": "proportional", "tags": []string{"sources"},
				"options": []any{
					map[string]any{"id": "urgent", "text": "signs.urgent", "correct": true},
					map[string]any{"id": "nosource", "text": "signs.nosource", "correct": true},
					map[string]any{"id": "long", "text": "signs.long"},
				}},
			map[string]any{"id": "word", "type": "short", "prompt": "word.prompt", "tags": []string{"words"},
				"accepted": map[string]any{"en": []string{"source"}, "ar": []string{"مصدر"}}},
			map[string]any{"id": "number", "type": "numeric", "prompt": "number.prompt", "numeric": map[string]any{"value": 112, "tolerance": 0}},
			map[string]any{"id": "feel", "type": "likert", "prompt": "feel.prompt", "scale": map[string]any{"min": 1, "max": 5}},
		},
		"messages": map[string]any{
			"en": map[string]any{
				"who.prompt": "Who should you trust first?", "who.feedback": "Real outlets check facts.",
				"who.friend": "A friend's forwarded message", "who.outlet": "A news outlet with a name",
				"who.friend.fb": "Friends can be wrong too.", "who.outlet.fb": "Yes.",
				"signs.prompt": "Which are warning signs?", "signs.urgent": "Share this now!", "signs.nosource": "No source",
				"signs.long": "A long text", "word.prompt": "Who published it? Check the …", "number.prompt": "The emergency number in Europe",
				"feel.prompt": "How sure do you feel?",
			},
			"ar": map[string]any{"who.prompt": "بمن يجب أن تثق أولًا؟", "word.prompt": "من نشره؟ تحقق من …"},
		},
	}
}

func quiz(bankID string, extra map[string]any) map[string]any {
	q := map[string]any{
		"kind": "quiz", "defaultLocale": "en", "locales": []string{"en", "ar"}, "title": "quiz.title",
		"messages": map[string]any{"en": map[string]any{"quiz.title": "Check your sources"}},
		"picks":    []any{map[string]any{"bank": bankID, "questions": []string{"who", "signs", "word", "number", "feel"}}},
		"passMark": 0.5, "attemptLimit": 2, "feedback": "after-submit", "grade": "highest",
	}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func (e *env) mustPost(token, path string, body any, want int) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: path, token: token, body: body})
	if r.status != want {
		e.t.Fatalf("POST %s: %d, want %d: %s", path, r.status, want, r.body)
	}
	return r.json(e.t)
}

// publishedQuiz creates the bank and a quiz with extra settings, and
// publishes it; it returns the quiz ID.
func (e *env) publishedQuiz(trainer string, extra map[string]any) string {
	e.t.Helper()
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(b["id"].(string), extra), 201)
	e.mustPost(trainer, "/api/v1/quizzes/"+q["id"].(string)+"/publish", map[string]any{"revision": 1}, 201)
	return q["id"].(string)
}

// forbiddenKeys may not appear in a learner's view before the policy
// allows: keys, correct flags, per-option feedback.
var forbiddenKeys = []string{"correct", "keys", "results", "accepted", "feedback", "optionFeedback", "numeric", "pairs", "tolerance"}

func leaks(t *testing.T, body []byte) []string {
	t.Helper()
	return keysIn(t, body, forbiddenKeys)
}

// scoreKeys may not appear in a learner's response while the feedback
// policy keeps scores from them: the score, and what a score can be read
// off (a grade, a pass, practice mastery, a posttest's gain, results).
var scoreKeys = []string{"score", "max", "passed", "grade", "gain", "mastered", "results", "keys", "correct"}

// keysIn lists the object keys of a JSON body, at any depth, that are
// among names.
func keysIn(t *testing.T, body []byte, names []string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if slices.Contains(names, k) {
					found = append(found, k)
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return found
}

func answer(e *env, token, attempt, key, answerID string, a any) response {
	return e.do(req{method: "PUT", path: "/api/v1/attempts/" + attempt + "/answers/" + key, token: token,
		body: map[string]any{"answerId": answerID, "answer": a}})
}

func TestQuizAttemptLifecycle(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	quizID := e.publishedQuiz(trainer, nil)
	attemptID := "0190f1e2-0000-7000-8000-0000000a7701"

	start := func(id string) response {
		return e.do(req{method: "POST", path: "/api/v1/quizzes/" + quizID + "/attempts?lang=ar", token: learner, body: map[string]any{"id": id}})
	}
	r := start(attemptID)
	if r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	view := r.json(t)
	if len(view["questions"].([]any)) != 5 || view["lang"] != "ar" {
		t.Fatalf("attempt %s", r.body)
	}
	if l := leaks(t, r.body); len(l) > 0 {
		t.Errorf("started attempt leaks %v: %s", l, r.body)
	}
	if again := start(attemptID); again.status != 200 || again.json(t)["id"] != attemptID {
		t.Errorf("retried start: %d %s", again.status, again.body)
	}
	// Another device, another attempt id: the open attempt comes back.
	if other := start("0190f1e2-0000-7000-8000-0000000a7702"); other.json(t)["id"] != attemptID {
		t.Errorf("second device got a new attempt: %s", other.body)
	}

	keys := map[string]string{}
	for _, q := range view["questions"].([]any) {
		m := q.(map[string]any)
		k := m["key"].(string)
		keys[k[strings.Index(k, ".")+1:]] = k
	}
	saves := []struct {
		q string
		a any
	}{
		{"who", map[string]any{"option": "outlet"}},
		{"signs", map[string]any{"options": []string{"urgent", "long"}}},
		{"word", map[string]any{"text": "مَصْدَر"}}, // with harakat: still right
		{"number", map[string]any{"number": "١١٢"}}, // Arabic-Indic digits
		{"feel", map[string]any{"value": 4}},
	}
	for i, s := range saves {
		r := answer(e, learner, attemptID, keys[s.q], fmt.Sprintf("save-%d", i), s.a)
		if r.status != 200 {
			t.Fatalf("save %s: %d %s", s.q, r.status, r.body)
		}
		if l := leaks(t, r.body); len(l) > 0 {
			t.Errorf("saving %s leaks %v", s.q, l)
		}
	}
	// Bad answers.
	wantProblem(t, answer(e, learner, attemptID, keys["who"], "x", map[string]any{"options": []string{"outlet"}}), 422, "validation")
	wantProblem(t, answer(e, learner, attemptID, keys["who"], "x", map[string]any{"option": "nobody"}), 422, "validation")
	wantProblem(t, answer(e, learner, attemptID, "b9.nothing", "x", map[string]any{"option": "a"}), 404, "not-found")
	// Someone else's attempt.
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/attempts/" + attemptID, token: e.token("b-learner")}), 404, "not-found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/attempts/" + attemptID + "/submit", token: trainer}), 404, "not-found")

	// Every learner-facing read before submitting is free of keys.
	for _, path := range []string{"/api/v1/attempts/" + attemptID, "/api/v1/quizzes/" + quizID + "/progress"} {
		r := e.do(req{method: "GET", path: path, token: learner})
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		if l := leaks(t, r.body); len(l) > 0 {
			t.Errorf("GET %s before submitting leaks %v", path, l)
		}
	}
	sub := e.do(req{method: "POST", path: "/api/v1/attempts/" + attemptID + "/submit", token: learner})
	if sub.status != 200 {
		t.Fatalf("submit: %d %s", sub.status, sub.body)
	}
	res := sub.json(t)
	// who 1 + signs (1 right − 1 wrong)/2 = 0 + word 1 + number 1 = 3 of 4.
	if res["score"] != 3.0 || res["max"] != 4.0 || res["passed"] != true {
		t.Errorf("score %v/%v passed %v", res["score"], res["max"], res["passed"])
	}
	k := res["keys"].(map[string]any)[keys["who"]].(map[string]any)
	if !slices.Equal(toStrings(k["options"]), []string{"outlet"}) {
		t.Errorf("key after submit %v", k)
	}
	if again := e.do(req{method: "POST", path: "/api/v1/attempts/" + attemptID + "/submit", token: learner}); again.status != 200 || again.json(t)["score"] != 3.0 {
		t.Errorf("repeated submit: %d %s", again.status, again.body)
	}
	wantProblem(t, answer(e, learner, attemptID, keys["who"], "late", map[string]any{"option": "friend"}), 409, "attempt-closed")

	// Staff of the organisation follow the learner's attempt, keys and
	// all; staff of another organisation do not see it.
	staffView := e.do(req{method: "GET", path: "/api/v1/attempts/" + attemptID, token: e.token("a-edu")})
	if staffView.status != 200 || staffView.json(t)["keys"] == nil {
		t.Errorf("educator's view: %d %s", staffView.status, staffView.body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/attempts/" + attemptID, token: e.token("b-edu")}), 404, "not-found")
	wantProblem(t, answer(e, e.token("a-edu"), attemptID, keys["who"], "staff", map[string]any{"option": "friend"}), 404, "not-found")

	// Attempt limit 2.
	if r := start("0190f1e2-0000-7000-8000-0000000a7703"); r.status != 201 {
		t.Fatalf("second attempt: %d %s", r.status, r.body)
	}
	e.mustPost(learner, "/api/v1/attempts/0190f1e2-0000-7000-8000-0000000a7703/submit", nil, 200)
	wantProblem(t, start("0190f1e2-0000-7000-8000-0000000a7704"), 409, "attempt-limit")

	// Org B's learner cannot take org A's quiz; a draft quiz cannot be taken.
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/quizzes/" + quizID + "/attempts", token: e.token("b-learner"),
		body: map[string]any{"id": "0190f1e2-0000-7000-8000-0000000b7701"}}), 404, "not-found")
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	draft := e.mustPost(trainer, "/api/v1/quizzes", quiz(b["id"].(string), nil), 201)
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/quizzes/" + draft["id"].(string) + "/attempts", token: learner,
		body: map[string]any{"id": "0190f1e2-0000-7000-8000-0000000a7705"}}), 404, "not-found")

	// Statistics for staff of the organisation.
	st := e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/versions/1/stats", token: e.token("a-edu")})
	if st.status != 200 {
		t.Fatalf("stats: %d %s", st.status, st.body)
	}
	items := st.json(t)["items"].([]any)
	if len(items) != 4 {
		t.Fatalf("stats of %d questions, want the 4 scored", len(items))
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/versions/1/stats", token: learner}), 403, "forbidden")
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (e *env) mustPostQuiet(token, path string, body any) response {
	return e.do(req{method: "POST", path: path, token: token, body: body})
}

// TestFeedbackPolicies: per-question results appear at once only with the
// immediate policy, and keys never before submission.
func TestFeedbackPolicies(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	for i, policy := range []string{"immediate", "after-submit", "after-due", "never"} {
		t.Run(policy, func(t *testing.T) {
			extra := map[string]any{"feedback": policy}
			if policy == "after-due" {
				extra["due"] = e.clock.Now().Add(time.Hour)
			}
			quizID := e.publishedQuiz(trainer, extra)
			id := fmt.Sprintf("0190f1e2-0000-7000-8000-%012d", i+1)
			view := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
			key := view["questions"].([]any)[0].(map[string]any)["key"].(string)
			r := answer(e, learner, id, key, "1", map[string]any{"option": "outlet"})
			got := leaks(t, r.body)
			if policy == "immediate" {
				if !slices.Contains(got, "results") || slices.Contains(got, "keys") || !slices.Contains(got, "correct") {
					t.Errorf("immediate: after saving, %v", got)
				}
			} else if len(got) > 0 {
				t.Errorf("%s: saving shows %v", policy, got)
			}
			sub := e.mustPostQuiet(learner, "/api/v1/attempts/"+id+"/submit", nil)
			got = leaks(t, sub.body)
			switch policy {
			case "immediate", "after-submit":
				if !slices.Contains(got, "keys") {
					t.Errorf("%s: no keys after submit", policy)
				}
			default:
				if slices.Contains(got, "keys") || slices.Contains(got, "results") {
					t.Errorf("%s: keys or results after submit: %v", policy, got)
				}
				if v := sub.json(t); v["score"] != nil || v["scoreHidden"] != true || v["submittedAt"] == nil {
					t.Errorf("%s: after submit, score %v, scoreHidden %v, submittedAt %v", policy, v["score"], v["scoreHidden"], v["submittedAt"])
				}
			}
		})
	}
}

// TestTimeLimit: an answer after the time limit and its grace is refused,
// and the attempt is closed with the answers saved in time.
func TestTimeLimit(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	quizID := e.publishedQuiz(trainer, map[string]any{"timeLimitSeconds": 60})
	id := "0190f1e2-0000-7000-8000-0000000c0001"
	view := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
	if view["deadline"] == nil {
		t.Fatal("no deadline")
	}
	var key string
	for _, q := range view["questions"].([]any) {
		if k := q.(map[string]any)["key"].(string); strings.HasSuffix(k, ".who") {
			key = k
		}
	}
	if r := answer(e, learner, id, key, "1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("save in time: %d", r.status)
	}
	e.clock.Advance(61 * time.Second) // late, but within the grace
	if r := answer(e, learner, id, key, "2", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("save within the grace: %d %s", r.status, r.body)
	}
	e.clock.Advance(3 * time.Minute)
	wantProblem(t, answer(e, learner, id, key, "3", map[string]any{"option": "friend"}), 409, "time-up")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/attempts/" + id + "/submit", token: learner}), 409, "time-up")
	got := e.do(req{method: "GET", path: "/api/v1/attempts/" + id, token: learner}).json(t)
	if got["submittedAt"] == nil || got["score"] != 1.0 {
		t.Errorf("closed attempt: submitted %v score %v", got["submittedAt"], got["score"])
	}
}

// TestConcurrentSubmitsOneResult: a submit retried many times at once
// scores the attempt once.
func TestConcurrentSubmitsOneResult(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	quizID := e.publishedQuiz(trainer, nil)
	id := "0190f1e2-0000-7000-8000-0000000d0001"
	e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
	var wg sync.WaitGroup
	scores := make([]any, 8)
	for i := range scores {
		wg.Go(func() {
			scores[i] = e.do(req{method: "POST", path: "/api/v1/attempts/" + id + "/submit", token: learner}).json(t)["submittedAt"]
		})
	}
	wg.Wait()
	for _, s := range scores {
		if s != scores[0] || s == nil {
			t.Fatalf("submits disagree: %v", scores)
		}
	}
	st := e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/versions/1/stats", token: trainer}).json(t)
	if n := st["items"].([]any)[0].(map[string]any)["n"]; n != 1.0 {
		t.Errorf("statistics counted the attempt %v times", n)
	}
}

// TestAttemptKeepsItsVersion: an attempt started on version 1 is scored
// against version 1 after version 2 changes the key.
func TestAttemptKeepsItsVersion(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	bankID := b["id"].(string)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(bankID, nil), 201)
	quizID := q["id"].(string)
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 201)
	id := "0190f1e2-0000-7000-8000-0000000e0001"
	e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
	if r := answer(e, learner, id, "b1.who", "1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("save: %d %s", r.status, r.body)
	}

	// Version 2: the friend is now the right answer.
	nb := bank()
	nb["revision"] = 1
	opts := nb["questions"].([]any)[0].(map[string]any)["options"].([]any)
	opts[0].(map[string]any)["correct"], opts[1].(map[string]any)["correct"] = true, false
	if r := e.do(req{method: "PUT", path: "/api/v1/banks/" + bankID, token: trainer, body: nb}); r.status != 200 {
		t.Fatalf("update bank: %d %s", r.status, r.body)
	}
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 200) // same revision: same version
	nq := quiz(bankID, nil)
	nq["revision"] = 1
	if r := e.do(req{method: "PUT", path: "/api/v1/quizzes/" + quizID, token: trainer, body: nq}); r.status != 200 {
		t.Fatalf("update quiz: %d %s", r.status, r.body)
	}
	if v := e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 2}, 201); v["version"] != 2.0 {
		t.Fatalf("version %v", v["version"])
	}
	res := e.mustPost(learner, "/api/v1/attempts/"+id+"/submit", nil, 200)
	if res["version"] != 1.0 || res["results"].(map[string]any)["b1.who"].(map[string]any)["correct"] != true {
		t.Errorf("scored against version %v: %v", res["version"], res["results"])
	}
	// A new attempt takes version 2.
	other := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": "0190f1e2-0000-7000-8000-0000000e0002"}, 201)
	if other["version"] != 2.0 {
		t.Errorf("new attempt on version %v", other["version"])
	}
	prog := e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/progress", token: learner}).json(t)
	if prog["attemptsLeft"] != 0.0 || len(prog["attempts"].([]any)) != 2 || prog["grade"] == nil {
		t.Errorf("progress %v", prog)
	}
}

// TestPrePostGain: a posttest records what the learner gained since the
// pretest.
func TestPrePostGain(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	pre := e.publishedQuiz(trainer, map[string]any{"kind": "pretest", "attemptLimit": 1})
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	post := e.mustPost(trainer, "/api/v1/quizzes", quiz(b["id"].(string), map[string]any{"kind": "posttest", "pretest": pre}), 201)
	e.mustPost(trainer, "/api/v1/quizzes/"+post["id"].(string)+"/publish", map[string]any{"revision": 1}, 201)

	preID, postID := "0190f1e2-0000-7000-8000-0000000f0001", "0190f1e2-0000-7000-8000-0000000f0002"
	e.mustPost(learner, "/api/v1/quizzes/"+pre+"/attempts", map[string]any{"id": preID}, 201)
	answer(e, learner, preID, "b1.who", "1", map[string]any{"option": "friend"}) // wrong: 0 of 4
	e.mustPost(learner, "/api/v1/attempts/"+preID+"/submit", nil, 200)
	e.mustPost(learner, "/api/v1/quizzes/"+post["id"].(string)+"/attempts", map[string]any{"id": postID}, 201)
	answer(e, learner, postID, "b1.who", "1", map[string]any{"option": "outlet"}) // 1
	answer(e, learner, postID, "b1.number", "2", map[string]any{"number": 112})   // 1: 2 of 4
	e.mustPost(learner, "/api/v1/attempts/"+postID+"/submit", nil, 200)
	prog := e.do(req{method: "GET", path: "/api/v1/quizzes/" + post["id"].(string) + "/progress", token: learner}).json(t)
	if prog["gain"] != 0.5 {
		t.Errorf("gain %v, want 0.5 (from 0/4 to 2/4)", prog["gain"])
	}
}

// TestQuizMedia: pictures of options must be in the organisation's
// library and become readable to learners once the quiz is published.
func TestQuizMedia(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	img := e.mustUpload(trainer, formFile{name: "outlet.png", data: pngFile(t, 8, 8, 3)})["id"].(string)
	withImage := func(id string) map[string]any {
		b := bank()
		b["questions"].([]any)[0].(map[string]any)["options"].([]any)[1].(map[string]any)["image"] = id
		return b
	}
	bk := e.mustPost(trainer, "/api/v1/banks", withImage(img), 201)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(bk["id"].(string), nil), 201)
	if r := e.do(req{method: "GET", path: "/media/" + img, token: learner}); r.status != 404 {
		t.Fatalf("learner reads an unpublished quiz's picture: %d", r.status)
	}
	e.mustPost(trainer, "/api/v1/quizzes/"+q["id"].(string)+"/publish", map[string]any{"revision": 1}, 201)
	view := e.mustPost(learner, "/api/v1/quizzes/"+q["id"].(string)+"/attempts", map[string]any{"id": "0190f1e2-0000-7000-8000-000000010001"}, 201)
	if !strings.Contains(fmt.Sprint(view["questions"]), "/media/"+img) {
		t.Errorf("option picture missing from the view")
	}
	if r := e.do(req{method: "GET", path: "/media/" + img, token: learner}); r.status != 200 {
		t.Errorf("learner cannot read the published quiz's picture: %d", r.status)
	}
	// A picture of another organisation's library is refused at publishing.
	imgB := e.mustUpload(e.token("root"), formFile{name: "b.png", data: pngFile(t, 8, 8, 4)}, [2]string{"orgId", e.orgB.ID})["id"].(string)
	bk2 := e.mustPost(trainer, "/api/v1/banks", withImage(imgB), 201)
	q2 := e.mustPost(trainer, "/api/v1/quizzes", quiz(bk2["id"].(string), nil), 201)
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/quizzes/" + q2["id"].(string) + "/publish", token: trainer, body: map[string]any{"revision": 1}}), 422, "validation")
	if got := fieldCodes(p); len(got) != 1 || !strings.HasSuffix(got[0], "options/1/image:unknown_media") {
		t.Errorf("errors %v", got)
	}
}

func TestBankAndQuizListings(t *testing.T) {
	e := newEnv(t)
	trainer := e.token("a-trainer")
	b1 := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	e.mustPost(trainer, "/api/v1/quizzes", quiz(b1["id"].(string), nil), 201)
	r := e.do(req{method: "GET", path: "/api/v1/banks", token: trainer})
	if r.status != 200 {
		t.Fatalf("banks: %d %s", r.status, r.body)
	}
	// Summaries (BankSummary, QuizSummary): what a listing reads, without
	// the questions, picks and texts, which are absent rather than empty
	// (an empty list said the bank had no questions, and broke the full
	// schema's minItems for picks).
	items := r.json(t)["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["name"] != "Checking sources" || items[0].(map[string]any)["revision"] != float64(1) {
		t.Errorf("banks listed: %s", r.body)
	}
	for _, it := range items {
		for _, k := range []string{"questions", "messages"} {
			if _, ok := it.(map[string]any)[k]; ok {
				t.Errorf("a bank summary has %q: %v", k, it)
			}
		}
	}
	q := e.do(req{method: "GET", path: "/api/v1/quizzes", token: trainer}).json(t)["items"].([]any)
	if len(q) != 1 || q[0].(map[string]any)["kind"] != "quiz" || q[0].(map[string]any)["passMark"] != 0.5 {
		t.Errorf("quizzes listed: %v", q)
	}
	for _, k := range []string{"picks", "messages"} {
		if _, ok := q[0].(map[string]any)[k]; ok {
			t.Errorf("a quiz summary has %q: %v", k, q[0])
		}
	}
	root := e.token("root")
	if got := e.do(req{method: "GET", path: "/api/v1/banks?orgId=" + e.orgB.ID, token: root}).json(t)["items"].([]any); len(got) != 0 {
		t.Errorf("org B's banks: %v", got)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/banks", token: root}), 422, "validation")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/banks", token: e.token("a-learner")}), 403, "forbidden")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/quizzes?orgId=" + e.orgA.ID, token: e.token("b-edu")}), 403, "forbidden")
}

// TestCourseQuizBlocks: a course publishes with a quiz block only when
// every learner of the course may take that quiz.
func TestCourseQuizBlocks(t *testing.T) {
	e, trainer, image := courseEnv(t)
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	q := e.mustPost(trainer, "/api/v1/quizzes", quiz(b["id"].(string), nil), 201)
	quizID := q["id"].(string)
	withQuiz := func(slug string, shared bool) map[string]any {
		d := draft(slug, image, shared)
		blocks := d["modules"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)
		blocks["blocks"] = append(blocks["blocks"].([]any), map[string]any{"id": "check", "kind": "quiz", "quiz": quizID})
		return d
	}
	id := e.mustCreateCourse(trainer, withQuiz("with-quiz", false))["id"].(string)
	publish := func(id string) response {
		return e.do(req{method: "POST", path: "/api/v1/courses/" + id + "/publish", token: trainer, body: map[string]any{"revision": 1}})
	}
	p := wantProblem(t, publish(id), 422, "validation") // the quiz is a draft
	if got := fieldCodes(p); !slices.Contains(got, "modules/0/lessons/0/blocks/3/quiz:unknown_quiz") {
		t.Errorf("errors %v", got)
	}
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 201)
	if r := publish(id); r.status != 201 {
		t.Fatalf("publish with a published quiz: %d %s", r.status, r.body)
	}
	// A shared course may not show a quiz only its own organisation may take.
	shared := e.mustCreateCourse(trainer, withQuiz("shared-with-quiz", true))["id"].(string)
	wantProblem(t, publish(shared), 422, "validation")
	// Nor one whose draft says shared while the version learners take does not.
	nq := quiz(b["id"].(string), map[string]any{"shared": true, "revision": 1})
	if r := e.do(req{method: "PUT", path: "/api/v1/quizzes/" + quizID, token: trainer, body: nq}); r.status != 200 {
		t.Fatalf("share the draft: %d %s", r.status, r.body)
	}
	p = wantProblem(t, publish(shared), 422, "validation")
	if got := fieldCodes(p); !slices.Contains(got, "modules/0/lessons/0/blocks/3/quiz:unknown_quiz") {
		t.Errorf("errors %v", got)
	}
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 2}, 201)
	if r := publish(shared); r.status != 201 {
		t.Fatalf("publish with the shared version: %d %s", r.status, r.body)
	}
}

// orderBank is a bank whose ordering question is written in the right
// order with IDs that sort into it, and whose matching question lists its
// matches beside the options they pair with, as authors write them.
func orderBank() map[string]any {
	item := func(id, text string) map[string]any { return map[string]any{"id": id, "text": text} }
	return map[string]any{
		"name": "Mornings", "defaultLocale": "en", "locales": []string{"en"},
		"questions": []any{
			map[string]any{"id": "steps", "type": "ordering", "prompt": "steps.prompt", "options": []any{
				item("step-1", "s1"), item("step-2", "s2"), item("step-3", "s3"), item("step-4", "s4")}},
			map[string]any{"id": "sounds", "type": "matching", "prompt": "sounds.prompt",
				"options": []any{item("cat", "l1"), item("dog", "l2"), item("cow", "l3")},
				"matches": []any{item("cat-sound", "r1"), item("dog-sound", "r2"), item("cow-sound", "r3")},
				"pairs":   map[string]any{"cat": "cat-sound", "dog": "dog-sound", "cow": "cow-sound"}},
		},
		"messages": map[string]any{"en": map[string]any{
			"steps.prompt": "Put the morning in order", "s1": "Wake up", "s2": "Wash", "s3": "Dress", "s4": "Leave",
			"sounds.prompt": "Who says what?", "l1": "Cat", "l2": "Dog", "l3": "Cow", "r1": "Meow", "r2": "Woof", "r3": "Moo",
		}},
	}
}

// itemTexts lists the ids and English texts of a question view's items.
func itemTexts(q map[string]any, field string) (ids, texts []string) {
	items, _ := q[field].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		ids = append(ids, m["id"].(string))
		texts = append(texts, m["text"].(map[string]any)["value"].(string))
	}
	return ids, texts
}

// TestOrderingAndMatchingHideTheirKey: whatever the quiz's shuffle
// setting, an ordering question is never shown in the right order nor
// under IDs that sort into it, and a matching question's matches never
// line up with the options they pair with; answers given in the IDs shown
// are scored as the author's.
func TestOrderingAndMatchingHideTheirKey(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	b := e.mustPost(trainer, "/api/v1/banks", orderBank(), 201)
	q := quiz(b["id"].(string), map[string]any{"shuffleOptions": false, "attemptLimit": 0, "locales": []string{"en"}})
	q["picks"] = []any{map[string]any{"bank": b["id"], "questions": []string{"steps", "sounds"}}}
	qz := e.mustPost(trainer, "/api/v1/quizzes", q, 201)
	quizID := qz["id"].(string)
	e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 201)

	right := []string{"Wake up", "Wash", "Dress", "Leave"}
	says := map[string]string{"Cat": "Meow", "Dog": "Woof", "Cow": "Moo"}
	shownOrders := map[string]bool{}
	for n := range 12 {
		id := fmt.Sprintf("0190f1e2-0000-7000-8000-0000001a%04d", n)
		view := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
		qs := view["questions"].([]any)
		steps, sounds := qs[0].(map[string]any), qs[1].(map[string]any)

		ids, texts := itemTexts(steps, "options")
		if slices.Equal(texts, right) {
			t.Fatalf("attempt %d: ordering shown in the right order: %v", n, texts)
		}
		if strings.Contains(strings.Join(ids, " "), "step") || slices.IsSorted(ids) && slices.Equal(slices.Sorted(slices.Values(ids)), ids) && idsInKeyOrder(ids, texts, right) {
			t.Fatalf("attempt %d: ordering item IDs give the order away: %v %v", n, ids, texts)
		}
		shownOrders[strings.Join(texts, ",")] = true
		order := make([]string, len(right))
		for i, txt := range right {
			order[i] = ids[slices.Index(texts, txt)]
		}

		optIDs, opts := itemTexts(sounds, "options")
		matchIDs, matches := itemTexts(sounds, "matches")
		lined := make([]string, len(opts))
		for i, o := range opts {
			lined[i] = says[o]
		}
		if slices.Equal(matches, lined) {
			t.Fatalf("attempt %d: matches %v line up with options %v", n, matches, opts)
		}
		if all := strings.Join(append(slices.Clone(optIDs), matchIDs...), " "); strings.Contains(all, "cat") || strings.Contains(all, "sound") {
			t.Fatalf("attempt %d: the author's IDs are shown: %s", n, all)
		}
		pairs := map[string]string{}
		for i, o := range opts {
			pairs[optIDs[i]] = matchIDs[slices.Index(matches, says[o])]
		}

		for key, a := range map[string]any{steps["key"].(string): map[string]any{"order": order}, sounds["key"].(string): map[string]any{"pairs": pairs}} {
			if r := answer(e, learner, id, key, "1", a); r.status != 200 {
				t.Fatalf("answer %s in the IDs shown: %d %s", key, r.status, r.body)
			}
		}
		res := e.mustPost(learner, "/api/v1/attempts/"+id+"/submit", nil, 200)
		if res["score"] != 2.0 {
			t.Fatalf("attempt %d: the right answers in the IDs shown scored %v: %v", n, res["score"], res["results"])
		}
		keys := res["keys"].(map[string]any)
		if got := toStrings(keys[steps["key"].(string)].(map[string]any)["order"]); !slices.Equal(got, order) {
			t.Errorf("attempt %d: key %v, want %v in the IDs shown", n, got, order)
		}
		if got := keys[sounds["key"].(string)].(map[string]any)["pairs"]; fmt.Sprint(got) != fmt.Sprint(toAnyMap(pairs)) {
			t.Errorf("attempt %d: key %v, want %v in the IDs shown", n, got, pairs)
		}
		if got := res["answers"].(map[string]any)[steps["key"].(string)].(map[string]any)["order"]; !slices.Equal(toStrings(got), order) {
			t.Errorf("attempt %d: answer shown back as %v", n, got)
		}
	}
	if len(shownOrders) < 2 {
		t.Errorf("12 attempts all showed the steps as %v", shownOrders)
	}
	// The author's IDs are not answers.
	id := "0190f1e2-0000-7000-8000-0000001b0001"
	view := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)
	key := view["questions"].([]any)[0].(map[string]any)["key"].(string)
	wantProblem(t, answer(e, learner, id, key, "x", map[string]any{"order": []string{"step-1", "step-2", "step-3", "step-4"}}), 422, "validation")
}

// idsInKeyOrder reports whether ids, sorted, name the texts in the
// order right.
func idsInKeyOrder(ids, texts, right []string) bool {
	sorted := slices.Sorted(slices.Values(ids))
	for i, id := range sorted {
		if texts[slices.Index(ids, id)] != right[i] {
			return false
		}
	}
	return true
}

func toAnyMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestAttemptSeedIsTheServers: the draw of an attempt is not a function
// of anything the client chooses. Two servers with the same bank, quiz
// and attempt IDs (all chosen by the client) seed the attempt
// differently; an attempt resumed from another device shows what it
// showed.
func TestAttemptSeedIsTheServers(t *testing.T) {
	const bankID, quizID, attemptID = "0190f1e2-0000-7000-8000-0000002a0001", "0190f1e2-0000-7000-8000-0000002a0002", "0190f1e2-0000-7000-8000-0000002a0003"
	var seeds []uint64
	for range 2 {
		e := newEnv(t)
		trainer, learner := e.token("a-trainer"), e.token("a-learner")
		b := bank()
		b["id"] = bankID
		e.mustPost(trainer, "/api/v1/banks", b, 201)
		q := quiz(bankID, map[string]any{"id": quizID, "shuffleQuestions": true, "shuffleOptions": true})
		e.mustPost(trainer, "/api/v1/quizzes", q, 201)
		e.mustPost(trainer, "/api/v1/quizzes/"+quizID+"/publish", map[string]any{"revision": 1}, 201)
		first := e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": attemptID}, 201)
		a, err := e.db.Assessments().Attempt(t.Context(), attemptID)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, a.Seed)

		// Another device, signed in again: the same questions in the same order.
		other := e.token("a-learner")
		resumed := e.mustPost(other, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": "0190f1e2-0000-7000-8000-0000002a0004"}, 200)
		read := e.do(req{method: "GET", path: "/api/v1/attempts/" + attemptID, token: other}).json(t)
		for _, v := range []map[string]any{resumed, read} {
			if v["id"] != attemptID || fmt.Sprint(v["questions"]) != fmt.Sprint(first["questions"]) {
				t.Errorf("resumed attempt %v shows otherwise:\n%v\n%v", v["id"], v["questions"], first["questions"])
			}
		}
	}
	if seeds[0] == seeds[1] {
		t.Errorf("two servers seeded attempt %s alike (%d): the client's ID decides the draw", attemptID, seeds[0])
	}
}

// scoreLeaks lists the score keys of a learner's response outside its
// questions, which are built from the quiz version alone (their likert
// scales have a "max" of their own).
func scoreLeaks(t *testing.T, body []byte) []string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	delete(v, "questions")
	rest, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return keysIn(t, rest, scoreKeys)
}

// TestScoresFollowThePolicy: under "never", and "after-due" before the due
// date, no learner-facing response carries a score or what one can be read
// off (the oracle of answering one question per attempt); the learner sees
// that each attempt was received. Staff following the learner see it all,
// and after the due date the learner does too.
func TestScoresFollowThePolicy(t *testing.T) {
	e := newEnv(t)
	trainer, learner, edu := e.token("a-trainer"), e.token("a-learner"), e.token("a-edu")
	pre := e.publishedQuiz(trainer, map[string]any{"kind": "pretest", "attemptLimit": 1})
	preID := "0190f1e2-0000-7000-8000-0000003a0000"
	e.mustPost(learner, "/api/v1/quizzes/"+pre+"/attempts", map[string]any{"id": preID}, 201)
	e.mustPost(learner, "/api/v1/attempts/"+preID+"/submit", nil, 200)

	type opened struct{ kind, quiz, attempt string }
	var later []opened // after-due quizzes, to read again after the due date
	due := e.clock.Now().Add(24 * time.Hour)
	n := 0
	for _, policy := range []string{"never", "after-due"} {
		for _, kind := range []string{"quiz", "practice", "posttest"} {
			t.Run(policy+"/"+kind, func(t *testing.T) {
				extra := map[string]any{"feedback": policy, "kind": kind, "attemptLimit": 0}
				switch kind {
				case "practice":
					extra["mastery"] = map[string]any{"m": 1, "n": 5} // one right answer of five masters it
				case "posttest":
					extra["pretest"] = pre
				}
				if policy == "after-due" {
					extra["due"] = due
				}
				quizID := e.publishedQuiz(trainer, extra)
				hidden := func(what string, r response) map[string]any {
					t.Helper()
					if r.status >= 300 {
						t.Fatalf("%s: %d %s", what, r.status, r.body)
					}
					if got := scoreLeaks(t, r.body); len(got) > 0 {
						t.Errorf("%s shows %v: %s", what, got, r.body)
					}
					return r.json(t)
				}
				// One question per attempt, right then wrong: nothing tells them apart.
				var ids []string
				for _, choice := range []string{"outlet", "friend"} {
					n++
					id := fmt.Sprintf("0190f1e2-0000-7000-8000-0000003a%04d", n)
					ids = append(ids, id)
					hidden("start", e.do(req{method: "POST", path: "/api/v1/quizzes/" + quizID + "/attempts", token: learner, body: map[string]any{"id": id}}))
					hidden("save", answer(e, learner, id, "b1.who", "1", map[string]any{"option": choice}))
					hidden("get open", e.do(req{method: "GET", path: "/api/v1/attempts/" + id, token: learner}))
					for what, r := range map[string]response{
						"submit":        e.do(req{method: "POST", path: "/api/v1/attempts/" + id + "/submit", token: learner}),
						"get submitted": e.do(req{method: "GET", path: "/api/v1/attempts/" + id, token: learner}),
					} {
						if v := hidden(what, r); v["submittedAt"] == nil || v["scoreHidden"] != true {
							t.Errorf("%s: submittedAt %v, scoreHidden %v", what, v["submittedAt"], v["scoreHidden"])
						}
					}
				}
				prog := hidden("progress", e.do(req{method: "GET", path: "/api/v1/quizzes/" + quizID + "/progress", token: learner}))
				if prog["scoreHidden"] != true || len(prog["attempts"].([]any)) != 2 {
					t.Errorf("progress %v", prog)
				}
				for _, a := range prog["attempts"].([]any) {
					if a.(map[string]any)["submittedAt"] == nil {
						t.Errorf("progress does not say the attempt was received: %v", a)
					}
				}
				staff := e.do(req{method: "GET", path: "/api/v1/attempts/" + ids[0], token: edu}).json(t)
				if staff["score"] != 1.0 || staff["keys"] == nil || staff["scoreHidden"] != nil {
					t.Errorf("staff view: score %v keys %v scoreHidden %v", staff["score"], staff["keys"] != nil, staff["scoreHidden"])
				}
				if policy == "after-due" {
					later = append(later, opened{kind, quizID, ids[0]})
				}
			})
		}
	}

	e.clock.Advance(25 * time.Hour)
	learner = e.token("a-learner")
	for _, o := range later {
		v := e.do(req{method: "GET", path: "/api/v1/attempts/" + o.attempt, token: learner}).json(t)
		if v["score"] != 1.0 || v["keys"] == nil || v["scoreHidden"] != nil {
			t.Errorf("%s after the due date: score %v keys %v scoreHidden %v", o.kind, v["score"], v["keys"] != nil, v["scoreHidden"])
		}
		p := e.do(req{method: "GET", path: "/api/v1/quizzes/" + o.quiz + "/progress", token: learner}).json(t)
		if p["grade"] != 0.25 || p["scoreHidden"] != nil || (o.kind == "practice") != (p["mastered"] == true) || (o.kind == "posttest") != (p["gain"] != nil) {
			t.Errorf("%s progress after the due date: %v", o.kind, p)
		}
	}
}

// TestGainNeedsThePretestShown: a posttest's gain and its score give the
// pretest's score, so a pretest that keeps its scores hides the gain.
func TestGainNeedsThePretestShown(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	pre := e.publishedQuiz(trainer, map[string]any{"kind": "pretest", "feedback": "never"})
	post := e.publishedQuiz(trainer, map[string]any{"kind": "posttest", "pretest": pre, "feedback": "immediate"})
	for i, q := range []string{pre, post} {
		id := fmt.Sprintf("0190f1e2-0000-7000-8000-0000004a%04d", i)
		e.mustPost(learner, "/api/v1/quizzes/"+q+"/attempts", map[string]any{"id": id}, 201)
		answer(e, learner, id, "b1.who", "1", map[string]any{"option": []string{"friend", "outlet"}[i]})
		e.mustPost(learner, "/api/v1/attempts/"+id+"/submit", nil, 200)
	}
	prog := e.do(req{method: "GET", path: "/api/v1/quizzes/" + post + "/progress", token: learner}).json(t)
	if prog["gain"] != nil || prog["grade"] != 0.25 {
		t.Errorf("posttest progress with a pretest that hides its scores: %v", prog)
	}
}

// TestPretestIsTheOrganisations: a posttest's pretest must be a pretest
// of the quiz's own organisation, at create, update and publish; another
// organisation's quiz, shared or not, gets the answer an unknown ID gets.
func TestPretestIsTheOrganisations(t *testing.T) {
	e := newEnv(t)
	trainer, root := e.token("a-trainer"), e.token("root")
	bankB := bank()
	bankB["orgId"] = e.orgB.ID
	bB := e.mustPost(root, "/api/v1/banks", bankB, 201)
	theirs := func(shared bool) string {
		q := quiz(bB["id"].(string), map[string]any{"kind": "pretest", "orgId": e.orgB.ID, "shared": shared})
		id := e.mustPost(root, "/api/v1/quizzes", q, 201)["id"].(string)
		e.mustPost(root, "/api/v1/quizzes/"+id+"/publish", map[string]any{"revision": 1}, 201)
		return id
	}
	own := e.publishedQuiz(trainer, map[string]any{"kind": "pretest"})
	plain := e.publishedQuiz(trainer, nil)
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	posttest := func(pretest string) map[string]any {
		return quiz(b["id"].(string), map[string]any{"kind": "posttest", "pretest": pretest})
	}
	refused := func(what string, r response) {
		t.Helper()
		p := wantProblem(t, r, 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"pretest:unknown_pretest"}) {
			t.Errorf("%s: errors %v", what, got)
		}
	}
	for what, pretest := range map[string]string{
		"another organisation's private pretest":  theirs(false),
		"another organisation's shared pretest":   theirs(true),
		"an unknown id":                           "0190f1e2-0000-7000-8000-0000005a0001",
		"a malformed id":                          "not an id",
		"the organisation's quiz of another kind": plain,
	} {
		refused("create with "+what, e.do(req{method: "POST", path: "/api/v1/quizzes", token: trainer, body: posttest(pretest)}))
		refused("a global admin's create with "+what, e.do(req{method: "POST", path: "/api/v1/quizzes", token: root,
			body: quiz(b["id"].(string), map[string]any{"kind": "posttest", "pretest": pretest, "orgId": e.orgA.ID})}))
	}
	q := e.mustPost(trainer, "/api/v1/quizzes", posttest(own), 201)
	id := q["id"].(string)
	upd := posttest(theirs(false))
	upd["revision"] = 1
	refused("update", e.do(req{method: "PUT", path: "/api/v1/quizzes/" + id, token: trainer, body: upd}))

	// The pretest becomes a plain quiz after the posttest named it.
	change := quiz(b["id"].(string), map[string]any{"revision": 1})
	if r := e.do(req{method: "PUT", path: "/api/v1/quizzes/" + own, token: trainer, body: change}); r.status != 200 {
		t.Fatalf("update the pretest: %d %s", r.status, r.body)
	}
	refused("publish", e.do(req{method: "POST", path: "/api/v1/quizzes/" + id + "/publish", token: trainer, body: map[string]any{"revision": 1}}))
}

// TestTimeLimitValidatedAsGiven: the time limit is checked as the number
// of seconds sent, not after a conversion that wraps (18446744074 s is
// 0.29 s of nanoseconds in 64 bits).
func TestTimeLimitValidatedAsGiven(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	b := e.mustPost(trainer, "/api/v1/banks", bank(), 201)
	bankID := b["id"].(string)
	ok := e.mustPost(trainer, "/api/v1/quizzes", quiz(bankID, map[string]any{"timeLimitSeconds": 86400}), 201)
	// Integers out of range are "range"; numbers no integer field can
	// hold are the decoder's (code "type"): all on timeLimitSeconds.
	for _, limit := range []any{18446744074, 9223372037, -1, 86401, json.Number("99999999999999999999"), json.Number("1e30"), json.Number("86400.5")} {
		wantCode := "timeLimitSeconds:range"
		if _, huge := limit.(json.Number); huge {
			wantCode = "timeLimitSeconds:"
		}
		body := quiz(bankID, map[string]any{"timeLimitSeconds": limit})
		p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/quizzes", token: trainer, body: body}), 422, "validation")
		if got := fieldCodes(p); len(got) != 1 || !strings.HasPrefix(got[0], wantCode) {
			t.Errorf("create with %v: errors %v, want %s", limit, got, wantCode)
		}
		body["revision"] = 1
		p = wantProblem(t, e.do(req{method: "PUT", path: "/api/v1/quizzes/" + ok["id"].(string), token: trainer, body: body}), 422, "validation")
		if got := fieldCodes(p); len(got) != 1 || !strings.HasPrefix(got[0], wantCode) {
			t.Errorf("update with %v: errors %v, want %s", limit, got, wantCode)
		}
	}
	if ok["timeLimitSeconds"] != 86400.0 {
		t.Errorf("time limit read back as %v", ok["timeLimitSeconds"])
	}
	e.mustPost(trainer, "/api/v1/quizzes/"+ok["id"].(string)+"/publish", map[string]any{"revision": 1}, 201)
	view := e.mustPost(learner, "/api/v1/quizzes/"+ok["id"].(string)+"/attempts", map[string]any{"id": "0190f1e2-0000-7000-8000-0000006a0001"}, 201)
	if view["deadline"] != e.clock.Now().Add(24*time.Hour).Format(time.RFC3339) {
		t.Errorf("deadline %v, want a day after %v", view["deadline"], e.clock.Now())
	}
}

// TestLearnerResultsForStaff: the educators of a learner's organisation
// list the learner's attempts at every quiz, with every score, even
// where the feedback policy keeps scores from the learner; nobody else
// may, the learner included.
func TestLearnerResultsForStaff(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	hidden := e.publishedQuiz(trainer, map[string]any{"feedback": "never", "attemptLimit": 0})
	other := e.publishedQuiz(trainer, nil)
	first, second, open := "0190f1e2-0000-7000-8000-0000005e0001", "0190f1e2-0000-7000-8000-0000005e0002", "0190f1e2-0000-7000-8000-0000005e0003"
	e.mustPost(learner, "/api/v1/quizzes/"+hidden+"/attempts", map[string]any{"id": first}, 201)
	if r := answer(e, learner, first, "b1.who", "1", map[string]any{"option": "outlet"}); r.status != 200 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	e.mustPost(learner, "/api/v1/attempts/"+first+"/submit", nil, 200)
	e.mustPost(learner, "/api/v1/quizzes/"+hidden+"/attempts", map[string]any{"id": second}, 201)
	e.mustPost(learner, "/api/v1/attempts/"+second+"/submit", nil, 200)
	e.mustPost(learner, "/api/v1/quizzes/"+other+"/attempts", map[string]any{"id": open}, 201)

	path := "/api/v1/users/" + e.learnerA.ID + "/attempts?lang=en"
	for _, who := range []string{"a-edu", "a-admin"} {
		r := e.do(req{method: "GET", path: path, token: e.token(who)})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", who, r.status, r.body)
		}
		byQuiz := map[string]map[string]any{}
		for _, it := range r.json(t)["items"].([]any) {
			m := it.(map[string]any)
			byQuiz[m["quizId"].(string)] = m
		}
		h, o := byQuiz[hidden], byQuiz[other]
		if len(byQuiz) != 2 || h == nil || o == nil {
			t.Fatalf("%s: results %s", who, r.body)
		}
		attempts := h["attempts"].([]any)
		if len(attempts) != 2 || h["open"] != 0.0 || h["scoreHidden"] != nil || h["title"].(map[string]any)["value"] != "Check your sources" {
			t.Errorf("%s: hidden-policy quiz %v", who, h)
		}
		best := 0.0
		for _, a := range attempts {
			m := a.(map[string]any)
			if m["score"] == nil || m["max"] == nil {
				t.Errorf("%s: attempt without its score: %v", who, m)
				continue
			}
			best = max(best, m["score"].(float64)/m["max"].(float64))
		}
		if best == 0 || h["grade"] != best {
			t.Errorf("%s: grade %v, best attempt %v", who, h["grade"], best)
		}
		if o["open"] != 1.0 || len(o["attempts"].([]any)) != 1 || o["grade"] != nil {
			t.Errorf("%s: quiz with an open attempt %v", who, o)
		}
	}
	// The learner reads their own standing per quiz, as the policy allows;
	// a trainer does not follow learners; another organisation's staff do
	// not learn the learner exists.
	for _, who := range []string{"a-learner", "a-trainer", "b-edu", "b-learner"} {
		wantProblem(t, e.do(req{method: "GET", path: path, token: e.token(who)}), 404, "not-found")
	}
	if r := e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/attempts?limit=101", token: e.token("a-edu")}); r.status != 200 || r.json(t)["limit"] != 100.0 {
		t.Errorf("a page over the bound: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/users/" + e.learnerA.ID + "/attempts?limit=-1", token: e.token("a-edu")}), 422, "validation")
}
