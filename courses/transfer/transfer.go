// Package transfer moves a course between a server and a course package
// (courses/coursefile): export gathers the course, the quizzes its quiz
// blocks show, the question banks they draw from and every media file
// these show; import stores them all in an organisation, or nothing.
//
// It is the one place that knows all three domains a package spans
// (courses, assessments, the media library); each keeps its own rules,
// and this package only calls them in order and undoes what it made when
// a later step fails.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	pathpkg "path"
	"slices"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
)

// Service imports and exports course packages.
type Service struct {
	courses *courses.Service
	assess  *assessments.Service
	lib     *assets.Service
	log     *slog.Logger
}

// New returns a transfer service over the three domains' services.
func New(crs *courses.Service, assess *assessments.Service, lib *assets.Service, log *slog.Logger) *Service {
	return &Service{courses: crs, assess: assess, lib: lib, log: log}
}

// Status says what an import did with one media file, quiz or bank of
// the package.
type Status string

// Statuses of the items of an import.
const (
	// Created: stored anew in the organisation.
	Created Status = "created"
	// Reused: the organisation had it already, and the course uses that:
	// a media file of the same content (SHA-256), a quiz or bank of the
	// same ID (the package came from this organisation).
	Reused Status = "reused"
	// Linked: an outline (a quiz exported without its keys) of a quiz
	// the course may show: its quiz blocks keep pointing at that quiz.
	Linked Status = "linked"
	// Unresolved: an outline of a quiz the course may not show (not on
	// this server, not published, or not shared with the organisation):
	// the quiz blocks keep its ID, and the course cannot be published
	// until an author points them at a quiz it may show.
	Unresolved Status = "unresolved"
)

// Item is one media file (Key its package path), quiz or bank (Key its
// folder's key) of an import and what became of it: ID is the asset,
// quiz or bank the course now uses.
type Item struct {
	Key       string
	ID        string
	Status    Status
	Published bool // a quiz: the import published it (Created), or it is published (Reused, Linked)
}

// Result is what an import did.
type Result struct {
	Course courses.Course
	// Created is false for a retry with the ID of a course imported
	// before: nothing was stored, and the lists are empty.
	Created bool
	Media   []Item
	Quizzes []Item
	Banks   []Item
}

// Options of an import.
type Options struct {
	// ID, if set, is the new course's ID and makes the import idempotent.
	ID string
	// OrgID names the organisation to import into: needed from global
	// admins only.
	OrgID string
	// Slug, if set, replaces the package's slug, so that a package can be
	// imported again beside the course it came from.
	Slug string
}

// namespace derives the IDs of what an import stores from the course ID
// and the item's path or key, so that an import retried with the same
// course ID after a crash finds what it stored before.
var namespace = uuid.MustParse("6f1c1b2e-3c1d-4b43-9a43-6b1f4a3c2d10")

func derived(courseID, kind, key string) string {
	if kind == "media" {
		// As imports before quizzes travelled derived them.
		return uuid.NewSHA1(namespace, []byte(courseID+"/"+key)).String()
	}
	return uuid.NewSHA1(namespace, []byte(courseID+"/"+kind+"/"+key)).String()
}

// Import stores a package in an organisation as a new course draft, with
// its media, banks and quizzes: all of it, or (on any error) nothing, since
// what it stored is removed again. See docs/COURSE-FORMAT.md for what it
// does with each quiz and bank, and Status for what the Result reports.
//
// It returns a ValidationError for a slug (Options.Slug, or the
// package's) that is not valid, an ID that is not a UUID, a media file the
// library refuses (its field the file's path) or a quiz or bank the
// assessments rules refuse (fields prefixed "quizzes/<key>/" or
// "banks/<key>/"); ErrSlugTaken if the organisation has a course with the
// slug; and the errors of the services it calls.
func (s *Service) Import(ctx context.Context, actor accounts.Actor, p *coursefile.Package, o Options) (Result, error) {
	org, err := s.courses.Owner(ctx, actor, o.OrgID)
	if err != nil {
		return Result{}, err
	}
	c := p.Course.Clone()
	c.OrgID = org
	if o.Slug != "" {
		c.Slug = o.Slug
	}
	v := &pathways.ValidationError{}
	courses.CheckSlug(v, "slug", c.Slug)
	c.ID = o.ID
	if c.ID == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	} else if !accounts.ValidID(c.ID) {
		v.Add("id", pathways.CodeID, nil)
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	if prior, err := s.courses.Draft(ctx, actor, c.ID); err == nil && prior.OrgID == org {
		return Result{Course: prior}, nil // a retry
	}
	if err := s.courses.SlugFree(ctx, org, c.Slug); err != nil {
		return Result{}, err
	}
	im := &importer{s: s, actor: actor, org: org, course: c, pkg: p}
	if err := im.run(ctx); err != nil {
		im.undo(ctx)
		return Result{}, err
	}
	return im.result, nil
}

