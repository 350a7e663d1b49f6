// Command pathways runs the Pathways learning server.
//
//	pathways [serve]      start the server (the default)
//	pathways user reset-password USERNAME
//	                      set a new generated password, printed once (for a lost admin password)
//	pathways load [-scenario class-burst|day-mix|lessons|lesson-ratio] [-learners N] …
//	                      the load generator (internal/loadgen); -h lists its flags
//	pathways healthcheck  exit 0 if a local server answers /healthz (for containers)
//	pathways version      print the version
//
// Configuration comes from environment variables; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/transfer"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/mongodb"
	"github.com/pathways-lms/pathways/storage/sqlite"
	"github.com/pathways-lms/pathways/storage/stores"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "pathways:", err)
		os.Exit(1)
	}
}

// run is main without the process: tests call it with their own
// environment, output and a ready callback that receives the listen address.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr, ready)
	case "user":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return userCommand(ctx, cfg, args[1:], stdout, stderr)
	case "seed", "import", "export":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		switch cmd {
		case "seed":
			return seedCommand(ctx, cfg, stdout, stderr)
		case "import":
			return importCommand(ctx, cfg, args[1:], stdout, stderr)
		}
		return exportCommand(ctx, cfg, args[1:], stdout, stderr)
	case "load":
		return loadCommand(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, or(getenv("PATHWAYS_ADDR"), ":8080"))
	case "version":
		_, err := fmt.Fprintln(stdout, version())
		return err
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(stdout, "usage: pathways [serve | seed | import [-org ID] [-publish] PATH | export [-version N] ID OUT | user reset-password USERNAME | load [-scenario S] [-learners N] … | healthcheck | version]")
		return err
	}
	return fmt.Errorf("unknown command %q (try: serve, seed, import, export, user, load, healthcheck, version)", cmd)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// backend is the opened database and the services on it.
type backend struct {
	engine docdb.Engine
	db     *stores.DB
	acc    *accounts.Service
}

// oldEngineFile names a data directory the FerretDB engine of earlier
// versions wrote; the server does not read it, cmd/pathways-move moves it.
func oldEngineFile(cfg config) string { return filepath.Join(cfg.DataDir, cfg.DBName+".sqlite") }

// openEngine opens the storage engine: MongoDB with MONGODB_URI, the SQLite
// file under the data directory otherwise. It refuses a data directory of
// the old FerretDB engine that was not moved yet, naming the command that
// moves it, rather than starting empty beside it.
func openEngine(ctx context.Context, cfg config, log *slog.Logger) (docdb.Engine, error) {
	if cfg.MongoURI != "" {
		e, err := mongodb.Open(ctx, cfg.MongoURI, cfg.DBName)
		if err != nil {
			return nil, err
		}
		log.Info("database: MongoDB", slog.String("database", cfg.DBName))
		return e, nil
	}
	path := filepath.Join(cfg.DataDir, sqlite.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(oldEngineFile(cfg)); err == nil {
			return nil, fmt.Errorf("%s holds a database of the FerretDB engine of earlier versions; "+
				"stop the server and move it once with `go run ./cmd/pathways-move` "+
				"(same PATHWAYS_DATA_DIR and PATHWAYS_DB_NAME; it keeps the old file as a backup)", oldEngineFile(cfg))
		}
	}
	e, err := sqlite.Open(ctx, sqlite.Options{Path: path, Synchronous: cfg.Synchronous})
	if err != nil {
		return nil, err
	}
	log.Info("database: embedded SQLite", slog.String("file", e.Path()), slog.String("synchronous", cfg.Synchronous))
	return e, nil
}

// open opens the storage engine, creates collections and indexes, and
// builds the accounts service. closeAll undoes it all.
func open(ctx context.Context, cfg config, log *slog.Logger) (b *backend, closeAll func() error, err error) {
	b = &backend{}
	var closers []func() error
	// undo is closeAll's own copy: a failed open returns a nil closeAll,
	// but must still close what it opened.
	undo := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	closeAll = undo
	defer func() {
		if err != nil {
			err = errors.Join(err, undo())
		}
	}()

	if b.engine, err = openEngine(ctx, cfg, log); err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() error {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		defer log.Info("database closed")
		return b.engine.Close(closeCtx)
	})
	b.db = stores.New(b.engine)
	if err := b.db.Migrate(ctx); err != nil {
		return nil, nil, err
	}

	store := b.db.Accounts()
	key := cfg.JWTSecret
	if key == nil {
		if key, err = store.Secret(ctx, "jwt", accounts.GenerateSecret); err != nil {
			return nil, nil, fmt.Errorf("token key: %w", err)
		}
	}
	tokens, err := accounts.NewTokenIssuer(key, cfg.AccessTTL, time.Now)
	if err != nil {
		return nil, nil, err
	}
	accCfg := accounts.DefaultConfig
	accCfg.RefreshTTL = cfg.RefreshTTL
	b.acc, err = accounts.NewService(ctx, store, accounts.NewHasher(accounts.DefaultHashParams), tokens, key, accCfg, time.Now)
	if err != nil {
		return nil, nil, err
	}
	return b, closeAll, nil
}

