package paper

// Helpers of the rendering tests: poppler turns the PDFs into pictures
// and text, and an independent HarfBuzz + rasteriser pipeline draws what
// a line of text should look like.

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/harfbuzz"
	"github.com/go-text/typesetting/language"
	"golang.org/x/image/vector"
)

// dpi is the resolution the tests render pages at.
const dpi = 150

// poppler returns the path of one of poppler's tools, failing the test
// if it is not installed (scripts/test installs it).
func poppler(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: install Debian's poppler-utils (apt-get install --no-install-recommends poppler-utils); scripts/test does this when run as root", tool)
	}
	return p
}

func writeTemp(t testing.TB, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rasterise renders page pg (1-based) of pdf at dpi with pdftoppm.
func rasterise(t testing.TB, pdf []byte, pg int) image.Image {
	t.Helper()
	path := writeTemp(t, pdf)
	out := filepath.Join(filepath.Dir(path), "page")
	n := strconv.Itoa(pg)
	cmd := exec.Command(poppler(t, "pdftoppm"), "-r", strconv.Itoa(dpi), "-png", "-f", n, "-l", n, "-singlefile", path, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, b)
	}
	f, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("PAPER_KEEP_PNG") != "" { // to look at a page: PAPER_KEEP_PNG=/tmp/x go test …
		_ = os.WriteFile(os.Getenv("PAPER_KEEP_PNG")+"-"+sanitize(t.Name())+"-page"+n+".png", mustPNG(t, img), 0o644)
	}
	return img
}

func sanitize(name string) string { return strings.ReplaceAll(name, "/", "_") }

func mustPNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pdfTool runs a poppler tool on pdf and returns its standard output.
func pdfTool(t testing.TB, tool string, pdf []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(poppler(t, tool), append(args, writeTemp(t, pdf), "-")...)
	if tool == "pdfinfo" {
		cmd.Args = cmd.Args[:len(cmd.Args)-1]
	}
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return string(b)
}

// px converts page millimetres to pixels at dpi.
func px(mm float64) int { return int(math.Round(mm * dpi / 25.4)) }

// mask is a binarised picture: true where there is ink.
type mask struct {
	w, h int
	ink  []bool
}

func (m mask) at(x, y int) bool {
	return x >= 0 && y >= 0 && x < m.w && y < m.h && m.ink[y*m.w+x]
}

// crop binarises the part of img inside b (page millimetres) and trims
// it to its ink's bounding box.
func crop(img image.Image, b box) mask {
	r := image.Rect(px(b.x0), px(b.y0), px(b.x1), px(b.y1)).Intersect(img.Bounds())
	m := mask{w: r.Dx(), h: r.Dy(), ink: make([]bool, r.Dx()*r.Dy())}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c, g, bl, _ := img.At(x, y).RGBA()
			m.ink[(y-r.Min.Y)*m.w+x-r.Min.X] = (c+g+bl)/3 < 0x8000
		}
	}
	return m.trim()
}

// trim cuts m to the bounding box of its ink.
func (m mask) trim() mask {
	x0, y0, x1, y1 := m.w, m.h, -1, -1
	for y := range m.h {
		for x := range m.w {
			if m.ink[y*m.w+x] {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return mask{}
	}
	out := mask{w: x1 - x0 + 1, h: y1 - y0 + 1}
	out.ink = make([]bool, out.w*out.h)
	for y := range out.h {
		copy(out.ink[y*out.w:(y+1)*out.w], m.ink[(y+y0)*m.w+x0:(y+y0)*m.w+x1+1])
	}
	return out
}

// iou is the best intersection over union of a and b's ink, their
// bounding boxes aligned at the top-left corner give or take 2 pixels
// (rounding of positions and hinting in poppler).
func iou(a, b mask) float64 {
	best := 0.0
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			inter, union := 0, 0
			for y := min(0, dy); y < max(a.h, b.h+dy); y++ {
				for x := min(0, dx); x < max(a.w, b.w+dx); x++ {
					ia, ib := a.at(x, y), b.at(x-dx, y-dy)
					if ia && ib {
						inter++
					}
					if ia || ib {
						union++
					}
				}
			}
			if union > 0 {
				best = max(best, float64(inter)/float64(union))
			}
		}
	}
	return best
}

// dilate grows m's ink by a pixel in every direction (the canvas grows by
// a pixel on each side too, so coordinates shift by one).
func (m mask) dilate() mask {
	out := mask{w: m.w + 2, h: m.h + 2, ink: make([]bool, (m.w+2)*(m.h+2))}
	for y := range m.h {
		for x := range m.w {
			if !m.ink[y*m.w+x] {
				continue
			}
			for dy := range 3 {
				for dx := range 3 {
					out.ink[(y+dy)*out.w+x+dx] = true
				}
			}
		}
	}
	return out
}