// importer is one import in progress: what it stored, to undo it.
type importer struct {
	s      *Service
	actor  accounts.Actor
	org    string
	course courses.Course
	pkg    *coursefile.Package
	result Result

	media   map[string]string // package path → asset ID
	banks   map[string]string // key → bank ID
	quizzes map[string]string // key → quiz ID

	createdMedia, createdBanks, createdQuizzes []string
}

func (im *importer) run(ctx context.Context) error {
	if err := im.storeMedia(ctx); err != nil {
		return err
	}
	if err := im.storeQuizzes(ctx); err != nil {
		return err
	}
	c := im.course
	if err := relink(&c, im.media); err != nil {
		return err
	}
	for i := range c.Modules {
		for j := range c.Modules[i].Lessons {
			for k := range c.Modules[i].Lessons[j].Blocks {
				if b := &c.Modules[i].Lessons[j].Blocks[k]; b.Kind == courses.BlockQuiz {
					if id, ok := im.quizzes[b.Quiz]; ok {
						b.Quiz = id
					}
				}
			}
		}
	}
	out, created, err := im.s.courses.Create(ctx, im.actor, c)
	if err != nil {
		return err
	}
	if !created {
		// Stored meanwhile by a concurrent retry with the same ID. What
		// this call stored has the IDs derived from that ID, so the
		// winner's course uses it: keep it all, and answer as a retry.
		im.createdMedia, im.createdBanks, im.createdQuizzes = nil, nil, nil
		im.result = Result{Course: out}
		return nil
	}
	im.result.Course, im.result.Created = out, true
	return nil
}

// undo removes what the import stored: the quizzes with their versions
// and media uses, the banks, then the media files.
func (im *importer) undo(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if err := im.s.assess.Discard(ctx, im.actor, im.createdQuizzes, im.createdBanks); err != nil {
		im.s.log.WarnContext(ctx, "import: undo quizzes", slog.Any("error", err))
	}
	for _, id := range im.createdMedia {
		if err := im.s.lib.Delete(ctx, im.actor, id); err != nil {
			im.s.log.WarnContext(ctx, "import: undo upload", slog.String("asset", id), slog.Any("error", err))
		}
	}
}

// storeMedia puts the package's media files into the library, reusing
// those whose content it holds already.
func (im *importer) storeMedia(ctx context.Context) error {
	locales, texts := mediaHints(im.course)
	im.media = map[string]string{}
	for _, f := range im.pkg.Media {
		m := assets.Meta{ID: derived(im.course.ID, "media", f.Path), OrgID: im.org, Name: pathpkg.Base(f.Path), Locale: locales[f.Path]}
		m.AltText, m.Transcript = clip(texts[f.Path].alt, assets.AltTextMax), clip(texts[f.Path].transcript, assets.TranscriptMax)
		a, created, err := im.s.lib.UploadOnce(ctx, im.actor, m, f.Size, f.Open)
		if err != nil {
			return fmt.Errorf("import %s: %s: %w", im.course.Slug, f.Path, atFile(err, f.Path))
		}
		st := Reused
		if created {
			st = Created
			im.createdMedia = append(im.createdMedia, a.ID)
		}
		im.media[f.Path] = a.ID
		im.result.Media = append(im.result.Media, Item{Key: f.Path, ID: a.ID, Status: st})
	}
	return nil
}

// atFile names path as the field of every problem of a validation error.
func atFile(err error, path string) error {
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		for i := range ve.Fields {
			ve.Fields[i].Field = path
		}
	}
	return err
}

// under prefixes the fields of a validation error with where they are in
// the package.
func under(err error, prefix string) error {
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		for i := range ve.Fields {
			ve.Fields[i].Field = prefix + ve.Fields[i].Field
		}
	}
	return err
}

