package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// TestMaxItemsAboveDomainLimits: the shape check's bound never speaks for
// a domain: no list or map limit is above it, so a list cut at maxItems+1
// items is still over its own limit.
func TestMaxItemsAboveDomainLimits(t *testing.T) {
	for name, limit := range map[string]int{
		"i18n.MaxMessages": i18n.MaxMessages, "i18n.MaxLocales": i18n.MaxLocales,
		"courses.MaxModules": courses.MaxModules, "courses.MaxLessons": courses.MaxLessons, "courses.MaxBlocks": courses.MaxBlocks,
		"assessments.MaxQuestions": assessments.MaxQuestions, "assessments.MaxPicks": assessments.MaxPicks,
		"assessments.MaxDrawn": assessments.MaxDrawn, "assessments.OptionsMax": assessments.OptionsMax,
		"assessments.BlanksMax": assessments.BlanksMax, "assessments.AcceptedMax": assessments.AcceptedMax,
		"assessments.LocalesMax": assessments.LocalesMax, "assessments.MaxTagsPerItem": assessments.MaxTagsPerItem,
		"assessments.ScalePointsMax": assessments.ScalePointsMax, "maxWanted": maxWanted,
	} {
		if limit > maxItems {
			t.Errorf("%s = %d, above maxItems = %d", name, limit, maxItems)
		}
	}
}

// TestShapeCutsLongLists: a list past maxItems is decoded with maxItems+1
// items, from a body that is still one JSON value.
func TestShapeCutsLongLists(t *testing.T) {
	type item struct {
		A []int          `json:"a"`
		M map[string]int `json:"m"`
	}
	var b strings.Builder
	b.WriteString(`{"a": [`)
	for i := range 3 * maxItems {
		if i > 0 {
			b.WriteString(" , ")
		}
		b.WriteString("7")
	}
	b.WriteString(` ] , "m": {`)
	for i := range 2 * maxItems {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%3) + string(rune('0'+i%10)) + `_` + strings.Repeat("y", i/30) + `":1`)
	}
	b.WriteString("}}")
	data := []byte(b.String())
	sh, err := checkShape(data, reflect.TypeFor[*item]())
	if err != nil || sh.problems.Count() != 0 || len(sh.cuts) != 2 || sh.cuts[0].path != "a" || sh.cuts[1].path != "m" {
		t.Fatalf("shape %+v, %v", sh, err)
	}
	var got item
	if err := json.Unmarshal(sh.body(data), &got); err != nil || len(got.A) != maxItems+1 || len(got.M) != maxItems+1 {
		t.Fatalf("decoded %d items and %d members: %v", len(got.A), len(got.M), err)
	}
}

// TestShapeDepth: raw values nest no deeper than encoding/json allows.
func TestShapeDepth(t *testing.T) {
	type body struct {
		Raw json.RawMessage `json:"raw"`
	}
	deep := `{"raw":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`
	if _, err := checkShape([]byte(deep), reflect.TypeFor[*body]()); err == nil {
		t.Fatal("a value nested too deep was accepted")
	}
}

// TestListLimitsNameLists: every entry of listLimits names a list or map
// field of its type, and no limit is above maxItems.
func TestListLimitsNameLists(t *testing.T) {
	for typ, limits := range listLimits {
		fields := fieldsOf(typ)
		for name, limit := range limits {
			ft, ok := fields[name]
			if !ok {
				t.Errorf("%v has no field %q", typ, name)
				continue
			}
			if k := ft.Kind(); k != reflect.Slice && k != reflect.Map {
				t.Errorf("%v.%s is a %v, not a list or map", typ, name, k)
			}
			if limit < 1 || limit > maxItems {
				t.Errorf("%v.%s: limit %d", typ, name, limit)
			}
		}
	}
}
