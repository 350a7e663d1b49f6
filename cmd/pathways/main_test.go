package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways/storage/ferretmove"
	"github.com/pathways-lms/pathways/storage/ferretmove/movetest"
)

// instance is one run of the real server command.
type instance struct {
	base   string
	stdout *lockedBuffer
	stderr *lockedBuffer
	stop   context.CancelFunc
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// start runs `pathways serve` with env on a free port and waits until it
// is ready.
func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	env["PATHWAYS_ADDR"] = "127.0.0.1:0"
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		in.done <- run(ctx, []string{"serve"}, getenv, in.stdout, in.stderr, func(a string) { ready <- a })
	}()
	select {
	case addr := <-ready:
		in.base = "http://" + addr
	case err := <-in.done:
		t.Fatalf("server exited: %v\n%s", err, in.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("server not ready\n%s", in.stderr)
	}
	t.Cleanup(func() { in.shutdown(t) })
	return in
}

// shutdown cancels the run context, as SIGINT/SIGTERM do, and waits for
// a clean exit.
func (in *instance) shutdown(t *testing.T) {
	t.Helper()
	if in.stop == nil {
		return
	}
	in.stop()
	in.stop = nil
	select {
	case err := <-in.done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("server did not stop")
	}
}

func (in *instance) post(t *testing.T, path string, body any, token string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", in.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func (in *instance) get(t *testing.T, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", in.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

var passwordLine = regexp.MustCompile(`password: (\S+)`)

// TestServeEmbedded runs the real command against the embedded database:
// first start creates an admin with a generated password printed once;
// a restart on the same data keeps the admin, creates no second one, and
// keeps the signing key, so tokens survive restarts.
func TestServeEmbedded(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_LOG_LEVEL": "warn"}

	first := start(t, env)
	m := passwordLine.FindStringSubmatch(first.stdout.String())
	if m == nil {
		t.Fatalf("no generated admin password on stdout:\n%s", first.stdout)
	}
	if strings.Contains(first.stderr.String(), m[1]) {
		t.Fatal("generated password written to the log")
	}
	if status, _ := first.get(t, "/readyz", ""); status != 200 {
		t.Fatalf("readyz: %d", status)
	}
	status, sess := first.post(t, "/api/v1/auth/login", map[string]string{"username": "admin", "password": m[1]}, "")
	if status != 200 {
		t.Fatalf("admin login: %d %v", status, sess)
	}
	token := sess["accessToken"].(string)
	status, org := first.post(t, "/api/v1/organisations", map[string]string{"slug": "welcome-ngo", "name": "Welcome NGO"}, token)
	if status != 201 {
		t.Fatalf("create organisation: %d %v", status, org)
	}
	first.shutdown(t)

	second := start(t, env)
	if strings.Contains(second.stdout.String(), "password:") {
		t.Fatalf("second start printed a new admin password:\n%s", second.stdout)
	}
	// The token from the first run is still valid: the key was persisted.
	status, me := second.get(t, "/api/v1/me", token)
	if status != 200 || me["username"] != "admin" {
		t.Fatalf("me after restart: %d %v", status, me)
	}
	status, got := second.get(t, "/api/v1/organisations/"+org["id"].(string), token)
	if status != 200 || got["slug"] != "welcome-ngo" {
		t.Fatalf("organisation after restart: %d %v", status, got)
	}
}

// TestPruneRuns: the background clean-up runs at its interval and stops
// with the server.
func TestPruneRuns(t *testing.T) {
	in := start(t, map[string]string{"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "info", "PATHWAYS_PRUNE_INTERVAL": "50ms"})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(in.stderr.String(), `"msg":"pruned"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no prune run logged:\n%s", in.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.shutdown(t)
}

// TestServeConfiguredAdmin: with PATHWAYS_ADMIN_PASSWORD set nothing is
// printed and that password works.
func TestServeConfiguredAdmin(t *testing.T) {
	env := map[string]string{
		"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "warn",
		"PATHWAYS_ADMIN_USERNAME": "coordinator", "PATHWAYS_ADMIN_PASSWORD": "a long admin passphrase",
		"PATHWAYS_JWT_SECRET": strings.Repeat("k", 40),
	}
	in := start(t, env)
	if strings.Contains(in.stdout.String(), "password:") {
		t.Fatal("configured password printed")
	}
	status, _ := in.post(t, "/api/v1/auth/login", map[string]string{"username": "coordinator", "password": "a long admin passphrase"}, "")
	if status != 200 {
		t.Fatalf("login: %d", status)
	}
}

func TestConfigErrors(t *testing.T) {
	env := map[string]string{
		"PATHWAYS_JWT_SECRET": "short", "PATHWAYS_ACCESS_TTL": "soon", "PATHWAYS_BODY_LIMIT": "big",
		"PATHWAYS_LOG_LEVEL": "loud", "PATHWAYS_DB_SYNCHRONOUS": "perhaps", "PATHWAYS_PUBLIC_URL": "learn.example.org",
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"PATHWAYS_JWT_SECRET", "PATHWAYS_ACCESS_TTL", "PATHWAYS_BODY_LIMIT", "PATHWAYS_LOG_LEVEL", "PATHWAYS_DB_SYNCHRONOUS", "PATHWAYS_PUBLIC_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	c, err := loadConfig(func(string) string { return "" })
	if err != nil || c.Addr != ":8080" || c.DataDir != "data" || c.MongoURI != "" || c.BodyLimit != 1<<20 || c.PublicURL != "http://localhost:8080" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for in, want := range map[[2]string]string{
		{"", ":9090"}: "http://localhost:9090", {"https://learn.example.org/", ":8080"}: "https://learn.example.org",
		{"https://example.org/pathways", ":8080"}: "https://example.org/pathways",
	} {
		c, err := loadConfig(func(k string) string {
			return map[string]string{"PATHWAYS_PUBLIC_URL": in[0], "PATHWAYS_ADDR": in[1]}[k]
		})
		if err != nil || c.PublicURL != want {
			t.Errorf("PATHWAYS_PUBLIC_URL %q with PATHWAYS_ADDR %q: %q, %v; want %q", in[0], in[1], c.PublicURL, err, want)
		}
	}
}

func TestCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard, nil); err != nil || out.Len() == 0 {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard, nil); err == nil {
		t.Fatal("unknown command accepted")
	}
	in := start(t, map[string]string{"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "warn"})
	addr := strings.TrimPrefix(in.base, "http://")
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string { return map[string]string{"PATHWAYS_ADDR": addr}[k] }, io.Discard, io.Discard, nil); err != nil {
		t.Fatalf("healthcheck of a running server: %v", err)
	}
	in.shutdown(t)
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string { return map[string]string{"PATHWAYS_ADDR": addr}[k] }, io.Discard, io.Discard, nil); err == nil {
		t.Fatal("healthcheck of a stopped server passed")
	}
}

// TestResetPassword: the operator's command recovers a lost admin
// password; the old one stops working and the new one works.
func TestResetPassword(t *testing.T) {
	env := map[string]string{"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "warn"}
	first := start(t, env)
	old := passwordLine.FindStringSubmatch(first.stdout.String())[1]
	first.shutdown(t)

	var out bytes.Buffer
	getenv := func(k string) string { return env[k] }
	if err := run(context.Background(), []string{"user", "reset-password", "admin"}, getenv, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`New password for admin: (\S+)`).FindStringSubmatch(out.String())
	if m == nil || m[1] == old {
		t.Fatalf("no new password printed: %q", out.String())
	}
	if err := run(context.Background(), []string{"user", "reset-password", "nobody"}, getenv, io.Discard, io.Discard, nil); err == nil {
		t.Fatal("reset of an unknown user succeeded")
	}
	if err := run(context.Background(), []string{"user", "frobnicate"}, getenv, io.Discard, io.Discard, nil); err == nil {
		t.Fatal("unknown user subcommand accepted")
	}

	second := start(t, env)
	if status, _ := second.post(t, "/api/v1/auth/login", map[string]string{"username": "admin", "password": old}, ""); status != 401 {
		t.Fatalf("old password: %d", status)
	}
	if status, _ := second.post(t, "/api/v1/auth/login", map[string]string{"username": "admin", "password": m[1]}, ""); status != 200 {
		t.Fatalf("new password: %d", status)
	}
}

// TestRefusesUnmovedFerretDBData: a data directory the FerretDB engine of
// earlier versions wrote is neither read nor started empty beside: the
// server refuses and names the command that moves it.
func TestRefusesUnmovedFerretDBData(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pathways.sqlite"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_ADDR": "127.0.0.1:0", "PATHWAYS_LOG_LEVEL": "error"}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "go run ./cmd/pathways-move") {
		t.Fatalf("start on an unmoved data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pathways.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new database was created beside the old one: %v", err)
	}
}

// TestServeAfterMove: a data directory of the FerretDB engine, moved once
// by cmd/pathways-move's Move, serves its old users: they sign in with
// their old passwords and PINs, the demo courses are in the catalogue,
// and no second admin or demo copy is made.
func TestServeAfterMove(t *testing.T) {
	dir := movetest.DataDir(t)
	if _, err := ferretmove.Move(t.Context(), ferretmove.Options{DataDir: dir, DBName: movetest.DBName}); err != nil {
		t.Fatal(err)
	}
	in := start(t, map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_LOG_LEVEL": "warn"})
	if strings.Contains(in.stdout.String(), "password:") {
		t.Fatalf("a new admin was made on moved data:\n%s", in.stdout)
	}
	for _, c := range []struct{ username, secret string }{
		{"admin", movetest.AdminPassword}, {"edu1", movetest.EduPassword}, {"learner1", movetest.Learner1PIN},
	} {
		status, sess := in.post(t, "/api/v1/auth/login", map[string]string{"username": c.username, "password": c.secret}, "")
		if status != 200 {
			t.Fatalf("sign-in of %s: %d %v", c.username, status, sess)
		}
		status, me := in.get(t, "/api/v1/me", sess["accessToken"].(string))
		if status != 200 || me["username"] != c.username {
			t.Errorf("me of %s: %d %v", c.username, status, me)
		}
		if c.username != "learner1" {
			continue
		}
		status, cat := in.get(t, "/api/v1/catalogue", sess["accessToken"].(string))
		if status != 200 || cat["total"] != float64(3) {
			t.Errorf("catalogue of learner1: %d %v", status, cat)
		}
	}
}
