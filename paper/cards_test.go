package paper

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/pathways-lms/pathways"
)

var enLabels = CardLabels{"Your Pathways sign-in", "Username", "PIN", "Sign in at", "Keep this card private"}

func testSheet(lang string, rtl bool, perPage int, cards ...LoginCard) CardSheet {
	labels := enLabels
	if rtl {
		labels = CardLabels{"ورود شما به Pathways", "نام کاربری", "پین", "ورود در", "این کارت را پنهان نگه دارید"}
	}
	return CardSheet{Locale: lang, RTL: rtl, PerPage: perPage, Labels: labels, Cards: cards}
}

// learners makes n cards with distinct usernames, PINs and QR addresses.
func learners(n int) []LoginCard {
	names := []string{"مريم العلي", "Олена Коваленко", "ګل\u200cپاڼه ښکلې", "ኣብርሃም ተስፋይ", "Fiona Effie", "محمد رضا احمدی"}
	cards := make([]LoginCard, n)
	for i := range cards {
		// "ffi" and "fl" would be ligatures if Noto Sans's were on.
		u := fmt.Sprintf("effi.flo%03d", i)
		cards[i] = LoginCard{
			Name: names[i%len(names)], Username: u, PIN: fmt.Sprintf("%06d", 314159+i*7919),
			SignInURL: "https://pathways.example.org/signin",
			QRURL:     "https://pathways.example.org/signin?u=" + u,
		}
	}
	return cards
}

func render(t testing.TB, s CardSheet) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Cards(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodeQR reads the QR code inside b (page millimetres) of img.
func decodeQR(t *testing.T, img image.Image, b box) string {
	t.Helper()
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(px(b.x0)-4, px(b.y0)-4, px(b.x1)+4, px(b.y1)+4))
	bmp, err := gozxing.NewBinaryBitmapFromImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the QR code at %v: %v", b, err)
	}
	return res.GetText()
}

// TestCardsQRAndText: every card's QR code, read back from the rendered
// page, is its QRURL; its username, PIN and address are text in the PDF
// (pdftotext finds them), in both directions and both sizes.
func TestCardsQRAndText(t *testing.T) {
	for _, perPage := range perPages {
		for _, rtl := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d-rtl=%v", perPage, rtl), func(t *testing.T) {
				cards := learners(perPage + 2) // a second page
				pdf := render(t, testSheet("fa", rtl, perPage, cards...))
				g := geometry(perPage)
				for pg := range 2 {
					img := rasterise(t, pdf, pg+1)
					for i := range min(perPage, len(cards)-pg*perPage) {
						want := cards[pg*perPage+i].QRURL
						if got := decodeQR(t, img, g.layout(i, rtl).qr); got != want {
							t.Errorf("page %d card %d: QR code reads %q, want %q", pg+1, i, got, want)
						}
					}
				}
				text := pdfTool(t, "pdftotext", pdf, "-layout")
				for _, c := range cards {
					for _, s := range []string{c.Username, c.PIN, c.SignInURL} {
						if !strings.Contains(text, s) {
							t.Errorf("pdftotext does not find %q", s)
						}
					}
				}
				if rtl {
					return
				}
				for _, s := range []string{enLabels.Heading, enLabels.Username, enLabels.SignIn, enLabels.Keep, "Олена Коваленко", "Fiona Effie"} {
					if !strings.Contains(text, s) {
						t.Errorf("pdftotext does not find %q", s)
					}
				}
			})
		}
	}
}

// TestCardsPages: 500 cards fill 63 pages of 8 or 50 of 10, all A4, and
// the document says its language.
func TestCardsPages(t *testing.T) {
	cards := learners(MaxCards)
	for _, tc := range []struct{ perPage, pages int }{{8, 63}, {10, 50}} {
		pdf := render(t, testSheet("uk", false, tc.perPage, cards...))
		info := pdfTool(t, "pdfinfo", pdf)
		if !strings.Contains(info, fmt.Sprintf("\nPages:           %d\n", tc.pages)) {
			t.Errorf("%d per page: pdfinfo says\n%s\nwant %d pages", tc.perPage, info, tc.pages)
		}
		sizes := regexp.MustCompile(`(?m)^Page +\d+ size: +(.*)$`).FindAllStringSubmatch(pdfTool(t, "pdfinfo", pdf, "-f", "1", "-l", "999"), -1)
		if len(sizes) != tc.pages {
			t.Errorf("%d per page: %d page sizes listed, want %d", tc.perPage, len(sizes), tc.pages)
		}
		for i, s := range sizes {
			if s[1] != "595.276 x 841.89 pts (A4)" {
				t.Errorf("%d per page: page %d is %s, want A4", tc.perPage, i+1, s[1])
			}
		}
		if !bytes.Contains(pdf, []byte("/Lang(uk)")) {
			t.Errorf("%d per page: no /Lang(uk) in the PDF's catalogue", tc.perPage)
		}
		t.Logf("%d cards, %d per page: %d pages, %d KB", len(cards), tc.perPage, tc.pages, len(pdf)/1024)
	}
}

