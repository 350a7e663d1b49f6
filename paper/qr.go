package paper

import (
	"fmt"

	"github.com/skip2/go-qrcode"
	"github.com/tdewolff/canvas"
)

// qrLevel is the QR codes' error correction: Medium restores 15 % of the
// modules, enough for a creased or smudged card.
const qrLevel = qrcode.Medium

// qrMatrix is content's QR code as rows of modules, dark true, with the
// four-module quiet zone around it that readers need.
func qrMatrix(content string) ([][]bool, error) {
	q, err := qrcode.New(content, qrLevel)
	if err != nil {
		return nil, fmt.Errorf("qr code of %d bytes: %w", len(content), err)
	}
	return q.Bitmap(), nil
}

// qr draws content's QR code as a square of side size (quiet zone
// included) with its top-left corner at (x, y): the dark modules are
// vector rectangles, one path, so the code is sharp at any printing size
// and shows no seams between modules.
func (p *page) qr(content string, x, y, size float64) error {
	m, err := qrMatrix(content)
	if err != nil {
		return err
	}
	cell := size / float64(len(m))
	path := &canvas.Path{}
	for _, r := range moduleRects(m) {
		x0, x1 := float64(r.c0)*cell, float64(r.c1)*cell
		y0, y1 := size-float64(r.r1)*cell, size-float64(r.r0)*cell // canvas counts upwards
		path.MoveTo(x0, y0)
		path.LineTo(x1, y0)
		path.LineTo(x1, y1)
		path.LineTo(x0, y1)
		path.Close()
	}
	p.ctx.SetFillColor(ink)
	p.ctx.SetStrokeColor(canvas.Transparent)
	p.ctx.DrawPath(x, p.height-y-size, path)
	return nil
}

// moduleRect is a rectangle of dark modules: columns c0 to c1 and rows
// r0 to r1, ends excluded.
type moduleRect struct{ c0, c1, r0, r1 int }

// moduleRects covers the dark modules of m with rectangles: each row's
// runs of dark modules, a run merged with the one above it when they
// span the same columns. It is about a third fewer shapes than one per
// run, and the PDF's size and writing time go with their number.
func moduleRects(m [][]bool) []moduleRect {
	var out []moduleRect
	above := map[[2]int]int{} // runs of the row above → their rectangle
	for row, line := range m {
		here := map[[2]int]int{}
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			end := col
			for end < len(line) && line[end] {
				end++
			}
			key := [2]int{col, end}
			if i, ok := above[key]; ok {
				out[i].r1 = row + 1
				here[key] = i
			} else {
				out = append(out, moduleRect{col, end, row, row + 1})
				here[key] = len(out) - 1
			}
			col = end
		}
		above = here
	}
	return out
}
