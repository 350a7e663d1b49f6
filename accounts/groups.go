package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pathways-lms/pathways"
)

// Group is a set of learners of one organisation that educators teach
// together: a class, a cohort. A learner may be in several groups.
type Group struct {
	ID     string
	OrgID  string
	Name   string
	Locale string // the UI language the group is taught in (BCP 47)
	Note   string // optional, for the educators
	// Revision counts the group's edits from 1; an edit names the revision
	// it was made on (ErrStale otherwise).
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupMember is one learner of a group and when they were added.
type GroupMember struct {
	UserID  string
	AddedAt time.Time
}

// Bounds of groups: they keep a group's member list and a learner's list
// of groups documents of bounded size, read by id.
const (
	MaxGroupMembers  = 1000
	MaxLearnerGroups = 50
	GroupNameMax     = 120
	GroupNoteMax     = 1000
)

// GroupPages are the page sizes of an organisation's groups and of a
// group's members.
var GroupPages = pathways.PageLimits{Default: 50, Max: 200}

// Field error codes of groups.
const (
	CodeGroupFull     = "group_full"
	CodeTooManyGroups = "too_many_groups"
	CodeNotLearner    = "not_learner"
)

var (
	// ErrGroupFull: the group has MaxGroupMembers members already.
	ErrGroupFull = fmt.Errorf("%w: group is full", pathways.ErrConflict)
	// ErrTooManyGroups: the learner is in MaxLearnerGroups groups already.
	ErrTooManyGroups = fmt.Errorf("%w: learner is in too many groups", pathways.ErrConflict)
	// ErrStale: the group changed since the revision the edit was made on.
	ErrStale = fmt.Errorf("%w: the group changed since you loaded it", pathways.ErrConflict)
)

// GroupStore is the part of Store that keeps groups. A group's member
// list and a learner's list of groups are each one document read by id;
// the store keeps them consistent by compare-and-swap writes (see its
// doc for the order and what a crash leaves).
type GroupStore interface {
	// CreateGroup stores a new group (ErrConflict if its id is taken).
	CreateGroup(ctx context.Context, g Group) error
	Group(ctx context.Context, id string) (Group, error)
	// Groups returns page p of an organisation's groups in id (creation)
	// order, from an index.
	Groups(ctx context.Context, orgID string, p pathways.Page) ([]Group, error)
	// UpdateGroup reads group id, lets change modify it and stores it by
	// compare-and-swap, retried; an error from change aborts.
	UpdateGroup(ctx context.Context, id string, change func(*Group) error) (Group, error)
	// GroupMembers returns every member of the group, in the order added
	// (at most MaxGroupMembers); a group nobody was added to has none.
	GroupMembers(ctx context.Context, groupID string) ([]GroupMember, error)
	// LearnerGroups returns the ids of the groups the learner is in.
	LearnerGroups(ctx context.Context, userID string) ([]string, error)
	// AddToGroup makes the learner a member (added false if they were),
	// ErrGroupFull or ErrTooManyGroups at the bounds.
	AddToGroup(ctx context.Context, groupID, userID string, now time.Time) (added bool, err error)
	// RemoveFromGroup removes the learner (removed false if not a member).
	RemoveFromGroup(ctx context.Context, groupID, userID string) (removed bool, err error)
	// MoveToGroup moves the learner from one group to another: in to
	// afterwards and not in from, whether or not they were in from.
	MoveToGroup(ctx context.Context, from, to, userID string, now time.Time) error
}

// NewGroup is the input to CreateGroup. ID is optional: a client that may
// retry supplies its own (a UUID).
type NewGroup struct {
	ID     string
	Name   string
	Locale string
	Note   string
}

// GroupUpdate changes some of a group's fields; nil fields stay.
type GroupUpdate struct {
	Name   *string
	Locale *string
	Note   *string
}

// CheckNewGroup checks a new group's fields; it returns a
// *pathways.ValidationError listing every problem.
func CheckNewGroup(in NewGroup) error {
	v := &pathways.ValidationError{}
	checkClientID(v, in.ID)
	checkText(v, "name", in.Name, true, GroupNameMax)
	checkGroupLocale(v, in.Locale)
	checkNote(v, "note", in.Note, GroupNoteMax)
	return v.Err()
}

// CheckGroupUpdate checks the fields a group edit sets.
func CheckGroupUpdate(in GroupUpdate) error {
	v := &pathways.ValidationError{}
	if in.Name != nil {
		checkText(v, "name", *in.Name, true, GroupNameMax)
	}
	if in.Locale != nil {
		checkGroupLocale(v, *in.Locale)
	}
	if in.Note != nil {
		checkNote(v, "note", *in.Note, GroupNoteMax)
	}
	return v.Err()
}

func checkGroupLocale(v *pathways.ValidationError, tag string) {
	if strings.TrimSpace(tag) == "" {
		v.Add("locale", pathways.CodeRequired, nil)
		return
	}
	checkLocale(v, "locale", tag)
}

// checkNote checks optional free text: as checkText, but line breaks and
// tabs are allowed.
func checkNote(v *pathways.ValidationError, field, s string, max int) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	bad := func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) || isBidiOverride(r) }
	switch {
	case n > max:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": max})
	case !utf8.ValidString(s) || strings.ContainsFunc(strings.ReplaceAll(s, "\r\n", "\n"), bad):
		v.Add(field, pathways.CodeInvalid, nil)
	}
}

