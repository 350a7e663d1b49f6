package main

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/storage/ferretmove"
	"github.com/pathways-lms/pathways/storage/ferretmove/movetest"
)

// TestRun: the command moves the directory PATHWAYS_DATA_DIR names and
// lists what moved; run again, it refuses.
func TestRun(t *testing.T) {
	dir := movetest.DataDir(t)
	env := map[string]string{"PATHWAYS_DATA_DIR": dir}
	var out bytes.Buffer
	if err := run(t.Context(), func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"users                       5 documents", "rosters", "rebuilt from the others", "moved into " + filepath.Join(dir, "pathways.db")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, io.Discard)
	if !errors.Is(err, ferretmove.ErrMoved) {
		t.Errorf("second run: %v", err)
	}
}
