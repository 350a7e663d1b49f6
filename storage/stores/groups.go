package stores

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// The collections of groups: the group, its member list (under the
// group's id) and each learner's list of groups (under the learner's id).
// Both lists are bounded documents read by id.
//
// The two lists are written one after the other, each by
// compare-and-swap, in an order that keeps one rule at every step, even
// after a crash between them: a learner on a group's member list has the
// group on their own list. The learner's list is written first on the
// way in (add, the target of a move) and last on the way out (remove, the
// source of a move), so it is a superset of the truth; the member list is
// the truth. What a crash leaves is a group on a learner's list whose
// member list lacks them: the next add, remove or move of that learner
// and group repairs it, and until then the learner's list shows one group
// too many (and, after a crashed move, may hold MaxLearnerGroups+1). So
// does an add to a group that filled up between its check and its write.
//
// An add and a remove of one learner and group at once (on any
// instances) could otherwise end with the learner a member and the group
// off their list: the add found the group on the list, the remove then
// took the learner off the member list, the add put them back, and the
// remove took the group off the list. So each ends by looking again: an
// add puts the group back on the learner's list after its member write
// (one read when it is there), and a remove reads the member list after
// taking the group off the learner's and puts it back if the learner is
// a member. Whichever writes the learner's list last, the other's look
// comes after it.
const (
	colGroups        = "groups"
	colGroupMembers  = "group_members"
	colLearnerGroups = "learner_groups"
)

// groupsSchema is the collections of groups; org_id orders an
// organisation's groups by id: the listing, paged.
var groupsSchema = docdb.Schema{
	{Name: colGroups, Indexes: []docdb.Index{{Name: "org_id", Fields: []string{"org_id"}}}},
	{Name: colGroupMembers},
	{Name: colLearnerGroups},
}

