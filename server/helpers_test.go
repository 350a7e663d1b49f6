package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
	"github.com/pathways-lms/pathways/storage/stores"
)

// TestMain stops the shared embedded database and MinIO after the tests.
func TestMain(m *testing.M) {
	code := dbtest.Main(m)
	miniotest.Stop()
	os.Exit(code)
}

// clock is a settable time source shared by the service and token issuer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey signs the test server's tokens; tests forge tokens with it.
var testKey = []byte("test-signing-key-0123456789abcdef-0123456789")

// fastHash keeps argon2id real but cheap in tests.
var fastHash = accounts.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

type env struct {
	t   *testing.T
	db  *stores.DB
	acc *accounts.Service
	// The media library and its blob store (a fresh disk store unless the
	// test chose one with newMediaEnv).
	blobs    assets.Blobs
	presign  assets.Presigner
	mediaCfg assets.Config
	media    *assets.Service
	courses  *courses.Service
	assess   *assessments.Service
	rights   *rights.Service
	learn    *learning.Service
	srv      *server.Server
	clock    *clock
	logs     *bytes.Buffer
	logw     *syncWriter // serialises writes to logs, and reads by logText

	// fixture
	root                                         accounts.Actor
	orgA, orgB                                   accounts.Organisation
	adminA, eduA, trainerA, learnerA, eduB, lrnB accounts.User
}

// password and PIN of every fixture user.
const (
	fixturePassword = "correct horse battery"
	fixturePIN      = "2580"
)

// testEngine is the storage engine the server tests run on: SQLite, the
// default engine, unless PATHWAYS_TEST_ENGINE=mongodb (the FerretDB stand-in,
// or PATHWAYS_TEST_MONGODB_URI). Every store's contract suite runs on both
// engines in storage/stores whatever this says.
func testEngine() string {
	if k := os.Getenv("PATHWAYS_TEST_ENGINE"); k != "" {
		return k
	}
	return "sqlite"
}

// newDB is a fresh, migrated database on the test engine, closed when t
// ends.
func newDB(t testing.TB) *stores.DB {
	t.Helper()
	return stores.New(dbtest.New(t, testEngine(), stores.Schema()))
}

