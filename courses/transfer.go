package courses

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	pathpkg "path"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
)

// MediaFile is a media file of a course package: Path is how the
// package's structure names it ("media/x.png").
type MediaFile struct {
	Path string
	Size int64
	Open func() (io.ReadCloser, error)
}

// mediaNamespace derives the IDs of imported media from the course ID and
// the file's path, so importing the same package into the same course ID
// again (a retry, or seeding twice) finds the files it uploaded before.
var mediaNamespace = uuid.MustParse("6f1c1b2e-3c1d-4b43-9a43-6b1f4a3c2d10")

// Import stores a course read from a package: it uploads the media files
// into the organisation's library, points the blocks at them, and creates
// the draft as Create does (c.ID, if given, makes it idempotent). The
// blocks of c name media by their package paths. Either all of it is
// stored or, on any error, the files this call uploaded are removed again
// and nothing else is: an import is never partial.
func (s *Service) Import(ctx context.Context, actor accounts.Actor, c Course, files []MediaFile) (Course, bool, error) {
	var err error
	if c.OrgID, err = actor.ContentOwner(c.OrgID); err != nil {
		return Course{}, false, fmt.Errorf("import course: %w", err)
	}
	if err := s.checkOrg(ctx, c.OrgID); err != nil {
		return Course{}, false, err
	}
	if c.ID == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	}
	if prior, err := s.store.Course(ctx, c.ID); err == nil && prior.OrgID == c.OrgID && mayEdit(actor, prior) == nil {
		return prior, false, nil
	}
	if err := errors.Join(CheckStructure(c), CheckMessages(c, true)); err != nil {
		return Course{}, false, joinValidation(err)
	}
	c = c.Clone()
	locales, texts := mediaHints(c)
	ids := map[string]string{}
	var uploaded []string
	undo := func() {
		for _, id := range uploaded {
			if err := s.lib.Delete(context.WithoutCancel(ctx), actor, id); err != nil {
				s.log.WarnContext(ctx, "import: undo upload", slog.String("asset", id), slog.Any("error", err))
			}
		}
	}
	for _, f := range files {
		meta := assets.Meta{
			ID:    uuid.NewSHA1(mediaNamespace, []byte(c.ID+"/"+f.Path)).String(),
			OrgID: c.OrgID, Name: pathpkg.Base(f.Path), Locale: locales[f.Path],
		}
		meta.AltText, meta.Transcript = clip(texts[f.Path].alt, assets.AltTextMax), clip(texts[f.Path].transcript, assets.TranscriptMax)
		a, created, err := s.upload(ctx, actor, meta, f)
		if err != nil {
			undo()
			var ve *pathways.ValidationError
			if errors.As(err, &ve) {
				for i := range ve.Fields {
					ve.Fields[i].Field = f.Path
				}
			}
			return Course{}, false, fmt.Errorf("import %s: %s: %w", c.Slug, f.Path, err)
		}
		if created {
			uploaded = append(uploaded, a.ID)
		}
		ids[f.Path] = a.ID
	}
	if err := relink(&c, ids); err != nil {
		undo()
		return Course{}, false, err
	}
	out, created, err := s.Create(ctx, actor, c)
	if err != nil {
		undo()
		return Course{}, false, err
	}
	return out, created, nil
}

func (s *Service) upload(ctx context.Context, actor accounts.Actor, m assets.Meta, f MediaFile) (assets.Asset, bool, error) {
	r, err := f.Open()
	if err != nil {
		return assets.Asset{}, false, err
	}
	defer r.Close()
	return s.lib.Upload(ctx, actor, m, r, f.Size)
}

// mediaHints finds, for each media path, the language it is in (from
// mediaBy and subtitles) and the default-locale alt text or transcript
// of its block, which the library keeps with the file.
func mediaHints(c Course) (map[string]string, map[string]struct{ alt, transcript string }) {
	locales := map[string]string{}
	texts := map[string]struct{ alt, transcript string }{}
	src := c.Messages[c.DefaultLocale]
	for _, m := range c.Modules {
		for _, l := range m.Lessons {
			for _, b := range l.Blocks {
				hint := struct{ alt, transcript string }{src[b.Alt].Other, src[b.Transcript].Other}
				if b.Media != "" {
					texts[b.Media] = hint
				}
				for loc, p := range b.MediaBy {
					locales[p] = loc
					texts[p] = struct{ alt, transcript string }{c.Messages[loc][b.Alt].Other, c.Messages[loc][b.Transcript].Other}
				}
				for loc, p := range b.Subtitles {
					locales[p] = loc
				}
			}
		}
	}
	return locales, texts
}

// relink replaces the media paths of c's blocks by the asset IDs in ids.
func relink(c *Course, ids map[string]string) error {
	v := &pathways.ValidationError{}
	swap := func(field, p string) string {
		id, ok := ids[p]
		if !ok {
			v.Add(field, assets.CodeUnknownMedia, map[string]any{"Value": p})
		}
		return id
	}
	for i := range c.Modules {
		for j := range c.Modules[i].Lessons {
			for k := range c.Modules[i].Lessons[j].Blocks {
				b := &c.Modules[i].Lessons[j].Blocks[k]
				bp := pathways.Path("modules", i, "lessons", j, "blocks", k)
				if b.Media != "" {
					b.Media = swap(bp+"/media", b.Media)
				}
				for loc, p := range b.MediaBy {
					b.MediaBy[loc] = swap(bp+"/mediaBy/"+loc, p)
				}
				for loc, p := range b.Subtitles {
					b.Subtitles[loc] = swap(bp+"/subtitles/"+loc, p)
				}
			}
		}
	}
	return v.Err()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// Export returns what a package of a course holds: the draft (version 0)
// or a published version, and the media it shows, by asset ID, for its
// authors. The blocks name media by asset ID; the package writer names
// the files.
func (s *Service) Export(ctx context.Context, actor accounts.Actor, id string, version int) (Course, map[string]assets.Asset, error) {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return Course{}, nil, err
	}
	if version > 0 {
		v, err := s.store.Version(ctx, id, version)
		if err != nil {
			return Course{}, nil, fmt.Errorf("export %s@%d: %w", id, version, err)
		}
		c = v.Course
	} else if version < 0 {
		return Course{}, nil, pathways.Invalid("version", pathways.CodeInvalid)
	}
	media := map[string]assets.Asset{}
	for _, r := range mediaRefs(c) {
		a, err := s.lib.Asset(ctx, actor, r.id)
		if err != nil {
			return Course{}, nil, fmt.Errorf("export %s: media %s: %w", id, r.id, err)
		}
		media[a.ID] = a
	}
	return c.Clone(), media, nil
}

// OpenMedia reads a media file an export listed.
func (s *Service) OpenMedia(ctx context.Context, a assets.Asset) (io.ReadCloser, error) {
	return s.lib.Open(ctx, a, 0, -1)
}
