package paper

import (
	"fmt"
	"io"

	"github.com/pathways-lms/pathways"
)

// CertificateLabels are a certificate's fixed texts in the holder's
// language.
type CertificateLabels struct {
	Awarded   string // "awarded to"
	Completed string // "has completed"
	Issued    string // "issued by"
	Verify    string // "Check it at"
}

// Certificate is a certificate of completion, every text already
// translated (Date already formatted for Locale).
type Certificate struct {
	Locale       string // BCP 47 tag of the texts, and the document's language
	Title        string // "Certificate of completion"
	Holder       string // the display name the learner chose
	Course       string
	Organisation string
	Date         string
	Labels       CertificateLabels
	RTL          bool   // the labels' direction
	VerifyURL    string // printed, and in a QR code
}

// Validate reports what keeps c from being printed as a
// *pathways.ValidationError with JSON-style field names ("holder",
// "labels/verify").
func (c Certificate) Validate() error {
	fs, err := getFonts()
	if err != nil {
		return err
	}
	defer putFonts(fs)
	return c.check(fs)
}

func (c Certificate) check(fs *fontSet) error {
	v := &pathways.ValidationError{}
	k := checker{v, fs}
	k.locale("locale", c.Locale)
	k.text("title", c.Title, LabelMax)
	k.text("holder", c.Holder, NameMax)
	k.text("course", c.Course, CourseMax)
	k.text("organisation", c.Organisation, LabelMax)
	k.text("date", c.Date, DateMax)
	k.text("labels/awarded", c.Labels.Awarded, LabelMax)
	k.text("labels/completed", c.Labels.Completed, LabelMax)
	k.text("labels/issued", c.Labels.Issued, LabelMax)
	k.text("labels/verify", c.Labels.Verify, LabelMax)
	k.url("verifyUrl", c.VerifyURL)
	return v.Err()
}

// certificateLayout is where a certificate's lines go: an A4 landscape
// page, baselines top-down in millimetres, every line centred except the
// verification block, which sits at the start of the bottom edge with
// the QR code at its end.
type certificateLayout struct {
	width, height                             float64
	title, awarded, holder, completed, course float64
	issued, organisation, date                float64
	verify, verifyURL                         float64
	qr                                        box
	x0, x1                                    float64 // the text's sides
}

var (
	certTitle  = style{size: 30, min: 16, bold: true, color: blue}
	certLabel  = style{size: 13, min: 8, color: grey}
	certHolder = style{size: 28, min: 14, bold: true, color: ink}
	certCourse = style{size: 20, min: 11, bold: true, color: ink}
	certOrg    = style{size: 15, min: 9, color: ink}
	certDate   = style{size: 12, min: 8, color: ink}
	certURL    = style{size: 10, min: 6, color: ink}
)

func layoutCertificate(rtl bool) certificateLayout {
	l := certificateLayout{width: a4Height, height: a4Width, x0: 30, x1: a4Height - 30}
	l.title = 48
	l.awarded = next(l.title, certTitle, certLabel, 7)
	l.holder = next(l.awarded, certLabel, certHolder, 3)
	l.completed = next(l.holder, certHolder, certLabel, 6)
	l.course = next(l.completed, certLabel, certCourse, 3)
	l.issued = next(l.course, certCourse, certLabel, 6)
	l.organisation = next(l.issued, certLabel, certOrg, 2)
	l.date = next(l.organisation, certOrg, certDate, 4)
	const q = 34.0
	qrY := l.height - 20 - q
	if rtl {
		l.qr = box{22, qrY, 22 + q, qrY + q}
	} else {
		l.qr = box{l.width - 22 - q, qrY, l.width - 22, qrY + q}
	}
	l.verifyURL = l.height - 24
	l.verify = l.verifyURL - 0.55*certURL.size*mmPerPt - 1.5 - 1.05*certURL.size*mmPerPt
	return l
}

// holderBox is where the holder's name may put ink.
func (l certificateLayout) holderBox() box {
	em := certHolder.size * mmPerPt
	return box{l.x0, l.holder - 1.05*em, l.x1, l.holder + 0.55*em}
}

// CertificatePDF writes c as a one-page PDF certificate to w. Bad input
// is a *pathways.ValidationError (see Validate) and nothing is written;
// otherwise an error is one of w's.
func CertificatePDF(w io.Writer, c Certificate) (err error) {
	fs, err := getFonts()
	if err != nil {
		return err
	}
	defer putFonts(fs)
	if err := c.check(fs); err != nil {
		return err
	}
	defer recoverRender(&err)
	l := layoutCertificate(c.RTL)
	d := newDocument(w, l.width, l.height, c.Locale, c.Title)
	p := d.page(fs, c.Locale, c.RTL)
	p.frame(box{10, 10, l.width - 10, l.height - 10}, blue, 1.2, 0)
	p.frame(box{13, 13, l.width - 13, l.height - 13}, blue, 0.3, 0)
	p.text(c.Title, certTitle, l.x0, l.x1, l.title, center)
	p.text(c.Labels.Awarded, certLabel, l.x0, l.x1, l.awarded, center)
	p.text(c.Holder, certHolder, l.x0, l.x1, l.holder, center)
	p.text(c.Labels.Completed, certLabel, l.x0, l.x1, l.completed, center)
	p.text(c.Course, certCourse, l.x0, l.x1, l.course, center)
	p.text(c.Labels.Issued, certLabel, l.x0, l.x1, l.issued, center)
	p.text(c.Organisation, certOrg, l.x0, l.x1, l.organisation, center)
	p.text(c.Date, certDate, l.x0, l.x1, l.date, center)
	// The verification block runs from the frame to the QR code.
	vx0, vx1 := 22.0, l.qr.x0-6
	if c.RTL {
		vx0, vx1 = l.qr.x1+6, l.width-22
	}
	p.text(c.Labels.Verify, certURL, vx0, vx1, l.verify, start)
	p.text(c.VerifyURL, certURL, vx0, vx1, l.verifyURL, start)
	if err := p.qr(c.VerifyURL, l.qr.x0, l.qr.y0, l.qr.x1-l.qr.x0); err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	return nil
}
