package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/rights"
)

// dataRequestJSON is the record of an export or erasure as the API shows
// it.
type dataRequestJSON struct {
	ID          string        `json:"id"`
	Kind        rights.Kind   `json:"kind"`
	SubjectID   string        `json:"subjectId"`
	SubjectRole accounts.Role `json:"subjectRole"`
	OrgID       string        `json:"orgId,omitempty"`
	ActorID     string        `json:"actorId"`
	ActorRole   accounts.Role `json:"actorRole"`
	At          time.Time     `json:"at"`
	Status      string        `json:"status"` // "done" or "pending"
	Done        *time.Time    `json:"doneAt,omitempty"`
	Forgotten   []string      `json:"forgotten,omitempty"`
}

func toDataRequestJSON(r rights.Request) dataRequestJSON {
	out := dataRequestJSON{
		ID: r.ID, Kind: r.Kind, SubjectID: r.SubjectID, SubjectRole: r.SubjectRole, OrgID: r.OrgID,
		ActorID: r.ActorID, ActorRole: r.ActorRole, At: r.At, Status: "done", Forgotten: r.Forgotten,
	}
	if r.Pending() {
		out.Status = "pending"
	} else {
		out.Done = &r.Done
	}
	return out
}

// exportData hands out everything Pathways holds about a user, as a JSON
// file to keep.
func (s *Server) exportData(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	langs := s.wantedInto(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	out, err := s.rights.Export(c.UserContext(), actor(c), id, langs)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="pathways-data-`+out.UserID+`.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

type eraseRequest struct {
	// Confirm is the account's username, typed again.
	Confirm string `json:"confirm"`
}

func (r eraseRequest) check() error {
	if r.Confirm == "" {
		return pathways.Invalid("confirm", pathways.CodeRequired)
	}
	return nil
}

// eraseUser erases a user's personal data and account: 200 once done,
// 202 if a step failed and the worker will finish it.
func (s *Server) eraseUser(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in eraseRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	r, err := s.rights.Erase(c.UserContext(), actor(c), id, in.Confirm)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if r.Pending() {
		status = fiber.StatusAccepted
	}
	return c.Status(status).JSON(toDataRequestJSON(r))
}

// listDataRequests is the record of who exported or erased whose data in
// an organisation, for its admins.
func (s *Server) listDataRequests(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, rights.RequestPages)
	if err := paramErr(v); err != nil {
		return err
	}
	rs, err := s.rights.Requests(c.UserContext(), actor(c), id, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(rs, toDataRequestJSON), p, -1)
}
