package courses

import (
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Who may do what with a course. The role and organisation predicates are
// accounts.Actor's; these are the rules about courses themselves.

// mayEdit says whether actor may edit, publish, translate, preview,
// archive, duplicate, export or delete course c: its organisation's
// authors (trainers, admins) and global admins. Someone who may see a
// published version but not edit it gets ErrForbidden; anyone else
// ErrNotFound.
func mayEdit(actor accounts.Actor, c Course) error {
	switch {
	case actor.CanAuthorIn(c.OrgID):
		return nil
	case actor.CanSee(c.OrgID, c.Shared && c.Published > 0):
		return fmt.Errorf("course %s: %w", c.ID, pathways.ErrForbidden)
	}
	return fmt.Errorf("course %s: %w", c.ID, pathways.ErrNotFound)
}

// mayRead says whether actor may read a published version whose course is
// c (as it was frozen): members of the owning organisation, everyone when
// that version is shared, global admins.
func mayRead(actor accounts.Actor, c Course) bool { return actor.CanSee(c.OrgID, c.Shared) }

// mayList says whether actor may find a catalogue entry: only published,
// unarchived courses, of their organisation or of another (a shared version
// is checked once the version is read, with mayRead).
func mayList(actor accounts.Actor, e Entry) bool {
	return e.Published > 0 && !e.Archived && actor.CanSee(e.OrgID, true)
}

// mayListAuthored says whether an entry is in actor's authors' listing:
// the courses, drafts included, they may edit.
func mayListAuthored(actor accounts.Actor, e Entry) bool { return actor.CanAuthorIn(e.OrgID) }
