package assets

import (
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Who may do what with the media library. The role and organisation
// predicates are accounts.Actor's; these are the rules about assets.

// MayEdit reports whether actor may change or delete asset a (and see
// everything the library records of it): its organisation's authors and
// global admins.
func MayEdit(actor accounts.Actor, a Asset) bool { return actor.CanAuthorIn(a.OrgID) }

// mayRead reports whether actor may read a: its authors may; anyone else
// only if a published course or quiz they may see shows it.
func mayRead(actor accounts.Actor, a Asset) bool {
	if MayEdit(actor, a) {
		return true
	}
	for _, u := range a.Uses {
		if actor.CanSee(u.OrgID, u.OrgID == "") {
			return true
		}
	}
	return false
}

// mayOpenLibrary says whether actor may list and upload to the library of
// orgID: another organisation's is ErrNotFound, their own with too weak a
// role ErrForbidden.
func mayOpenLibrary(actor accounts.Actor, orgID string) error {
	switch {
	case actor.CanAuthorIn(orgID):
		return nil
	case actor.MemberOf(orgID):
		return fmt.Errorf("media library of %s: %w", orgID, pathways.ErrForbidden)
	}
	return fmt.Errorf("media library of %s: %w", orgID, pathways.ErrNotFound)
}

// uploadOrg returns the organisation an upload by actor goes to: their
// own; a global admin must name one.
func uploadOrg(actor accounts.Actor, m *Meta) (string, error) {
	if !actor.IsAuthor() {
		return "", fmt.Errorf("upload: %w", pathways.ErrForbidden)
	}
	if err := checkMeta(m); err != nil {
		return "", err
	}
	org, err := actor.ContentOwner(m.OrgID)
	if err == nil && org == "" {
		err = pathways.Invalid("orgId", pathways.CodeRequired)
	}
	return org, err
}