// fieldCodes lists a validation error's problems as "field:code".
func fieldCodes(t *testing.T, err error) []string {
	t.Helper()
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want a *pathways.ValidationError", err, err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	slices.Sort(out)
	return out
}

func TestCardsInvalid(t *testing.T) {
	good := func() CardSheet { return testSheet("en", false, 8, learners(3)...) }
	tests := []struct {
		name   string
		change func(*CardSheet)
		want   []string
	}{
		{"per page", func(s *CardSheet) { s.PerPage = 12 }, []string{"perPage:enum"}},
		{"no cards", func(s *CardSheet) { s.Cards = nil }, []string{"cards:required"}},
		{"too many cards", func(s *CardSheet) { s.Cards = learners(MaxCards + 1) }, []string{"cards:too_many"}},
		{"locale", func(s *CardSheet) { s.Locale = "en_GB" }, []string{"locale:locale"}},
		{"no locale", func(s *CardSheet) { s.Locale = "" }, []string{"locale:required"}},
		{"empty labels", func(s *CardSheet) { s.Labels = CardLabels{Heading: " "} }, []string{
			"labels/heading:required", "labels/keep:required", "labels/pin:required", "labels/signIn:required", "labels/username:required"}},
		{"empty card", func(s *CardSheet) { s.Cards[1] = LoginCard{} }, []string{
			"cards/1/name:required", "cards/1/pin:required", "cards/1/qrUrl:required", "cards/1/signInUrl:required", "cards/1/username:required"}},
		{"long name", func(s *CardSheet) { s.Cards[0].Name = strings.Repeat("ب", NameMax+1) }, []string{"cards/0/name:too_long"}},
		{"control", func(s *CardSheet) { s.Cards[0].Name = "Amina\x07" }, []string{"cards/0/name:invalid"}},
		{"override", func(s *CardSheet) { s.Cards[2].Name = "\u202eAmina" }, []string{"cards/2/name:invalid"}},
		{"bad utf-8", func(s *CardSheet) { s.Cards[0].Username = "ab\xff" }, []string{"cards/0/username:invalid"}},
		{"unprintable", func(s *CardSheet) { s.Cards[0].Name = "李小龍 🙂" }, []string{"cards/0/name:unprintable"}},
		{"not a URL", func(s *CardSheet) { s.Cards[0].SignInURL = "pathways.example.org/signin" }, []string{"cards/0/signInUrl:invalid"}},
		{"javascript URL", func(s *CardSheet) { s.Cards[0].QRURL = "javascript:alert(1)" }, []string{"cards/0/qrUrl:invalid"}},
		{"long URL", func(s *CardSheet) { s.Cards[0].QRURL = "https://x.org/" + strings.Repeat("a", URLMax) }, []string{"cards/0/qrUrl:too_long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.change(&s)
			var b bytes.Buffer
			err := Cards(&b, s)
			if got := fieldCodes(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written for invalid input", b.Len())
			}
			if got := fieldCodes(t, s.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("Validate: got %v, want %v", got, tc.want)
			}
		})
	}
	if err := good().Validate(); err != nil {
		t.Errorf("a good sheet: %v", err)
	}
}

// TestUnprintableNamesTheCharacters: the error says which characters.
func TestUnprintableNamesTheCharacters(t *testing.T) {
	s := testSheet("en", false, 8, learners(1)...)
	s.Cards[0].Name = "Amina 李"
	var ve *pathways.ValidationError
	if !errors.As(s.Validate(), &ve) || len(ve.Fields) != 1 {
		t.Fatalf("want one field error, got %v", s.Validate())
	}
	if got := ve.Fields[0].Params["Chars"]; got != "李 (U+674E)" {
		t.Errorf("Chars = %q", got)
	}
}

// TestCardsConcurrently: documents render at once from pooled fonts (run
// with -race).
func TestCardsConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			errs <- Cards(&b, testSheet("fa", i%2 == 0, 10, learners(12)...))
			if i%2 == 1 {
				errs <- CertificatePDF(&b, testCertificate("ar", true))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