// isBidiOverride: the explicit directional embeddings, overrides and
// isolates and their terminators (the marks LRM, RLM and ALM are allowed:
// they only nudge neutral characters, as Arabic and Persian text needs).
func isBidiOverride(r rune) bool { return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 }

// CreateGroup creates a group in a's organisation (a global admin names
// the organisation). With a client-supplied in.ID it is idempotent: a
// retry with the same name reports created false; another group under
// that id is ErrConflict.
func (s *Service) CreateGroup(ctx context.Context, a Actor, orgID string, in NewGroup) (Group, bool, error) {
	if orgID == "" {
		orgID = a.OrgID
	}
	if err := mayManageGroups(a, orgID); err != nil {
		return Group{}, false, fmt.Errorf("create group in %q: %w", orgID, err)
	}
	in.Name, in.Locale, in.Note = strings.TrimSpace(in.Name), strings.TrimSpace(in.Locale), strings.TrimSpace(in.Note)
	if err := CheckNewGroup(in); err != nil {
		return Group{}, false, err
	}
	if _, err := s.store.Organisation(ctx, orgID); err != nil {
		return Group{}, false, fmt.Errorf("create group in %s: %w", orgID, err)
	}
	same := func(e Group) bool { return e.OrgID == orgID && e.Name == in.Name }
	if in.ID != "" {
		if e, err := s.store.Group(ctx, in.ID); err == nil {
			return replay(e, same(e))
		} else if !errors.Is(err, pathways.ErrNotFound) {
			return Group{}, false, fmt.Errorf("create group %s: %w", in.ID, err)
		}
	}
	now := s.now()
	g := Group{ID: or(in.ID, newID()), OrgID: orgID, Name: in.Name, Locale: in.Locale, Note: in.Note,
		Revision: 1, CreatedAt: now, UpdatedAt: now}
	err := s.store.CreateGroup(ctx, g)
	if errors.Is(err, pathways.ErrConflict) {
		if e, rerr := s.store.Group(ctx, g.ID); rerr == nil {
			return replay(e, same(e))
		}
	}
	if err != nil {
		return Group{}, false, fmt.Errorf("create group %q: %w", in.Name, err)
	}
	return g, true, nil
}

// Group returns a group its organisation's staff may see; ErrNotFound for
// anyone else's, ErrForbidden for a learner of its organisation.
func (s *Service) Group(ctx context.Context, a Actor, id string) (Group, error) {
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return Group{}, fmt.Errorf("group %s: %w", id, err)
	}
	if err := mayManageGroups(a, g.OrgID); err != nil {
		return Group{}, fmt.Errorf("group %s: %w", id, err)
	}
	return g, nil
}

// Groups lists page p of an organisation's groups (a's own if orgID is
// empty), in creation order.
func (s *Service) Groups(ctx context.Context, a Actor, orgID string, p pathways.Page) ([]Group, error) {
	if orgID == "" {
		orgID = a.OrgID
	}
	if err := mayManageGroups(a, orgID); err != nil {
		return nil, fmt.Errorf("groups of %q: %w", orgID, err)
	}
	gs, err := s.store.Groups(ctx, orgID, p.Normalise(GroupPages))
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", orgID, err)
	}
	return gs, nil
}

