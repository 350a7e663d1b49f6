// Package server is the HTTP face of Pathways: the Fiber app, its
// middleware (request ids, locale, auth, limits, metrics), the one table that
// turns errors into problem documents, and handlers that translate between
// HTTP and the domain packages. It knows nothing of BSON.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/transfer"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/rights"
)

// Config holds the HTTP settings.
type Config struct {
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// RequestTimeout bounds the work of one request (its context's deadline).
	RequestTimeout time.Duration
	// CORSOrigins lists origins allowed to call the API from a browser;
	// empty disables CORS (same-origin only).
	CORSOrigins []string
	// TrustedProxies lists proxy addresses (IPs or CIDRs) whose
	// X-Forwarded-For is believed, so login limits see the real client.
	TrustedProxies []string
	// MetricsToken, if set, is the bearer token /metrics requires.
	MetricsToken string
	// Version is reported by /healthz.
	Version string
	// TransferTimeout bounds one media upload or download as a whole;
	// TransferIdle ends one that moves no data for that long.
	TransferTimeout time.Duration
	TransferIdle    time.Duration
	// ImportLimit is the largest course package (zip) accepted.
	ImportLimit int64
	// MaxInFlight bounds the requests of the database class in flight on
	// this instance, MaxInFlightCached those answered from the content
	// cache; beyond its bound a request is answered 503 overloaded at
	// once (admission.go says which route is in which class, and why the
	// defaults are what they are).
	MaxInFlight       int
	MaxInFlightCached int
	// PublicURL is the address learners reach the server at, without a
	// trailing slash: what login cards and certificates print and their
	// QR codes open.
	PublicURL string
}

// DefaultConfig has the defaults the README documents.
var DefaultConfig = Config{
	BodyLimit: 1 << 20, RequestTimeout: 15 * time.Second, Version: "dev",
	TransferTimeout: 2 * time.Hour, TransferIdle: time.Minute, ImportLimit: 2 << 30,
	MaxInFlight: DefaultMaxInFlight, MaxInFlightCached: DefaultMaxInFlightCached,
	PublicURL: "http://localhost:8080",
}

// Check is a readiness probe of one dependency; it returns an error if the
// dependency cannot serve.
type Check struct {
	Name  string
	Check func(context.Context) error
}

// Deps are the services the server calls.
type Deps struct {
	Accounts *accounts.Service
	Media    *assets.Service
	Courses  *courses.Service
	Assess   *assessments.Service
	Rights   *rights.Service
	Learning *learning.Service
	Catalog  *i18n.Catalog
	Logger   *slog.Logger
	// AccessLog, if set, receives the access log line of each request
	// directly, in the bytes Logger would write were its handler a
	// slog.JSONHandler without options (Logger's level still decides
	// whether a line is written): set it to the writer of that handler,
	// where it is one, as it is cheaper. It must be safe for concurrent
	// use; each line is one Write. Unset, the lines go through Logger.
	AccessLog io.Writer
	// Ready is run by /readyz.
	Ready []Check
	// Metrics receives the HTTP metrics; /metrics serves it.
	Metrics *prometheus.Registry
}

// Server is the HTTP server.
type Server struct {
	cfg     Config
	app     *fiber.App
	acc     *accounts.Service
	media   *assets.Service
	courses *courses.Service
	assess  *assessments.Service
	rights  *rights.Service
	learn   *learning.Service
	// transfer imports and exports course packages across courses,
	// assessments and the media library.
	transfer *transfer.Service
	catalog  *i18n.Catalog
	log      *slog.Logger
	access   *accessLog // nil: access log lines go through log
	ready    []Check
	metrics  *httpMetrics
	reg      *prometheus.Registry
	proxies  proxies
	allowed  allowTable // the methods of each path, for 405's Allow
	// The admission classes (admission.go).
	database, cached *admission
	localizers       *valueCache[*i18n.Localizer]
	// The languages of a ?lang= value and of an Accept-Language value
	// (wantedInto).
	wantedQueries, wantedHeaders *valueCache[[]string]
}

