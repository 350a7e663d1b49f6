package rights

import (
	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Who may do what with data requests. Who may export or erase a person's
// data is accounts' rule (accounts.Service.Managed: the person, and whoever
// manages them); who may read the record of requests is here.

// mayAudit says whether a may list the data requests about people of
// orgID: its admins and global admins. Another organisation is
// ErrNotFound, a weaker role in orgID ErrForbidden.
func mayAudit(a accounts.Actor, orgID string) error {
	switch {
	case a.IsGlobalAdmin(), a.MemberOf(orgID) && a.Role == accounts.RoleAdmin:
		return nil
	case !a.MemberOf(orgID):
		return pathways.ErrNotFound
	}
	return pathways.ErrForbidden
}