// storeQuizzes settles each quiz of the package: an outline is linked to
// the quiz it outlines, or left unresolved; a quiz the organisation has
// (same ID) is reused; any other is created, with the banks it draws from
// (reused the same way), and published if it was published where it came
// from. Pretests are created before the posttests that name them.
func (im *importer) storeQuizzes(ctx context.Context) error {
	im.banks, im.quizzes = map[string]string{}, map[string]string{}
	banks := map[string]coursefile.Bank{}
	for _, b := range im.pkg.Banks {
		banks[b.Key] = b
	}
	var create []coursefile.Quiz
	for _, q := range im.pkg.Quizzes {
		switch {
		case !q.Keys:
			st := Linked
			if err := im.s.assess.QuizUsable(ctx, im.org, im.course.Shared, q.Key); errors.Is(err, pathways.ErrNotFound) {
				st = Unresolved
			} else if err != nil {
				return err
			}
			im.quizzes[q.Key] = q.Key
			im.result.Quizzes = append(im.result.Quizzes, Item{Key: q.Key, ID: q.Key, Status: st, Published: st == Linked})
		case im.ownQuiz(ctx, q.Key):
			im.quizzes[q.Key] = q.Key
			own, err := im.s.assess.Quiz(ctx, im.actor, q.Key)
			if err != nil {
				return err
			}
			im.result.Quizzes = append(im.result.Quizzes, Item{Key: q.Key, ID: q.Key, Status: Reused, Published: own.Published > 0})
		default:
			im.quizzes[q.Key] = derived(im.course.ID, "quiz", q.Key)
			create = append(create, q)
		}
	}
	// Pretests first: a posttest's pretest must exist when it is created.
	slices.SortStableFunc(create, func(a, b coursefile.Quiz) int {
		_, aWaits := im.quizzes[a.Quiz.Pretest]
		_, bWaits := im.quizzes[b.Quiz.Pretest]
		switch {
		case aWaits == bWaits:
			return 0
		case aWaits:
			return 1
		}
		return -1
	})
	for _, q := range create {
		if err := im.createQuiz(ctx, q, banks); err != nil {
			return err
		}
	}
	return nil
}

// ownQuiz reports whether key is the ID of a quiz of the organisation.
func (im *importer) ownQuiz(ctx context.Context, key string) bool {
	if !accounts.ValidID(key) {
		return false
	}
	q, err := im.s.assess.Quiz(ctx, im.actor, key)
	return err == nil && q.OrgID == im.org
}

func (im *importer) createQuiz(ctx context.Context, pq coursefile.Quiz, banks map[string]coursefile.Bank) error {
	q := pq.Quiz
	q.ID, q.OrgID = im.quizzes[pq.Key], im.org
	q.Picks = slices.Clone(q.Picks)
	for i, p := range q.Picks {
		id, err := im.bank(ctx, banks[p.Bank])
		if err != nil {
			return err
		}
		q.Picks[i].Bank = id
	}
	if id, ok := im.quizzes[q.Pretest]; ok {
		q.Pretest = id
	}
	prefix := "quizzes/" + pathways.EscapeToken(pq.Key) + "/"
	stored, created, err := im.s.assess.CreateQuiz(ctx, im.actor, q)
	if err != nil {
		return fmt.Errorf("import quiz %s: %w", pq.Key, under(err, prefix))
	}
	if created {
		im.createdQuizzes = append(im.createdQuizzes, stored.ID)
	}
	item := Item{Key: pq.Key, ID: stored.ID, Status: Created}
	if pq.Published {
		if _, _, err := im.s.assess.PublishQuiz(ctx, im.actor, stored.ID, stored.Revision); err != nil {
			return fmt.Errorf("import quiz %s: publish: %w", pq.Key, under(err, prefix))
		}
		item.Published = true
	}
	im.result.Quizzes = append(im.result.Quizzes, item)
	return nil
}

