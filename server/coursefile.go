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
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
)

const mimeZip = "application/zip"

// importCourse takes a course package as a zip body, spools it to a
// temporary file (a zip is read from its end), checks all of it and
// imports it as a new draft. A package with problems gets one 422 listing
// each with its file, line and field; nothing is stored.
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
	p.Course.ID, p.Course.OrgID = c.Query("id"), c.Query("orgId")
	files := make([]courses.MediaFile, len(p.Media))
	for i, f := range p.Media {
		files[i] = courses.MediaFile{Path: f.Path, Size: f.Size, Open: f.Open}
	}
	course, created, err := s.courses.Import(ctx, actor(c), p.Course, files)
	if err != nil {
		return err
	}
	c.Location("/api/v1/courses/" + course.ID)
	return sendCourse(c, createdStatus(created), course)
}

var errZipType = errors.New("request body is not application/zip")

// exportCourse sends a course (its draft, or ?version=n) as a zip package.
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
	course, media, err := s.courses.Export(ctx, actor(c), id, n)
	if err != nil {
		cancel()
		return err
	}
	p := coursefile.Build(course, media, func(a assets.Asset) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return s.courses.OpenMedia(ctx, a) }
	})
	name := course.Slug
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
