package i18n_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

func problems(err error) (list []string, omitted int) {
	var ve *pathways.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			list = append(list, f.Field+":"+f.Code)
		}
		omitted = ve.Omitted
	}
	return list, omitted
}

// TestCheckTextsCountsBeforeItems: too many locales or messages are one
// problem; their items are not looked at.
func TestCheckTextsCountsBeforeItems(t *testing.T) {
	locales := i18n.Messages{}
	for i := range 10_000 {
		locales[fmt.Sprint("x", i)] = map[string]i18n.Message{"a": {}}
	}
	if got, _ := problems(i18n.CheckTexts("en", []string{"en"}, locales, nil, false)); !slices.Equal(got, []string{"messages:too_many"}) {
		t.Errorf("10,000 locales: %v", got)
	}
	msgs := map[string]i18n.Message{}
	for i := range i18n.MaxMessages + 1 {
		msgs[fmt.Sprint("m", i)] = i18n.Message{} // each without its "other" text
	}
	if got, _ := problems(i18n.CheckTexts("en", []string{"en"}, i18n.Messages{"en": msgs}, nil, false)); !slices.Equal(got, []string{"messages/en:too_many"}) {
		t.Errorf("%d messages: %v", len(msgs), got)
	}
	var v pathways.ValidationError
	i18n.CheckLocales(&v, "en", slices.Repeat([]string{"xx-invalid"}, 10_000))
	if got, _ := problems(v.Err()); !slices.Equal(got, []string{"locales:too_many"}) {
		t.Errorf("10,000 locales offered: %v", got)
	}
}

// TestCheckTextsStopsWhenFull: within the limits, many broken messages
// fill the list, the rest is counted and the check stops.
func TestCheckTextsStopsWhenFull(t *testing.T) {
	msgs := map[string]i18n.Message{}
	for i := range i18n.MaxMessages {
		msgs[fmt.Sprint("m", i)] = i18n.Message{}
	}
	got, omitted := problems(i18n.CheckTexts("en", []string{"en"}, i18n.Messages{"en": msgs}, nil, false))
	if len(got) != pathways.MaxFieldErrors || omitted == 0 || omitted > 10 {
		t.Errorf("%d listed, %d omitted", len(got), omitted)
	}
}
