package paper

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"slices"
	"testing"

	"github.com/go-text/typesetting/harfbuzz"
	"github.com/go-text/typesetting/language"
)

// The shaping check: a name is rendered in a real PDF, rasterised by
// poppler, and its ink compared with the glyph run HarfBuzz gives for the
// same text and font, drawn here without canvas. The same letters drawn
// wrongly (unjoined, in the wrong order, with their marks dropped) must
// not match, or the check proves nothing.

// expRun is a run of an expected line: a font, a text and the direction
// HarfBuzz shapes it in.
type expRun struct {
	font   string
	text   string
	dir    harfbuzz.Direction
	script language.Script
}

// nameCase is a name and the glyph runs it must come out as, in visual
// order (left to right).
type nameCase struct {
	name, text, lang string
	runs             []expRun
}

const (
	latinBold    = "NotoSans-Bold.ttf"
	arabicBold   = "NotoSansArabic-Bold.ttf"
	ethiopicBold = "NotoSansEthiopic-Bold.ttf"
)

func one(font, text string, dir harfbuzz.Direction, script language.Script) []expRun {
	return []expRun{{font, text, dir, script}}
}

var nameCases = []nameCase{
	{"arabic", "مريم العلي", "ar", one(arabicBold, "مريم العلي", harfbuzz.RightToLeft, language.Arabic)},
	{"dari", "محمد رضا احمدی", "fa", one(arabicBold, "محمد رضا احمدی", harfbuzz.RightToLeft, language.Arabic)},
	// ګ ڼ ښ ې, and a zero-width non-joiner that keeps ګل and پاڼه unjoined.
	{"pashto", "ګل\u200cپاڼه ښکلې", "ps", one(arabicBold, "ګل\u200cپاڼه ښکلې", harfbuzz.RightToLeft, language.Arabic)},
	// Harakat are marks HarfBuzz moves onto their letters (GPOS offsets).
	{"harakat", "مُحَمَّد عَلِيّ", "ar", one(arabicBold, "مُحَمَّد عَلِيّ", harfbuzz.RightToLeft, language.Arabic)},
	{"cyrillic", "Олена Коваленко", "uk", one(latinBold, "Олена Коваленко", harfbuzz.LeftToRight, language.Cyrillic)},
	{"tigrinya", "ኣብርሃም ተስፋይ", "ti", one(ethiopicBold, "ኣብርሃም ተስፋይ", harfbuzz.LeftToRight, language.Ethiopic)},
	{"latin", "Amina Yusuf", "en", one(latinBold, "Amina Yusuf", harfbuzz.LeftToRight, language.Latin)},
	{"vietnamese", "Nguyễn Thị Ngọc", "vi", one(latinBold, "Nguyễn Thị Ngọc", harfbuzz.LeftToRight, language.Latin)},
	// Too wide for a card's column at 15 points: set smaller to fit.
	{"long", "Oleksandra Kovalenko", "uk", one(latinBold, "Oleksandra Kovalenko", harfbuzz.LeftToRight, language.Latin)},
	// Bidi: in a right-to-left paragraph (its first letter is Arabic) the
	// Latin name and the number after it are one left-to-right run, left
	// of the Arabic word; the space between belongs to the Arabic run.
	{"mixed", "علی Ahmadi 12", "fa", []expRun{
		{latinBold, "Ahmadi 12", harfbuzz.LeftToRight, language.Latin},
		{arabicBold, "علی ", harfbuzz.RightToLeft, language.Arabic},
	}},
}

// variants are the pictures a case is compared with: the right one and
// the wrong ones that apply to it.
type variants struct {
	want  mask
	wrong map[string]mask
	// marks is the right run with its marks' offsets dropped (only for
	// runs that have some): close to right, so it gets a margin of its own.
	marks *mask
}

func (c nameCase) variants(t *testing.T, sizePt float64) variants {
	t.Helper()
	var want, reversed, unshaped, logical, marks []glyphRun
	hasOffsets := false
	for _, r := range c.runs {
		face := loadFace(t, r.font)
		right := hbShape(face, r.text, r.dir, r.script, c.lang, nil)
		want = append(want, right)
		logical = append([]glyphRun{right}, logical...)
		zero := right
		zero.pos = slices.Clone(right.pos)
		for i := range zero.pos {
			hasOffsets = hasOffsets || zero.pos[i].XOffset != 0 || zero.pos[i].YOffset != 0
			zero.pos[i].XOffset, zero.pos[i].YOffset = 0, 0
		}
		marks = append(marks, zero)
		rs := []rune(r.text)
		slices.Reverse(rs)
		if r.dir == harfbuzz.RightToLeft {
			// Joined but laid out left to right; and every letter on its
			// own (isolated forms), right to left.
			reversed = append(reversed, hbShape(face, r.text, harfbuzz.LeftToRight, r.script, c.lang, nil))
			for _, ch := range rs {
				unshaped = append(unshaped, hbShape(face, string(ch), r.dir, r.script, c.lang, nil))
			}
		} else {
			reversed = append(reversed, hbShape(face, string(rs), r.dir, r.script, c.lang, nil))
		}
	}
	v := variants{want: draw(want, sizePt), wrong: map[string]mask{"reversed": draw(reversed, sizePt)}}
	if len(unshaped) > 0 {
		v.wrong["unshaped"] = draw(unshaped, sizePt)
	}
	if len(c.runs) > 1 {
		v.wrong["logical order"] = draw(logical, sizePt)
	}
	if hasOffsets {
		m := draw(marks, sizePt)
		v.marks = &m
	}
	return v
}

