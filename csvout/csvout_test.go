package csvout_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/csvout"
)

func TestWriterBOMAndNeutralising(t *testing.T) {
	var b bytes.Buffer
	w := csvout.NewWriter(&b)
	rows := [][]string{
		{"name", "username", "pin"},
		{"=cmd|' /C calc'!A0", "+1", "-2"},
		{"@SUM(A1)", "\tx", "\rs"},
		{"أمل", "ሰላም", "Олена, \"кв\""},
		{"", "a=b", "1-2"},
	}
	for _, r := range rows {
		if err := w.Write(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeff") || strings.Count(out, "\ufeff") != 1 {
		t.Fatalf("want one BOM at the start, got %q", out[:min(len(out), 10)])
	}
	got, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"name", "username", "pin"},
		{"'=cmd|' /C calc'!A0", "'+1", "'-2"},
		{"'@SUM(A1)", "'\tx", "'\rs"},
		{"أمل", "ሰላም", "Олена, \"кв\""},
		{"", "a=b", "1-2"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		for j := range want[i] {
			// encoding/csv turns a lone \r in a quoted field into \n on read.
			g := strings.ReplaceAll(got[i][j], "\n", "\r")
			if g != want[i][j] {
				t.Errorf("row %d cell %d: got %q, want %q", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestEmptyDocumentHasBOM(t *testing.T) {
	var b bytes.Buffer
	if err := csvout.NewWriter(&b).Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "\ufeff") {
		t.Fatalf("got %q", b.String())
	}
}
