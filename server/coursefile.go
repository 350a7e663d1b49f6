package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/courses/transfer"
)

const mimeZip = "application/zip"

// importCourse takes a course package as a zip body, spools it to a
// temporary file (a zip is read from its end), checks all of it and
// imports it as a new draft, under ?slug= if given, with its media, banks
// and quizzes. A package with problems gets one 422 listing each with its
// file, line and field; nothing is stored. A taken slug is a 409 naming
// the slug (the parameter, or course.yaml's field).
func (s *Server) importCourse(c *fiber.Ctx) error {
	if !actor(c).IsAuthor() {
		return fmt.Errorf("import course: %w", pathways.ErrForbidden) // before reading a byte
	}
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || (mt != mimeZip && mt != "application/x-zip-compressed") {
		return errZipType
	}
	v := &pathways.ValidationError{}
	for _, name := range []string{"id", "orgId"} {
		if q := c.Query(name); q != "" && !accounts.ValidID(q) {
			v.Add(name, pathways.CodeID, nil)
		}
	}
	slug := c.Query("slug") // empty: the package's
	if slug != "" {
		courses.CheckSlug(v, "slug", slug)
	}
	if err := paramErr(v); err != nil {
		return err // before reading a byte
	}
	size := int64(c.Request().Header.ContentLength())
	if size == -1 {
		return errLengthRequired
	}
	if size > s.cfg.ImportLimit {
		return &bodyLimitError{s.cfg.ImportLimit}
	}
	ctx, cancel := s.transferContext(c)
	defer cancel()
	tmp, err := os.CreateTemp("", "pathways-import-*.zip")
	if err != nil {
		return fmt.Errorf("import: spool: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	n, err := io.Copy(tmp, io.LimitReader(s.uploadBody(c), s.cfg.ImportLimit+1))
	switch {
	case err != nil:
		return fmt.Errorf("import: %w: %w", errIncompleteBody, err)
	case n > s.cfg.ImportLimit:
		return &bodyLimitError{s.cfg.ImportLimit}
	case size >= 0 && n != size:
		return errIncompleteBody
	}
	fsys, err := coursefile.OpenZip(tmp, n, coursefile.DefaultLimits)
	if err != nil {
		return err
	}
	p, err := coursefile.Read(fsys)
	if err != nil {
		return err
	}
	res, err := s.transfer.Import(ctx, actor(c), p, transfer.Options{ID: c.Query("id"), OrgID: c.Query("orgId"), Slug: slug})
	if errors.Is(err, courses.ErrSlugTaken) {
		return &slugTakenError{err: err, param: slug != ""}
	}
	if err != nil {
		return err
	}
	c.Location("/api/v1/courses/" + res.Course.ID)
	c.Set(fiber.HeaderETag, `W/"`+strconv.Itoa(res.Course.Revision)+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(createdStatus(res.Created)).JSON(toImportJSON(res))
}

// slugTakenError says where the slug a slug-taken problem names came
// from: the query parameter (param), or else the package's course.yaml.
type slugTakenError struct {
	err   error
	param bool
}

func (e *slugTakenError) Error() string { return e.err.Error() }
func (e *slugTakenError) Unwrap() error { return e.err }

// importJSON is the answer to an import: the course, the slug it took
// and what became of each media file, quiz and bank of the package.
type importJSON struct {
	Course  courseJSON       `json:"course"`
	Slug    string           `json:"slug"`
	Media   importMediaJSON  `json:"media"`
	Quizzes []importItemJSON `json:"quizzes"`
	Banks   []importItemJSON `json:"banks"`
}

type importMediaJSON struct {
	Created int              `json:"created"`
	Reused  int              `json:"reused"`
	Items   []importItemJSON `json:"items"`
}

// importItemJSON is one media file (path) or quiz or bank (key).
type importItemJSON struct {
	Path      string          `json:"path,omitempty"`
	Key       string          `json:"key,omitempty"`
	ID        string          `json:"id"`
	Status    transfer.Status `json:"status"`
	Published *bool           `json:"published,omitempty"`
}

func toImportJSON(r transfer.Result) importJSON {
	out := importJSON{Course: toCourseJSON(r.Course), Slug: r.Course.Slug,
		Media: importMediaJSON{Items: []importItemJSON{}}, Quizzes: []importItemJSON{}, Banks: []importItemJSON{}}
	for _, m := range r.Media {
		out.Media.Items = append(out.Media.Items, importItemJSON{Path: m.Key, ID: m.ID, Status: m.Status})
		if m.Status == transfer.Created {
			out.Media.Created++
		} else {
			out.Media.Reused++
		}
	}
	for _, q := range r.Quizzes {
		out.Quizzes = append(out.Quizzes, importItemJSON{Key: q.Key, ID: q.ID, Status: q.Status, Published: new(q.Published)})
	}
	for _, b := range r.Banks {
		out.Banks = append(out.Banks, importItemJSON{Key: b.Key, ID: b.ID, Status: b.Status})
	}
	return out
}

var errZipType = errors.New("request body is not application/zip")

// exportCourse sends a course (its draft, or ?version=n) as a zip
// package, with its quizzes (whole to their editors, as outlines to other
// authors of the course) and their banks.
func (s *Server) exportCourse(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	n := 0
	if q := c.Query("version"); q != "" {
		n = positiveInto(v, "version", q)
	}
	if err := paramErr(v); err != nil {
		return err
	}
	ctx, cancel := s.transferContext(c)
	p, err := s.transfer.Export(ctx, actor(c), id, n)
	if err != nil {
		cancel()
		return err
	}
	name := p.Course.Slug
	if n > 0 {
		name += "-v" + strconv.Itoa(n)
	}
	c.Set(fiber.HeaderContentType, mimeZip)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	log := s.log
	rid := requestID(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		if err := coursefile.WriteZip(w, p); err != nil {
			// The status is sent: a broken zip is all the client can
			// tell, and the log says why.
			log.Warn("export failed", slog.String("request_id", rid), slog.String("course", id), slog.Any("error", err))
		}
	})
	return nil
}
