package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
)

// BenchmarkValidationMemory sends POST /api/v1/banks with a body just
// under the 1 MiB limit listing as many empty questions as fit (issue 11,
// item 7), or one question with as many empty options (the worst nesting:
// every list is within maxItems, so everything is decoded), over loopback
// HTTP, one at a time and six at once as the issue did. It reports the
// peak heap above the idle baseline and the size of the answer. The client
// reads the answer as a stream, so what the heap holds is the server's.
//
//	go test -run '^$' -bench ValidationMemory -benchtime 1x -count 3 ./server
func BenchmarkValidationMemory(b *testing.B) {
	be := benchMediaServer(b, nil, assets.DefaultConfig)
	base := serveBench(b, be.srv)
	ctx := context.Background()
	root, err := be.acc.Login(ctx, "root", fixturePassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	admin, err := be.acc.Authenticate(ctx, root.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	o, _, err := be.acc.CreateOrganisation(ctx, admin, accounts.NewOrganisation{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := be.acc.CreateUser(ctx, admin, o.ID, accounts.NewUser{Username: "trainer", Role: accounts.RoleTrainer, Password: fixturePassword}); err != nil {
		b.Fatal(err)
	}
	sess, err := be.acc.Login(ctx, "trainer", fixturePassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	bodies := map[string]string{
		"questions": manyItems(`{"questions":[`, `{}`, `]}`),
		"options":   manyItems(`{"questions":[`, `{"options":[`+strings.Repeat(`{},`, 4999)+`{}]}`, `]}`),
	}
	send := func(body string) (int, int64, error) {
		req, _ := http.NewRequest("POST", base+"/api/v1/banks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+sess.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, n, err
	}
	for _, name := range []string{"questions", "options"} {
		for _, parallel := range []int{1, 6} {
			b.Run(fmt.Sprintf("%s/%d", name, parallel), func(b *testing.B) {
				body := bodies[name]
				var peak uint64
				var size atomic.Int64
				for b.Loop() {
					runtime.GC()
					idle := heapBytes()
					h := sampleHeap()
					var wg sync.WaitGroup
					errs := make(chan error, parallel)
					for range parallel {
						wg.Go(func() {
							status, n, err := send(body)
							if err == nil && status != 422 {
								err = &statusError{status}
							}
							errs <- err
							size.Store(n)
						})
					}
					wg.Wait()
					p := h.done()
					close(errs)
					for err := range errs {
						if err != nil {
							b.Fatal(err)
						}
					}
					if p > idle && p-idle > peak {
						peak = p - idle
					}
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(size.Load())/1024, "answer-KiB")
			})
		}
	}
}

type statusError struct{ status int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.status) }
