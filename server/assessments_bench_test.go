package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
)

// BenchmarkSubmit measures submitting a 20-question quiz (scoring, the
// learner's record and the item statistics included) with 100 learners
// submitting at once, over loopback HTTP against the embedded database.
// Each round, every learner starts an attempt and answers all 20
// questions (not timed), then all 100 submit together (timed, each
// request's latency recorded). b.N is rounded up to whole rounds. A
// request admission control refuses (503 or 429) is sent again after its
// Retry-After, as a client does: the refusals are a figure ("refused"),
// not a failure, and a submit's latency includes its waits.
//
//	go test -run '^$' -bench Submit -benchtime 500x ./server
func BenchmarkSubmit(b *testing.B) {
	const learners, questions = 100, 20
	e, admin, org := benchCourses(b)
	ctx := context.Background()
	bk := assessments.Bank{OrgID: org, Name: "bench", DefaultLocale: "en", Locales: []string{"en"}, Messages: i18n.Messages{"en": {}}}
	var ids []string
	for i := range questions {
		id := fmt.Sprintf("q%d", i)
		ids = append(ids, id)
		bk.Questions = append(bk.Questions, assessments.BankQuestion{Question: assessments.Question{
			ID: id, Type: assessments.TypeSingle, Prompt: id,
			Options: []assessments.Option{{ID: "a", Text: "a", Correct: true}, {ID: "b", Text: "b"}, {ID: "c", Text: "c"}},
		}})
		bk.Messages["en"][id] = i18n.Message{Other: "Question " + id}
	}
	for _, o := range []string{"a", "b", "c"} {
		bk.Messages["en"][o] = i18n.Message{Other: "Option " + o}
	}
	bk, _, err := e.assess.CreateBank(ctx, admin, bk)
	if err != nil {
		b.Fatal(err)
	}
	q, _, err := e.assess.CreateQuiz(ctx, admin, assessments.Quiz{
		OrgID: org, Kind: assessments.KindQuiz, DefaultLocale: "en", Locales: []string{"en"}, Title: "title",
		Messages: i18n.Messages{"en": {"title": {Other: "Bench"}}}, Picks: []assessments.Pick{{Bank: bk.ID, Questions: ids}},
		Feedback: assessments.FeedbackAfterSubmit, Grade: assessments.GradeHighest, PassMark: 0.5,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := e.assess.PublishQuiz(ctx, admin, q.ID, q.Revision); err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, learners)
	for i := range learners {
		name := fmt.Sprintf("learner%03d", i)
		if _, _, err := e.acc.CreateUser(ctx, admin, org, accounts.NewUser{Username: name, Role: accounts.RoleLearner, PIN: "3916"}); err != nil {
			b.Fatal(err)
		}
		sess, err := e.acc.Login(ctx, name, "3916", fmt.Sprintf("10.0.%d.%d", i/200, i%200))
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = sess.AccessToken
	}
	base := serveBench(b, e.srv)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: learners}}
	var refused atomic.Int64
	send := func(method, path, token string, body []byte) (int, time.Duration, error) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return 0, 0, err
		}
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return resp.StatusCode, time.Duration(wait) * time.Second, nil
	}
	call := func(method, path, token string, body any) error {
		var buf []byte
		if body != nil {
			buf, _ = json.Marshal(body)
		}
		for try := 0; ; try++ {
			status, wait, err := send(method, path, token, buf)
			switch {
			case err != nil:
				return err
			case (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && wait > 0 && try < 10:
				refused.Add(1)
				time.Sleep(wait)
				continue
			case status >= 300:
				return fmt.Errorf("%s %s: %d", method, path, status)
			}
			return nil
		}
	}
	parallel := func(f func(i int) error) {
		var wg sync.WaitGroup
		errs := make([]error, learners)
		for i := range learners {
			wg.Go(func() { errs[i] = f(i) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}

	rounds := (b.N + learners - 1) / learners
	var latencies []time.Duration
	var busy time.Duration
	b.ResetTimer()
	b.StopTimer()
	for range rounds {
		attempts := make([]string, learners)
		parallel(func(i int) error {
			attempts[i] = uuid.NewString()
			if err := call("POST", "/api/v1/quizzes/"+q.ID+"/attempts", tokens[i], map[string]any{"id": attempts[i]}); err != nil {
				return err
			}
			for k, id := range ids {
				ans := map[string]any{"answerId": fmt.Sprint(k), "answer": map[string]any{"option": []string{"a", "b"}[k%2]}}
				if err := call("PUT", "/api/v1/attempts/"+attempts[i]+"/answers/b1."+id, tokens[i], ans); err != nil {
					return err
				}
			}
			return nil
		})
		lat := make([]time.Duration, learners)
		b.StartTimer()
		start := time.Now()
		parallel(func(i int) error {
			t0 := time.Now()
			err := call("POST", "/api/v1/attempts/"+attempts[i]+"/submit", tokens[i], nil)
			lat[i] = time.Since(t0)
			return err
		})
		busy += time.Since(start)
		b.StopTimer()
		latencies = append(latencies, lat...)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/busy.Seconds(), "submits/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(latencies)), "submits")
	b.ReportMetric(float64(refused.Load()), "refused")
}
