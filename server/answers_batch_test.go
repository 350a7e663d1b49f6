package server_test

import (
	"fmt"
	"slices"
	"testing"
)

// saveBatch sends a batch of answers to an attempt.
func saveBatch(e *env, token, attempt string, answers ...map[string]any) response {
	return e.do(req{method: "PUT", path: "/api/v1/attempts/" + attempt + "/answers", token: token,
		body: map[string]any{"answers": answers}})
}

func batchItem(key, answerID string, a any) map[string]any {
	return map[string]any{"key": key, "answerId": answerID, "answer": a}
}

// TestSaveAnswersBatch: a page of answers saved in one request, its
// retry changing nothing; a batch with a problem stores none of it and
// says which answer is wrong; the rules of a single save hold.
func TestSaveAnswersBatch(t *testing.T) {
	e := newEnv(t)
	trainer, learner := e.token("a-trainer"), e.token("a-learner")
	quizID := e.publishedQuiz(trainer, nil)
	id := "0190f1e2-0000-7000-8000-0000000b7701"
	e.mustPost(learner, "/api/v1/quizzes/"+quizID+"/attempts", map[string]any{"id": id}, 201)

	bad := saveBatch(e, learner, id,
		batchItem("b1.who", "1", map[string]any{"option": "outlet"}),
		batchItem("b1.nope", "2", map[string]any{"option": "outlet"}),
		batchItem("b1.who", "3", map[string]any{"option": "friend"}),
		batchItem("b1.number", "4", map[string]any{"option": "x"}),
		map[string]any{"key": "b1.word"})
	p := wantProblem(t, bad, 422, "validation")
	if got := fmt.Sprint(fieldCodes(p)); got != "[answers/4/answer:required]" {
		t.Errorf("a batch with an item without its answer: %s", got)
	}
	bad = saveBatch(e, learner, id,
		batchItem("b1.who", "1", map[string]any{"option": "outlet"}),
		batchItem("b1.nope", "2", map[string]any{"option": "outlet"}),
		batchItem("b1.who", "3", map[string]any{"option": "friend"}),
		batchItem("b1.number", "4", map[string]any{"option": "x"}))
	p = wantProblem(t, bad, 422, "validation")
	codes := fieldCodes(p)
	for _, want := range []string{"answers/1/key:unknown_question", "answers/2/key:duplicate_value"} {
		if !slices.Contains(codes, want) {
			t.Errorf("problems %v lack %s", codes, want)
		}
	}
	if len(codes) != 3 {
		t.Errorf("problems %v, want 3 (the number's answer too)", codes)
	}
	if a := e.do(req{method: "GET", path: "/api/v1/attempts/" + id, token: learner}).json(t); len(a["answers"].(map[string]any)) != 0 {
		t.Errorf("a refused batch stored %v", a["answers"])
	}
	wantProblem(t, saveBatch(e, learner, id), 422, "validation")

	page := []map[string]any{
		batchItem("b1.who", "1", map[string]any{"option": "outlet"}),
		batchItem("b1.number", "2", map[string]any{"number": 112}),
	}
	r := saveBatch(e, learner, id, page...)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	first := r.json(t)
	if ans := first["answers"].(map[string]any); len(ans) != 2 || ans["b1.number"].(map[string]any)["number"] != 112.0 {
		t.Errorf("answers after the batch: %v", ans)
	}
	again := saveBatch(e, learner, id, page...).json(t)
	if fmt.Sprint(again["answers"]) != fmt.Sprint(first["answers"]) {
		t.Errorf("retried batch: %v, first %v", again["answers"], first["answers"])
	}
	wantProblem(t, saveBatch(e, e.token("b-learner"), id, page...), 404, "not-found")

	many := make([]map[string]any, 201)
	for i := range many {
		many[i] = batchItem("b1.who", fmt.Sprint(i), map[string]any{"option": "outlet"})
	}
	p = wantProblem(t, saveBatch(e, learner, id, many...), 422, "validation")
	if got := fmt.Sprint(fieldCodes(p)); got != "[answers:too_many]" {
		t.Errorf("201 answers: %s", got)
	}

	done := e.mustPost(learner, "/api/v1/attempts/"+id+"/submit", nil, 200)
	if done["score"] != 2.0 {
		t.Errorf("score after the batch: %v", done["score"])
	}
	wantProblem(t, saveBatch(e, learner, id, page...), 409, "attempt-closed")
}
