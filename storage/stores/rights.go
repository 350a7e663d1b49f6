package stores

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/storage/docdb"
)

// collDataRequests keeps the record of exports and erasures (package
// rights), by request id.
const collDataRequests = "data_requests"

// rightsSchema: admins list their organisation's requests; the worker
// lists the erasures still pending.
var rightsSchema = docdb.Schema{
	{Name: collDataRequests, Indexes: []docdb.Index{
		{Name: "org_at", Fields: []string{"org_id", "at_ms"}},
		{Name: "pending", Fields: []string{"pending", "at_ms"}},
	}},
}

// RightsStore implements rights.Store on the document layer.
type RightsStore struct{ e docdb.Engine }

var _ rights.Store = (*RightsStore)(nil)

// Rights returns the data requests store.
func (db *DB) Rights() *RightsStore { return &RightsStore{e: db.e} }

type rightsRequestDoc struct {
	Kind        string       `json:"kind"`
	SubjectID   string       `json:"subject_id"`
	SubjectRole string       `json:"subject_role"`
	OrgID       string       `json:"org_id"`
	ActorID     string       `json:"actor_id"`
	ActorRole   string       `json:"actor_role"`
	At          time.Time    `json:"at"`
	AtMS        int64        `json:"at_ms"`             // the pending index's order
	Pending     bool         `json:"pending,omitempty"` // an erasure not finished: in the pending index
	Done        time.Time    `json:"done,omitzero"`
	Forgotten   list[string] `json:"forgotten,omitzero"`
}

func toRightsRequestDoc(r rights.Request) rightsRequestDoc {
	return rightsRequestDoc{
		Kind: string(r.Kind), SubjectID: r.SubjectID, SubjectRole: string(r.SubjectRole), OrgID: r.OrgID,
		ActorID: r.ActorID, ActorRole: string(r.ActorRole), At: msUTC(r.At), AtMS: unixMS(r.At),
		Pending: r.Pending(), Done: msUTC(r.Done), Forgotten: convert(r.Forgotten, func(s string) string { return s }),
	}
}

func (d rightsRequestDoc) request(id string) rights.Request {
	return rights.Request{
		ID: id, Kind: rights.Kind(d.Kind), SubjectID: d.SubjectID, SubjectRole: accounts.Role(d.SubjectRole), OrgID: d.OrgID,
		ActorID: d.ActorID, ActorRole: accounts.Role(d.ActorRole), At: d.At, Done: d.Done,
		Forgotten: convertBack(d.Forgotten, func(s string) string { return s }),
	}
}

// InsertRequest stores a new request (ErrConflict if the id is taken).
func (s *RightsStore) InsertRequest(ctx context.Context, r rights.Request) error {
	if err := s.e.Insert(ctx, collDataRequests, r.ID, toRightsRequestDoc(r)); err != nil {
		return fmt.Errorf("insert data request %s: %w", r.ID, err)
	}
	return nil
}

// Request reads one request.
func (s *RightsStore) Request(ctx context.Context, id string) (rights.Request, error) {
	var d rightsRequestDoc
	if _, err := s.e.Get(ctx, collDataRequests, id, &d); err != nil {
		return rights.Request{}, fmt.Errorf("data request %s: %w", id, err)
	}
	return d.request(id), nil
}

// UpdateRequest applies change to a fresh read of the request by
// compare-and-swap, retried.
func (s *RightsStore) UpdateRequest(ctx context.Context, id string, change func(*rights.Request) error) (rights.Request, error) {
	d, _, err := docdb.Update(ctx, s.e, collDataRequests, id, nil, func(d *rightsRequestDoc) error {
		r := d.request(id)
		if err := change(&r); err != nil {
			return err
		}
		*d = toRightsRequestDoc(r)
		return nil
	})
	if err != nil {
		return rights.Request{}, fmt.Errorf("update data request %s: %w", id, err)
	}
	return d.request(id), nil
}

// Requests lists page p of an organisation's requests through the
// "org_at" index, oldest first.
func (s *RightsStore) Requests(ctx context.Context, orgID string, p pathways.Page) ([]rights.Request, error) {
	return s.list(ctx, docdb.Query{Index: "org_at", Eq: []any{orgID}, Offset: max(p.Offset, 0), Limit: min(max(p.Limit, 1), docdb.MaxLimit)})
}

// PendingErasures lists, through the "pending" index, up to limit
// erasures begun before before that have not finished, oldest first.
func (s *RightsStore) PendingErasures(ctx context.Context, before time.Time, limit int) ([]rights.Request, error) {
	return s.list(ctx, docdb.Query{Index: "pending", Eq: []any{true}, Below: unixMS(before), Limit: min(max(limit, 1), docdb.MaxLimit)})
}

func (s *RightsStore) list(ctx context.Context, q docdb.Query) ([]rights.Request, error) {
	out := []rights.Request{}
	err := s.e.List(ctx, collDataRequests, q, func(doc docdb.Doc) error {
		var d rightsRequestDoc
		if err := doc.Decode(&d); err != nil {
			return err
		}
		out = append(out, d.request(doc.ID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list data requests: %w", err)
	}
	return out, nil
}
