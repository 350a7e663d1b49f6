package assessments

import (
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Who may do what with banks, quizzes and attempts. The role and
// organisation predicates are accounts.Actor's; these are the rules about
// assessments themselves.

// mayAuthor says whether actor may read and edit a bank or quiz draft of
// organisation orgID: its trainers and admins, and global admins.
func mayAuthor(actor accounts.Actor, orgID string) bool { return actor.CanAuthorIn(orgID) }

// owner is the organisation new banks and quizzes of actor belong to (see
// accounts.Actor.ContentOwner); a global admin must name it.
func owner(actor accounts.Actor, orgID string) (string, error) {
	orgID, err := actor.ContentOwner(orgID)
	if err == nil && orgID == "" {
		err = pathways.Invalid("orgId", pathways.CodeRequired)
	}
	return orgID, err
}

// listOrg is the organisation an author lists: their own, or the one a
// global admin names.
func listOrg(actor accounts.Actor, orgID string) (string, error) {
	if orgID == "" {
		orgID = actor.OrgID
	}
	switch {
	case orgID == "":
		return "", pathways.Invalid("orgId", pathways.CodeRequired)
	case !mayAuthor(actor, orgID):
		return "", fmt.Errorf("list organisation %s: %w", orgID, pathways.ErrForbidden)
	}
	return orgID, nil
}

// mayTake says whether actor may take quiz q (as frozen in a version):
// members of its organisation, everyone for a shared quiz, global admins.
func mayTake(actor accounts.Actor, q Quiz) bool { return actor.CanSee(q.OrgID, q.Shared) }

// isOwn says whether a is actor's own attempt, which only they may answer
// and submit.
func isOwn(actor accounts.Actor, a Attempt) bool { return a.LearnerID == actor.UserID }

// mayFollow says whether actor may read another learner's attempt a,
// read-only and with everything shown: staff of the learner's organisation
// (educators, trainers, admins) and global admins, never the learner
// themselves (who reads their own attempt as a learner).
func mayFollow(actor accounts.Actor, a Attempt) bool {
	return actor.IsStaffOf(a.OrgID) && !isOwn(actor, a)
}

// mayReadStats says whether actor may read the item statistics of quiz q
// for the learners of orgID: staff of orgID, for a quiz those learners may
// take; global admins, any.
func mayReadStats(actor accounts.Actor, q Quiz, orgID string) error {
	switch {
	case !actor.IsStaffOf(orgID):
		return fmt.Errorf("quiz statistics: %w", pathways.ErrForbidden)
	case !actor.IsGlobalAdmin() && !mayTake(accounts.Actor{OrgID: orgID}, q):
		return fmt.Errorf("quiz %s: %w", q.ID, pathways.ErrNotFound)
	}
	return nil
}

// usableIn says whether a course of organisation orgID (shared with every
// organisation, or not) may show quiz q: it must be published, not
// archived, and takeable by every learner of the course — the
// organisation's own quiz for an unshared course, a shared quiz otherwise.
func usableIn(q Quiz, orgID string, shared bool) bool {
	return q.Published > 0 && !q.Archived && (q.Shared || !shared && q.OrgID == orgID)
}

// pretestOf says whether quiz pre may be posttest q's pretest: a pretest
// of q's own organisation, shared or not. Like the banks a quiz draws from
// and the media its questions show, it must be the organisation's own:
// another organisation's quiz is refused as an unknown one is, so the
// answer never tells whether it exists.
func pretestOf(q, pre Quiz) bool {
	return pre.OrgID == q.OrgID && pre.Kind == KindPretest && pre.ID != q.ID
}

// mayExportKeys says whether a course package that actor exports may
// carry quiz q whole: its settings, the banks it draws from and their
// answer keys. Only its authors may, as only they may read its banks;
// anyone else who may take it gets what a learner sees of it before
// starting (see ExportQuiz).
func mayExportKeys(actor accounts.Actor, q Quiz) bool { return mayAuthor(actor, q.OrgID) }

// mayFollowLearner says whether actor may read the results of learner
// learnerID of organisation orgID: staff of orgID and global admins, as
// for one attempt (mayFollow); the learner reads their own through
// Progress, as the feedback policy allows.
func mayFollowLearner(actor accounts.Actor, orgID, learnerID string) bool {
	return actor.IsStaffOf(orgID) && actor.UserID != learnerID
}
