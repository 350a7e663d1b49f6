package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// userJSON is a user as the API shows it; never the secret hash.
type userJSON struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"orgId,omitempty"`
	Username       string    `json:"username"`
	DisplayName    string    `json:"displayName"`
	Role           string    `json:"role"`
	Locale         string    `json:"locale,omitempty"`
	Credential     string    `json:"credential"`
	Disabled       bool      `json:"disabled"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func toUserJSON(u accounts.User) userJSON {
	return userJSON{
		ID: u.ID, OrganisationID: u.OrgID, Username: u.Username, DisplayName: u.DisplayName,
		Role: string(u.Role), Locale: u.Locale, Credential: string(u.Credential), Disabled: u.Disabled,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type sessionJSON struct {
	AccessToken      string   `json:"accessToken"`
	TokenType        string   `json:"tokenType"`
	ExpiresIn        int      `json:"expiresIn"`
	RefreshToken     string   `json:"refreshToken"`
	RefreshExpiresIn int      `json:"refreshExpiresIn"`
	User             userJSON `json:"user"`
}

func (s *Server) sendSession(c *fiber.Ctx, sess accounts.Session) error {
	now := sess.IssuedAt
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(sessionJSON{
		AccessToken: sess.AccessToken, TokenType: "Bearer",
		ExpiresIn:        int(sess.AccessExpires.Sub(now).Seconds()),
		RefreshToken:     sess.RefreshToken,
		RefreshExpiresIn: int(sess.RefreshExpires.Sub(now).Seconds()),
		User:             toUserJSON(sess.User),
	})
}

type loginRequest struct {
	Username string `json:"username"`
	// Password is the password or the PIN.
	Password string `json:"password"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var in loginRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sess, err := s.acc.Login(c.UserContext(), in.Username, in.Password, s.clientIP(c))
	if err != nil {
		return err
	}
	return s.sendSession(c, sess)
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

func (r refreshRequest) check() error {
	if r.RefreshToken == "" {
		return pathways.Invalid("refreshToken", pathways.CodeRequired)
	}
	return nil
}

func (s *Server) refresh(c *fiber.Ctx) error {
	var in refreshRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	sess, err := s.acc.Refresh(c.UserContext(), in.RefreshToken)
	if err != nil {
		return err
	}
	return s.sendSession(c, sess)
}

func (s *Server) logout(c *fiber.Ctx) error {
	var in refreshRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if err := s.acc.Logout(c.UserContext(), in.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	u, err := s.acc.Me(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(toUserJSON(u))
}

type organisationJSON struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

func toOrganisationJSON(o accounts.Organisation) organisationJSON {
	return organisationJSON{ID: o.ID, Slug: o.Slug, Name: o.Name, CreatedAt: o.CreatedAt}
}

type createOrganisationRequest struct {
	// ID, optional, is chosen by a client that may retry (a UUID).
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (r createOrganisationRequest) organisation() accounts.NewOrganisation {
	return accounts.NewOrganisation{ID: r.ID, Slug: r.Slug, Name: r.Name}
}

func (r createOrganisationRequest) check() error {
	return accounts.CheckNewOrganisation(r.organisation())
}

// createdStatus is 201 for a new object and 200 for a retried create that
// found the object made the first time.
func createdStatus(created bool) int {
	if created {
		return fiber.StatusCreated
	}
	return fiber.StatusOK
}

func (s *Server) createOrganisation(c *fiber.Ctx) error {
	var in createOrganisationRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, created, err := s.acc.CreateOrganisation(c.UserContext(), actor(c), in.organisation())
	if err != nil {
		return err
	}
	c.Location("/api/v1/organisations/" + o.ID)
	return c.Status(createdStatus(created)).JSON(toOrganisationJSON(o))
}

// listJSON is the one shape of every list the API answers: a window of
// the list (?offset=, ?limit=), and its total where it is known without a
// scan.
type listJSON[T any] struct {
	Items  []T  `json:"items"`
	Total  *int `json:"total,omitempty"` // absent where counting would scan
	Offset int  `json:"offset"`
	Limit  int  `json:"limit"`
}

// sendList answers with a page of a list; total is -1 where it is not
// known.
func sendList[T any](c *fiber.Ctx, items []T, p pathways.Page, total int) error {
	out := listJSON[T]{Items: nonNil(items), Offset: p.Offset, Limit: p.Limit}
	if total >= 0 {
		out.Total = &total
	}
	return c.JSON(out)
}

// listOf converts a page of domain values with f.
func listOf[T, J any](items []T, f func(T) J) []J {
	out := make([]J, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}

func (s *Server) listOrganisations(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, accounts.OrganisationPages)
	if err := paramErr(v); err != nil {
		return err
	}
	list, err := s.acc.Organisations(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(list, toOrganisationJSON), p, -1)
}

func (s *Server) getOrganisation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	o, err := s.acc.Organisation(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toOrganisationJSON(o))
}

type memberJSON struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	Disabled    bool   `json:"disabled"`
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, accounts.UserPages)
	if err := paramErr(v); err != nil {
		return err
	}
	members, err := s.acc.Users(c.UserContext(), actor(c), id, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(members, func(m accounts.Member) memberJSON {
		return memberJSON{ID: m.UserID, Username: m.Username, DisplayName: m.DisplayName, Role: string(m.Role), Disabled: m.Disabled}
	}), p, -1)
}

type createUserRequest struct {
	// ID, optional, is chosen by a client that may retry (a UUID).
	ID string `json:"id"`
	// OrganisationID is empty only for a global admin.
	OrganisationID string `json:"orgId"`
	Username       string `json:"username"`
	DisplayName    string `json:"displayName"`
	Role           string `json:"role"`
	Locale         string `json:"locale"`
	Password       string `json:"password"`
	PIN            string `json:"pin"`
}

func (r createUserRequest) user() accounts.NewUser {
	return accounts.NewUser{
		ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: accounts.Role(r.Role),
		Locale: r.Locale, Password: r.Password, PIN: r.PIN,
	}
}

func (r createUserRequest) check() error {
	v := &pathways.ValidationError{}
	if r.OrganisationID != "" && !accounts.ValidID(r.OrganisationID) {
		v.Add("orgId", pathways.CodeID, nil)
	}
	_ = v.Merge("", accounts.CheckNewUser(r.OrganisationID, r.user()))
	return v.Err()
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var in createUserRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.OrganisationID != "" && !accounts.ValidID(in.OrganisationID) {
		return in.check() // with the body's other problems
	}
	u, created, err := s.acc.CreateUser(c.UserContext(), actor(c), in.OrganisationID, in.user())
	if err != nil {
		return err
	}
	c.Location("/api/v1/users/" + u.ID)
	return c.Status(createdStatus(created)).JSON(toUserJSON(u))
}

func (s *Server) getUser(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.acc.User(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toUserJSON(u))
}

type updateUserRequest struct {
	DisplayName *string `json:"displayName"`
	Locale      *string `json:"locale"`
	Disabled    *bool   `json:"disabled"`
}

func (r updateUserRequest) update() accounts.UserUpdate {
	return accounts.UserUpdate{DisplayName: r.DisplayName, Locale: r.Locale, Disabled: r.Disabled}
}

func (r updateUserRequest) check() error { return accounts.CheckUserUpdate(r.update()) }

func (s *Server) updateUser(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in updateUserRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	u, err := s.acc.UpdateUser(c.UserContext(), actor(c), id, in.update())
	if err != nil {
		return err
	}
	return c.JSON(toUserJSON(u))
}

type credentialRequest struct {
	// Current is the caller's own current password or PIN, required when
	// users change their own.
	Current  string `json:"current"`
	Password string `json:"password"`
	PIN      string `json:"pin"`
}

// check checks the new secret; the current one is checked against the
// user's.
func (r credentialRequest) check() error { return accounts.CheckSecret(r.Password, r.PIN) }

func (s *Server) setCredential(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in credentialRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	change := accounts.CredentialChange{Current: in.Current, Password: in.Password, PIN: in.PIN}
	if err := s.acc.SetCredential(c.UserContext(), actor(c), id, change); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