// Thresholds of match (see render_test.go): the right run agrees all but
// everywhere (it scores 0.999 to 1 in practice); the wrong ones score 0.38
// to 0.77, and a run with its marks dropped 0.92 to 0.94, as only the
// marks' few pixels move.
const (
	matchRight = 0.98
	matchWrong = 0.85
	matchMarks = 0.97
)

// checkShaped compares the ink of a rendered name with its variants.
func checkShaped(t *testing.T, got mask, c nameCase, v variants) {
	t.Helper()
	keep(t, got, v.want)
	right := match(got, v.want)
	if right < matchRight || got.w < v.want.w*9/10 || got.w > v.want.w*11/10 {
		t.Errorf("%s: rendered %dx%d px, expected glyph run %dx%d: match %.3f, want ≥ %v", c.name, got.w, got.h, v.want.w, v.want.h, right, matchRight)
	}
	msg := fmt.Sprintf("%s: match %.3f (IoU %.3f)", c.name, right, iou(got, v.want))
	check := func(name string, m mask, limit float64) {
		if w := match(got, m); w > limit {
			t.Errorf("%s: the %s run matches the rendering too well: %.3f > %v", c.name, name, w, limit)
		}
		if w := match(v.want, m); w > limit {
			t.Errorf("%s: the %s run is too close to the right one to tell them apart: %.3f > %v", c.name, name, w, limit)
		}
		msg += fmt.Sprintf("; %s %.3f", name, match(got, m))
	}
	for name, m := range v.wrong {
		check(name, m, matchWrong)
	}
	if v.marks != nil {
		check("marks dropped", *v.marks, matchMarks)
	}
	t.Log(msg)
}

func TestCardNamesAreShaped(t *testing.T) {
	for _, perPage := range perPages {
		for _, rtl := range []bool{false, true} {
			g := geometry(perPage)
			var cards []LoginCard
			for i := range nameCases {
				cards = append(cards, LoginCard{Name: nameCases[i].text, Username: "amina.y", PIN: "4821",
					SignInURL: "https://pathways.example.org/signin", QRURL: "https://pathways.example.org/signin?u=amina.y"})
			}
			lang := "en"
			if rtl {
				lang = "fa"
			}
			var b bytes.Buffer
			if err := Cards(&b, testSheet(lang, rtl, perPage, cards...)); err != nil {
				t.Fatal(err)
			}
			pages := map[int]image.Image{}
			for i, c := range nameCases {
				t.Run(c.name, func(t *testing.T) {
					pg := i/perPage + 1
					if pages[pg] == nil {
						pages[pg] = rasterise(t, b.Bytes(), pg)
					}
					// The sheet's language shapes every name; Latin and
					// Cyrillic are shaped alike in en and fa.
					c.lang = lang
					l := g.layout(i%perPage, rtl)
					got := crop(pages[pg], g.nameBox(l))
					checkShaped(t, got, c, c.variants(t, fittedSize(t, c.text, lang, g.name, l.column.x1-l.column.x0)))
				})
			}
		}
	}
}

func TestCertificateHolderIsShaped(t *testing.T) {
	for _, c := range nameCases {
		t.Run(c.name, func(t *testing.T) {
			rtl := c.runs[0].dir == harfbuzz.RightToLeft || len(c.runs) > 1
			cert := testCertificate(c.lang, rtl)
			cert.Holder = c.text
			var b bytes.Buffer
			if err := CertificatePDF(&b, cert); err != nil {
				t.Fatal(err)
			}
			l := layoutCertificate(rtl)
			got := crop(rasterise(t, b.Bytes(), 1), l.holderBox())
			checkShaped(t, got, c, c.variants(t, fittedSize(t, c.text, c.lang, certHolder, l.x1-l.x0)))
		})
	}
}

// fittedSize is the size in points s is set at in a box width mm wide:
// st's, or smaller if s is too wide for it (the expected run is drawn at
// that size). It fails the test if s would have to be squeezed.
func fittedSize(t *testing.T, s, lang string, st style, width float64) float64 {
	t.Helper()
	fs, err := getFonts()
	if err != nil {
		t.Fatal(err)
	}
	defer putFonts(fs)
	sh, squeeze := (&page{fs: fs, lang: lang}).fit(s, st, width)
	if squeeze != 1 {
		t.Fatalf("%q is squeezed to %.2f of its width", s, squeeze)
	}
	return sh.em / mmPerPt
}

// keep writes the rendered and the expected ink side by side to
// $PAPER_KEEP_PNG-<test>.png, for a person to look at.
func keep(t *testing.T, ms ...mask) {
	dir := os.Getenv("PAPER_KEEP_PNG")
	if dir == "" {
		return
	}
	w, h := 0, 0
	for _, m := range ms {
		w = max(w, m.w)
		h += m.h + 4
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	y0 := 0
	for _, m := range ms {
		for y := range m.h {
			for x := range m.w {
				if m.at(x, y) {
					img.SetGray(x, y0+y, color.Gray{})
				}
			}
		}
		y0 += m.h + 4
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"-"+sanitize(t.Name())+".png", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
