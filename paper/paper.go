// Package paper renders the printable documents Pathways hands out — login
// cards and certificates — as PDF.
//
// It knows no HTTP, no database and no message catalogue: callers pass
// every text already translated, with the locale and direction of the
// labels. Text is set with embedded Noto fonts, a font per script run
// (Latin and Cyrillic, Arabic script, Ethiopic), shaped by HarfBuzz (the
// go-text/typesetting port, through tdewolff/canvas) so that Arabic,
// Dari and Pashto letters join and read right to left, and mixed runs
// ("علی Ahmadi 12") are ordered by the Unicode bidi algorithm. Text stays
// text in the PDF (fonts subset and embedded), so usernames, PINs and
// addresses can be copied out; QR codes are vector squares.
//
// Bad input (an empty field, too many cards, a name no font can print) is
// a *pathways.ValidationError, never a panic; Validate methods check a
// document without drawing it.
package paper

import (
	"fmt"
	"io"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/pdf"
)

// document is a PDF being written, a page at a time.
type document struct {
	*pdf.PDF
	width, height float64
}

// newDocument starts a PDF of pages width × height mm with its language
// (/Lang) and title.
func newDocument(w io.Writer, width, height float64, locale, title string) *document {
	opts := pdf.DefaultOptions // compressed streams, fonts subset
	d := &document{pdf.New(w, width, height, &opts), width, height}
	// canvas writes the catalogue's /Lang from the Creator entry (its
	// writer.go says catalog["Lang"] = encode(w.creator)), so the creator
	// carries the locale until that is fixed upstream.
	d.SetInfo(title, "", "", "Pathways", locale)
	d.SetLang(locale)
	return d
}

// page returns a drawing surface on the document's current page.
func (d *document) page(fs *fontSet, lang string, rtl bool) *page {
	return &page{ctx: canvas.NewContext(d.PDF), fs: fs, lang: lang, height: d.height, rtl: rtl}
}

// recoverRender turns a panic inside the renderer (canvas panics on, for
// example, a font it cannot subset) into an error, so a request that
// prints gets an internal error answer instead of taking the server down.
func recoverRender(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("render pdf: %v", r)
	}
}