// serve opens the backend and the HTTP server, and runs until ctx is
// cancelled; then it drains requests, closes the database and stops the
// embedded server.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer, ready func(string)) (err error) {
	started := time.Now()
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	b, closeAll, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	engine, db, acc := b.engine, b.db, b.acc

	created, generated, err := acc.Bootstrap(ctx, cfg.AdminUsername, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		log.Info("first admin created", slog.String("username", cfg.AdminUsername))
	}
	if generated != "" {
		// Printed once, to the console only: it is in no log and no file.
		fmt.Fprintf(stdout, "\n  Pathways admin account created.\n  username: %s\n  password: %s\n  Keep it safe: it will not be shown again.\n\n", cfg.AdminUsername, generated)
	}

	lib, err := openMedia(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	catalog, err := i18n.New()
	if err != nil {
		return err
	}
	crs, assess, xfer := openContent(cfg, db, lib, log)
	learn := learning.NewService(db.Learning(), acc, crs, assess, time.Now, log)
	rts := openRights(db, acc, assess, learn, log)
	lib.CheckUses(courses.UseRefPrefix, crs.ShowsMedia)
	lib.CheckUses(assessments.UseRefPrefix, assess.ShowsMedia)
	if cfg.Demo {
		if err := seedDemo(ctx, acc, crs, xfer, log); err != nil {
			return fmt.Errorf("demo curriculum: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := server.New(server.Config{
		BodyLimit: cfg.BodyLimit, RequestTimeout: cfg.RequestTimeout,
		CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.TrustedProxies, MetricsToken: cfg.MetricsToken,
		Version: version(), TransferTimeout: cfg.TransferTimeout, TransferIdle: cfg.TransferIdle,
		MaxInFlight: cfg.MaxInFlight, MaxInFlightCached: cfg.MaxInFlightCached, PublicURL: cfg.PublicURL,
	}, server.Deps{
		Accounts: acc, Media: lib, Courses: crs, Assess: assess, Rights: rts, Learning: learn, Catalog: catalog, Logger: log, Metrics: reg,
		AccessLog: stderr, // where log's JSON handler writes: the cheaper access log
		Ready:     []server.Check{{Name: "database", Check: engine.Ping}, {Name: "media", Check: lib.Ping}},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("ready", slog.String("addr", ln.Addr().String()), slog.Float64("startup_ms", float64(time.Since(started).Microseconds())/1000),
		slog.String("database", engine.Kind()))
	if ready != nil {
		ready(ln.Addr().String())
	}

	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		backfillSkeletons(ctx, acc, log)
		every(ctx, cfg.PruneInterval, log, "pruned", "prune failed", prune(acc, crs, rts))
	}()
	defer func() { <-pruneDone }() // before the database closes
	cleanDone := make(chan struct{})
	go func() {
		defer close(cleanDone)
		every(ctx, cfg.MediaCleanInterval, log, "media cleaned", "media clean-up failed", cleanMedia(lib))
	}()
	defer func() { <-cleanDone }()
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		assess.RunFollowUps(ctx, assessments.FollowUpInterval)
		assess.Wait() // the submits' own follow-ups end before the database closes
	}()
	defer func() { <-followDone }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", slog.Duration("grace", cfg.ShutdownGrace))
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// every runs job each interval until ctx ends, logging done with the
// attributes it returns, or failed with its error. The jobs (session
// pruning, media clean-up) scan collections, so they run in the background
// where no request waits for them; a failed run is retried at the next tick.
func every(ctx context.Context, interval time.Duration, log *slog.Logger, done, failed string, job func(context.Context) ([]slog.Attr, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		attrs, err := job(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn(failed, slog.Any("error", err))
			}
			continue
		}
		log.LogAttrs(ctx, slog.LevelInfo, done, attrs...)
	}
}

// prune deletes expired sessions, stale sign-in records, and username and
// course slug claims that crashed creates left behind, and finishes the
// erasures a failure interrupted.
func prune(acc *accounts.Service, crs *courses.Service, rts *rights.Service) func(context.Context) ([]slog.Attr, error) {
	return func(ctx context.Context) ([]slog.Attr, error) {
		r, err := acc.Prune(ctx)
		attrs := []slog.Attr{slog.Int("refresh_tokens", r.RefreshTokens), slog.Int("token_families", r.TokenFamilies),
			slog.Int("login_attempts", r.LoginAttempts), slog.Int("username_claims", r.StaleClaims)}
		if err != nil {
			return attrs, err
		}
		slugs, err := crs.SweepSlugs(ctx)
		attrs = append(attrs, slog.Int("slug_claims", slugs))
		if err != nil {
			return attrs, err
		}
		erased, err := rts.RunPending(ctx, 100)
		return append(attrs, slog.Int("erasures_finished", erased)), err
	}
}

// backfillSkeletons claims the confusable skeletons of the usernames made
// before they were claimed (once: later starts find it done). It runs in
// the background because it reads every user; a failure is retried at the
// next start.
func backfillSkeletons(ctx context.Context, acc *accounts.Service, log *slog.Logger) {
	users, lookalikes, err := acc.BackfillSkeletons(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("username skeleton backfill failed; it runs again at the next start", slog.Any("error", err))
	case len(lookalikes) > 0:
		log.Warn("usernames that look like earlier ones (both keep working)", slog.Int("users", users), slog.Any("user_ids", lookalikes))
	case users > 0:
		log.Info("username skeletons claimed", slog.Int("users", users))
	}
}

// openMedia opens the blob store (S3 when S3_ENDPOINT is set, the local
// disk otherwise) and the media library on it.
func openMedia(ctx context.Context, cfg config, db *stores.DB, log *slog.Logger) (*assets.Service, error) {
	var (
		blobs   assets.Blobs
		presign assets.Presigner
	)
	if cfg.S3.Endpoint != "" {
		s3, err := media.NewS3(ctx, cfg.S3)
		if err != nil {
			return nil, fmt.Errorf("media store: %w", err)
		}
		blobs, presign = s3, s3.Presigner()
		log.Info("media on S3", slog.String("endpoint", cfg.S3.Endpoint), slog.String("bucket", cfg.S3.Bucket),
			slog.Bool("presigned_downloads", presign != nil))
	} else {
		disk, err := media.NewDisk(cfg.MediaDir)
		if err != nil {
			return nil, fmt.Errorf("media store: %w", err)
		}
		blobs = disk
		log.Info("media on local disk", slog.String("dir", cfg.MediaDir))
	}
	mcfg := assets.DefaultConfig
	mcfg.Limits = cfg.MediaLimits
	mcfg.PresignTTL = cfg.PresignTTL
	lib := assets.NewService(db.Assets(), blobs, presign, mcfg, time.Now, log)
	lib.CheckOrganisations(orgExists(db))
	return lib, nil
}

// openContent builds the courses and assessments services on the
// database and library, and course packages' transfer across them;
// publishing a course checks its quizzes.
func openContent(cfg config, db *stores.DB, lib *assets.Service, log *slog.Logger) (*courses.Service, *assessments.Service, *transfer.Service) {
	ccfg := courses.DefaultConfig
	ccfg.CacheBytes = cfg.CourseCache
	crs := courses.NewService(db.Courses(), lib, ccfg, time.Now, log)
	crs.CheckOrganisations(orgExists(db))
	assess := assessments.NewService(db.Assessments(), lib, cfg.CourseCache/2, time.Now, log)
	assess.CheckOrganisations(orgExists(db))
	crs.CheckQuizzes(assess.QuizUsable)
	return crs, assess, transfer.New(crs, assess, lib, log)
}

// openRights is the data-rights service over every domain's share of a
// person's data, forgotten in this order before the account.
func openRights(db *stores.DB, acc *accounts.Service, assess *assessments.Service, learn *learning.Service, log *slog.Logger) *rights.Service {
	return rights.NewService(db.Rights(), acc, []rights.Part{
		{Name: "learning", Export: func(ctx context.Context, id string, _ []string) (any, error) {
			return learn.ExportLearner(ctx, id)
		}, Forget: learn.ForgetLearner},
		{Name: "assessments", Export: func(ctx context.Context, id string, wanted []string) (any, error) {
			return assess.ExportLearner(ctx, id, wanted)
		}, Forget: assess.ForgetLearner},
	}, time.Now, log)
}

// orgExists checks an organisation id against the accounts store.
func orgExists(db *stores.DB) func(context.Context, string) error {
	return func(ctx context.Context, id string) error {
		_, err := db.Accounts().Organisation(ctx, id)
		return err
	}
}

// cleanMedia repairs what interrupted media work left behind.
func cleanMedia(lib *assets.Service) func(context.Context) ([]slog.Attr, error) {
	return func(ctx context.Context) ([]slog.Attr, error) {
		r, err := lib.Clean(ctx)
		return []slog.Attr{slog.Any("report", r)}, err
	}
}

// healthcheck asks the local server's /healthz; containers without a shell
// (distroless) use it as their HEALTHCHECK.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("PATHWAYS_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}