// New builds the app and registers every route.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Accounts == nil || deps.Media == nil || deps.Courses == nil || deps.Assess == nil || deps.Rights == nil || deps.Catalog == nil || deps.Logger == nil || deps.Metrics == nil {
		return nil, fmt.Errorf("server: missing dependency")
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultConfig.BodyLimit
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultConfig.RequestTimeout
	}
	if cfg.TransferTimeout <= 0 {
		cfg.TransferTimeout = DefaultConfig.TransferTimeout
	}
	if cfg.ImportLimit <= 0 {
		cfg.ImportLimit = DefaultConfig.ImportLimit
	}
	if cfg.TransferIdle <= 0 {
		cfg.TransferIdle = DefaultConfig.TransferIdle
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultConfig.MaxInFlight
	}
	if cfg.MaxInFlightCached <= 0 {
		cfg.MaxInFlightCached = DefaultConfig.MaxInFlightCached
	}
	m, err := newHTTPMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	database, err := newAdmission(deps.Metrics, m.refused, "database", cfg.MaxInFlight)
	if err != nil {
		return nil, err
	}
	cached, err := newAdmission(deps.Metrics, m.refused, "cached", cfg.MaxInFlightCached)
	if err != nil {
		return nil, err
	}
	trusted, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, acc: deps.Accounts, media: deps.Media, courses: deps.Courses, assess: deps.Assess, rights: deps.Rights, learn: deps.Learning,
		transfer: transfer.New(deps.Courses, deps.Assess, deps.Media, deps.Logger), catalog: deps.Catalog, log: deps.Logger,
		ready: deps.Ready, metrics: m, reg: deps.Metrics, proxies: trusted,
		database: database, cached: cached, localizers: newValueCache[*i18n.Localizer](),
		wantedQueries: newValueCache[[]string](), wantedHeaders: newValueCache[[]string](),
	}
	if deps.AccessLog != nil {
		s.access = &accessLog{w: deps.AccessLog}
	}
	s.app = fiber.New(fiber.Config{
		AppName:       "pathways",
		CaseSensitive: true,
		// Values from the request (method, params, headers) are copied, not
		// aliased to fasthttp's reused buffers: some outlive the request
		// (metric labels, errors logged later).
		Immutable: true,
		BodyLimit: cfg.BodyLimit,
		// Bodies stream to the handlers, so a media upload is never held
		// whole in memory; JSON bodies are read through BodyLimit by
		// readBody, and bodyGuard deals with bodies left unread.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ReadBufferSize:               16 << 10, // room for long Authorization and Accept-Language headers
		ErrorHandler:                 s.handleError,
		DisableStartupMessage:        true,
		JSONEncoder:                  jsonMarshal,
		JSONDecoder:                  json.Unmarshal,
	})
	s.app.Server().Handler = s.checkFraming(s.app.Server().Handler)
	s.routes()
	s.allowed = newAllowTable(s.app)
	return s, nil
}

// App is the Fiber app, for tests (app.Test) and embedding.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown. Their framing is checked as
// received (framing.go).
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(framedListener{ln}) }

// Shutdown stops accepting connections and waits for requests in flight
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

