package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

// TestMain lets a test re-run this binary as the real command.
func TestMain(m *testing.M) {
	if os.Getenv("PATHWAYS_TEST_RUN_MAIN") == "1" {
		os.Args = []string{"pathways", "serve"}
		main()
		os.Exit(0)
	}
	os.Exit(miniotest.Main(m))
}

// TestSIGTERM starts the command as a process, waits until it is ready,
// sends SIGTERM and expects a clean exit that closed the database.
func TestSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PATHWAYS_TEST_RUN_MAIN=1", "PATHWAYS_ADDR=127.0.0.1:0", "PATHWAYS_DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
	}()
	var addr string
	var startup float64
	deadline := time.After(60 * time.Second)
	for addr == "" {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("process ended before it was ready")
			}
			if m["msg"] == "ready" {
				addr, _ = m["addr"].(string)
				startup, _ = m["startup_ms"].(float64)
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("not ready in 60s")
		}
	}
	t.Logf("ready on %s after %.1f ms (as logged by the process)", addr, startup)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for m := range lines {
		msgs = append(msgs, m["msg"].(string))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v (log: %v)", err, msgs)
	}
	got := strings.Join(msgs, " | ")
	for _, want := range []string{"shutting down", "stopped", "database closed"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q: %s", want, got)
		}
	}
}
