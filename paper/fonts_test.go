package paper

import (
	"slices"
	"testing"
)

// TestFontsCoverTheAlphabets: every letter of the alphabets Pathways'
// learners write has a glyph in the font its script falls back to.
func TestFontsCoverTheAlphabets(t *testing.T) {
	fs, err := getFonts()
	if err != nil {
		t.Fatal(err)
	}
	defer putFonts(fs)
	alphabets := map[string]struct {
		letters string
		family  family
	}{
		"arabic":    {"ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي٠١٢٣٤٥٦٧٨٩،؛؟", arabic},
		"persian":   {"پچژکگی۰۱۲۳۴۵۶۷۸۹", arabic},
		"pashto":    {"ټځڅډړږښګڼۍې", arabic},
		"latin":     {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzàâçéèêëîïôûùüÿœæñßäöåøğışăâțș", latin},
		"cyrillic":  {"АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгґдеєжзиіїйклмнопрстуфхцчшщьюяЁёЫыЭэЪъ", latin},
		"tigrinya":  {"ሀለሐመሠረሰሸቀቐበቨተቸኀነኘአኸወዐዘዠየደጀገጠጨጰጸፀፈፐ፡።፣", ethiopic},
		"ethiopic2": {"ሁሂሃሄህሆቑቒቓቔቕኧኹዅ", ethiopic},
	}
	for name, a := range alphabets {
		for _, r := range a.letters {
			if got := fs.families([]rune{r})[0]; got != a.family {
				t.Errorf("%s %q goes to family %d, want %d", name, r, got, a.family)
			}
			if !fs.has(a.family, r) {
				t.Errorf("%s %q (U+%04X): no glyph", name, r, r)
			}
		}
	}
}

// TestFamilies: neutral characters take the font of the letters around
// them; a zero-width non-joiner stays inside its Arabic word.
func TestFamilies(t *testing.T) {
	fs, err := getFonts()
	if err != nil {
		t.Fatal(err)
	}
	defer putFonts(fs)
	A, L, E := arabic, latin, ethiopic
	tests := []struct {
		s    string
		want []family
	}{
		{"علی Ahmadi 12", []family{A, A, A, A, L, L, L, L, L, L, L, L, L}},
		{"12 علی", []family{A, A, A, A, A, A}},
		{"(Amina)", []family{L, L, L, L, L, L, L}},
		{"گل\u200cپاڼه", []family{A, A, A, A, A, A, A}},
		{"ሰላም 3", []family{E, E, E, E, L}},                     // Noto Sans Ethiopic has no ASCII digits
		{"Amina، علی", []family{L, L, L, L, L, A, A, A, A, A}}, // Noto Sans has no Arabic comma
		{"123", []family{L, L, L}},
	}
	for _, tc := range tests {
		if got := fs.families([]rune(tc.s)); !slices.Equal(got, tc.want) {
			t.Errorf("families(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
