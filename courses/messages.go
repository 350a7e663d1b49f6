package courses

import (
	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// A course's texts use the content-text machinery of i18n: messages per
// locale, the hash a translation keeps of its source, the checks and the
// translation status. This file ties it to the course's structure.

// Refs lists every message a course's structure names, in document order.
func (c Course) Refs() []i18n.Ref {
	var refs []i18n.Ref
	add := func(field, id string, link, md bool) {
		if id != "" {
			refs = append(refs, i18n.Ref{Field: field, ID: id, Link: link, Markdown: md})
		}
	}
	add("title", c.Title, false, false)
	add("summary", c.Summary, false, false)
	for i, m := range c.Modules {
		mp := pathways.Path("modules", i)
		add(mp+"/title", m.Title, false, false)
		add(mp+"/summary", m.Summary, false, false)
		for j, l := range m.Lessons {
			lp := pathways.Path(mp, "lessons", j)
			add(lp+"/title", l.Title, false, false)
			for k, b := range l.Blocks {
				bp := pathways.Path(lp, "blocks", k)
				for _, f := range messageFields {
					add(bp+"/"+f, b.messageField(f), f == "url" || f == "helpUrl", f == "text" && b.Kind == BlockText)
				}
			}
		}
	}
	return refs
}

// MessageIDs is the set of message IDs the structure names.
func (c Course) MessageIDs() map[string]bool {
	ids := map[string]bool{}
	for _, r := range c.Refs() {
		ids[r.ID] = true
	}
	return ids
}

// CheckMessages checks a course's texts against its structure (see
// i18n.CheckTexts). With strict set, a message the structure does not name
// is an error too (package imports); otherwise it is left alone (a draft
// may be mid-edit).
func CheckMessages(c Course, strict bool) error {
	return i18n.CheckTexts(c.DefaultLocale, c.Locales, c.Messages, c.Refs(), strict)
}

// TranslationStatus returns the status of each locale the course offers,
// in the order of Locales, for the messages the structure names.
func TranslationStatus(c Course) []i18n.LocaleStatus {
	return i18n.TranslationStatus(c.DefaultLocale, c.Locales, c.Messages, c.MessageIDs())
}

// CompleteLocales lists the locales whose every text is translated and
// current, in the order of Locales.
func CompleteLocales(c Course) []string { return i18n.CompleteLocales(TranslationStatus(c)) }

// stampHashes records, on every translation that has no hash, the hash of
// the current source text; see i18n.StampHashes.
func stampHashes(c *Course) { i18n.StampHashes(c.DefaultLocale, c.Messages) }

// prune drops the messages the structure no longer names, so a published
// version holds only what it shows.
func prune(c *Course) {
	named := c.MessageIDs()
	for _, msgs := range c.Messages {
		for id := range msgs {
			if !named[id] {
				delete(msgs, id)
			}
		}
	}
}