// UpdateGroup changes a group made on revision rev: ErrStale if it moved
// on since.
func (s *Service) UpdateGroup(ctx context.Context, a Actor, id string, rev int, in GroupUpdate) (Group, error) {
	checked := CheckGroupUpdate(in)
	g, err := s.store.UpdateGroup(ctx, id, func(g *Group) error {
		if err := mayManageGroups(a, g.OrgID); err != nil {
			return err
		}
		if checked != nil {
			return checked
		}
		if g.Revision != rev {
			return fmt.Errorf("group at revision %d, edit made on %d: %w", g.Revision, rev, ErrStale)
		}
		if in.Name != nil {
			g.Name = strings.TrimSpace(*in.Name)
		}
		if in.Locale != nil {
			g.Locale = strings.TrimSpace(*in.Locale)
		}
		if in.Note != nil {
			g.Note = strings.TrimSpace(*in.Note)
		}
		g.Revision++
		g.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return Group{}, fmt.Errorf("update group %s: %w", id, err)
	}
	return g, nil
}

// GroupMembers returns page p of a group's members in the order added,
// and how many it has: one read of its member list.
func (s *Service) GroupMembers(ctx context.Context, a Actor, id string, p pathways.Page) ([]GroupMember, int, error) {
	if _, err := s.Group(ctx, a, id); err != nil {
		return nil, 0, err
	}
	ms, err := s.store.GroupMembers(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("members of group %s: %w", id, err)
	}
	return pathways.Window(ms, p.Normalise(GroupPages)), len(ms), nil
}

// LearnerGroups returns the groups a learner is in, for the staff of the
// learner's organisation and the learner themselves. Groups that no longer
// exist are left out.
func (s *Service) LearnerGroups(ctx context.Context, a Actor, userID string) ([]Group, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	if !mayView(a, u) {
		return nil, fmt.Errorf("groups of %s: %w", userID, pathways.ErrNotFound)
	}
	ids, err := s.store.LearnerGroups(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	out := []Group{}
	for _, id := range ids {
		g, err := s.store.Group(ctx, id)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("groups of %s: %w", userID, err)
		}
		out = append(out, g)
	}
	return out, nil
}

// AddToGroup makes a learner of the group's organisation a member; it is
// idempotent (added false if they were). A user of another organisation
// is ErrNotFound, one who is not a learner a validation error on userId,
// as are the bounds.
func (s *Service) AddToGroup(ctx context.Context, a Actor, groupID, userID string) (bool, error) {
	g, err := s.Group(ctx, a, groupID)
	if err != nil {
		return false, err
	}
	if err := s.checkMember(ctx, g, userID); err != nil {
		return false, err
	}
	added, err := s.store.AddToGroup(ctx, groupID, userID, s.now())
	if err != nil {
		return false, boundErr(fmt.Errorf("add %s to group %s: %w", userID, groupID, err))
	}
	return added, nil
}

// RemoveFromGroup removes a learner from a group; it is idempotent.
func (s *Service) RemoveFromGroup(ctx context.Context, a Actor, groupID, userID string) (bool, error) {
	if _, err := s.Group(ctx, a, groupID); err != nil {
		return false, err
	}
	removed, err := s.store.RemoveFromGroup(ctx, groupID, userID)
	if err != nil {
		return false, fmt.Errorf("remove %s from group %s: %w", userID, groupID, err)
	}
	return removed, nil
}

// MoveToGroup moves a learner from group from to group to, both of a's
// organisation; it is idempotent.
func (s *Service) MoveToGroup(ctx context.Context, a Actor, from, to, userID string) error {
	src, err := s.Group(ctx, a, from)
	if err != nil {
		return err
	}
	dst, err := s.Group(ctx, a, to)
	if err != nil {
		return err
	}
	if src.OrgID != dst.OrgID {
		return fmt.Errorf("move to group %s: %w", to, pathways.ErrNotFound)
	}
	if err := s.checkMember(ctx, dst, userID); err != nil {
		return err
	}
	if from == to {
		_, err := s.AddToGroup(ctx, a, to, userID)
		return err
	}
	if err := s.store.MoveToGroup(ctx, from, to, userID, s.now()); err != nil {
		return boundErr(fmt.Errorf("move %s from group %s to %s: %w", userID, from, to, err))
	}
	return nil
}

// checkMember checks that user id may be a member of g: a learner of its
// organisation (another organisation's user is ErrNotFound).
func (s *Service) checkMember(ctx context.Context, g Group, id string) error {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return fmt.Errorf("member %s: %w", id, err)
	}
	if u.OrgID != g.OrgID {
		return fmt.Errorf("member %s: %w", id, pathways.ErrNotFound)
	}
	if u.Role != RoleLearner {
		return pathways.Invalid("userId", CodeNotLearner)
	}
	return nil
}

// boundErr turns the stores' bound errors into field errors on userId.
func boundErr(err error) error {
	switch {
	case errors.Is(err, ErrGroupFull):
		return pathways.Invalid("userId", CodeGroupFull)
	case errors.Is(err, ErrTooManyGroups):
		return pathways.Invalid("userId", CodeTooManyGroups)
	}
	return err
}
