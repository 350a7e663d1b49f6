package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkStartup measures `pathways serve` from the call until the
// listener accepts requests, then a clean stop, on the embedded SQLite
// engine: "first" on an empty data directory (creates the database, the
// admin and its argon2id hash), "restart" on an existing one.
//
//	go test -run '^$' -bench Startup -benchtime 20x ./cmd/pathways
func BenchmarkStartup(b *testing.B) {
	startStop := func(b *testing.B, dir string) {
		ctx, cancel := context.WithCancel(context.Background())
		env := map[string]string{"PATHWAYS_DATA_DIR": dir, "PATHWAYS_ADDR": "127.0.0.1:0", "PATHWAYS_LOG_LEVEL": "error"}
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, io.Discard, func(string) { close(ready) })
		}()
		select {
		case <-ready:
		case err := <-done:
			b.Fatal(err)
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			startStop(b, dir)
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := b.TempDir()
		startStop(b, dir)
		for b.Loop() {
			startStop(b, dir)
		}
	})
}
