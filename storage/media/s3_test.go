package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

func TestS3Unavailable(t *testing.T) {
	t.Parallel()
	// A store set up through a relay to MinIO; closing the relay leaves it
	// pointed at a closed loopback port.
	cfg := miniotest.Config(t)
	relay := startRelay(t, cfg.Endpoint)
	cfg.Endpoint = relay.addr()
	s, err := media.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping through the relay: %v", err)
	}
	relay.close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	checks := map[string]error{
		"Put":  s.Put(ctx, "blobs/x", bytes.NewReader([]byte("x")), 1),
		"Ping": s.Ping(ctx),
	}
	_, checks["Open"] = s.Open(ctx, "blobs/x", 0, -1)
	_, checks["Stat"] = s.Stat(ctx, "blobs/x")
	_, checks["CreateMultipart"] = s.CreateMultipart(ctx, "blobs/x")
	for op, err := range checks {
		t.Logf("%s: %v", op, err)
		if !errors.Is(err, pathways.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", op, err)
		} else if !strings.Contains(err.Error(), cfg.Endpoint) {
			// Refused, or broken pipe on a pooled connection the relay cut.
			t.Errorf("%s: %v: the network cause is not in the message", op, err)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("reporting a dead server took %v", d)
	}

	// A server that is down at start-up.
	cfg.Endpoint = relay.addr()
	if _, err := media.NewS3(ctx, cfg); !errors.Is(err, pathways.ErrUnavailable) {
		t.Errorf("NewS3 with no server: %v, want ErrUnavailable", err)
	}
}

func TestS3Presign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if p := miniotest.NewS3(t).Presigner(); p != nil {
		t.Error("a store without public endpoint has a Presigner")
	}

	cfg := miniotest.Config(t)
	cfg.PublicEndpoint = cfg.Endpoint
	s, err := media.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello, presigned world")
	if err := s.Put(ctx, "blobs/hello", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	p := s.Presigner()
	if p == nil {
		t.Fatal("no Presigner with a public endpoint")
	}
	const typ, disp = "text/plain; charset=utf-8", `attachment; filename="hello.txt"`
	u, err := p.PresignGet(ctx, "blobs/hello", time.Minute, typ, disp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "http://"+cfg.PublicEndpoint+"/") {
		t.Errorf("URL %s is not on the public endpoint", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET presigned URL: %s %q", resp.Status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != typ {
		t.Errorf("Content-Type %q, want %q", got, typ)
	}
	if got := resp.Header.Get("Content-Disposition"); got != disp {
		t.Errorf("Content-Disposition %q, want %q", got, disp)
	}

	// The signature covers the key: another key is refused.
	resp, err = http.Get(strings.Replace(u, "blobs/hello", "blobs/other", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET with a changed key: %s, want 403", resp.Status)
	}
}

// relay forwards TCP connections from a loopback port to a target: a real
// server that the test can take down.
type relay struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startRelay(t *testing.T, target string) *relay {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{l: l}
	t.Cleanup(r.close)
	r.wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return // closed
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, in, out)
			r.mu.Unlock()
			r.wg.Go(func() { _, _ = io.Copy(out, in); out.Close() })
			r.wg.Go(func() { _, _ = io.Copy(in, out); in.Close() })
		}
	})
	return r
}

func (r *relay) addr() string { return r.l.Addr().String() }

// close stops listening, so the port refuses connections, and cuts the
// open ones.
func (r *relay) close() {
	r.l.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
