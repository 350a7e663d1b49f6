package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pathways-lms/pathways/internal/loadgen"
)

// loadCommand is `pathways load`: the load generator (internal/loadgen)
// against a server it spawns (the default: this executable's `serve` on
// a free loopback port with a temporary data directory, stopped at the
// end) or one already running (-addr, with -pid to read its /proc
// figures, and the admin credentials of PATHWAYS_ADMIN_USERNAME and
// PATHWAYS_ADMIN_PASSWORD or the flags).
func loadCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	fs.StringVar(&cfg.Scenario, "scenario", "class-burst", "one of "+strings.Join(loadgen.Scenarios, ", "))
	fs.IntVar(&cfg.Learners, "learners", 100, "learners to set up (lessons: at most -conns of them are used)")
	fs.IntVar(&cfg.Conns, "conns", 50, "lessons: concurrent connections")
	fs.DurationVar(&cfg.Duration, "duration", 0, "class-burst: a cap (default 5m); day-mix: how long (default 1m); lessons: each phase (default 10s)")
	fs.DurationVar(&cfg.Think, "think", 5*time.Second, "day-mix: mean pause between a learner's requests, jittered ±50%")
	fs.BoolVar(&cfg.Bare, "bare", false, "lessons: also serve the same lesson bytes from a bare Fiber handler and print the ratio")
	fs.IntVar(&cfg.Retries, "retries", 5, "retries of a request refused with 503 or 429, after its Retry-After")
	fs.IntVar(&cfg.SetupConcurrency, "setup-concurrency", 8, "requests set-up sends at once (learner creates and sign-ins)")
	spawn := fs.Bool("spawn", false, "start a fresh server for the run and stop it at the end (the default without -addr)")
	fs.StringVar(&cfg.Addr, "addr", "", "base URL of a running server, e.g. http://127.0.0.1:8080, instead of -spawn")
	fs.IntVar(&cfg.PID, "pid", 0, "with -addr: the server's process id, to read its CPU time and memory in /proc")
	fs.StringVar(&cfg.AdminUsername, "admin-user", or(getenv("PATHWAYS_ADMIN_USERNAME"), "admin"), "with -addr: a global admin's username")
	fs.StringVar(&cfg.AdminPassword, "admin-password", getenv("PATHWAYS_ADMIN_PASSWORD"), "with -addr: that admin's password (default $PATHWAYS_ADMIN_PASSWORD)")
	fs.StringVar(&cfg.Spawn.CPUs, "server-cpus", "", "with -spawn: pin the server to these CPUs with taskset (e.g. 0; run the generator with taskset -c 1)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	if *spawn && cfg.Addr != "" {
		return fmt.Errorf("load: -spawn and -addr exclude each other")
	}
	if cfg.Addr == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("load: find this executable to spawn its server: %w", err)
		}
		cfg.Spawn.Path, cfg.Spawn.Args, cfg.Spawn.Env = exe, []string{"serve"}, os.Environ()
	} else if cfg.AdminPassword == "" {
		return fmt.Errorf("load: -addr needs the admin's password (-admin-password or PATHWAYS_ADMIN_PASSWORD)")
	}
	cfg.Log = stderr
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}
