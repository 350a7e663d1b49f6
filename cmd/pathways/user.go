package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// userCommand runs `pathways user ...` against the configured database.
// It may run beside the server (see courseBackend).
func userCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) (err error) {
	if len(args) != 2 || args[0] != "reset-password" {
		return errors.New("usage: pathways user reset-password USERNAME")
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, closeAll, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	password, err := b.acc.ResetPassword(ctx, args[1])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "\n  New password for %s: %s\n  Their sessions have ended and any sign-in lock is lifted.\n\n", args[1], password)
	return err
}
