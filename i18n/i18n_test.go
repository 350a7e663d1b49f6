package i18n_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/paper"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/server"
)

// required locales of the UI catalogue and their CLDR plural categories
// (https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html),
// as go-i18n v2.7 implements them.
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"fr": {"many", "one", "other"},
	"ar": {"few", "many", "one", "other", "two", "zero"},
	"uk": {"few", "many", "one", "other"},
	"fa": {"one", "other"},
}

// messageIDs reads every exported constant of messages.go, so a constant
// added there without a translation fails this test.
func messageIDs(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("messages.go")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:Problem|MediaKind)\w+\s+=\s+"([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) < 20 {
		t.Fatalf("found only %d message ids in messages.go", len(ids))
	}
	return ids
}

// fieldCodes are the field error codes of every package, by package.
var fieldCodes = map[string][]string{
	"pathways": pathways.FieldCodes, "i18n": i18n.FieldCodes, "accounts": accounts.FieldCodes,
	"assets": assets.FieldCodes, "server": server.FieldCodes, "courses": courses.FieldCodes,
	"coursefile": coursefile.FieldCodes, "assessments": assessments.FieldCodes, "rights": rights.FieldCodes,
	"paper": paper.FieldCodes, "learning": learning.FieldCodes,
}

// TestFieldCodesHaveOneHome: a code is defined by one package only, so a
// code means one thing and has one message, whoever produces it.
func TestFieldCodesHaveOneHome(t *testing.T) {
	home := map[string]string{}
	for pkg, codes := range fieldCodes {
		for _, c := range codes {
			if other, ok := home[c]; ok {
				t.Errorf("code %q is listed by both %s and %s", c, other, pkg)
			}
			home[c] = pkg
		}
	}
}

func loadFile(t *testing.T, lang string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("locales", "active."+lang+".json"))
	if err != nil {
		t.Fatalf("locale %s: %v", lang, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("locale %s: %v", lang, err)
	}
	return m
}

// TestCatalogueComplete checks that every locale has every message, with
// exactly its language's plural forms, and keeps every template variable.
func TestCatalogueComplete(t *testing.T) {
	want := messageIDs(t)
	for _, codes := range fieldCodes {
		for _, code := range codes {
			want = append(want, i18n.FieldMessageID(code))
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	en := loadFile(t, "en")
	vars := regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)
	for lang, forms := range pluralForms {
		t.Run(lang, func(t *testing.T) {
			msgs := loadFile(t, lang)
			for _, id := range want {
				v, ok := msgs[id]
				if !ok {
					t.Errorf("%s: missing", id)
					continue
				}
				enVars := varsOf(vars, en[id])
				switch v := v.(type) {
				case string:
					if _, plural := en[id].(map[string]any); plural {
						t.Errorf("%s: English has plural forms, %s a plain string", id, lang)
					}
					checkVars(t, id, "", v, enVars, vars)
				case map[string]any:
					var got []string
					for form, text := range v {
						got = append(got, form)
						s, _ := text.(string)
						checkVars(t, id, form, s, enVars, vars)
					}
					sort.Strings(got)
					if !slices.Equal(got, forms) {
						t.Errorf("%s: plural forms %v, want %v", id, got, forms)
					}
				default:
					t.Errorf("%s: unexpected value %T", id, v)
				}
			}
			for id := range msgs {
				if !slices.Contains(want, id) {
					t.Errorf("%s: not a known message id (stale translation?)", id)
				}
			}
		})
	}
}

func varsOf(re *regexp.Regexp, v any) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			out[m[1]] = true
		}
	}
	switch v := v.(type) {
	case string:
		add(v)
	case map[string]any:
		for _, s := range v {
			add(s.(string))
		}
	}
	return out
}

// checkVars: a translation may drop {{.Count}} in a singular form ("one
// field") but must not invent variables English does not have.
func checkVars(t *testing.T, id, form, s string, enVars map[string]bool, re *regexp.Regexp) {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		t.Errorf("%s %s: empty", id, form)
	}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if !enVars[m[1]] {
			t.Errorf("%s %s: unknown variable .%s", id, form, m[1])
		}
	}
}

func TestNegotiate(t *testing.T) {
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		accept    string
		preferred []string
		want      string
		dir       string
	}{
		{"", nil, "en", "ltr"},
		{"ar", nil, "ar", "rtl"},
		{"ar-SY,ar;q=0.9", nil, "ar", "rtl"},
		{"fa-IR", nil, "fa", "rtl"},
		{"prs", nil, "fa", "rtl"}, // Dari is served Persian
		{"uk-UA, en;q=0.5", nil, "uk", "ltr"},
		{"fr-CH", nil, "fr", "ltr"},
		{"de, fr;q=0.8", nil, "fr", "ltr"},
		{"xx-invalid-;;", nil, "en", "ltr"},
		{"tlh", nil, "en", "ltr"},
		{"en", []string{"ar"}, "ar", "rtl"}, // a user's own preference first
	}
	for _, tt := range tests {
		l := c.Negotiate(tt.accept, tt.preferred...)
		if got := l.Tag().String(); got != tt.want {
			t.Errorf("Negotiate(%q, %v) = %s, want %s", tt.accept, tt.preferred, got, tt.want)
		}
		if l.Dir() != tt.dir {
			t.Errorf("Negotiate(%q).Dir() = %s, want %s", tt.accept, l.Dir(), tt.dir)
		}
	}
}

func TestDirection(t *testing.T) {
	for tag, want := range map[string]string{
		"ar": "rtl", "fa": "rtl", "ps": "rtl", "prs": "rtl", "ur": "rtl", "ku-Arab": "rtl", "ckb": "rtl",
		"he": "rtl", "en": "ltr", "uk": "ltr", "ku": "ltr", "ti": "ltr", "so": "ltr", "az-Arab": "rtl",
	} {
		if got := i18n.Direction(language.MustParse(tag)); got != want {
			t.Errorf("Direction(%s) = %s, want %s", tag, got, want)
		}
	}
	if i18n.IsRTL("not a tag!") {
		t.Error("IsRTL of garbage should be false")
	}
}

// TestPlurals renders a plural message in Arabic (six CLDR forms) and
// Ukrainian (four) and checks each count picks its own form.
func TestPlurals(t *testing.T) {
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	id := i18n.FieldMessageID(pathways.CodeTooShort)
	distinct := func(lang string, counts ...any) {
		l := c.Negotiate(lang)
		seen := map[string]any{}
		for _, n := range counts {
			s := l.T(id, map[string]any{"Count": n})
			if prev, dup := seen[s]; dup {
				t.Errorf("%s: counts %v and %v both render %q", lang, prev, n, s)
			}
			seen[s] = n
		}
	}
	distinct("ar", 0, 1, 2, 3, 11, 100) // zero, one, two, few, many, other
	distinct("uk", 1, 2, 5, "1.5")      // one, few, many, other
	distinct("en", 1, 2)                // one, other
	distinct("fr", 1, 2, 1000000)       // one, other, many
	if got := c.Negotiate("en").T("no.such.message", nil); got != "no.such.message" {
		t.Errorf("missing message renders %q, want its id", got)
	}
}
