package paper

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func testCertificate(lang string, rtl bool) Certificate {
	c := Certificate{
		Locale: lang, Title: "Certificate of completion", Holder: "Amina Yusuf", Course: "Talking at work",
		Organisation: "Pathways Demo NGO", Date: "4 December 2026",
		Labels:    CertificateLabels{"awarded to", "has completed", "issued by", "Check it at"},
		VerifyURL: "https://pathways.example.org/verify/0194f7d2-0000-7000-8000-0000000000ee",
	}
	if rtl {
		c.Title, c.Course, c.Organisation, c.Date = "شهادة إتمام", "التواصل في العمل", "منظمة المسارات", "٤ ديسمبر ٢٠٢٦"
		c.Labels = CertificateLabels{"تُمنح إلى", "لإتمامها", "صادرة عن", "تحقق منها على"}
		c.RTL = true
	}
	return c
}

// TestCertificate: one A4 landscape page in the holder's language, its
// Latin texts and address extractable, its QR code the address.
func TestCertificate(t *testing.T) {
	for _, rtl := range []bool{false, true} {
		lang := map[bool]string{false: "en", true: "ar"}[rtl]
		c := testCertificate(lang, rtl)
		var b bytes.Buffer
		if err := CertificatePDF(&b, c); err != nil {
			t.Fatal(err)
		}
		info := pdfTool(t, "pdfinfo", b.Bytes())
		if !strings.Contains(info, "\nPages:           1\n") || !strings.Contains(info, "Page size:       841.89 x 595.276 pts (A4)") {
			t.Errorf("rtl=%v: pdfinfo says\n%s\nwant one A4 landscape page", rtl, info)
		}
		if !bytes.Contains(b.Bytes(), []byte("/Lang("+lang+")")) {
			t.Errorf("rtl=%v: no /Lang(%s) in the catalogue", rtl, lang)
		}
		text := pdfTool(t, "pdftotext", b.Bytes(), "-raw")
		want := []string{c.VerifyURL, c.Holder}
		if !rtl {
			want = append(want, c.Title, c.Course, c.Organisation, c.Date, c.Labels.Awarded, c.Labels.Verify)
		}
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("rtl=%v: pdftotext does not find %q in\n%s", rtl, s, text)
			}
		}
		if got := decodeQR(t, rasterise(t, b.Bytes(), 1), layoutCertificate(rtl).qr); got != c.VerifyURL {
			t.Errorf("rtl=%v: QR code reads %q, want %q", rtl, got, c.VerifyURL)
		}
	}
}

func TestCertificateInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Certificate)
		want   []string
	}{
		{"empty", func(c *Certificate) { *c = Certificate{} }, []string{
			"course:required", "date:required", "holder:required", "labels/awarded:required", "labels/completed:required",
			"labels/issued:required", "labels/verify:required", "locale:required", "organisation:required", "title:required", "verifyUrl:required"}},
		{"long course", func(c *Certificate) { c.Course = strings.Repeat("x", CourseMax+1) }, []string{"course:too_long"}},
		{"holder override", func(c *Certificate) { c.Holder = "Amina\u2067" }, []string{"holder:invalid"}},
		{"holder emoji", func(c *Certificate) { c.Holder = "Amina 🎓" }, []string{"holder:unprintable"}},
		{"verify URL", func(c *Certificate) { c.VerifyURL = "https://exa mple.org/v" }, []string{"verifyUrl:invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testCertificate("en", false)
			tc.change(&c)
			var b bytes.Buffer
			if got := fieldCodes(t, CertificatePDF(&b, c)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written for invalid input", b.Len())
			}
		})
	}
}
