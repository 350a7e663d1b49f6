// Command pathways-move moves a data directory written by the FerretDB
// engine of earlier Pathways versions into the SQLite engine, once:
//
//	go run ./cmd/pathways-move
//
// Run it with the server stopped, with the same PATHWAYS_DATA_DIR and
// PATHWAYS_DB_NAME the server uses (defaults: data, pathways). It copies
// every document, checks the counts, puts data/pathways.db in place and
// keeps the old file beside it as a backup (data/pathways.sqlite.moved-…).
// If anything cannot be carried over it moves nothing and says why.
// Media files stay where they are. It is a command of its own so that
// FerretDB is not part of the server's binary.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/pathways-lms/pathways/storage/ferretmove"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pathways-move:", err)
		os.Exit(1)
	}
}

// run moves the data directory getenv names and prints what moved.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	dir, name := getenv("PATHWAYS_DATA_DIR"), getenv("PATHWAYS_DB_NAME")
	if dir == "" {
		dir = "data"
	}
	if name == "" {
		name = "pathways"
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := ferretmove.Move(ctx, ferretmove.Options{DataDir: dir, DBName: name, Logger: log})
	if err != nil {
		return err
	}
	for _, n := range slices.Sorted(maps.Keys(rep.Moved)) {
		fmt.Fprintf(stdout, "%-22s %6d documents\n", n, rep.Moved[n])
	}
	for _, n := range slices.Sorted(maps.Keys(rep.Skipped)) {
		fmt.Fprintf(stdout, "%-22s %6d documents, rebuilt from the others\n", n, rep.Skipped[n])
	}
	fmt.Fprintf(stdout, "\nmoved into %s; the old database is kept as %s\n", rep.File, rep.Backup)
	return nil
}
