package coursefile

import (
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
)

// Build turns what an export gathered into a package: p's course blocks
// and its banks' questions name assets by ID, and media holds those
// assets; the package names each asset's file under media/ by its own
// cleaned name, made unique with a counter where two share one, and open
// gives each file's content. p's quizzes and banks keep their keys (an
// export uses their IDs). Build does not change p, and leaves out what a
// package does not carry: IDs, owners, revisions, times.
func Build(p Package, media map[string]assets.Asset, open func(assets.Asset) func() (io.ReadCloser, error)) *Package {
	c := p.Course.Clone() // the caller's course keeps its asset IDs
	paths := map[string]string{}
	taken := map[string]bool{}
	var files []File
	name := func(id string) string {
		if p, ok := paths[id]; ok {
			return p
		}
		a := media[id]
		base := assets.CleanName(a.Name)
		if base == "" {
			base = id
		}
		ext := path.Ext(base)
		p := "media/" + base
		for i := 2; taken[p]; i++ {
			p = "media/" + strings.TrimSuffix(base, ext) + "-" + strconv.Itoa(i) + ext
		}
		taken[p], paths[id] = true, p
		files = append(files, File{Path: p, Size: a.Size, Open: open(a)})
		return p
	}
	for i := range c.Modules {
		for j := range c.Modules[i].Lessons {
			for k := range c.Modules[i].Lessons[j].Blocks {
				b := &c.Modules[i].Lessons[j].Blocks[k]
				if b.Media != "" {
					b.Media = name(b.Media)
				}
				for _, m := range []map[string]string{b.MediaBy, b.Subtitles} {
					for loc, id := range m {
						m[loc] = name(id)
					}
				}
			}
		}
	}
	out := &Package{}
	for _, q := range p.Quizzes {
		qq := q.Quiz
		qq.Locales, qq.Picks, qq.Messages = slices.Clone(qq.Locales), slices.Clone(qq.Picks), qq.Messages.Clone()
		qq.ID, qq.OrgID, qq.Revision, qq.Published, qq.Archived = "", "", 0, 0, false
		qq.Created, qq.Updated = time.Time{}, time.Time{}
		q.Quiz = qq
		out.Quizzes = append(out.Quizzes, q)
	}
	for _, b := range p.Banks {
		bb := assessments.Bank{Name: b.Bank.Name, DefaultLocale: b.Bank.DefaultLocale, Locales: slices.Clone(b.Bank.Locales),
			Messages: b.Bank.Messages.Clone(), Questions: slices.Clone(b.Bank.Questions)}
		for i := range bb.Questions {
			EachMedia(&bb.Questions[i].Question, func(p *string) { *p = name(*p) })
		}
		out.Banks = append(out.Banks, Bank{Key: b.Key, Bank: bb})
	}
	// A package carries the course, not its life on this server.
	out.Course = courses.Course{
		Slug: c.Slug, Shared: c.Shared, Topic: c.Topic, Audiences: c.Audiences, Level: c.Level,
		DefaultLocale: c.DefaultLocale, Locales: c.Locales, Title: c.Title, Summary: c.Summary,
		Modules: c.Modules, Messages: c.Messages,
	}
	out.Media = files
	return out
}
