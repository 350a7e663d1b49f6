package accounts

import (
	"strings"
	"testing"

	"github.com/pathways-lms/pathways"
)

func TestCheckNewGroup(t *testing.T) {
	for _, tc := range []struct {
		in   NewGroup
		want string // field:code, or "" for valid
	}{
		{NewGroup{Name: "Morning class", Locale: "fr"}, ""},
		{NewGroup{Name: "صف الصباح", Locale: "ar", Note: "line one\nline two\ttab"}, ""},
		{NewGroup{Name: "کلاس\u200cها", Locale: "fa"}, ""},         // ZWNJ is spelling
		{NewGroup{Name: "\u200fصف\u200f", Locale: "ar"}, ""},       // RLM only nudges neutrals
		{NewGroup{Name: "  ", Locale: "fr"}, "name:required"},      //
		{NewGroup{Name: "a\u202eb", Locale: "fr"}, "name:invalid"}, // right-to-left override
		{NewGroup{Name: "a\u2066b", Locale: "fr"}, "name:invalid"}, // isolate
		{NewGroup{Name: "a\nb", Locale: "fr"}, "name:invalid"},
		{NewGroup{Name: strings.Repeat("x", GroupNameMax+1), Locale: "fr"}, "name:too_long"},
		{NewGroup{Name: "ok"}, "locale:required"},
		{NewGroup{Name: "ok", Locale: "not a tag"}, "locale:locale"},
		{NewGroup{Name: "ok", Locale: "fr", Note: "x\u202ey"}, "note:invalid"},
		{NewGroup{Name: "ok", Locale: "fr", Note: "x\x00y"}, "note:invalid"},
		{NewGroup{Name: "ok", Locale: "fr", Note: strings.Repeat("n", GroupNoteMax+1)}, "note:too_long"},
		{NewGroup{ID: "nope", Name: "ok", Locale: "fr"}, "id:id"},
	} {
		err := CheckNewGroup(tc.in)
		got := ""
		if ve, ok := err.(*pathways.ValidationError); ok {
			got = ve.Fields[0].Field + ":" + ve.Fields[0].Code
		} else if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckNewGroup(%+q) = %q, want %q", tc.in.Name, got, tc.want)
		}
	}
}
