package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
)

// A person's data rights (their own export, erasure) are carried out by
// package rights across every domain; these are accounts' share: who may
// ask, what accounts holds about a person, and how it forgets them.

// Managed returns user id if a may exercise the user's data rights on
// their behalf or for themselves: the user themselves, and whoever may
// manage them (mayManage: global admins, admins of their organisation,
// educators for learners). Anyone who may not see the user gets
// ErrNotFound; staff who see but may not manage them, ErrForbidden.
func (s *Service) Managed(ctx context.Context, a Actor, id string) (User, error) {
	u, err := s.User(ctx, a, id)
	if err != nil || a.UserID == u.ID {
		return u, err
	}
	if err := mayManage(a, u.OrgID, u.Role); err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// PersonData is what accounts holds about a person, as their export
// shows it: no secret hash, no session.
type PersonData struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"displayName"`
	Role         Role      `json:"role"`
	Locale       string    `json:"locale,omitempty"`
	Organisation string    `json:"organisation,omitempty"` // its name
	Credential   string    `json:"credential"`             // "pin" or "password": the kind, never the secret
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Groups       []string  `json:"groups"` // the names of the groups they are in
}

// ExportPerson returns what accounts holds about user id; the caller
// (package rights) has checked who asks.
func (s *Service) ExportPerson(ctx context.Context, id string) (PersonData, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return PersonData{}, fmt.Errorf("export user %s: %w", id, err)
	}
	out := PersonData{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Locale: u.Locale,
		Credential: string(u.Credential), Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		Groups: []string{},
	}
	if u.OrgID != "" {
		o, err := s.store.Organisation(ctx, u.OrgID)
		if err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return PersonData{}, fmt.Errorf("export user %s: %w", id, err)
		}
		out.Organisation = o.Name
	}
	groups, err := s.store.LearnerGroups(ctx, id)
	if err != nil {
		return PersonData{}, fmt.Errorf("export user %s: %w", id, err)
	}
	for _, gid := range groups {
		g, err := s.store.Group(ctx, gid)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue
		case err != nil:
			return PersonData{}, fmt.Errorf("export user %s: %w", id, err)
		}
		out.Groups = append(out.Groups, g.Name)
	}
	return out, nil
}

// SuspendPerson disables user id and ends their sessions (every request
// checks both), the first step of an erasure: nothing they start
// afterwards outlives it. A user already gone is nothing to do.
func (s *Service) SuspendPerson(ctx context.Context, id string) error {
	_, err := s.store.UpdateUser(ctx, id, func(u *User) error {
		u.Disabled = true
		u.SessionEpoch++
		u.UpdatedAt = s.now().UTC()
		return nil
	})
	if err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("suspend user %s: %w", id, err)
	}
	return nil
}

// ErasePerson forgets user id, the last step of an erasure (the other
// domains' data is gone by then): it takes them out of every group, then
// deletes the user and frees their username. It is idempotent: run again
// after a crash it finishes the job, and a user already gone is nothing
// to do. The caller (package rights) has checked who asks.
func (s *Service) ErasePerson(ctx context.Context, id string) error {
	if err := s.SuspendPerson(ctx, id); err != nil {
		return err
	}
	u, err := s.store.User(ctx, id)
	if errors.Is(err, pathways.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("erase user %s: %w", id, err)
	}
	groups, err := s.store.LearnerGroups(ctx, id)
	if err != nil {
		return fmt.Errorf("erase user %s: %w", id, err)
	}
	for _, gid := range groups {
		if _, err := s.store.RemoveFromGroup(ctx, gid, id); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			return fmt.Errorf("erase user %s: leave group %s: %w", id, gid, err)
		}
	}
	// The sign-in limiter's record is keyed by the username: gone too.
	if err := s.store.ResetAttempts(ctx, "user:"+u.UsernameKey); err != nil && !errors.Is(err, pathways.ErrNotFound) {
		return fmt.Errorf("erase user %s: %w", id, err)
	}
	if err := s.store.DeleteUser(ctx, u); err != nil {
		return fmt.Errorf("erase user %s: %w", id, err)
	}
	return nil
}
