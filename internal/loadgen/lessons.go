package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
)

// lessons reads one published lesson at cfg.Conns connections for
// cfg.Duration; with cfg.Bare it then serves the same bytes, with the
// same headers, from a bare Fiber handler in this process and reads them
// the same way, and reports the ratio of the two rates.
func lessons(ctx context.Context, c *client, f *fixture, cfg Config, pid int, rep *Report, logf func(string, ...any)) error {
	path := f.lessons[0]
	status, header, body, _, err := c.send(ctx, call{method: "GET", path: path, sess: f.learners[0]}, nil)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("lesson %s: %d %v: %.300s", path, status, err, body)
	}
	read := func(c *client, name string, pid int) (Phase, error) {
		return measure(ctx, name, pid, cfg.Conns, func(rec *recorder, w int, start <-chan struct{}) {
			s := f.learners[w%len(f.learners)]
			<-start
			stop := time.Now().Add(cfg.Duration)
			for time.Now().Before(stop) && ctx.Err() == nil {
				_, _ = c.do(ctx, rec, call{op: "lesson", method: "GET", path: path, sess: s})
			}
		})
	}
	ph, err := read(c, "pathways", pid)
	if err != nil {
		return err
	}
	rep.Phases = append(rep.Phases, ph)
	rep.LessonBytes = len(body)
	if !cfg.Bare {
		return nil
	}

	addr, shutdown, err := serveBare(header, body)
	if err != nil {
		return err
	}
	defer shutdown()
	bc := newClient("http://"+addr, cfg.Conns, cfg.Retries)
	defer bc.close()
	if st, _, got, _, err := bc.send(ctx, call{method: "GET", path: path, sess: f.learners[0]}, nil); err != nil || st != 200 || string(got) != string(body) {
		return fmt.Errorf("the bare handler sends other bytes (%d, %v)", st, err)
	}
	logf("bare handler at %s, %d bytes", addr, len(body))
	bare, err := read(bc, "bare", 0)
	if err != nil {
		return err
	}
	bare.Note = "a bare Fiber handler in the generator's process: its CPU is under generator"
	rep.Phases = append(rep.Phases, bare)
	if bare.PerSec > 0 {
		rep.Ratio = round3(ph.PerSec / bare.PerSec)
	}
	return nil
}

// serveBare serves body with header's fields (those the connection does
// not own) at every path, on a loopback port.
func serveBare(header http.Header, body []byte) (addr string, shutdown func(), err error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/*", func(c *fiber.Ctx) error {
		for k, vs := range header {
			switch k {
			case "Date", "Content-Length", "Connection", "Transfer-Encoding", "Keep-Alive":
				continue
			}
			for _, v := range vs {
				c.Response().Header.Add(k, v)
			}
		}
		return c.Send(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(ln) }()
	return ln.Addr().String(), func() { _ = app.Shutdown() }, nil
}