// match scores how well a and b's ink agree, forgiving a pixel of
// difference (anti-aliasing and hinting): the smaller of the share of a's
// ink that has b's ink within a pixel and the share of b's that has a's,
// at the best alignment of their top-left corners give or take 2 pixels.
func match(a, b mask) float64 {
	da, db := a.dilate(), b.dilate()
	inkA, inkB := count(a), count(b)
	if inkA == 0 || inkB == 0 {
		return 0
	}
	best := 0.0
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			hitA, hitB := 0, 0
			for y := range a.h {
				for x := range a.w {
					if a.ink[y*a.w+x] && db.at(x-dx+1, y-dy+1) {
						hitA++
					}
				}
			}
			for y := range b.h {
				for x := range b.w {
					if b.ink[y*b.w+x] && da.at(x+dx+1, y+dy+1) {
						hitB++
					}
				}
			}
			best = max(best, min(float64(hitA)/float64(inkA), float64(hitB)/float64(inkB)))
		}
	}
	return best
}

func count(m mask) int {
	n := 0
	for _, ink := range m.ink {
		if ink {
			n++
		}
	}
	return n
}

// glyphRun is a line of text as HarfBuzz shapes it, for drawing: the
// expected picture of a line, made without canvas.
type glyphRun struct {
	face   *font.Face
	glyphs []harfbuzz.GlyphInfo
	pos    []harfbuzz.GlyphPosition
}

// loadFace parses one of the embedded fonts with go-text.
func loadFace(t testing.TB, name string) *font.Face {
	t.Helper()
	b, err := fontFiles.ReadFile("fonts/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := font.ParseTTF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// hbShape shapes s with HarfBuzz in one direction and script.
func hbShape(face *font.Face, s string, dir harfbuzz.Direction, script language.Script, lang string, features []harfbuzz.Feature) glyphRun {
	buf := harfbuzz.NewBuffer()
	buf.AddRunes([]rune(s), 0, -1)
	buf.Props.Direction = dir
	buf.Props.Script = script
	buf.Props.Language = language.NewLanguage(lang)
	buf.ClusterLevel = harfbuzz.MonotoneCharacters
	buf.Shape(harfbuzz.NewFont(face), features)
	return glyphRun{face, buf.Info, buf.Pos}
}

// draw rasterises runs side by side (in the order given: visual order)
// at sizePt points and dpi, with the glyphs' offsets and advances.
func draw(runs []glyphRun, sizePt float64) mask {
	scale := sizePt / 72 * dpi // pixels per em
	width := 20.0
	for _, r := range runs {
		for _, p := range r.pos {
			width += float64(p.XAdvance) / float64(r.face.Upem()) * scale
		}
	}
	h := int(scale*2.5) + 20
	baseline := scale*1.6 + 10
	ras := vector.NewRasterizer(int(width)+1, h)
	pen := 10.0
	for _, r := range runs {
		k := scale / float64(r.face.Upem())
		for i, g := range r.glyphs {
			p := r.pos[i]
			ox, oy := pen+float64(p.XOffset)*k, baseline-float64(p.YOffset)*k
			pt := func(s ot.SegmentPoint) (float32, float32) {
				return float32(ox + float64(s.X)*k), float32(oy - float64(s.Y)*k)
			}
			if o, ok := r.face.GlyphData(g.Glyph).(font.GlyphOutline); ok {
				for j, s := range o.Segments {
					switch s.Op {
					case ot.SegmentOpMoveTo:
						if j > 0 {
							ras.ClosePath() // glyf contours are closed implicitly
						}
						ras.MoveTo(pt(s.Args[0]))
					case ot.SegmentOpLineTo:
						ras.LineTo(pt(s.Args[0]))
					case ot.SegmentOpQuadTo:
						x1, y1 := pt(s.Args[0])
						x2, y2 := pt(s.Args[1])
						ras.QuadTo(x1, y1, x2, y2)
					case ot.SegmentOpCubeTo:
						x1, y1 := pt(s.Args[0])
						x2, y2 := pt(s.Args[1])
						x3, y3 := pt(s.Args[2])
						ras.CubeTo(x1, y1, x2, y2, x3, y3)
					}
				}
				ras.ClosePath()
			}
			pen += float64(p.XAdvance) * k
		}
	}
	dst := image.NewAlpha(image.Rect(0, 0, int(width)+1, h))
	ras.Draw(dst, dst.Bounds(), image.Opaque, image.Point{})
	m := mask{w: dst.Rect.Dx(), h: h, ink: make([]bool, len(dst.Pix))}
	for i, a := range dst.Pix {
		m.ink[i] = a >= 0x80
	}
	return m.trim()
}
