package paper

import (
	"bytes"
	"testing"
)

// BenchmarkCards200 renders 200 login cards (mixed scripts, 10 a page)
// and reports the PDF's size as bytes/pdf.
func BenchmarkCards200(b *testing.B) {
	s := testSheet("fa", true, 10, learners(200)...)
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Cards(&buf, s); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/pdf")
}

// BenchmarkCertificate renders one certificate in Arabic and reports the
// PDF's size as bytes/pdf.
func BenchmarkCertificate(b *testing.B) {
	c := testCertificate("ar", true)
	c.Holder = "مريم العلي"
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := CertificatePDF(&buf, c); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/pdf")
}
