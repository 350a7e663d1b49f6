package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Spawn says how to start a fresh server for the run: Path with Args
// (for Pathways, its own executable and "serve"), in the environment
// Env (the caller's, typically) plus the settings the generator chooses.
type Spawn struct {
	Path string
	Args []string
	Env  []string
	// CPUs, when set, pins the server to these CPUs (taskset's list
	// form, such as "0"), so that it does not share them with the
	// generator.
	CPUs string
}

// server is a spawned server process.
type server struct {
	cmd      *exec.Cmd
	base     string
	dir      string
	log      *os.File
	username string
	password string
	exited   chan error
}

// start launches the server on a free loopback port with a new data
// directory and an admin account the generator chose, and waits until
// it answers /healthz.
func (sp Spawn) start(ctx context.Context) (_ *server, err error) {
	dir, err := os.MkdirTemp("", "pathways-load-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, username: "load-admin", password: "load-" + randomTag() + randomTag(), exited: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s.base = "http://" + addr
	if s.log, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		return nil, err
	}
	path, args := sp.Path, sp.Args
	if sp.CPUs != "" {
		taskset, err := exec.LookPath("taskset")
		if err != nil {
			return nil, fmt.Errorf("-server-cpus needs taskset: %w", err)
		}
		path, args = taskset, append([]string{"-c", sp.CPUs, sp.Path}, args...)
	}
	s.cmd = exec.Command(path, args...)
	s.cmd.Env = append(append([]string{}, sp.Env...),
		"PATHWAYS_ADDR="+addr,
		"PATHWAYS_DATA_DIR="+filepath.Join(dir, "data"),
		"PATHWAYS_MEDIA_DIR=", // under the data directory
		"PATHWAYS_ADMIN_USERNAME="+s.username,
		"PATHWAYS_ADMIN_PASSWORD="+s.password,
		"PATHWAYS_LOG_LEVEL=error", // every request is logged at info
		"PATHWAYS_DEMO=false",
		"MONGODB_URI=", // the embedded database
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server: %w", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			return nil, fmt.Errorf("the server exited before it was ready (%v):\n%s", err, s.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the server did not answer /healthz in 2 minutes:\n%s", s.logTail())
		}
	}
}

// stop ends the server with SIGTERM (SIGKILL after 30 s) and removes its
// data directory.
func (s *server) stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			err = errors.Join(errors.New("the server did not stop in 30 s after SIGTERM: killed"), <-s.exited)
		}
		if err != nil {
			err = fmt.Errorf("server exit: %w\n%s", err, s.logTail())
		}
	}
	if s.log != nil {
		s.log.Close()
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// logTail is the end of the server's output, for an error message.
func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// freePort finds a loopback port nobody listens on. Another process may
// take it before the server does; the start then fails and says so.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
