package paper

import (
	"image/color"
	"math"
	"slices"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/text"
)

// style is how a text is set: size in points, weight, colour, and the
// smallest size it may shrink to when it is too wide for its box.
type style struct {
	size, min float64
	bold      bool
	color     color.RGBA
}

// Colours of the documents: black for what a learner must read, grey for
// labels, a blue for headings.
var (
	ink   = canvas.Black
	grey  = color.RGBA{0x55, 0x55, 0x55, 0xff}
	light = color.RGBA{0xaa, 0xaa, 0xaa, 0xff}
	blue  = color.RGBA{0x1d, 0x4e, 0x89, 0xff}
)

// align is where a line sits in its box.
type align int

const (
	start  align = iota // left in a left-to-right document, right in a right-to-left one
	center              // the middle
)

// page draws on one page of a document, in millimetres from the page's
// top-left corner (canvas counts from the bottom-left).
type page struct {
	ctx    *canvas.Context
	fs     *fontSet
	lang   string
	height float64 // of the page
	rtl    bool    // the document's direction: where start is
}

// shaped is a line of text set with fonts per script, in visual order.
type shaped struct {
	runs  []placed
	width float64 // mm
	em    float64 // the size set, in mm
}

// placed is a run of one font and one direction, x mm from the line's
// left. asPath marks a run whose glyphs HarfBuzz moved off their pen
// position (Arabic harakat, stacked accents): canvas's PDF writer keeps
// only the glyphs' advances, so such a run is drawn as outlines instead
// of text.
type placed struct {
	text   *canvas.Text
	x      float64
	asPath bool
}

// shape sets s in one line of st at size points. The Unicode bidi
// algorithm (canvas's port of FriBidi) gives each character its embedding
// level, the paragraph's direction taken from s's first strong letter;
// each run of one family and one level is shaped by HarfBuzz in its
// direction with its family's font (joining, ligatures, marks), and the
// runs are put in visual order by rule L2 of the algorithm (UAX #9).
//
// canvas's RichText would do all this itself, but it drops the spaces
// between words of right-to-left text (it reorders runs by their widths
// without the glue between them), so a line is built from single-font
// NewTextLine runs instead.
func (p *page) shape(s string, st style, size float64) shaped {
	rs := []rune(s)
	levels := text.EmbeddingLevels(rs)
	fams := p.fs.families(rs)
	bold := 0
	if st.bold {
		bold = 1
	}
	out := shaped{em: size * mmPerPt}
	type logical struct {
		t     *canvas.Text
		level int
	}
	var runs []logical
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && fams[j] == fams[i] && levels[j] == levels[i] {
			j++
		}
		face := p.fs.fonts[fams[i]][bold].Face(size, st.color)
		face.Language = p.lang
		face.Direction = text.LeftToRight
		if levels[i]%2 == 1 {
			face.Direction = text.RightToLeft
		}
		runs = append(runs, logical{canvas.NewTextLine(face, string(rs[i:j]), canvas.Left), levels[i]})
		i = j
	}
	// L2: from the highest level to the lowest odd one, reverse every
	// sequence of runs at that level or higher.
	top, low := 0, math.MaxInt
	for _, r := range runs {
		top = max(top, r.level)
		if r.level%2 == 1 {
			low = min(low, r.level)
		}
	}
	for lv := top; lv >= low; lv-- {
		for i := 0; i < len(runs); {
			if runs[i].level < lv {
				i++
				continue
			}
			j := i
			for j < len(runs) && runs[j].level >= lv {
				j++
			}
			slices.Reverse(runs[i:j])
			i = j
		}
	}
	for _, r := range runs {
		out.runs = append(out.runs, placed{r.t, out.width, offset(r.t)})
		out.width += r.t.Width
	}
	return out
}

// offset reports whether a glyph of t is placed off its pen position.
func offset(t *canvas.Text) bool {
	moved := false
	t.WalkSpans(func(_, _ float64, sp canvas.TextSpan) {
		for _, g := range sp.Glyphs {
			moved = moved || g.XOffset != 0 || g.YOffset != 0
		}
	})
	return moved
}

// fit shapes s at st's size, or smaller down to st.min if it is wider
// than width. It reports the horizontal squeeze (at most 1) still needed
// at the smallest size: a long name is condensed rather than cut.
func (p *page) fit(s string, st style, width float64) (shaped, float64) {
	t := p.shape(s, st, st.size)
	if t.width <= width || t.width == 0 {
		return t, 1
	}
	size := math.Max(st.min, st.size*width/t.width*0.995)
	if size < st.size {
		t = p.shape(s, st, size)
	}
	if t.width <= width {
		return t, 1
	}
	return t, width / t.width
}

// text draws s with its baseline at y, in the box from x0 to x1 (x0 < x1),
// aligned as a says. It returns the box the line's ink takes: its width,
// and from 1.05 em above the baseline (accents, Arabic marks) to 0.55 em
// below it (descenders); layouts keep other ink out of it.
func (p *page) text(s string, st style, x0, x1, y float64, a align) box {
	t, squeeze := p.fit(s, st, x1-x0)
	w := t.width * squeeze
	x := x0
	switch {
	case a == center:
		x = (x0 + x1 - w) / 2
	case (a == start) == p.rtl:
		x = x1 - w
	}
	p.ctx.Push()
	p.ctx.Translate(x, p.height-y)
	p.ctx.Scale(squeeze, 1)
	for _, r := range t.runs {
		if r.asPath {
			m := p.ctx.CoordSystemView().Mul(p.ctx.View()).Translate(r.x, 0)
			r.text.RenderAsPath(p.ctx, m, 0) // resolution 0: no hinting, exact outlines
			continue
		}
		p.ctx.DrawText(r.x, 0, r.text) // a NewTextLine's origin is its baseline
	}
	p.ctx.Pop()
	return box{x, y - 1.05*t.em, x + w, y + 0.55*t.em}
}

// mmPerPt converts points to millimetres.
const mmPerPt = 25.4 / 72

// box is a rectangle in page millimetres, top-down.
type box struct{ x0, y0, x1, y1 float64 }

// frame strokes a rectangle's outline given top-down, dashed if dash > 0.
func (p *page) frame(b box, c color.RGBA, width, dash float64) {
	p.ctx.Push()
	p.ctx.SetFillColor(canvas.Transparent)
	p.ctx.SetStrokeColor(c)
	p.ctx.SetStrokeWidth(width)
	if dash > 0 {
		p.ctx.SetDashes(0, dash, dash)
	}
	p.ctx.DrawPath(b.x0, p.height-b.y1, canvas.Rectangle(b.x1-b.x0, b.y1-b.y0))
	p.ctx.Pop()
}
