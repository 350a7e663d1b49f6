package i18n_test

import (
	"testing"

	"github.com/pathways-lms/pathways/i18n"
)

func TestHashMatchesGoi18nMerge(t *testing.T) {
	// The hash goi18n merge writes for the source "Hello" (its own tests).
	if h := i18n.Hash(i18n.Message{Other: "Hello"}); h != "sha1-f7ff9e8b7bb2e09b70935a5d785e0cc5d9d0abf0" {
		t.Errorf("Hash = %s", h)
	}
}
