package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"

	"github.com/google/uuid"
)

// attemptView is the part of an attempt's view a learner needs to answer.
type attemptView struct {
	ID        string         `json:"id"`
	Questions []viewQuestion `json:"questions"`
}

// viewQuestion is a question as the attempt shows it.
type viewQuestion struct {
	Key     string     `json:"key"`
	Type    string     `json:"type"`
	Options []viewItem `json:"options"`
	Matches []viewItem `json:"matches"`
	Blanks  []string   `json:"blanks"`
	Scale   *struct {
		Min int `json:"min"`
		Max int `json:"max"`
	} `json:"scale"`
}

type viewItem struct {
	ID string `json:"id"`
}

// startAttempt starts an attempt at the quiz and returns the answers to
// save, one request body per question.
func startAttempt(ctx context.Context, c *client, rec *recorder, s *session, quizID string) (id string, answers []answerSave, err error) {
	var v attemptView
	if _, err := c.do(ctx, rec, call{op: "start-attempt", method: "POST", path: "/api/v1/quizzes/" + quizID + "/attempts", sess: s,
		body: map[string]string{"id": uuid.NewString()}, want: &v}); err != nil {
		return "", nil, err
	}
	for _, q := range v.Questions {
		answers = append(answers, answerSave{
			path: "/api/v1/attempts/" + v.ID + "/answers/" + url.PathEscape(q.Key),
			body: map[string]any{"answerId": uuid.NewString(), "answer": answerFor(q)},
		})
	}
	if len(answers) == 0 {
		return "", nil, fmt.Errorf("start-attempt: the attempt has no questions")
	}
	return v.ID, answers, nil
}

// answerSave is one answer's autosave.
type answerSave struct {
	path string
	body map[string]any
}

// answerFor is an answer of the shape the type takes, drawn from what the
// attempt shows, right or wrong by chance, as a learner's.
func answerFor(q viewQuestion) map[string]any {
	ids := func(items []viewItem) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = it.ID
		}
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	pick := func() string { return q.Options[rand.IntN(len(q.Options))].ID }
	switch q.Type {
	case "single", "truefalse":
		return map[string]any{"option": pick()}
	case "multiple":
		return map[string]any{"options": []string{pick()}}
	case "ordering":
		return map[string]any{"order": ids(q.Options)}
	case "matching":
		pairs := map[string]string{}
		for i, m := range ids(q.Matches)[:min(len(q.Options), len(q.Matches))] {
			pairs[q.Options[i].ID] = m
		}
		return map[string]any{"pairs": pairs}
	case "short":
		return map[string]any{"text": []string{"source", "friend"}[rand.IntN(2)]}
	case "numeric":
		return map[string]any{"number": []float64{112, 911}[rand.IntN(2)]}
	case "blanks":
		out := map[string]string{}
		for _, b := range q.Blanks {
			out[b] = "source"
		}
		return map[string]any{"blanks": out}
	case "likert":
		if q.Scale == nil {
			return map[string]any{}
		}
		return map[string]any{"value": q.Scale.Min + rand.IntN(q.Scale.Max-q.Scale.Min+1)}
	}
	return map[string]any{"text": "I learnt to check who wrote it."}
}
