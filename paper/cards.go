package paper

import (
	"fmt"
	"io"

	"github.com/pathways-lms/pathways"
)

// LoginCard is one learner's card.
type LoginCard struct {
	Name      string // display name, any script the fonts cover (Arabic, Dari, Pashto, Cyrillic, Tigrinya, Latin…)
	Username  string
	PIN       string
	SignInURL string // printed as text, e.g. https://example.org/signin
	QRURL     string // encoded in the QR code: the sign-in page with the username filled in
}

// CardLabels are the card's fixed texts in the group's language.
type CardLabels struct {
	Heading  string // "Your Pathways sign-in"
	Username string // "Username"
	PIN      string // "PIN"
	SignIn   string // "Sign in at"
	Keep     string // "Keep this card private"
}

// CardSheet is a printable sheet of login cards: A4 pages of two columns
// of 4 or 5 cards, with dashed cutting lines.
type CardSheet struct {
	Locale  string // BCP 47 tag of the labels, and the document's language
	RTL     bool   // the labels' direction; each name's own comes from its letters (bidi)
	PerPage int    // 8 or 10
	Labels  CardLabels
	Cards   []LoginCard // 1 to MaxCards
}

// PerPage values a sheet may use.
var perPages = []int{8, 10}

// Validate reports what keeps s from being printed as a
// *pathways.ValidationError, with fields named as in JSON ("perPage",
// "labels/pin", "cards/3/name"); callers that take the texts from a
// request may re-prefix them. Callers that make the cards' accounts check
// the names with it first, so that a name the fonts cannot print is
// refused before anyone is created.
func (s CardSheet) Validate() error {
	fs, err := getFonts()
	if err != nil {
		return err
	}
	defer putFonts(fs)
	return s.check(fs)
}

func (s CardSheet) check(fs *fontSet) error {
	v := &pathways.ValidationError{}
	c := checker{v, fs}
	c.locale("locale", s.Locale)
	if s.PerPage != 8 && s.PerPage != 10 {
		v.Add("perPage", pathways.CodeEnum, map[string]any{"Value": "8, 10"})
	}
	c.text("labels/heading", s.Labels.Heading, LabelMax)
	c.text("labels/username", s.Labels.Username, LabelMax)
	c.text("labels/pin", s.Labels.PIN, LabelMax)
	c.text("labels/signIn", s.Labels.SignIn, LabelMax)
	c.text("labels/keep", s.Labels.Keep, LabelMax)
	if len(s.Cards) == 0 {
		v.Add("cards", pathways.CodeRequired, nil)
	} else if pathways.CheckCount(v, "cards", len(s.Cards), MaxCards) {
		for i, card := range s.Cards {
			if v.Full() {
				break
			}
			c.text(pathways.Path("cards", i, "name"), card.Name, NameMax)
			c.text(pathways.Path("cards", i, "username"), card.Username, UsernameMax)
			c.text(pathways.Path("cards", i, "pin"), card.PIN, PINMax)
			c.url(pathways.Path("cards", i, "signInUrl"), card.SignInURL)
			c.url(pathways.Path("cards", i, "qrUrl"), card.QRURL)
		}
	}
	return v.Err()
}

// Page and card geometry, in millimetres.
const (
	a4Width, a4Height = 210.0, 297.0
	sheetMarginX      = 10.0
	sheetMarginY      = 10.0
)

// cardGeometry is where things go on a card, and how big, for one
// PerPage; positions are from the card's top-left corner.
type cardGeometry struct {
	width, height, pad                     float64
	heading, name, label, value, url, keep style
	gap                                    float64 // between lines
	qrMax                                  float64
}

func geometry(perPage int) cardGeometry {
	rows := float64(perPage / 2)
	g := cardGeometry{
		width:  (a4Width - 2*sheetMarginX) / 2,
		height: (a4Height - 2*sheetMarginY) / rows,
		pad:    4.5,
		gap:    1.4,
		qrMax:  34,
	}
	k := 1.0 // type scale: a bigger card gets bigger type
	if perPage == 8 {
		k, g.pad, g.gap = 1.12, 5.5, 2.6
	}
	g.heading = style{size: 9 * k, min: 6, bold: true, color: blue}
	g.name = style{size: 15, min: 8, bold: true, color: ink} // the column is as wide on both
	g.label = style{size: 8 * k, min: 6, color: grey}
	g.value = style{size: 13 * k, min: 8, bold: true, color: ink}
	g.url = style{size: 9 * k, min: 6, color: ink}
	g.keep = style{size: 7 * k, min: 5.5, color: grey}
	return g
}

// cardLayout is where one card's parts are, in page millimetres.
type cardLayout struct {
	card, column box // the whole card; the text beside the QR code, padding excluded
	qr           box
	// baselines of the lines, top-down
	heading, name, username, pin, signIn, keep float64
}

