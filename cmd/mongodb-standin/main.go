// Command mongodb-standin runs the embedded FerretDB that the tests use in
// place of MongoDB, as a server of its own, so that the MongoDB engine can
// be measured on a machine without MongoDB (docs/PERFORMANCE.md):
//
//	go run ./cmd/mongodb-standin -dir /tmp/standin -addr 127.0.0.1:27018 &
//	MONGODB_URI=mongodb://127.0.0.1:27018/ go run ./cmd/pathways
//
// It is a development tool, not a database to keep data in: FerretDB 1.24 is
// much slower than MongoDB and does not apply updates atomically (see
// docs/DECISIONS.md, "One document layer, two engines").
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pathways-lms/pathways/storage/mongodb/embedded"
)

func main() {
	dir := flag.String("dir", "", "directory for its SQLite files (a new temporary one if empty)")
	addr := flag.String("addr", "127.0.0.1:27018", "loopback address to listen on")
	db := flag.String("db", "pathways", "database whose _id indexes to repair as its collections appear (see embedded.RepairIndexes)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dir == "" {
		d, err := os.MkdirTemp("", "mongodb-standin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "mongodb-standin:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := embedded.Start(ctx, embedded.Options{Dir: *dir, Addr: *addr, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongodb-standin:", err)
		os.Exit(1)
	}
	fmt.Println(srv.URI())
	// FerretDB's own _id index is unusable (DECISIONS.md, "The _id index
	// repair"); repair it as the server creates its collections, as the
	// tests do after migrating, so look-ups by id do not scan.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			_ = srv.RepairIndexes(ctx, *db) // fails until the database exists
		}
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "mongodb-standin:", err)
		os.Exit(1)
	}
}