// wipe deletes every document of the collections, as if the database had
// lost them: for tests of what is served from memory.
func (e *env) wipe(ctx context.Context, collections ...string) {
	e.t.Helper()
	for _, c := range collections {
		var ids []string
		if err := docdb.Each(ctx, e.db.Engine(), c, docdb.Query{}, func(d docdb.Doc) error { ids = append(ids, d.ID); return nil }); err != nil {
			e.t.Fatal(err)
		}
		for _, id := range ids {
			if err := e.db.Engine().Delete(ctx, c, id, docdb.AnyRev); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

type option func(*accounts.Config, *server.Config, *server.Deps)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	return newMediaEnv(t, nil, nil, assets.DefaultConfig, opts...)
}

// newMediaEnv is newEnv with the media library on blobs (nil: a fresh
// disk store), presigning through presign (may be nil), with cfg.
func newMediaEnv(t *testing.T, blobs assets.Blobs, presign assets.Presigner, cfg assets.Config, opts ...option) *env {
	t.Helper()
	if blobs == nil {
		disk, err := media.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		blobs = disk
	}
	e := &env{
		t: t, db: newDB(t), clock: &clock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{},
		blobs: blobs, presign: presign, mediaCfg: cfg,
	}
	e.build(opts...)
	e.seed()
	return e
}

// newEnvOn is a second server instance on first's database and clock, with
// first's fixture, as another instance behind a load balancer.
func newEnvOn(t *testing.T, first *env) *env {
	t.Helper()
	e := *first
	e.t, e.logs = t, &bytes.Buffer{}
	e.build()
	return &e
}

// build wires the service and server of e.
func (e *env) build(opts ...option) {
	t, ctx := e.t, context.Background()
	tokens, err := accounts.NewTokenIssuer(testKey, 15*time.Minute, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	accCfg := accounts.DefaultConfig
	srvCfg := server.DefaultConfig
	e.logw = &syncWriter{w: e.logs}
	logger := slog.New(slog.NewJSONHandler(e.logw, nil))
	catalog, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	deps := server.Deps{
		Catalog: catalog,
		Logger:  logger,
		// The access log in logger's format, as cmd/pathways wires it.
		AccessLog: e.logw,
		Metrics:   prometheus.NewRegistry(),
		Ready:     []server.Check{{Name: "database", Check: e.db.Engine().Ping}},
	}
	for _, o := range opts {
		o(&accCfg, &srvCfg, &deps)
	}
	e.acc, err = accounts.NewService(ctx, e.db.Accounts(), accounts.NewHasher(fastHash), tokens, testKey, accCfg, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	deps.Accounts = e.acc
	e.media = assets.NewService(e.db.Assets(), e.blobs, e.presign, e.mediaCfg, e.clock.Now, logger)
	e.media.CheckOrganisations(func(ctx context.Context, id string) error {
		_, err := e.db.Accounts().Organisation(ctx, id)
		return err
	})
	deps.Media = e.media
	e.courses = courses.NewService(e.db.Courses(), e.media, courses.DefaultConfig, e.clock.Now, logger)
	e.courses.CheckOrganisations(func(ctx context.Context, id string) error {
		_, err := e.db.Accounts().Organisation(ctx, id)
		return err
	})
	deps.Courses = e.courses
	e.assess = assessments.NewService(e.db.Assessments(), e.media, 0, e.clock.Now, logger)
	e.assess.CheckOrganisations(func(ctx context.Context, id string) error {
		_, err := e.db.Accounts().Organisation(ctx, id)
		return err
	})
	deps.Assess = e.assess
	e.learn = learning.NewService(e.db.Learning(), e.acc, e.courses, e.assess, e.clock.Now, logger)
	deps.Learning = e.learn
	e.rights = rights.NewService(e.db.Rights(), e.acc, []rights.Part{
		{Name: "learning", Export: func(ctx context.Context, id string, _ []string) (any, error) {
			return e.learn.ExportLearner(ctx, id)
		}, Forget: e.learn.ForgetLearner},
		{Name: "assessments", Export: func(ctx context.Context, id string, wanted []string) (any, error) {
			return e.assess.ExportLearner(ctx, id, wanted)
		}, Forget: e.assess.ForgetLearner},
	}, e.clock.Now, logger)
	deps.Rights = e.rights
	e.courses.CheckQuizzes(e.assess.QuizUsable)
	deps.Ready = append(deps.Ready, server.Check{Name: "media", Check: e.media.Ping})
	e.srv, err = server.New(srvCfg, deps)
	if err != nil {
		t.Fatal(err)
	}
}

// logText is what the server logged so far.
func (e *env) logText() string {
	e.logw.mu.Lock()
	defer e.logw.mu.Unlock()
	return e.logs.String()
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// seed creates a global admin "root" and two organisations with staff
// and learners, through the service (so through the real rules).
func (e *env) seed() {
	t, ctx := e.t, context.Background()
	if _, _, err := e.acc.Bootstrap(ctx, "root", fixturePassword); err != nil {
		t.Fatal(err)
	}
	rootUser, err := e.db.Accounts().UserByUsername(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	e.root = accounts.Actor{UserID: rootUser.ID, Role: accounts.RoleAdmin}
	mustOrg := func(slug string) accounts.Organisation {
		o, _, err := e.acc.CreateOrganisation(ctx, e.root, accounts.NewOrganisation{Slug: slug, Name: strings.ToUpper(slug)})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	e.orgA, e.orgB = mustOrg("org-a"), mustOrg("org-b")
	mustUser := func(org accounts.Organisation, name string, role accounts.Role, pin bool) accounts.User {
		in := accounts.NewUser{Username: name, Role: role, Password: fixturePassword}
		if pin {
			in.Password, in.PIN = "", fixturePIN
		}
		u, _, err := e.acc.CreateUser(ctx, e.root, org.ID, in)
		if err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		return u
	}
	e.adminA = mustUser(e.orgA, "a-admin", accounts.RoleAdmin, false)
	e.eduA = mustUser(e.orgA, "a-edu", accounts.RoleEducator, false)
	e.trainerA = mustUser(e.orgA, "a-trainer", accounts.RoleTrainer, false)
	e.learnerA = mustUser(e.orgA, "a-learner", accounts.RoleLearner, true)
	e.eduB = mustUser(e.orgB, "b-edu", accounts.RoleEducator, false)
	e.lrnB = mustUser(e.orgB, "b-learner", accounts.RoleLearner, true)
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// req is one request to send.
type req struct {
	method, path string
	body         any // marshalled to JSON unless a string or []byte
	token        string
	header       map[string]string
}

func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := e.srv.App().Test(hr, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return e.readResponse(resp)
}

// readResponse reads and closes resp's body.
func (e *env) readResponse(resp *http.Response) response {
	e.t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.Request == nil || resp.Request.URL == nil {
		e.t.Fatal("readResponse: the answer does not say which request it answers; give http.ReadResponse the request")
	}
	checkContract(e.t, exchangeSeen{
		method: resp.Request.Method, path: resp.Request.URL.EscapedPath(), request: resp.Request.Header,
		status: r.status, header: r.header, body: r.body,
	})
	return r
}

// login signs in and returns the session JSON.
func (e *env) login(username, secret string) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": username, "password": secret}})
	if r.status != 200 {
		e.t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	return r.json(e.t)
}

// token signs in and returns an access token.
func (e *env) token(username string) string {
	e.t.Helper()
	secret := fixturePassword
	if strings.HasSuffix(username, "learner") {
		secret = fixturePIN
	}
	return e.login(username, secret)["accessToken"].(string)
}

// wantProblem checks r is a problem document with the given status and
// type suffix, and returns it.
func wantProblem(t *testing.T, r response, status int, typ string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.body)
	}
	p := r.json(t)
	if p["type"] != "urn:pathways:problem:"+typ {
		t.Fatalf("type %v, want %s: %s", p["type"], typ, r.body)
	}
	if p["status"] != float64(status) || p["title"] == "" || p["detail"] == "" {
		t.Fatalf("incomplete problem: %s", r.body)
	}
	return p
}

// fieldCodes lists "field:code" of a validation problem.
func fieldCodes(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out = append(out, m["field"].(string)+":"+m["code"].(string))
	}
	return out
}

// listen serves the app on a loopback port, for what app.Test cannot
// carry (fasthttp rejects an oversized body at the connection).
func (e *env) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = e.srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = e.srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// doRaw sends only the head of a request announcing contentLength bytes
// over a real connection and reads the answer, as a client does that waits
// for an early answer before streaming a large body.
func (e *env) doRaw(base, path string, contentLength int, header map[string]string) response {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	head := "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(contentLength) + "\r\n"
	for k, v := range header {
		head += k + ": " + v + "\r\n"
	}
	// The server streams bodies: fasthttp reads just over 8 KiB of one
	// larger than the limit before the handler runs, which must answer
	// without waiting for the rest.
	prefix := `{"username":"` + strings.Repeat("a", 8193-13)
	if _, err := conn.Write([]byte(head + "\r\n" + prefix)); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), httptest.NewRequest("POST", path, nil))
	if err != nil {
		e.t.Fatalf("read answer: %v", err)
	}
	return e.readResponse(resp)
}

// doHTTP sends r over a real connection to base.
func (e *env) doHTTP(base string, r req) response {
	e.t.Helper()
	body, _ := r.body.(string)
	hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return e.readResponse(resp)
}

func mustCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
