package coursefile

import (
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
)

// Build turns a course whose blocks name assets by ID into a package
// whose blocks name files under media/: each asset under its own cleaned
// name, made unique with a counter where two share one.
func Build(c courses.Course, media map[string]assets.Asset, open func(assets.Asset) func() (io.ReadCloser, error)) *Package {
	c = c.Clone() // the caller's course keeps its asset IDs
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
	// A package carries the course, not its life on this server.
	c = courses.Course{
		Slug: c.Slug, Shared: c.Shared, Topic: c.Topic, Audiences: c.Audiences, Level: c.Level,
		DefaultLocale: c.DefaultLocale, Locales: c.Locales, Title: c.Title, Summary: c.Summary,
		Modules: c.Modules, Messages: c.Messages,
	}
	return &Package{Course: c, Media: files}
}