// bank returns the ID of a package's bank in the organisation, storing
// it (once) unless the organisation has it.
func (im *importer) bank(ctx context.Context, pb coursefile.Bank) (string, error) {
	if id, ok := im.banks[pb.Key]; ok {
		return id, nil
	}
	if accounts.ValidID(pb.Key) {
		if b, err := im.s.assess.Bank(ctx, im.actor, pb.Key); err == nil && b.OrgID == im.org {
			im.banks[pb.Key] = b.ID
			im.result.Banks = append(im.result.Banks, Item{Key: pb.Key, ID: b.ID, Status: Reused})
			return b.ID, nil
		}
	}
	b := pb.Bank
	b.ID, b.OrgID = derived(im.course.ID, "bank", pb.Key), im.org
	b.Questions = slices.Clone(b.Questions)
	prefix := "banks/" + pathways.EscapeToken(pb.Key) + "/"
	missing := &pathways.ValidationError{}
	for i := range b.Questions {
		coursefile.EachMedia(&b.Questions[i].Question, func(p *string) {
			id, ok := im.media[*p]
			if !ok {
				missing.Add(fmt.Sprintf("%squestions/%d", prefix, i), assets.CodeUnknownMedia, map[string]any{"Value": *p})
			}
			*p = id
		})
	}
	if err := missing.Err(); err != nil {
		return "", err
	}
	stored, created, err := im.s.assess.CreateBank(ctx, im.actor, b)
	if err != nil {
		return "", fmt.Errorf("import bank %s: %w", pb.Key, under(err, prefix))
	}
	if created {
		im.createdBanks = append(im.createdBanks, stored.ID)
	}
	im.banks[pb.Key] = stored.ID
	im.result.Banks = append(im.result.Banks, Item{Key: pb.Key, ID: stored.ID, Status: Created})
	return stored.ID, nil
}

// mediaHints finds, for each media path, the language it is in (from
// mediaBy and subtitles) and the default-locale alt text or transcript
// of its block, which the library keeps with the file.
func mediaHints(c courses.Course) (map[string]string, map[string]struct{ alt, transcript string }) {
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
func relink(c *courses.Course, ids map[string]string) error {
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

// Export returns a course (its draft, or published version n > 0) as a
// package, for its authors: the course, the quizzes its quiz blocks show
// and the pretests of those, the banks they draw from, and every media
// file all of these show, opened with ctx when the package is written.
//
// A quiz travels whole, answer keys included, only to those who may edit
// it; to an author of the course who may not (another organisation's
// shared quiz), as an outline; a quiz the exporter may not see at all
// does not travel, and its blocks keep its ID. See
// assessments.Service.ExportQuiz.
func (s *Service) Export(ctx context.Context, actor accounts.Actor, id string, n int) (*coursefile.Package, error) {
	c, media, err := s.courses.Export(ctx, actor, id, n)
	if err != nil {
		return nil, err
	}
	p := coursefile.Package{Course: c}
	var queue []string
	for _, m := range c.Modules {
		for _, l := range m.Lessons {
			for _, b := range l.Blocks {
				if b.Kind == courses.BlockQuiz {
					queue = append(queue, b.Quiz)
				}
			}
		}
	}
	seenQuiz, seenBank := map[string]bool{}, map[string]bool{}
	ve := &pathways.ValidationError{}
	for len(queue) > 0 {
		qid := queue[0]
		queue = queue[1:]
		if seenQuiz[qid] {
			continue
		}
		seenQuiz[qid] = true
		ex, err := s.assess.ExportQuiz(ctx, actor, qid)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue // not the exporter's to carry: the block keeps its ID
		case err != nil:
			if mErr := ve.Merge("quizzes/"+pathways.EscapeToken(qid)+"/", err); mErr != nil {
				return nil, fmt.Errorf("export %s: quiz %s: %w", id, qid, mErr)
			}
			continue
		}
		p.Quizzes = append(p.Quizzes, coursefile.Quiz{Key: qid, Quiz: ex.Quiz, Keys: ex.Keys, Published: ex.Published})
		if ex.Quiz.Pretest != "" {
			queue = append(queue, ex.Quiz.Pretest)
		}
		for _, b := range ex.Banks {
			if seenBank[b.ID] {
				continue
			}
			seenBank[b.ID] = true
			p.Banks = append(p.Banks, coursefile.Bank{Key: b.ID, Bank: b})
			for _, q := range b.Questions {
				var err error
				coursefile.EachMedia(&q.Question, func(aid *string) {
					if _, ok := media[*aid]; ok || err != nil {
						return
					}
					var a assets.Asset
					if a, err = s.lib.Asset(ctx, actor, *aid); err == nil {
						media[a.ID] = a
					}
				})
				if err != nil {
					return nil, fmt.Errorf("export %s: bank %s: %w", id, b.ID, err)
				}
			}
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return coursefile.Build(p, media, func(a assets.Asset) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return s.lib.Open(ctx, a, 0, -1) }
	}), nil
}
