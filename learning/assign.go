package learning

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
)

// NewAssignment is the input to Assign. ID is optional: a client that may
// retry supplies its own (a UUID).
type NewAssignment struct {
	ID       string
	CourseID string
	Modules  []string
	GroupID  string
	Learners []string
	Start    time.Time
	Due      time.Time
}

// CheckNewAssignment checks the fields of a new assignment that need no reads.
func CheckNewAssignment(in NewAssignment) error {
	v := &pathways.ValidationError{}
	if in.ID != "" && !accounts.ValidID(in.ID) {
		v.Add("id", pathways.CodeInvalid, nil)
	}
	if !accounts.ValidID(in.CourseID) {
		v.Add("courseId", pathways.CodeRequired, nil)
	}
	switch {
	case in.GroupID == "" && len(in.Learners) == 0:
		v.Add("groupId", pathways.CodeRequired, nil)
	case in.GroupID != "" && len(in.Learners) > 0:
		v.Add("learners", pathways.CodeNotAllowed, map[string]any{"Value": "groupId"})
	case in.GroupID != "" && !accounts.ValidID(in.GroupID):
		v.Add("groupId", pathways.CodeInvalid, nil)
	}
	if pathways.CheckCount(v, "learners", len(in.Learners), MaxAssignmentLearners) {
		for i, id := range in.Learners {
			if !accounts.ValidID(id) {
				v.Add(fmt.Sprintf("learners/%d", i), pathways.CodeInvalid, nil)
			}
		}
	}
	if pathways.CheckCount(v, "modules", len(in.Modules), MaxAssignmentModules) {
		for i, m := range in.Modules {
			if strings.TrimSpace(m) == "" {
				v.Add(fmt.Sprintf("modules/%d", i), pathways.CodeInvalid, nil)
			}
		}
	}
	if !in.Start.IsZero() && !in.Due.IsZero() && in.Due.Before(in.Start) {
		v.Add("due", CodeDueBeforeStart, nil)
	}
	return v.Err()
}

// Assign gives a course (or some of its modules) to a group or to single
// learners of a's organisation (a global admin names the organisation
// through the group or the learners). The course must be published and
// readable by the organisation's learners, the modules its own, the
// learners learners of the organisation. With a client id it is
// idempotent: a retry reports created false.
func (s *Service) Assign(ctx context.Context, a accounts.Actor, in NewAssignment) (Assignment, bool, error) {
	if err := CheckNewAssignment(in); err != nil {
		return Assignment{}, false, err
	}
	if in.ID != "" {
		if e, err := s.store.Assignment(ctx, in.ID); err == nil {
			if mayAssign(a, e.OrgID) != nil {
				return Assignment{}, false, fmt.Errorf("assignment %s: %w", in.ID, pathways.ErrConflict)
			}
			return e, false, nil
		} else if !errors.Is(err, pathways.ErrNotFound) {
			return Assignment{}, false, err
		}
	}
	orgID, learners, err := s.audience(ctx, a, in)
	if err != nil {
		return Assignment{}, false, err
	}
	rel, err := s.release(ctx, orgID, in.CourseID, 0)
	if errors.Is(err, pathways.ErrNotFound) {
		return Assignment{}, false, pathways.Invalid("courseId", pathways.CodeInvalid)
	}
	if err != nil {
		return Assignment{}, false, err
	}
	rule := ruleOf(rel.Course)
	v := &pathways.ValidationError{}
	for i, m := range in.Modules {
		if _, ok := rule.Modules[m]; !ok {
			v.Add(fmt.Sprintf("modules/%d", i), courses.CodeUnknownModule, nil)
		}
	}
	if err := v.Err(); err != nil {
		return Assignment{}, false, err
	}
	as := Assignment{
		ID: in.ID, OrgID: orgID, CourseID: in.CourseID, Modules: dedupe(in.Modules), GroupID: in.GroupID,
		Learners: learners, Start: in.Start.UTC(), Due: in.Due.UTC(), CreatedBy: a.UserID, Created: s.now(),
	}
	if as.ID == "" {
		as.ID = newID()
	}
	if err := s.store.CreateAssignment(ctx, as); err != nil {
		return Assignment{}, false, fmt.Errorf("assign %s: %w", in.CourseID, err)
	}
	return as, true, nil
}

