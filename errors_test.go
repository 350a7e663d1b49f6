package pathways_test

import (
	"testing"

	"github.com/pathways-lms/pathways"
)

// TestValidationErrorCap: past MaxFieldErrors problems are counted, not
// listed, and Full says so only once a problem was left out, so that a
// validator which stops there always leaves Omitted > 0.
func TestValidationErrorCap(t *testing.T) {
	v := &pathways.ValidationError{}
	for range pathways.MaxFieldErrors {
		v.Add("f", pathways.CodeRequired, nil)
	}
	if v.Full() || v.Omitted != 0 {
		t.Fatalf("exactly %d problems: Full %v, Omitted %d", pathways.MaxFieldErrors, v.Full(), v.Omitted)
	}
	v.Add("g", pathways.CodeRequired, nil)
	if !v.Full() || len(v.Fields) != pathways.MaxFieldErrors || v.Omitted != 1 || v.Count() != pathways.MaxFieldErrors+1 {
		t.Fatalf("one more: Full %v, %d listed, %d omitted", v.Full(), len(v.Fields), v.Omitted)
	}
	w := &pathways.ValidationError{}
	w.Add("h", pathways.CodeRequired, nil)
	if err := w.Merge("x/", v); err != nil || len(w.Fields) != pathways.MaxFieldErrors || w.Omitted != 2 || w.Fields[1].Field != "x/f" {
		t.Fatalf("merge: %v, %d listed, %d omitted", err, len(w.Fields), w.Omitted)
	}
}

func TestClip(t *testing.T) {
	long := "é" + string(make([]byte, 200))
	if got := pathways.Clip(long); len(got) > pathways.ClipMax+len("…") {
		t.Errorf("Clip kept %d bytes", len(got))
	}
	if got := pathways.Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
}
