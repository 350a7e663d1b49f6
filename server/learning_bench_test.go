package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/server"
)

// benchCPU is the process's user and system CPU time so far: the server
// runs in the benchmark's process.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCall sends one JSON request to srv and decodes the answer into out
// (if not nil), failing on another status than want.
func benchCall(b *testing.B, srv *server.Server, method, path, token string, body any, want int, out any) {
	b.Helper()
	if _, err := benchSend(srv, method, path, token, body, want, out); err != nil {
		b.Fatal(err)
	}
}

// refusals counts the requests admission control refused in the
// benchmarks (sent again after their Retry-After, as a client does).
var refusals atomic.Int64

// benchSend is benchCall for other goroutines than the benchmark's. A
// request admission control refuses (503 with Retry-After) is sent again
// after it; it returns how many times that happened.
func benchSend(srv *server.Server, method, path, token string, body any, want int, out any) (int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	refused := 0
	var (
		resp *http.Response
		data []byte
	)
	for {
		r := httptest.NewRequest(method, path, strings.NewReader(string(raw)))
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err = srv.App().Test(r, -1)
		if err != nil {
			return refused, err
		}
		data, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || wait == 0 {
			break
		}
		refusals.Add(1)
		refused++
		time.Sleep(time.Duration(wait) * time.Second)
	}
	if resp.StatusCode != want {
		return refused, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return refused, json.Unmarshal(data, out)
	}
	return refused, nil
}

// syncBench is a published three-lesson course and learners enrolled in
// it, on the embedded database with production hash parameters.
type syncBench struct {
	srv      *server.Server
	courseID string
	learners []string // tokens
}

func newSyncBench(b *testing.B, learners int) *syncBench {
	b.Helper()
	be := benchMediaServer(b, nil, assets.DefaultConfig)
	s := &syncBench{srv: be.srv}
	login := func(user, secret string) string {
		var out map[string]any
		benchCall(b, s.srv, "POST", "/api/v1/auth/login", "", map[string]any{"username": user, "password": secret}, 200, &out)
		return out["accessToken"].(string)
	}
	root := login("root", fixturePassword)
	var org map[string]any
	benchCall(b, s.srv, "POST", "/api/v1/organisations", root, map[string]any{"slug": "bench", "name": "Bench"}, 201, &org)
	benchCall(b, s.srv, "POST", "/api/v1/users", root, map[string]any{"orgId": org["id"], "username": "bench-trainer", "role": "trainer", "password": fixturePassword}, 201, nil)
	trainer := login("bench-trainer", fixturePassword)
	var c map[string]any
	benchCall(b, s.srv, "POST", "/api/v1/courses", trainer, learningDraft("bench-course", ""), 201, &c)
	benchCall(b, s.srv, "POST", "/api/v1/courses/"+c["id"].(string)+"/publish", trainer, map[string]any{"revision": c["revision"]}, 201, nil)
	s.courseID = c["id"].(string)
	for i := range learners {
		name := fmt.Sprintf("bench-learner-%d", i)
		benchCall(b, s.srv, "POST", "/api/v1/users", root, map[string]any{"orgId": org["id"], "username": name, "role": "learner", "pin": "739164"}, 201, nil)
		sess, err := be.acc.Login(context.Background(), name, "739164", fmt.Sprintf("10.1.%d.%d", i/200, i%200))
		if err != nil {
			b.Fatal(err)
		}
		tok := sess.AccessToken
		benchCall(b, s.srv, "POST", "/api/v1/me/enrolments", tok, map[string]any{"courseId": s.courseID}, 201, nil)
		s.learners = append(s.learners, tok)
	}
	return s
}

// batch is n fresh events (ids made from seq) over the course's lessons,
// the mix a day offline makes: openings, blocks seen, time, completions,
// a reflection now and then.
func (s *syncBench) batch(seq, n int, at time.Time) map[string]any {
	events := make([]map[string]any, n)
	lessons := []string{"l1", "l2", "l3"}
	for i := range events {
		id := fmt.Sprintf("0190f1e2-%04x-7000-8000-%012x", seq%0x10000, seq/0x10000*1_000_000+i)
		ev := map[string]any{"id": id, "at": at.Add(time.Duration(i-n) * time.Second), "courseId": s.courseID, "version": 1, "lessonId": lessons[i%3]}
		switch i % 10 {
		case 0, 5:
			ev["type"] = "lesson_opened"
		case 1, 2, 6, 7:
			ev["type"], ev["lessonId"], ev["blockId"] = "block_seen", "l1", []string{"b1", "r1"}[i%2]
		case 3, 8:
			ev["type"], ev["seconds"] = "time_spent", 30+i%60
		case 4:
			ev["type"] = "lesson_completed"
		default:
			ev["type"], ev["lessonId"], ev["blockId"], ev["text"] = "reflection_saved", "l1", "r1", fmt.Sprintf("Note %d: أخي يستطيع المساعدة", i)
		}
		events[i] = ev
	}
	return map[string]any{"sentAt": at, "events": events}
}

// BenchmarkSync measures POST /api/v1/sync through the Fiber app on the
// embedded database (SQLite): a batch of 100 and of 1,000 fresh events
// from one learner (one progress document rewritten once per batch), and
// 100 learners each sending a batch of 100 at the same moment (the
// latency of every request kept; p50 and p99 reported).
//
//	go test -run '^$' -bench Sync -benchtime 20x -count 3 ./server
func BenchmarkSync(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			s := newSyncBench(b, 1)
			seq := 0
			cpu0, start := benchCPU(), time.Now()
			for b.Loop() {
				seq++
				var out map[string]any
				benchCall(b, s.srv, "POST", "/api/v1/sync", s.learners[0], s.batch(seq, n, time.Now()), 200, &out)
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64((benchCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/batch")
		})
	}
	b.Run("100-learners-at-once", func(b *testing.B) {
		s := newSyncBench(b, 100)
		var (
			mu                  sync.Mutex
			latencies, admitted []time.Duration // every request's; those admitted at once
		)
		seq := 0
		refused0 := refusals.Load()
		for b.Loop() {
			var wg sync.WaitGroup
			for _, tok := range s.learners {
				seq++
				body := s.batch(seq, 100, time.Now())
				wg.Go(func() {
					t0 := time.Now()
					refused, err := benchSend(s.srv, "POST", "/api/v1/sync", tok, body, 200, nil)
					if err != nil {
						b.Error(err)
						return
					}
					d := time.Since(t0)
					mu.Lock()
					latencies = append(latencies, d)
					if refused == 0 {
						admitted = append(admitted, d)
					}
					mu.Unlock()
				})
			}
			wg.Wait()
		}
		pct := func(l []time.Duration, p float64) float64 {
			if len(l) == 0 {
				return 0
			}
			slices.Sort(l)
			return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(latencies, 0.50), "p50-ms")
		b.ReportMetric(pct(latencies, 0.99), "p99-ms")
		b.ReportMetric(pct(admitted, 0.99), "p99-admitted-ms")
		b.ReportMetric(float64(refusals.Load()-refused0), "refused")
		b.ReportMetric(0, "ns/op")
	})
}