// audience checks who an assignment is for and returns their
// organisation: the group's, or the learners' (all in one organisation,
// all learners). Another organisation's group or learner is ErrNotFound.
func (s *Service) audience(ctx context.Context, a accounts.Actor, in NewAssignment) (string, []string, error) {
	if in.GroupID != "" {
		g, err := s.acc.Group(ctx, a, in.GroupID)
		if err != nil {
			return "", nil, err
		}
		return g.OrgID, nil, nil
	}
	learners := dedupe(in.Learners)
	orgID := ""
	for _, id := range learners {
		u, err := s.acc.User(ctx, a, id)
		if err != nil {
			return "", nil, err
		}
		if orgID == "" {
			orgID = u.OrgID
		}
		if u.OrgID != orgID {
			return "", nil, fmt.Errorf("learner %s: %w", id, pathways.ErrNotFound)
		}
		if u.Role != accounts.RoleLearner {
			return "", nil, pathways.Invalid("learners", accounts.CodeNotLearner)
		}
	}
	if err := mayAssign(a, orgID); err != nil {
		return "", nil, err
	}
	return orgID, learners, nil
}

// Assignment returns an assignment its organisation's educators may see.
func (s *Service) Assignment(ctx context.Context, a accounts.Actor, id string) (Assignment, error) {
	if !accounts.ValidID(id) {
		return Assignment{}, fmt.Errorf("assignment %q: %w", id, pathways.ErrNotFound)
	}
	as, err := s.store.Assignment(ctx, id)
	if err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", id, err)
	}
	if err := mayAssign(a, as.OrgID); err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", id, pathways.ErrNotFound)
	}
	return as, nil
}

// Unassign deletes an assignment: the learners keep their progress.
func (s *Service) Unassign(ctx context.Context, a accounts.Actor, id string) error {
	as, err := s.Assignment(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAssignment(ctx, as); err != nil {
		return fmt.Errorf("delete assignment %s: %w", id, err)
	}
	return nil
}

// Assignments lists page p of an organisation's assignments (a's own if
// orgID is empty), in creation order.
func (s *Service) Assignments(ctx context.Context, a accounts.Actor, orgID string, p pathways.Page) ([]Assignment, error) {
	if orgID == "" {
		orgID = a.OrgID
	}
	if err := mayAssign(a, orgID); err != nil {
		return nil, err
	}
	return s.store.Assignments(ctx, orgID, p.Normalise(AssignmentPages))
}

// GroupAssignments returns the assignments of a group, for its
// organisation's educators.
func (s *Service) GroupAssignments(ctx context.Context, a accounts.Actor, groupID string) ([]Assignment, error) {
	g, err := s.acc.Group(ctx, a, groupID)
	if err != nil {
		return nil, err
	}
	if err := mayAssign(a, g.OrgID); err != nil {
		return nil, err
	}
	return s.listed(ctx, groupID, g.OrgID)
}

// listed reads the assignments listed under a group or learner; ones
// deleted meanwhile, or of another organisation, are left out.
func (s *Service) listed(ctx context.Context, ownerID, orgID string) ([]Assignment, error) {
	ids, err := s.store.AssignedTo(ctx, ownerID)
	if err != nil {
		return nil, fmt.Errorf("assignments of %s: %w", ownerID, err)
	}
	out := make([]Assignment, 0, len(ids))
	for _, id := range ids {
		as, err := s.store.Assignment(ctx, id)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("assignment %s: %w", id, err)
		}
		if as.OrgID == orgID {
			out = append(out, as)
		}
	}
	return out, nil
}

// assignedTo returns every assignment of learner u: their own and their
// groups' (a learner who joined a group later has its assignments), in
// the order made. Reads by id only: the learner's groups, each group's
// list, the learner's list, each assignment.
func (s *Service) assignedTo(ctx context.Context, u accounts.User) ([]Assignment, error) {
	groups, err := s.acc.LearnerGroups(ctx, accounts.Actor{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}, u.ID)
	if err != nil {
		return nil, err
	}
	out, err := s.listed(ctx, u.ID, u.OrgID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		more, err := s.listed(ctx, g.ID, u.OrgID)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	slices.SortStableFunc(out, func(a, b Assignment) int { return a.Created.Compare(b.Created) })
	return slices.CompactFunc(out, func(a, b Assignment) bool { return a.ID == b.ID }), nil
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
