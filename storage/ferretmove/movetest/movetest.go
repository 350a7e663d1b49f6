// Package movetest gives tests the committed FerretDB fixture
// (storage/ferretmove/testdata/pathways.sqlite.gz): a database the old
// server (FerretDB engine) wrote, with the seeded demo curriculum (3
// published courses and their media records), an organisation "move-test"
// with trainer1, learner1, learner2, edu1, the global admin, a bank and a
// published quiz, learner1's submitted attempt and learner2's open one
// (one saved answer each), refresh tokens and a failed sign-in of
// learner2. Its media files are not included: the records are what a
// move carries.
package movetest

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The fixture's credentials and ids.
const (
	DBName        = "pathways"
	AdminPassword = "correct horse battery staple" // of "admin"
	EduPassword   = "correct horse battery"        // of "edu1"
	Learner1PIN   = "7391"
	Learner2PIN   = "7392"
	DemoOrg       = "0190f1e2-9d3a-7c4e-8f00-00000000de40"
	QuizID        = "01a23ed5-907b-758c-9a87-a831c8942083"
	Attempt1      = "19d29d01-f30b-46fb-8ef8-56868b3665cc" // learner1's, submitted
	Attempt2      = "1e1d4dfd-1557-41ec-ad91-dda7af2688b7" // learner2's, open
)

// DataDir returns a new data directory holding the fixture, unpacked as
// the old server left it: <dir>/pathways.sqlite.
func DataDir(tb testing.TB) string {
	tb.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("movetest: no source location")
	}
	in, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", "pathways.sqlite.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	out, err := os.Create(filepath.Join(dir, DBName+".sqlite"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}
