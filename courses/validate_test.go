package courses

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pathways-lms/pathways"
)

// problemsOf returns the field errors of err, a validation error, and how
// many it left out.
func problemsOf(t *testing.T, err error) ([]string, int) {
	t.Helper()
	ve, ok := err.(*pathways.ValidationError)
	if !ok {
		t.Fatalf("error %v (%T), want a validation error", err, err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out, ve.Omitted
}

// TestCheckStructureCountsBeforeItems: a list over its limit is one
// problem and its items are not looked at, at every level (issue 11, item
// 7: 340,000 empty items got a problem each).
func TestCheckStructureCountsBeforeItems(t *testing.T) {
	many := 10 * MaxBlocks * MaxModules
	tests := []struct {
		name string
		edit func(c *Course)
		want string
	}{
		{"modules", func(c *Course) { c.Modules = make([]Module, many) }, "modules:too_many"},
		{"lessons", func(c *Course) { c.Modules[0].Lessons = make([]Lesson, many) }, "modules/0/lessons:too_many"},
		{"blocks", func(c *Course) { c.Modules[1].Lessons[0].Blocks = make([]Block, many) }, "modules/1/lessons/0/blocks:too_many"},
		{"locales", func(c *Course) { c.Locales = slices.Repeat([]string{""}, many) }, "locales:too_many"},
		{"audiences", func(c *Course) { c.Audiences = make([]Audience, many) }, "audiences:too_many"},
		{"requires", func(c *Course) { c.Modules[1].Requires = slices.Repeat([]string{"x"}, many) }, "modules/1/requires:too_many"},
		{"mediaBy", func(c *Course) {
			b := &c.Modules[0].Lessons[0].Blocks[1]
			b.MediaBy = map[string]string{}
			for i := range many {
				b.MediaBy[fmt.Sprint("l/", i)] = ""
			}
		}, "modules/0/lessons/0/blocks/1/mediaBy:too_many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample()
			tt.edit(&c)
			got, omitted := problemsOf(t, CheckStructure(c))
			if !slices.Equal(got, []string{tt.want}) || omitted != 0 {
				t.Fatalf("problems %v (+%d), want only %s", got, omitted, tt.want)
			}
		})
	}
}

// TestCheckStructureStopsWhenFull: within their limits, items with many
// problems each fill the list, the rest is counted (at least one) and the
// check stops.
func TestCheckStructureStopsWhenFull(t *testing.T) {
	c := sample()
	for i := range c.Modules {
		c.Modules[i].Lessons = make([]Lesson, MaxLessons) // each: id, title, minutes, blocks
	}
	got, omitted := problemsOf(t, CheckStructure(c))
	if len(got) != pathways.MaxFieldErrors || omitted == 0 || omitted > 10 {
		t.Fatalf("%d problems listed, %d omitted: want %d and a few counted before it stopped", len(got), omitted, pathways.MaxFieldErrors)
	}
}
