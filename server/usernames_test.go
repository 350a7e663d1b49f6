package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestLookalikeUsernames: invisible characters are refused, and so is a
// name that looks like an existing one (its TR39 skeleton is taken), with a
// translated message that does not say which; single-script names of any
// script stay allowed, and everyone still signs in as before.
func TestLookalikeUsernames(t *testing.T) {
	e := newEnv(t)
	edu := e.token("a-edu")
	create := func(name string, lang string) response {
		t.Helper()
		h := map[string]string{}
		if lang != "" {
			h["Accept-Language"] = lang
		}
		return e.do(req{method: "POST", path: "/api/v1/users", token: edu, header: h,
			body: map[string]any{"organisation_id": e.orgA.ID, "username": name, "role": "learner", "pin": "7391"}})
	}
	for _, name := range []string{
		"adma", "олена", "أميرة", "ዮናስ", "می\u200cخواهم", "علي", "अमित", "dmitro", "дмитро",
	} {
		if r := create(name, ""); r.status != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, r.status, r.body)
		}
	}
	for _, tt := range []struct{ name, code string }{
		{"аdmа", "confusable"},    // Cyrillic а in "adma"
		{"adrna", "confusable"},   // rn for m
		{"ADMA", "taken"},         // the same name
		{"علی", "confusable"},     // Persian yeh for Arabic yeh
		{"میخواهم", "confusable"}, // without the non-joiner
		{"olena", "taken-not"},    // Latin vs Cyrillic "олена": they do not look alike
		{"ad\u034fma", "username_invisible"},
		{"adma\ufe0f", "username_invisible"},
		{"\u3164adma", "username_invisible"},
		{"ad\u00adma", "username_invisible"},
		{"\u200cadma", "username_invisible"},
	} {
		r := create(tt.name, "")
		if tt.code == "taken-not" {
			if r.status != http.StatusCreated {
				t.Errorf("create %q: %d %s", tt.name, r.status, r.body)
			}
			continue
		}
		p := wantProblem(t, r, 422, "validation")
		if got := fieldCodes(p); !slices.Equal(got, []string{"username:" + tt.code}) {
			t.Errorf("create %q: %v, want username:%s", tt.name, got, tt.code)
		}
	}

	// The message is translated and names no user.
	for _, lang := range []string{"en", "fr", "ar", "uk", "fa"} {
		p := wantProblem(t, create("аdmа", lang), 422, "validation")
		msg, _ := p["errors"].([]any)[0].(map[string]any)["detail"].(string)
		if msg == "" || strings.Contains(msg, "adma") || strings.Contains(msg, "{{") {
			t.Errorf("%s: message %q", lang, msg)
		}
		if lang != "en" && strings.Contains(msg, "looks like") {
			t.Errorf("%s: message not translated: %q", lang, msg)
		}
	}

	// Sign-in is unchanged, for the new names and the seeded ones.
	for _, name := range []string{"adma", "ADMA", "می\u200cخواهم", "علي", "олена"} {
		e.login(name, "7391")
	}
	e.token("a-learner")
}