func (s *Server) routes() {
	app := s.app
	app.Use(s.requestID, s.bodyGuard, s.locale, s.observe, s.recoverPanic, s.deadline)
	app.Use(newSecurityHeaders().handler)
	if len(s.cfg.CORSOrigins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins: strings.Join(s.cfg.CORSOrigins, ","),
			AllowHeaders: "Authorization, Content-Type, Accept-Language, X-Request-ID, " +
				"Range, If-Range, If-None-Match, Upload-Offset, Content-Disposition",
			ExposeHeaders: "X-Request-ID, Content-Language, Retry-After, Location, " +
				"ETag, Content-Range, Content-Disposition, Accept-Ranges, Upload-Offset, Upload-Length",
			MaxAge: 600,
		}))
	}

	// Every route names its admission class first (admission.go): db for
	// the database class, cached for content answered from memory; the
	// probes and the document have none.
	db, cached := s.database.admit, s.cached.admit
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metricsHandler())

	api := app.Group("/api/v1")
	api.Get("/openapi.json", s.openAPI)
	api.Post("/auth/login", db, s.login)
	api.Post("/auth/refresh", db, s.refresh)
	api.Post("/auth/logout", db, s.logout)

	// Authentication is per route, not a group middleware: a prefix
	// middleware would answer 401 for unknown paths and wrong methods.
	a := s.authenticate
	api.Get("/me", db, a, s.me)
	api.Post("/organisations", db, a, s.createOrganisation)
	api.Get("/organisations", db, a, s.listOrganisations)
	api.Get("/organisations/:id", db, a, s.getOrganisation)
	api.Get("/organisations/:id/users", db, a, s.listUsers)
	api.Post("/users", db, a, s.createUser)
	api.Get("/users/:id", db, a, s.getUser)
	api.Patch("/users/:id", db, a, s.updateUser)
	api.Put("/users/:id/credential", db, a, s.setCredential)
	api.Get("/organisations/:id/media/usage", db, a, s.mediaUsage)
	api.Get("/users/:id/groups", db, a, s.listUserGroups)

	api.Post("/groups", db, a, s.createGroup)
	api.Get("/groups", db, a, s.listGroups)
	api.Get("/groups/:id", db, a, s.getGroup)
	api.Patch("/groups/:id", db, a, s.updateGroup)
	api.Get("/groups/:id/members", db, a, s.listGroupMembers)
	api.Put("/groups/:id/members/:userId", db, a, s.addGroupMember)
	api.Delete("/groups/:id/members/:userId", db, a, s.removeGroupMember)
	api.Post("/groups/:id/members/:userId/move", db, a, s.moveGroupMember)

	api.Post("/media", db, a, s.uploadMedia)
	api.Get("/media", db, a, s.listMedia)
	api.Post("/media/uploads", db, a, s.startUpload)
	api.Get("/media/uploads/:id", db, a, s.uploadStatus)
	api.Patch("/media/uploads/:id", db, a, s.putChunk)
	api.Delete("/media/uploads/:id", db, a, s.cancelUpload)
	api.Get("/media/:id", db, a, s.getMedia)
	api.Patch("/media/:id", db, a, s.updateMedia)
	api.Delete("/media/:id", db, a, s.deleteMedia)

	api.Get("/courses", db, a, s.listAuthored)
	api.Post("/courses", db, a, s.createCourse)
	api.Post("/courses/import", db, a, s.importCourse)
	api.Get("/courses/:id/export", db, a, s.exportCourse)
	api.Get("/courses/:id", db, a, s.getCourse)
	api.Put("/courses/:id", db, a, s.updateCourse)
	api.Delete("/courses/:id", db, a, s.deleteCourse)
	api.Patch("/courses/:id/messages/:locale", db, a, s.setMessages)
	api.Get("/courses/:id/translations", db, a, s.translationStatus)
	api.Get("/courses/:id/preview/lessons/:lesson", db, a, s.previewLesson)
	api.Post("/courses/:id/publish", db, a, s.publishCourse)
	api.Post("/courses/:id/archive", db, a, s.archiveCourse(true))
	api.Post("/courses/:id/restore", db, a, s.archiveCourse(false))
	api.Post("/courses/:id/duplicate", db, a, s.duplicateCourse)

	api.Get("/catalogue", db, a, s.catalogue)
	api.Get("/catalogue/:id", db, a, s.outline)
	api.Get("/catalogue/:id/versions/:version", cached, a, s.outline)
	api.Get("/catalogue/:id/versions/:version/lessons/:lesson", cached, a, s.lesson)

	api.Get("/banks", db, a, s.listBanks)
	api.Post("/banks", db, a, s.createBank)
	api.Get("/banks/:id", db, a, s.getBank)
	api.Put("/banks/:id", db, a, s.updateBank)
	api.Get("/quizzes", db, a, s.listQuizzes)
	api.Post("/quizzes", db, a, s.createQuiz)
	api.Get("/quizzes/:id", db, a, s.getQuiz)
	api.Put("/quizzes/:id", db, a, s.updateQuiz)
	api.Post("/quizzes/:id/publish", db, a, s.publishQuiz)
	api.Get("/quizzes/:id/versions/:version/stats", db, a, s.quizStats)
	api.Post("/quizzes/:id/attempts", db, a, s.startAttempt)
	api.Get("/quizzes/:id/progress", db, a, s.quizProgress)
	api.Get("/attempts/:id", db, a, s.getAttempt)
	api.Put("/attempts/:id/answers/:key", db, a, s.saveAnswer)
	api.Put("/attempts/:id/answers", db, a, s.saveAnswers)
	api.Post("/attempts/:id/submit", db, a, s.submitAttempt)
	api.Get("/users/:id/attempts", db, a, s.listLearnerResults)

	api.Post("/assignments", db, a, s.createAssignment)
	api.Get("/assignments", db, a, s.listAssignments)
	api.Get("/assignments/:id", db, a, s.getAssignment)
	api.Delete("/assignments/:id", db, a, s.deleteAssignment)
	api.Get("/groups/:id/assignments", db, a, s.listGroupAssignments)
	api.Post("/me/enrolments", db, a, s.enrol)
	api.Get("/me/learning", db, a, s.myLearning)
	api.Get("/me/progress/:courseId", db, a, s.myProgress)
	api.Get("/users/:id/progress/:courseId", db, a, s.learnerProgress)
	api.Post("/sync", db, a, s.sync)

	// Data rights: a person's export and erasure, and their record.
	api.Get("/users/:id/data", db, a, s.exportData)
	api.Post("/users/:id/erase", db, a, s.eraseUser)
	api.Get("/organisations/:id/data-requests", db, a, s.listDataRequests)

	// The bytes, outside the JSON API: GET (and HEAD), with an optional
	// file name after the id for players and "save as".
	app.Get("/media/:id", db, a, s.serveMedia)
	app.Get("/media/:id/:name", db, a, s.serveMedia)

	// No catch-all: Fiber's own 404 and 405 errors reach handleError.
}

// jsonMarshal encodes without HTML escaping: JSON answers are not HTML, and
// escaped "<" in course text helps nobody.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
