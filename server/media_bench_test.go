package server_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

// generated is a reader of n bytes of a "PNG" (a real PNG header, then a
// repeated random block): any size, without holding it in memory.
type generated struct {
	head, block []byte
	n, off      int64
}

func newGenerated(b testing.TB, n int64) *generated {
	r := rand.New(rand.NewPCG(1, 2))
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	return &generated{head: pngFile(b, 4, 4, 1), block: block, n: n}
}

func (g *generated) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		pos := g.off + int64(i)
		if pos < int64(len(g.head)) {
			p[i] = g.head[pos]
		} else {
			p[i] = g.block[pos%int64(len(g.block))]
		}
	}
	g.off += int64(len(p))
	return len(p), nil
}

// benchStores are the blob stores the media benchmarks compare.
var benchStores = []string{"disk", "s3"}

// benchMedia serves a media library on store over loopback HTTP and
// returns its address, a global admin's token and the organisation to
// upload to.
func benchMedia(b *testing.B, store string) (base, token, org string, lib *assets.Service, admin accounts.Actor) {
	b.Helper()
	var blobs assets.Blobs
	if store == "s3" {
		blobs = miniotest.NewS3(b)
	}
	cfg := assets.DefaultConfig
	cfg.Limits = map[assets.Kind]int64{assets.KindImage: 1 << 30}
	be := benchMediaServer(b, blobs, cfg)
	acc, lib := be.acc, be.lib
	base = serveBench(b, be.srv)
	ctx := context.Background()
	sess, err := acc.Login(ctx, "root", fixturePassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	admin, err = acc.Authenticate(ctx, sess.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	o, _, err := acc.CreateOrganisation(ctx, admin, accounts.NewOrganisation{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return base, sess.AccessToken, o.ID, lib, admin
}

func serveBench(b *testing.B, srv *server.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// BenchmarkMediaDownload compares, in one run, reading a 50 MB asset
// through the server (GET /media/{id} over loopback HTTP, with
// authorisation) with reading the same blob straight from the store.
//
//	go test -run '^$' -bench MediaDownload -benchtime 10x ./server
func BenchmarkMediaDownload(b *testing.B) {
	const size = 50 << 20
	for _, store := range benchStores {
		b.Run(store, func(b *testing.B) {
			base, token, org, lib, admin := benchMedia(b, store)
			ctx := context.Background()
			a, _, err := lib.Upload(ctx, admin, assets.Meta{OrgID: org, Name: "big.png"}, newGenerated(b, size), size)
			if err != nil {
				b.Fatal(err)
			}
			var direct, served time.Duration
			for b.Loop() {
				t0 := time.Now()
				r, err := lib.Open(ctx, a, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatalf("direct read: %d %v", n, err)
				}
				r.Close()
				t1 := time.Now()
				req, _ := http.NewRequest("GET", base+"/media/"+a.ID, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || n != size || resp.StatusCode != 200 {
					b.Fatalf("served read: %d %d %v", resp.StatusCode, n, err)
				}
				direct += t1.Sub(t0)
				served += time.Since(t1)
			}
			mb := float64(size) / 1e6 * float64(b.N)
			b.ReportMetric(mb/direct.Seconds(), "direct-MB/s")
			b.ReportMetric(mb/served.Seconds(), "served-MB/s")
			b.ReportMetric(direct.Seconds()/served.Seconds(), "served/direct")
		})
	}
}

// heapSampler records the peak of the heap's object bytes while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := heapBytes(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapSampler) done() uint64 { close(h.stop); h.wg.Wait(); return h.peak.Load() }

// BenchmarkMediaUploadMemory uploads 50 MB and 500 MB files through the
// server (POST /api/v1/media, raw body, over loopback HTTP) and reports
// the peak heap above the idle baseline: it must not grow with the size.
// Client and server share the process; the client streams a generated body.
//
//	go test -run '^$' -bench MediaUploadMemory -benchtime 1x ./server
func BenchmarkMediaUploadMemory(b *testing.B) {
	for _, store := range benchStores {
		for _, size := range []int64{50 << 20, 500 << 20} {
			b.Run(fmt.Sprintf("%s/%dMB", store, size>>20), func(b *testing.B) {
				base, token, org, _, _ := benchMedia(b, store)
				var peak uint64
				var took time.Duration
				for b.Loop() {
					runtime.GC()
					idle := heapBytes()
					h := sampleHeap()
					t0 := time.Now()
					req, _ := http.NewRequest("POST", base+"/api/v1/media?name=big.png&orgId="+org, newGenerated(b, size))
					req.ContentLength = size
					req.Header.Set("Content-Type", "image/png")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					took += time.Since(t0)
					p := h.done()
					if resp.StatusCode != 201 && resp.StatusCode != 200 {
						b.Fatalf("upload: %d %s", resp.StatusCode, body)
					}
					if p > idle && p-idle > peak {
						peak = p - idle
					}
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(size)/1e6*float64(b.N)/took.Seconds(), "MB/s")
				b.ReportMetric(float64(size>>20), "file-MiB")
			})
		}
	}
}