type groupDoc struct {
	OrgID     string `json:"org_id"`
	Name      string `json:"name"`
	Locale    string `json:"locale"`
	Note      string `json:"note,omitempty"`
	Revision  int    `json:"revision"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

func toGroupDoc(g accounts.Group) groupDoc {
	return groupDoc{OrgID: g.OrgID, Name: g.Name, Locale: g.Locale, Note: g.Note, Revision: g.Revision,
		CreatedAt: unixMS(g.CreatedAt), UpdatedAt: unixMS(g.UpdatedAt)}
}

func (d groupDoc) toDomain(id string) accounts.Group {
	return accounts.Group{ID: id, OrgID: d.OrgID, Name: d.Name, Locale: d.Locale, Note: d.Note, Revision: d.Revision,
		CreatedAt: fromMS(d.CreatedAt), UpdatedAt: fromMS(d.UpdatedAt)}
}

// membersDoc is a group's member list, in the order added.
type membersDoc struct {
	Members list[memberDoc] `json:"members"`
}

type memberDoc struct {
	UserID  string `json:"u"`
	AddedAt int64  `json:"at"`
}

// learnerGroupsDoc is the ids of the groups a learner is in, in the order
// joined.
type learnerGroupsDoc struct {
	Groups list[string] `json:"groups"`
}

func (d membersDoc) index(userID string) int {
	return slices.IndexFunc(d.Members, func(m memberDoc) bool { return m.UserID == userID })
}

// CreateGroup inserts g; a taken id is ErrConflict.
func (s *AccountsStore) CreateGroup(ctx context.Context, g accounts.Group) error {
	if err := s.e.Insert(ctx, colGroups, g.ID, toGroupDoc(g)); err != nil {
		return fmt.Errorf("insert group %s: %w", g.ID, err)
	}
	return nil
}

// Group reads one group by id.
func (s *AccountsStore) Group(ctx context.Context, id string) (accounts.Group, error) {
	var d groupDoc
	if _, err := s.e.Get(ctx, colGroups, id, &d); err != nil {
		return accounts.Group{}, fmt.Errorf("find group %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// Groups returns page p of an organisation's groups in id order from the
// org_id index.
func (s *AccountsStore) Groups(ctx context.Context, orgID string, p pathways.Page) ([]accounts.Group, error) {
	out := []accounts.Group{}
	q := docdb.Query{Index: "org_id", Eq: []any{orgID}, Offset: p.Offset, Limit: p.Limit}
	err := s.e.List(ctx, colGroups, q, func(doc docdb.Doc) error {
		var d groupDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.toDomain(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", orgID, err)
	}
	return out, nil
}

// UpdateGroup applies change to a fresh read of the group and replaces it
// by revision, again on a lost race.
func (s *AccountsStore) UpdateGroup(ctx context.Context, id string, change func(*accounts.Group) error) (accounts.Group, error) {
	d, _, err := docdb.Update(ctx, s.e, colGroups, id, nil, func(d *groupDoc) error {
		g := d.toDomain(id)
		if err := change(&g); err != nil {
			return err
		}
		g.OrgID = d.OrgID // a group never moves to another organisation
		*d = toGroupDoc(g)
		return nil
	})
	if err != nil {
		return accounts.Group{}, fmt.Errorf("update group %s: %w", id, err)
	}
	return d.toDomain(id), nil
}

// GroupMembers reads the group's member list by id.
func (s *AccountsStore) GroupMembers(ctx context.Context, groupID string) ([]accounts.GroupMember, error) {
	var d membersDoc
	_, err := s.e.Get(ctx, colGroupMembers, groupID, &d)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	out := make([]accounts.GroupMember, len(d.Members))
	for i, m := range d.Members {
		out[i] = accounts.GroupMember{UserID: m.UserID, AddedAt: fromMS(m.AddedAt)}
	}
	return out, nil
}

// LearnerGroups reads the learner's list of groups by id. It may name a
// group whose add crashed half-way (see the collections' comment).
func (s *AccountsStore) LearnerGroups(ctx context.Context, userID string) ([]string, error) {
	var d learnerGroupsDoc
	_, err := s.e.Get(ctx, colLearnerGroups, userID, &d)
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	return append([]string{}, d.Groups...), nil
}

// AddToGroup puts the group on the learner's list, then the learner on
// the group's (each a compare-and-swap, retried). A full group is
// refused before anything is written; one that filled up between that
// check and the learner's write leaves the group on the learner's list
// (ErrGroupFull all the same), which the next call for them repairs. A
// learner already on both lists changes nothing (added false); one on
// their own list only (a crashed add) is repaired.
func (s *AccountsStore) AddToGroup(ctx context.Context, groupID, userID string, now time.Time) (bool, error) {
	if err := s.roomFor(ctx, groupID, userID); err != nil {
		return false, fmt.Errorf("add %s to group %s: %w", userID, groupID, err)
	}
	if err := s.joinList(ctx, userID, groupID, ""); err != nil {
		return false, fmt.Errorf("add %s to group %s: %w", userID, groupID, err)
	}
	added, err := s.addMember(ctx, groupID, userID, now)
	if err == nil {
		err = s.relist(ctx, userID, groupID)
	}
	if err != nil {
		return false, fmt.Errorf("add %s to group %s: %w", userID, groupID, err)
	}
	return added, nil
}

// roomFor returns ErrGroupFull if the group is full and userID not a
// member.
func (s *AccountsStore) roomFor(ctx context.Context, groupID, userID string) error {
	var d membersDoc
	_, err := s.e.Get(ctx, colGroupMembers, groupID, &d)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		return nil
	case err != nil:
		return err
	case len(d.Members) >= accounts.MaxGroupMembers && d.index(userID) < 0:
		return accounts.ErrGroupFull
	}
	return nil
}

// RemoveFromGroup takes the learner off the group's list, then the group
// off the learner's (see the collections' comment).
func (s *AccountsStore) RemoveFromGroup(ctx context.Context, groupID, userID string) (bool, error) {
	removed, err := s.removeMember(ctx, groupID, userID)
	if err != nil {
		return false, fmt.Errorf("remove %s from group %s: %w", userID, groupID, err)
	}
	if err := s.leaveList(ctx, userID, groupID); err != nil {
		return false, fmt.Errorf("remove %s from group %s: %w", userID, groupID, err)
	}
	// Look again: an add of the same learner may have come between.
	var d membersDoc
	_, err = s.e.Get(ctx, colGroupMembers, groupID, &d)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
	case err != nil:
		return false, fmt.Errorf("remove %s from group %s: %w", userID, groupID, err)
	case d.index(userID) >= 0:
		if err := s.relist(ctx, userID, groupID); err != nil {
			return false, fmt.Errorf("remove %s from group %s: %w", userID, groupID, err)
		}
	}
	return removed, nil
}

// MoveToGroup puts to on the learner's list (where from's place frees one
// if the learner is at the bound), then the learner on to's member list,
// then removes them from from as RemoveFromGroup does. A crash leaves from
// or to on the learner's list without the member list to match: a
// superset, repaired by the next call.
func (s *AccountsStore) MoveToGroup(ctx context.Context, from, to, userID string, now time.Time) error {
	if err := s.roomFor(ctx, to, userID); err != nil {
		return fmt.Errorf("move %s to group %s: %w", userID, to, err)
	}
	if err := s.joinList(ctx, userID, to, from); err != nil {
		return fmt.Errorf("move %s to group %s: %w", userID, to, err)
	}
	if _, err := s.addMember(ctx, to, userID, now); err != nil {
		return fmt.Errorf("move %s to group %s: %w", userID, to, err)
	}
	if err := s.relist(ctx, userID, to); err != nil {
		return fmt.Errorf("move %s to group %s: %w", userID, to, err)
	}
	if _, err := s.RemoveFromGroup(ctx, from, userID); err != nil {
		return fmt.Errorf("move %s from group %s: %w", userID, from, err)
	}
	return nil
}

// joinList puts groupID on the learner's list. The list holds at most
// accounts.MaxLearnerGroups, or one more if freeing is on it (a move,
// which takes freeing off next).
func (s *AccountsStore) joinList(ctx context.Context, userID, groupID, freeing string) error {
	return s.join(ctx, userID, groupID, freeing, accounts.MaxLearnerGroups)
}

// relist puts groupID back on the learner's list of a member, whatever
// its length (a repair after a race: see the collections' comment).
func (s *AccountsStore) relist(ctx context.Context, userID, groupID string) error {
	return s.join(ctx, userID, groupID, "", math.MaxInt-1)
}

func (s *AccountsStore) join(ctx context.Context, userID, groupID, freeing string, limit int) error {
	_, _, err := docdb.Update(ctx, s.e, colLearnerGroups, userID,
		func() (learnerGroupsDoc, error) { return learnerGroupsDoc{}, nil },
		func(d *learnerGroupsDoc) error {
			if slices.Contains(d.Groups, groupID) {
				return errUnchanged
			}
			bound := limit
			if freeing != "" && slices.Contains(d.Groups, freeing) {
				bound++
			}
			if len(d.Groups) >= bound {
				return accounts.ErrTooManyGroups
			}
			d.Groups = append(d.Groups, groupID)
			return nil
		})
	if err != nil && !errors.Is(err, errUnchanged) {
		return err
	}
	return nil
}

// leaveList takes groupID off the learner's list.
func (s *AccountsStore) leaveList(ctx context.Context, userID, groupID string) error {
	_, _, err := docdb.Update(ctx, s.e, colLearnerGroups, userID, nil, func(d *learnerGroupsDoc) error {
		i := slices.Index(d.Groups, groupID)
		if i < 0 {
			return errUnchanged
		}
		d.Groups = slices.Delete(d.Groups, i, i+1)
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, pathways.ErrNotFound) {
		return err
	}
	return nil
}

// addMember puts the learner on the group's member list.
func (s *AccountsStore) addMember(ctx context.Context, groupID, userID string, now time.Time) (bool, error) {
	added := false
	_, _, err := docdb.Update(ctx, s.e, colGroupMembers, groupID,
		func() (membersDoc, error) { return membersDoc{}, nil },
		func(d *membersDoc) error {
			added = false
			if d.index(userID) >= 0 {
				return errUnchanged
			}
			if len(d.Members) >= accounts.MaxGroupMembers {
				return accounts.ErrGroupFull
			}
			d.Members = append(d.Members, memberDoc{UserID: userID, AddedAt: unixMS(now)})
			added = true
			return nil
		})
	if err != nil && !errors.Is(err, errUnchanged) {
		return false, err
	}
	return added, nil
}

// removeMember takes the learner off the group's member list.
func (s *AccountsStore) removeMember(ctx context.Context, groupID, userID string) (bool, error) {
	removed := false
	_, _, err := docdb.Update(ctx, s.e, colGroupMembers, groupID, nil, func(d *membersDoc) error {
		removed = false
		i := d.index(userID)
		if i < 0 {
			return errUnchanged
		}
		d.Members = slices.Delete(d.Members, i, i+1)
		removed = true
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, pathways.ErrNotFound) {
		return false, err
	}
	return removed, nil
}
