package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/courses/transfer"
)

// courseBackend opens the database, media and courses for a command.
// With the embedded SQLite engine a command may run beside the server: both
// open the one database file, whose writes are compare-and-swaps that hold
// between processes.
func courseBackend(ctx context.Context, cfg config, stderr io.Writer) (*backend, *courses.Service, *transfer.Service, func() error, error) {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, closeAll, err := open(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	lib, err := openMedia(ctx, cfg, b.db, log)
	if err != nil {
		return nil, nil, nil, nil, errors.Join(err, closeAll())
	}
	crs, _, xfer := openContent(cfg, b.db, lib, log)
	return b, crs, xfer, closeAll, nil
}

// seedCommand runs `pathways seed`: the demo curriculum, as at first start.
func seedCommand(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	b, crs, xfer, closeAll, err := courseBackend(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	log := slog.New(slog.NewTextHandler(stdout, nil))
	return seedDemo(ctx, b.acc, crs, xfer, log)
}

// importCommand runs `pathways import [-org ID] [-slug SLUG] [-publish]
// PATH`: a course package from a folder or a zip file, as a new draft,
// with its quizzes and banks.
func importCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) (err error) {
	fl := flag.NewFlagSet("import", flag.ContinueOnError)
	fl.SetOutput(stderr)
	org := fl.String("org", demoOrgID, "organisation `ID` that will own the course")
	slug := fl.String("slug", "", "`slug` of the new course, instead of the package's")
	publish := fl.Bool("publish", false, "publish the imported draft as version 1")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return errors.New("usage: pathways import [-org ID] [-slug SLUG] [-publish] FOLDER|FILE.zip")
	}
	fsys, closeZip, err := openPackage(fl.Arg(0))
	if err != nil {
		return err
	}
	defer closeZip()
	p, err := coursefile.Read(fsys)
	if err != nil {
		return err // a *coursefile.Error prints one problem a line
	}
	b, crs, xfer, closeAll, err := courseBackend(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	if *org == demoOrgID {
		if err := seedDemo(ctx, b.acc, crs, xfer, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			return err
		}
	}
	res, err := xfer.Import(ctx, system, p, transfer.Options{OrgID: *org, Slug: *slug})
	if err != nil {
		return err
	}
	c := res.Course
	fmt.Fprintf(stdout, "imported %s as course %s (revision %d)\n", c.Slug, c.ID, c.Revision)
	counts := map[transfer.Status]int{}
	for _, m := range res.Media {
		counts[m.Status]++
	}
	fmt.Fprintf(stdout, "media: %d created, %d reused\n", counts[transfer.Created], counts[transfer.Reused])
	for _, q := range res.Quizzes {
		fmt.Fprintf(stdout, "quiz %s: %s as %s\n", q.Key, q.Status, q.ID)
	}
	if *publish {
		v, err := crs.Publish(ctx, system, c.ID, c.Revision)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published version %d\n", v.Number)
	}
	return nil
}

// openPackage opens a folder, or a zip file with coursefile's limits.
func openPackage(name string) (fs.FS, func() error, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if st.IsDir() {
		return os.DirFS(name), func() error { return nil }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fsys, err := coursefile.OpenZip(f, st.Size(), coursefile.DefaultLimits)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return fsys, f.Close, nil
}

// exportCommand runs `pathways export [-version N] ID OUT`: the draft (or
// a published version) as a folder, or a zip file when OUT ends in .zip.
func exportCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) (err error) {
	fl := flag.NewFlagSet("export", flag.ContinueOnError)
	fl.SetOutput(stderr)
	version := fl.Int("version", 0, "published version `N` to export (default: the draft)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 2 {
		return errors.New("usage: pathways export [-version N] COURSE-ID FOLDER|FILE.zip")
	}
	_, _, xfer, closeAll, err := courseBackend(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	p, err := xfer.Export(ctx, system, fl.Arg(0), *version)
	if err != nil {
		return err
	}
	out := fl.Arg(1)
	if strings.HasSuffix(strings.ToLower(out), ".zip") {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := coursefile.WriteZip(f, p); err != nil {
			f.Close()
			os.Remove(out)
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	} else if err := coursefile.WriteDir(out, p); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "exported %s to %s\n", p.Course.Slug, out)
	return err
}
