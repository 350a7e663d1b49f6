package accounts

import (
	"fmt"

	"github.com/pathways-lms/pathways"
)

// Access rules. The predicates on Actor are the role and organisation
// rules every domain uses; each domain keeps the rules about its own
// objects (who may read this attempt, take this quiz) in its own access.go,
// built from these. Objects of another organisation answer ErrNotFound,
// never ErrForbidden, so their ids are not confirmed; a role too weak for an
// action inside one's own organisation is ErrForbidden.

// IsGlobalAdmin reports whether a is an admin of the whole installation.
func (a Actor) IsGlobalAdmin() bool { return a.Role == RoleAdmin && a.OrgID == "" }

// MemberOf reports whether a belongs to organisation orgID.
func (a Actor) MemberOf(orgID string) bool { return orgID != "" && a.OrgID == orgID }

// IsStaffOf reports whether a works for orgID's learners: its educators,
// trainers and admins, and global admins.
func (a Actor) IsStaffOf(orgID string) bool {
	return a.IsGlobalAdmin() || a.MemberOf(orgID) && a.Role != RoleLearner
}

// IsAuthor reports whether a writes content at all — courses, questions,
// media — in their organisation (trainers and admins) or anywhere (global
// admins), so a caller can refuse before reading a large upload.
func (a Actor) IsAuthor() bool {
	return a.IsGlobalAdmin() || a.Role == RoleTrainer || a.Role == RoleAdmin
}

// CanAuthorIn reports whether a may write the content of organisation
// orgID: its trainers and admins, and global admins.
func (a Actor) CanAuthorIn(orgID string) bool {
	return a.IsGlobalAdmin() || a.MemberOf(orgID) && a.IsAuthor()
}

// CanSee reports whether a may see content of organisation orgID: its
// members, global admins, and everyone if the content is shared with every
// organisation.
func (a Actor) CanSee(orgID string, shared bool) bool {
	return shared || a.IsGlobalAdmin() || a.MemberOf(orgID)
}

// ManagesUsersIn reports whether a may see and manage the users of orgID:
// its admins and educators (educators only learners; see mayManage), and
// global admins.
func (a Actor) ManagesUsersIn(orgID string) bool {
	return a.IsGlobalAdmin() || a.MemberOf(orgID) && (a.Role == RoleAdmin || a.Role == RoleEducator)
}

// ContentOwner decides which organisation new content a creates (a course,
// a bank, a quiz, an upload) belongs to: a's own, or the one a global admin
// names (possibly none: the caller checks). Someone who does not author is
// ErrForbidden; naming another organisation is ErrNotFound.
func (a Actor) ContentOwner(orgID string) (string, error) {
	switch {
	case a.IsGlobalAdmin():
		return orgID, nil
	case !a.IsAuthor():
		return "", fmt.Errorf("create content: %w", pathways.ErrForbidden)
	case orgID != "" && orgID != a.OrgID:
		return "", fmt.Errorf("content of organisation %q: %w", orgID, pathways.ErrNotFound)
	}
	return a.OrgID, nil
}

// mayManage says whether a may create or change a user of role in orgID:
// global admins anyone; organisation admins anyone in their organisation;
// educators learners in their organisation. Another organisation is
// ErrNotFound, an insufficient role ErrForbidden.
func mayManage(a Actor, orgID string, role Role) error {
	switch {
	case a.IsGlobalAdmin():
		return nil
	case !a.MemberOf(orgID):
		return pathways.ErrNotFound
	case a.Role == RoleAdmin, a.Role == RoleEducator && role == RoleLearner:
		return nil
	}
	return pathways.ErrForbidden
}

// mayView says whether a may see user u: themselves, global admins, and
// admins and educators of u's organisation.
func mayView(a Actor, u User) bool {
	return a.UserID == u.ID || a.ManagesUsersIn(u.OrgID)
}

// mayList says whether a may list the members of orgID: ErrNotFound for
// another organisation, ErrForbidden for a member who manages no one.
func mayList(a Actor, orgID string) error {
	switch {
	case a.ManagesUsersIn(orgID):
		return nil
	case !a.MemberOf(orgID):
		return pathways.ErrNotFound
	}
	return pathways.ErrForbidden
}

// maySeeOrganisation says whether a may see organisation id: its members
// and global admins.
func maySeeOrganisation(a Actor, id string) bool { return a.IsGlobalAdmin() || a.MemberOf(id) }

// mayManageGroups says whether a may see and manage the groups of orgID:
// its admins and educators, and global admins. Another organisation is
// ErrNotFound, a weaker role in orgID ErrForbidden.
func mayManageGroups(a Actor, orgID string) error { return mayList(a, orgID) }
