package stores

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

func eachRights(t *testing.T, fn func(t *testing.T, e docdb.Engine, s *RightsStore)) {
	dbtest.Each(t, rightsSchema, func(t *testing.T, e docdb.Engine) { fn(t, e, &RightsStore{e: e}) })
}

// TestDataRequests: requests round-trip, list by organisation oldest
// first, and an erasure is in the pending index until it is done.
func TestDataRequests(t *testing.T) {
	eachRights(t, func(t *testing.T, e docdb.Engine, s *RightsStore) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		erasure := rights.Request{ID: "erasure:u1", Kind: rights.KindErasure, SubjectID: "u1", SubjectRole: accounts.RoleLearner,
			OrgID: "org", ActorID: "edu", ActorRole: accounts.RoleEducator, At: t0.Add(time.Minute)}
		export := rights.Request{ID: "0190f1e2-0000-7000-8000-00000000e001", Kind: rights.KindExport, SubjectID: "u1",
			SubjectRole: accounts.RoleLearner, OrgID: "org", ActorID: "u1", ActorRole: accounts.RoleLearner, At: t0, Done: t0}
		other := rights.Request{ID: "0190f1e2-0000-7000-8000-00000000e002", Kind: rights.KindExport, SubjectID: "u9", OrgID: "elsewhere", At: t0, Done: t0}
		for _, r := range []rights.Request{erasure, export, other} {
			if err := s.InsertRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.InsertRequest(ctx, erasure); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("second insert of one erasure: %v", err)
		}
		got, err := s.Request(ctx, erasure.ID)
		if err != nil || got.SubjectID != "u1" || got.ActorRole != accounts.RoleEducator || !got.At.Equal(erasure.At) || !got.Pending() {
			t.Errorf("read back %+v, %v", got, err)
		}
		list, err := s.Requests(ctx, "org", pathways.Page{Limit: 10})
		if err != nil || len(list) != 2 || list[0].ID != export.ID || list[1].ID != erasure.ID {
			t.Errorf("organisation's requests: %+v, %v", list, err)
		}
		pending, err := s.PendingErasures(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(pending) != 1 || pending[0].ID != erasure.ID {
			t.Errorf("pending: %+v, %v", pending, err)
		}
		if early, _ := s.PendingErasures(ctx, t0, 10); len(early) != 0 {
			t.Errorf("pending before it began: %+v", early)
		}
		done, err := s.UpdateRequest(ctx, erasure.ID, func(r *rights.Request) error {
			r.Forgotten = append(r.Forgotten, "assessments")
			r.Done = t0.Add(2 * time.Minute)
			return nil
		})
		if err != nil || done.Pending() || !slices.Equal(done.Forgotten, []string{"assessments"}) {
			t.Errorf("finished: %+v, %v", done, err)
		}
		if pending, _ := s.PendingErasures(ctx, t0.Add(time.Hour), 10); len(pending) != 0 {
			t.Errorf("a finished erasure is still pending: %+v", pending)
		}
		if _, err := s.Request(ctx, "nobody"); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("unknown request: %v", err)
		}
	})
}
