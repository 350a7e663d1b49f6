package paper

import (
	"embed"
	"fmt"
	"slices"
	"sync"
	"unicode"

	"github.com/tdewolff/canvas"
)

// The fonts are Noto (SIL Open Font License 1.1, fonts/OFL.txt), from
// Debian's fonts-noto-core: Noto Sans for Latin, Cyrillic and Greek, Noto
// Sans Arabic for Arabic, Persian, Dari, Pashto and Urdu letters, Noto Sans
// Ethiopic for Tigrinya and Amharic. About 2.2 MB in all; a PDF embeds only
// the glyphs it uses (canvas subsets them).
//
//go:embed fonts/*
var fontFiles embed.FS

// family is a typeface the documents fall back to, one per group of scripts.
type family int

const (
	latin family = iota // Noto Sans: Latin, Cyrillic, Greek; also the default
	arabic
	ethiopic
	nFamilies
)

var fontNames = [nFamilies][2]string{
	latin:    {"NotoSans-Regular.ttf", "NotoSans-Bold.ttf"},
	arabic:   {"NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"},
	ethiopic: {"NotoSansEthiopic-Regular.ttf", "NotoSansEthiopic-Bold.ttf"},
}

// fontSet holds one parsed copy of every font. A set is used by one
// document at a time: the shaper's faces are not safe for concurrent use,
// so sets come from a pool instead of being shared.
type fontSet struct {
	fonts [nFamilies][2]*canvas.Font // [family][bold]
}

var fontPool sync.Pool

// getFonts takes a font set from the pool, parsing the fonts if it is
// empty; putFonts gives it back once the document is written.
func getFonts() (*fontSet, error) {
	if fs, ok := fontPool.Get().(*fontSet); ok {
		return fs, nil
	}
	fs := &fontSet{}
	for f, names := range fontNames {
		for bold, name := range names {
			b, err := fontFiles.ReadFile("fonts/" + name)
			if err != nil {
				return nil, fmt.Errorf("read font %s: %w", name, err)
			}
			style := canvas.FontRegular
			if bold == 1 {
				style = canvas.FontBold
			}
			font, err := canvas.LoadFont(b, 0, style)
			if err != nil {
				return nil, fmt.Errorf("load font %s: %w", name, err)
			}
			if family(f) == latin {
				// Usernames, PINs and addresses must copy out of the PDF as
				// typed: a ligature glyph (fi) has no character of its own
				// in the PDF's text layer. Arabic keeps its required ones.
				font.SetFeatures("-liga,-clig,-dlig")
			}
			fs.fonts[f][bold] = font
		}
	}
	return fs, nil
}

func putFonts(fs *fontSet) { fontPool.Put(fs) }

// scriptFamily is the family a letter's script needs, and false for
// characters of no script of their own (spaces, digits, punctuation,
// combining marks), which take the family of the text around them.
func scriptFamily(r rune) (family, bool) {
	switch {
	case unicode.Is(unicode.Arabic, r):
		return arabic, true
	case unicode.Is(unicode.Ethiopic, r):
		return ethiopic, true
	case unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r):
		return latin, false
	}
	return latin, true
}

// invisible reports characters that need no glyph: spaces are drawn as
// advances and format characters (ZWNJ, ZWJ) only steer shaping.
func invisible(r rune) bool {
	return r == ' ' || unicode.Is(unicode.Cf, r)
}

func (fs *fontSet) has(f family, r rune) bool {
	return invisible(r) || fs.fonts[f][0].GlyphIndex(r) != 0
}

// families gives each character of rs the family that draws it: a letter
// its script's; a space, digit, punctuation mark or combining mark the
// family of the letter before it (at the start, after it) if that font
// has it, else the first family that has it.
func (fs *fontSet) families(rs []rune) []family {
	out := make([]family, len(rs))
	cur := family(-1)
	lead := 0 // characters before the first letter
	for i, r := range rs {
		f, strong := scriptFamily(r)
		if !strong {
			switch {
			case cur >= 0 && fs.has(cur, r):
				out[i] = cur
				continue
			case cur < 0 && fs.has(latin, r):
				lead++
				continue
			}
			f = fs.cover(r)
		}
		if cur < 0 {
			for j := range lead {
				out[j] = latin
				if fs.has(f, rs[j]) {
					out[j] = f
				}
			}
		}
		cur = f
		out[i] = f
	}
	return out // characters with no letter at all stay latin (0)
}

// cover is the first family whose font has r (latin if none has it).
func (fs *fontSet) cover(r rune) family {
	for f := range nFamilies {
		if fs.has(f, r) {
			return f
		}
	}
	return latin
}

// missing lists the characters of s that no font has, each once.
func (fs *fontSet) missing(s string) []rune {
	var out []rune
	for _, r := range s {
		if !fs.has(fs.cover(r), r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
