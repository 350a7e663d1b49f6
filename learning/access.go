package learning

import (
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Who may do what. The role and organisation predicates are
// accounts.Actor's; these are the rules about learning itself.

// mayAssign says whether a may assign courses to the learners of orgID and
// read their progress: its educators and admins, and global admins.
// Another organisation is ErrNotFound, a weaker role ErrForbidden.
func mayAssign(a accounts.Actor, orgID string) error {
	switch {
	case a.ManagesUsersIn(orgID):
		return nil
	case !a.MemberOf(orgID):
		return fmt.Errorf("organisation %s: %w", orgID, pathways.ErrNotFound)
	}
	return fmt.Errorf("assign in %s: %w", orgID, pathways.ErrForbidden)
}

// mayFollow says whether a may read learner u's progress: the learner,
// and the educators and admins of u's organisation. Reflections are read
// by staff only when shared (see staffView).
func mayFollow(a accounts.Actor, u accounts.User) bool {
	return a.UserID == u.ID || a.ManagesUsersIn(u.OrgID)
}

// isLearner says whether a learns: only learners have progress, sync and
// self-enrolment.
func isLearner(a accounts.Actor) error {
	if a.Role != accounts.RoleLearner || a.OrgID == "" {
		return fmt.Errorf("learning: %w", pathways.ErrForbidden)
	}
	return nil
}
