package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// groupJSON is a group as the API shows it and as PATCH takes it back.
type groupJSON struct {
	ID        string     `json:"id,omitempty"`
	OrgID     string     `json:"orgId,omitempty"`
	Name      *string    `json:"name,omitempty"`
	Locale    *string    `json:"locale,omitempty"`
	Note      *string    `json:"note,omitempty"`
	Revision  int        `json:"revision,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

func toGroupJSON(g accounts.Group) groupJSON {
	return groupJSON{ID: g.ID, OrgID: g.OrgID, Name: &g.Name, Locale: &g.Locale, Note: &g.Note,
		Revision: g.Revision, CreatedAt: &g.CreatedAt, UpdatedAt: &g.UpdatedAt}
}

func (r groupJSON) update() accounts.GroupUpdate {
	return accounts.GroupUpdate{Name: r.Name, Locale: r.Locale, Note: r.Note}
}

func (r groupJSON) check() error { return accounts.CheckGroupUpdate(r.update()) }

type createGroupRequest struct {
	// ID, optional, is chosen by a client that may retry (a UUID).
	ID string `json:"id"`
	// OrgID is for global admins; others create in their own organisation.
	OrgID  string `json:"orgId"`
	Name   string `json:"name"`
	Locale string `json:"locale"`
	Note   string `json:"note"`
}

func (r createGroupRequest) group() accounts.NewGroup {
	return accounts.NewGroup{ID: r.ID, Name: r.Name, Locale: r.Locale, Note: r.Note}
}

func (r createGroupRequest) check() error {
	v := &pathways.ValidationError{}
	if r.OrgID != "" && !accounts.ValidID(r.OrgID) {
		v.Add("orgId", pathways.CodeID, nil)
	}
	_ = v.Merge("", accounts.CheckNewGroup(r.group()))
	return v.Err()
}

func (s *Server) createGroup(c *fiber.Ctx) error {
	var in createGroupRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.OrgID != "" && !accounts.ValidID(in.OrgID) {
		return in.check()
	}
	g, created, err := s.acc.CreateGroup(c.UserContext(), actor(c), in.OrgID, in.group())
	if err != nil {
		return err
	}
	c.Location("/api/v1/groups/" + g.ID)
	setDraftETag(c, g.Revision)
	return c.Status(createdStatus(created)).JSON(toGroupJSON(g))
}

func (s *Server) listGroups(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, accounts.GroupPages)
	org := c.Query("orgId")
	if org != "" && !accounts.ValidID(org) {
		v.Add("orgId", pathways.CodeID, nil)
	}
	if err := paramErr(v); err != nil {
		return err
	}
	gs, err := s.acc.Groups(c.UserContext(), actor(c), org, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(gs, toGroupJSON), p, -1)
}

func (s *Server) getGroup(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	g, err := s.acc.Group(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	setDraftETag(c, g.Revision)
	return c.JSON(toGroupJSON(g))
}

// updateGroup changes some fields of a group made on a revision (the
// body's or If-Match's, as every conditional write: revision.go).
func (s *Server) updateGroup(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in groupJSON
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, in)
	if err != nil {
		return err
	}
	if in.ID != "" || in.OrgID != "" || in.CreatedAt != nil || in.UpdatedAt != nil {
		cur, err := s.acc.Group(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		var r readOnly
		r.id("id", in.ID, cur.ID)
		r.id("orgId", in.OrgID, cur.OrgID)
		r.time("createdAt", in.CreatedAt, cur.CreatedAt)
		if cur.Revision == rev {
			r.time("updatedAt", in.UpdatedAt, cur.UpdatedAt)
		}
		if err := r.err(); err != nil {
			return err
		}
	}
	g, err := s.acc.UpdateGroup(c.UserContext(), actor(c), id, rev, in.update())
	if err != nil {
		return err
	}
	setDraftETag(c, g.Revision)
	return c.JSON(toGroupJSON(g))
}

// memberParams reads the :id (the group) and :userId path parameters.
func memberParams(c *fiber.Ctx) (group, user string, err error) {
	v := &pathways.ValidationError{}
	group = pathIDInto(c, v)
	user = c.Params("userId")
	if !accounts.ValidID(user) {
		v.Add("userId", pathways.CodeID, nil)
	}
	return group, user, paramErr(v)
}

func (s *Server) addGroupMember(c *fiber.Ctx) error {
	g, u, err := memberParams(c)
	if err != nil {
		return err
	}
	if _, err := s.acc.AddToGroup(c.UserContext(), actor(c), g, u); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) removeGroupMember(c *fiber.Ctx) error {
	g, u, err := memberParams(c)
	if err != nil {
		return err
	}
	if _, err := s.acc.RemoveFromGroup(c.UserContext(), actor(c), g, u); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type moveRequest struct {
	// To is the group the learner moves to.
	To string `json:"to"`
}

func (r moveRequest) check() error {
	if !accounts.ValidID(r.To) {
		if r.To == "" {
			return pathways.Invalid("to", pathways.CodeRequired)
		}
		return pathways.Invalid("to", pathways.CodeID)
	}
	return nil
}

func (s *Server) moveGroupMember(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	g := pathIDInto(c, v)
	u := c.Params("userId")
	if !accounts.ValidID(u) {
		v.Add("userId", pathways.CodeID, nil)
	}
	var in moveRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if err := s.acc.MoveToGroup(c.UserContext(), actor(c), g, in.To, u); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type groupMemberJSON struct {
	UserID  string    `json:"userId"`
	AddedAt time.Time `json:"addedAt"`
}

func (s *Server) listGroupMembers(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, accounts.GroupPages)
	if err := paramErr(v); err != nil {
		return err
	}
	ms, total, err := s.acc.GroupMembers(c.UserContext(), actor(c), id, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(ms, func(m accounts.GroupMember) groupMemberJSON {
		return groupMemberJSON{UserID: m.UserID, AddedAt: m.AddedAt}
	}), p, total)
}

func (s *Server) listUserGroups(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, accounts.GroupPages)
	if err := paramErr(v); err != nil {
		return err
	}
	gs, err := s.acc.LearnerGroups(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return sendList(c, listOf(pathways.Window(gs, p), toGroupJSON), p, len(gs))
}
