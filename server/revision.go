package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/courses"
)

// Every conditional write (the edit or publication of a course, a bank or
// a quiz) follows one rule: it names the revision of the draft it was made
// on, in the body's "revision" or in If-Match with the draft's ETag, and
// it is refused if the draft has moved on. Authors work offline and on
// shared drafts; a write without a revision would silently overwrite a
// colleague's work, so there is no such write.

// draftETag is the ETag of a draft at a revision: weak, since the
// representation is rebuilt on every read and only the revision matters.
func draftETag(revision int) string { return `W/"` + strconv.Itoa(revision) + `"` }

// setDraftETag sends a draft's ETag and keeps caches from storing it.
func setDraftETag(c *fiber.Ctx, revision int) {
	c.Set(fiber.HeaderETag, draftETag(revision))
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// errRevisionMismatch is a write whose body and If-Match name different
// revisions: the draft cannot be at both, so one is stale.
var errRevisionMismatch = fmt.Errorf("body revision and If-Match disagree: %w", courses.ErrStale)

// revision reads the revision a write was made on: the body's (body) and
// If-Match's, which must agree when both are given. If-Match holds one
// revision, bare or as its ETag ("3", W/"3"); anything else (a list, "*",
// another tag) is a parameter problem. With neither, the write is refused
// with field "revision" required, listed with every problem the body's
// own check finds (in, if it is a checker), so the author learns all of
// them at once.
func revision(c *fiber.Ctx, body int, in any) (int, error) {
	header, given := 0, c.Request().Header.Peek(fiber.HeaderIfMatch) != nil
	if given {
		n, ok := revisionTag(c.Get(fiber.HeaderIfMatch))
		if !ok {
			return 0, paramErr((&pathways.ValidationError{}).Add(fiber.HeaderIfMatch, pathways.CodeInvalid, nil))
		}
		header = n
	}
	switch {
	case body > 0 && header > 0 && body != header:
		return 0, errRevisionMismatch
	case body > 0:
		return body, nil
	case header > 0:
		return header, nil
	}
	all := (&pathways.ValidationError{}).Add("revision", pathways.CodeRequired, nil)
	if ch, ok := in.(checker); ok {
		_ = all.Merge("", ch.check()) // a pure check: nothing but a ValidationError
	}
	return 0, all
}

// revisionTag reads a revision from If-Match: 3, "3" or W/"3".
func revisionTag(h string) (int, bool) {
	tag := strings.TrimPrefix(strings.TrimSpace(h), "W/")
	if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
		tag = tag[1 : len(tag)-1]
	}
	if tag == "" || strings.Trim(tag, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(tag)
	return n, err == nil && n > 0
}

// readOnly collects the read-only fields a body sent back: a client may
// PUT an object as it read it, so a field the server keeps is accepted
// and ignored when it holds the stored value, and refused (422 read_only)
// when it holds another, instead of being silently dropped as if the
// change had been made.
type readOnly struct{ v pathways.ValidationError }

// same checks a field whose value never changes, or changes only with
// the revision: the write is refused (409) if the revision moved, so a
// comparison with a read made before it is exact.
func (r *readOnly) same(field string, sent, stored any) {
	if sent == nil {
		return
	}
	a, errA := json.Marshal(sent)
	b, errB := json.Marshal(stored)
	if errA != nil || errB != nil || string(a) != string(b) {
		r.v.Add(field, pathways.CodeReadOnly, nil)
	}
}

// id checks a read-only string (an id), which the body leaves out as "".
func (r *readOnly) id(field, sent, stored string) {
	if sent != "" && sent != stored {
		r.v.Add(field, pathways.CodeReadOnly, nil)
	}
}

// time checks a read-only instant, compared as an instant: a client may
// send it back in another zone or precision than it read.
func (r *readOnly) time(field string, sent *time.Time, stored time.Time) {
	if sent != nil && !sent.Equal(stored) {
		r.v.Add(field, pathways.CodeReadOnly, nil)
	}
}

// published checks the number of the latest version, which a publication
// raises without changing the draft's revision: a number read before a
// later publication is as good as the current one; a higher one is not.
func (r *readOnly) published(sent *int, stored int) {
	if sent != nil && (*sent < 0 || *sent > stored) {
		r.v.Add("published", pathways.CodeReadOnly, nil)
	}
}

func (r *readOnly) err() error { return r.v.Err() }