// next is the baseline of a line of style b set under one of style a
// whose baseline is at y, gap millimetres apart.
func next(y float64, a, b style, gap float64) float64 {
	return y + 0.55*a.size*mmPerPt + gap + 1.05*b.size*mmPerPt
}

// layout places card i (0-based, on its page) of a sheet of perPage.
// In a right-to-left sheet the first card is the top right one and the QR
// code is on the card's left.
func (g cardGeometry) layout(i int, rtl bool) cardLayout {
	col, row := i%2, i/2
	if rtl {
		col = 1 - col
	}
	x := sheetMarginX + float64(col)*g.width
	y := sheetMarginY + float64(row)*g.height
	l := cardLayout{card: box{x, y, x + g.width, y + g.height}}
	x0, x1 := x+g.pad, x+g.width-g.pad
	l.heading = y + g.pad + 1.05*g.heading.size*mmPerPt
	l.name = next(l.heading, g.heading, g.name, g.gap+0.4)
	l.username = next(l.name, g.name, g.value, g.gap)
	l.pin = next(l.username, g.value, g.value, g.gap)
	l.signIn = next(l.pin, g.value, g.url, g.gap+0.4)
	l.keep = y + g.height - g.pad - 0.55*g.keep.size*mmPerPt
	qrTop := l.heading + 0.55*g.heading.size*mmPerPt + 0.5
	qrBottom := l.signIn - 1.05*g.url.size*mmPerPt - 0.5
	q := min(qrBottom-qrTop, g.qrMax)
	if rtl {
		l.qr = box{x0, qrTop, x0 + q, qrTop + q}
		l.column = box{x0 + q + 2, y, x1, y + g.height}
	} else {
		l.qr = box{x1 - q, qrTop, x1, qrTop + q}
		l.column = box{x0, y, x1 - q - 2, y + g.height}
	}
	return l
}

// nameBox is where card l's name may put ink.
func (g cardGeometry) nameBox(l cardLayout) box {
	em := g.name.size * mmPerPt
	return box{l.column.x0, l.name - 1.05*em, l.column.x1, l.name + 0.55*em}
}

// Cards writes s as a PDF of login cards to w. Bad input is a
// *pathways.ValidationError (see Validate) and nothing is written;
// otherwise an error is one of w's.
func Cards(w io.Writer, s CardSheet) (err error) {
	fs, err := getFonts()
	if err != nil {
		return err
	}
	defer putFonts(fs)
	if err := s.check(fs); err != nil {
		return err
	}
	defer recoverRender(&err)
	g := geometry(s.PerPage)
	pages := (len(s.Cards) + s.PerPage - 1) / s.PerPage
	d := newDocument(w, a4Width, a4Height, s.Locale, s.Labels.Heading)
	for pg := range pages {
		if pg > 0 {
			d.NewPage(a4Width, a4Height)
		}
		p := d.page(fs, s.Locale, s.RTL)
		cards := s.Cards[pg*s.PerPage : min(len(s.Cards), (pg+1)*s.PerPage)]
		for i, card := range cards {
			if err := p.card(g, g.layout(i, s.RTL), s.Labels, card); err != nil {
				return fmt.Errorf("card %d: %w", pg*s.PerPage+i, err)
			}
		}
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("write login cards: %w", err)
	}
	return nil
}

// card draws one card.
func (p *page) card(g cardGeometry, l cardLayout, lb CardLabels, c LoginCard) error {
	p.frame(l.card, light, 0.2, 1.5)
	x0, x1 := l.card.x0+g.pad, l.card.x1-g.pad
	cx0, cx1 := l.column.x0, l.column.x1
	p.text(lb.Heading, g.heading, x0, x1, l.heading, start)
	p.text(c.Name, g.name, cx0, cx1, l.name, start)
	p.labelled(lb.Username, c.Username, g.label, g.value, cx0, cx1, l.username)
	p.labelled(lb.PIN, c.PIN, g.label, g.value, cx0, cx1, l.pin)
	p.labelled(lb.SignIn, c.SignInURL, g.label, g.url, x0, x1, l.signIn)
	p.text(lb.Keep, g.keep, x0, x1, l.keep, start)
	return p.qr(c.QRURL, l.qr.x0, l.qr.y0, l.qr.x1-l.qr.x0)
}

// labelled draws a label and its value on one baseline, the label at the
// line's start and the value after it: two texts, each with its own bidi
// paragraph, so an Arabic label never reorders a Latin username.
func (p *page) labelled(label, value string, ls, vs style, x0, x1, y float64) {
	const space = 2.0
	lw := (x1 - x0) * 0.45 // a long label shrinks before it takes more
	if p.rtl {
		b := p.text(label, ls, x1-lw, x1, y, start)
		p.text(value, vs, x0, b.x0-space, y, start)
		return
	}
	b := p.text(label, ls, x0, x0+lw, y, start)
	p.text(value, vs, b.x1+space, x1, y, start)
}
