package courses

import (
	"context"
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
)

// Owner returns the organisation a course that actor creates (or
// imports) belongs to: their own, or the one a global admin names, which
// must exist (ValidationError at orgId otherwise). Learners and educators
// get ErrForbidden.
func (s *Service) Owner(ctx context.Context, actor accounts.Actor, orgID string) (string, error) {
	orgID, err := actor.ContentOwner(orgID)
	if err != nil {
		return "", fmt.Errorf("course owner: %w", err)
	}
	if err := s.checkOrg(ctx, orgID); err != nil {
		return "", err
	}
	return orgID, nil
}

// Export returns what a package of a course holds: the draft (version 0)
// or a published version, and the media it shows, by asset ID, for its
// authors. The blocks name media by asset ID; the package writer names
// the files.
func (s *Service) Export(ctx context.Context, actor accounts.Actor, id string, version int) (Course, map[string]assets.Asset, error) {
	c, err := s.authored(ctx, actor, id)
	if err != nil {
		return Course{}, nil, err
	}
	if version > 0 {
		v, err := s.store.Version(ctx, id, version)
		if err != nil {
			return Course{}, nil, fmt.Errorf("export %s@%d: %w", id, version, err)
		}
		c = v.Course
	} else if version < 0 {
		return Course{}, nil, pathways.Invalid("version", pathways.CodeInvalid)
	}
	media := map[string]assets.Asset{}
	for _, r := range mediaRefs(c) {
		a, err := s.lib.Asset(ctx, actor, r.id)
		if err != nil {
			return Course{}, nil, fmt.Errorf("export %s: media %s: %w", id, r.id, err)
		}
		media[a.ID] = a
	}
	return c.Clone(), media, nil
}
