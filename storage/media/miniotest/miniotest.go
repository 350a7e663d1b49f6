// Package miniotest gives tests a real S3 server: one MinIO per test binary,
// started on first use on free loopback ports, and a fresh bucket per test,
// removed when the test ends.
//
// Call Main from TestMain, or Stop after another harness's Main:
//
//	func TestMain(m *testing.M) {
//		code := mongotest.Main(m)
//		miniotest.Stop()
//		os.Exit(code)
//	}
//
// A binary that does neither still leaves no server running on Linux (MinIO
// dies with it), and its files are removed by the next one that starts
// MinIO.
//
// The MinIO binary is found at $PATHWAYS_MINIO_BIN, else in the cache where
// scripts/test installs it (${XDG_CACHE_HOME:-$HOME/.cache}/pathways/
// minio-<Version>/minio), else as minio on PATH. Without it the tests fail,
// never skip: S3 support must not go untested by accident.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pathways-lms/pathways/storage/media"
)

// Version is the MinIO module version that scripts/test installs (keep the
// two equal).
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

const (
	accessKey    = "pathways-test"
	secretKey    = "pathways-test-secret"
	region       = "us-east-1"
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
	// startAttempts covers losing a just-probed free port to another process.
	startAttempts = 3
	// dirPattern names the server directories in the temp dir.
	dirPattern = "pathways-test-minio-"
	// lockFile, in a server directory, is locked while its owner lives.
	lockFile = "lock"
)

// The shared server of this test binary, started by the first Server call.
var (
	once    sync.Once
	srv     *server
	initErr error
)

type server struct {
	cmd      *exec.Cmd
	dir      string        // MinIO's data, HOME and log
	lock     *os.File      // held open: dir is in use
	endpoint string        // host:port of the S3 API
	exited   chan struct{} // closed when MinIO has exited
}

// Main runs a package's tests, then stops the shared server and removes its
// files. Call it from TestMain: os.Exit(miniotest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the shared server, if it was started, and removes its files.
// Call it after the tests have run, for a TestMain that runs them through
// another harness's Main.
func Stop() {
	if srv != nil {
		srv.stop()
		srv = nil
	}
}

// Server returns the address and credentials of the shared MinIO server,
// starting it on first use. It fails the test if MinIO cannot start.
func Server(t testing.TB) (endpoint, accessKeyID, secretAccessKey string) {
	t.Helper()
	once.Do(func() { srv, initErr = start() })
	if initErr != nil {
		t.Fatalf("start MinIO: %v", initErr)
	}
	if srv == nil {
		t.Fatal("MinIO was stopped (miniotest.Stop) before this test")
	}
	return srv.endpoint, accessKey, secretKey
}

// Config returns the configuration of a store on a new, randomly named
// bucket (created by media.NewS3), emptied and removed when the test ends.
func Config(t testing.TB) media.S3Config {
	t.Helper()
	endpoint, ak, sk := Server(t)
	bucket := newBucketName()
	t.Cleanup(func() { removeBucket(t, endpoint, bucket) })
	return media.S3Config{Endpoint: endpoint, Bucket: bucket, AccessKey: ak, SecretKey: sk, Region: region}
}

// NewS3 returns a store on a new bucket, emptied and removed when the test
// ends.
func NewS3(t testing.TB) *media.S3 {
	t.Helper()
	s, err := media.NewS3(context.Background(), Config(t))
	if err != nil {
		t.Fatalf("new S3 store: %v", err)
	}
	return s
}

func newBucketName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// removeBucket deletes the bucket with everything in it (objects and
// incomplete uploads), using MinIO's force delete.
func removeBucket(t testing.TB, endpoint, bucket string) {
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(accessKey, secretKey, ""),
		Region: region,
	})
	if err != nil {
		t.Errorf("remove test bucket: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = client.RemoveBucketWithOptions(ctx, bucket, minio.RemoveBucketOptions{ForceDelete: true})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchBucket {
		t.Errorf("remove test bucket %s: %v", bucket, err)
	}
}

// Binary returns the path of the MinIO binary (see the package doc).
func Binary() (string, error) {
	if p := os.Getenv("PATHWAYS_MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("PATHWAYS_MINIO_BIN: %w", err)
		}
		return p, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find MinIO: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	cached := filepath.Join(cache, "pathways", "minio-"+Version, "minio")
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no MinIO binary at $PATHWAYS_MINIO_BIN, %s or on PATH: "+
		"run scripts/test, which installs it (go install github.com/minio/minio@%s, about 2 minutes)",
		cached, Version)
}

func start() (*server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	removeAbandoned()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	for attempt := 1; ; attempt++ {
		s, exited, err := startIn(bin, dir)
		if err == nil {
			s.lock = lock
			return s, nil
		}
		// Only an early exit (likely a port taken meanwhile) is worth a retry.
		if !exited || attempt == startAttempts {
			_ = os.RemoveAll(dir)
			if lock != nil {
				_ = lock.Close()
			}
			return nil, err
		}
	}
}

// removeAbandoned removes the server directories of test binaries that
// died without clean-up.
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, dir := range dirs {
		removeIfAbandoned(dir)
	}
}

// startIn runs MinIO with its files in dir and waits until it is live.
// exited reports a failure because MinIO exited early.
func startIn(bin, dir string) (s *server, exited bool, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, false, err
	}
	consoleAddr, err := freeAddr()
	if err != nil {
		return nil, false, err
	}
	logPath := filepath.Join(dir, "minio.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, false, err
	}
	defer logFile.Close() // the child has its own copy

	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", addr, "--console-address", consoleAddr, "--quiet")
	cmd.Env = append(env(),
		"MINIO_ROOT_USER="+accessKey,
		"MINIO_ROOT_PASSWORD="+secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"HOME="+dir, // MinIO writes its config and certs directory under HOME
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithParent(cmd)

	s = &server{cmd: cmd, dir: dir, endpoint: addr, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig follows the thread that started the child: keep this
		// goroutine on its thread for MinIO's whole life.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return nil, false, fmt.Errorf("run %s: %w", bin, err)
	}
	if err := s.waitLive(); err != nil {
		select {
		case <-s.exited:
			exited = true
		default:
			s.kill()
		}
		return nil, exited, fmt.Errorf("%w\n--- end of %s:\n%s", err, logPath, tail(logPath, 4096))
	}
	return s, false, nil
}

// env is the test's environment without MINIO_* variables, which could
// reconfigure the test server.
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitLive polls MinIO's liveness endpoint until it answers 200.
func (s *server) waitLive() error {
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + s.endpoint + "/minio/health/live"
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("MinIO not live at %s after %v: %v", url, startTimeout, err)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("MinIO exited (%v) before it was live", s.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks MinIO to exit, kills it if it lingers, and removes its files.
func (s *server) stop() {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		s.kill()
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.kill()
	}
	_ = os.RemoveAll(s.dir)
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
