// Package rights carries out a person's data rights: the export of
// everything Pathways holds about them (GDPR art. 15 and 20) and its
// erasure (art. 17), for themselves or asked by the staff who manage them.
// Each domain owns its share of a person's data and says how to export
// and forget it (a Part); this package decides who may ask, runs the
// parts in order, and records who exported or erased whose data.
//
// An erasure is durable: its request is stored before anything is
// forgotten and lists the parts done, so a crash half-way leaves a
// pending request that the worker (RunPending) finishes; every part's
// Forget is idempotent. The person is suspended first (disabled, sessions
// ended), so nothing they do meanwhile outlives the erasure, and their
// account goes last, so a resumed erasure still knows whose data it is.
// What stays is anonymous: item statistics, counts, and the requests
// themselves, which name the person only by their user id.
//
// The package knows neither HTTP nor the database; it declares the Store
// it needs.
package rights

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Kind is what a request asked for.
type Kind string

// Request kinds.
const (
	KindExport  Kind = "export"
	KindErasure Kind = "erasure"
)

// Request is the record of one export or erasure: who asked, for whom,
// when, and (for an erasure) how far it got.
type Request struct {
	ID          string
	Kind        Kind
	SubjectID   string // whose data; after an erasure, a user id nobody has
	SubjectRole accounts.Role
	OrgID       string // the subject's organisation: whose admins see the request
	ActorID     string // who asked: the subject, or staff on their behalf
	ActorRole   accounts.Role
	At          time.Time
	// Done is when an erasure finished (zero while pending), or when an
	// export was handed out.
	Done time.Time
	// Forgotten lists the parts an erasure has forgotten so far.
	Forgotten []string
}

// Pending reports whether r is an erasure that has not finished.
func (r Request) Pending() bool { return r.Kind == KindErasure && r.Done.IsZero() }

// Part is one domain's share of a person's data.
type Part struct {
	// Name is the part's key in an export, and in Request.Forgotten.
	Name string
	// Export returns the part's data about the user, JSON-encodable, in
	// the languages wanted where it has texts.
	Export func(ctx context.Context, userID string, wanted []string) (any, error)
	// Forget deletes the part's personal data about the user, leaving
	// anonymous aggregates; it is idempotent.
	Forget func(ctx context.Context, userID string) error
}

// People is what rights needs of accounts: who may act for whom, the
// account's own share of the data, and the first and last steps of an
// erasure.
type People interface {
	Managed(ctx context.Context, a accounts.Actor, id string) (accounts.User, error)
	ExportPerson(ctx context.Context, id string) (accounts.PersonData, error)
	SuspendPerson(ctx context.Context, id string) error
	ErasePerson(ctx context.Context, id string) error
}

// Store keeps the requests.
type Store interface {
	// InsertRequest stores a new request; a taken id is ErrConflict.
	InsertRequest(ctx context.Context, r Request) error
	Request(ctx context.Context, id string) (Request, error)
	// UpdateRequest applies change to a fresh read of request id and
	// stores it by compare-and-swap, retried; change's error aborts.
	UpdateRequest(ctx context.Context, id string, change func(*Request) error) (Request, error)
	// Requests lists page p of an organisation's requests, oldest first,
	// from an index.
	Requests(ctx context.Context, orgID string, p pathways.Page) ([]Request, error)
	// PendingErasures lists up to limit erasures begun before before that
	// have not finished, oldest first, from an index.
	PendingErasures(ctx context.Context, before time.Time, limit int) ([]Request, error)
}

// RequestPages are the page sizes of an organisation's requests.
var RequestPages = pathways.PageLimits{Default: 50, Max: 200}

// CodeConfirmUsername: an erasure must be confirmed with the account's
// username, typed again.
const CodeConfirmUsername = "confirm_username"

// FieldCodes lists every field error code rights produces, for the
// catalogue test.
var FieldCodes = []string{CodeConfirmUsername}

// ExportFormat names the layout of an export, for whoever reads it later.
const ExportFormat = "pathways-export/1"

// Export is everything Pathways holds about one person.
type Export struct {
	Format     string         `json:"format"`
	ExportedAt time.Time      `json:"exportedAt"`
	UserID     string         `json:"userId"`
	Account    any            `json:"account"`
	Parts      map[string]any `json:"parts"`
}

// Service carries out data rights.
type Service struct {
	store  Store
	people People
	parts  []Part
	now    func() time.Time
	log    *slog.Logger
}

// NewService returns the service; parts are exported and forgotten in
// the order given, before the account.
func NewService(store Store, people People, parts []Part, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, people: people, parts: slices.Clone(parts), now: now, log: log}
}

// Export returns everything Pathways holds about user id, for the user
// themselves or staff who manage them (accounts.Service.Managed), and
// records who exported it; the record is stored before the data is
// handed out, so no export goes unrecorded.
func (s *Service) Export(ctx context.Context, a accounts.Actor, id string, wanted []string) (Export, error) {
	u, err := s.people.Managed(ctx, a, id)
	if err != nil {
		return Export{}, err
	}
	account, err := s.people.ExportPerson(ctx, u.ID)
	if err != nil {
		return Export{}, err
	}
	out := Export{Format: ExportFormat, ExportedAt: s.now().UTC(), UserID: u.ID, Account: account, Parts: map[string]any{}}
	for _, p := range s.parts {
		data, err := p.Export(ctx, u.ID, wanted)
		if err != nil {
			return Export{}, fmt.Errorf("export %s of %s: %w", p.Name, u.ID, err)
		}
		out.Parts[p.Name] = data
	}
	r := s.request(KindExport, a, u)
	r.Done = out.ExportedAt
	if err := s.store.InsertRequest(ctx, r); err != nil {
		return Export{}, fmt.Errorf("record export of %s: %w", u.ID, err)
	}
	return out, nil
}

func (s *Service) request(kind Kind, a accounts.Actor, u accounts.User) Request {
	return Request{
		ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, SubjectID: u.ID, SubjectRole: u.Role, OrgID: u.OrgID,
		ActorID: a.UserID, ActorRole: a.Role, At: s.now().UTC(),
	}
}

// erasureID is the id of the one erasure of a user: a retried erasure
// finds the one under way.
func erasureID(userID string) string { return "erasure:" + userID }

// Erase erases user id, for the user themselves or staff who manage them,
// confirmed by the user's username typed again (CodeConfirmUsername
// otherwise). Global admins cannot be erased this way (ErrForbidden): the
// installation must keep one. It returns the request: finished, or, if a
// step failed, pending, for the worker to finish (RunPending). A retry
// returns the same request, finishing it if it can, also once the user is
// gone (to whoever asked for it); to anyone else an erased user is
// ErrNotFound, as is anyone the actor may not see.
func (s *Service) Erase(ctx context.Context, a accounts.Actor, id, confirm string) (Request, error) {
	u, err := s.people.Managed(ctx, a, id)
	if errors.Is(err, pathways.ErrNotFound) && accounts.ValidID(id) {
		// A retry of an erasure that finished: its asker gets it again.
		if r, rerr := s.store.Request(ctx, erasureID(id)); rerr == nil && r.ActorID == a.UserID {
			return s.finish(ctx, r)
		}
	}
	if err != nil {
		return Request{}, err
	}
	if accounts.NormaliseUsername(confirm) != u.UsernameKey {
		return Request{}, pathways.Invalid("confirm", CodeConfirmUsername)
	}
	if u.Role == accounts.RoleAdmin && u.OrgID == "" {
		return Request{}, fmt.Errorf("erase a global admin: %w", pathways.ErrForbidden)
	}
	r := s.request(KindErasure, a, u)
	r.ID = erasureID(u.ID)
	if err := s.store.InsertRequest(ctx, r); errors.Is(err, pathways.ErrConflict) {
		if r, err = s.store.Request(ctx, r.ID); err != nil {
			return Request{}, fmt.Errorf("erase %s: %w", u.ID, err)
		}
	} else if err != nil {
		return Request{}, fmt.Errorf("erase %s: %w", u.ID, err)
	}
	done, err := s.finish(ctx, r)
	if err != nil {
		s.log.WarnContext(ctx, "erasure left for the worker", slog.String("request", r.ID), slog.String("error", err.Error()))
		return r, nil
	}
	return done, nil
}

// finish runs what is left of erasure r: suspend, every part not yet
// forgotten (recorded one by one), then the account; then it marks r
// done.
func (s *Service) finish(ctx context.Context, r Request) (Request, error) {
	if !r.Pending() {
		return r, nil
	}
	if err := s.people.SuspendPerson(ctx, r.SubjectID); err != nil {
		return r, err
	}
	for _, p := range s.parts {
		if slices.Contains(r.Forgotten, p.Name) {
			continue
		}
		if err := p.Forget(ctx, r.SubjectID); err != nil {
			return r, fmt.Errorf("forget %s of %s: %w", p.Name, r.SubjectID, err)
		}
		var err error
		r, err = s.store.UpdateRequest(ctx, r.ID, func(r *Request) error {
			if !slices.Contains(r.Forgotten, p.Name) {
				r.Forgotten = append(r.Forgotten, p.Name)
			}
			return nil
		})
		if err != nil {
			return r, err
		}
	}
	if err := s.people.ErasePerson(ctx, r.SubjectID); err != nil {
		return r, err
	}
	return s.store.UpdateRequest(ctx, r.ID, func(r *Request) error {
		if r.Done.IsZero() {
			r.Done = s.now().UTC()
		}
		return nil
	})
}

// pendingQuiet is how old a pending erasure must be before the worker
// takes it up: younger ones are likely still being run by their request.
const pendingQuiet = time.Minute

// RunPending finishes up to limit pending erasures begun more than
// pendingQuiet ago, and returns how many it finished. Several may run at
// once on any instances: every step is idempotent.
func (s *Service) RunPending(ctx context.Context, limit int) (int, error) {
	list, err := s.store.PendingErasures(ctx, s.now().Add(-pendingQuiet), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range list {
		if _, err := s.finish(ctx, r); err != nil {
			return n, fmt.Errorf("finish erasure %s: %w", r.ID, err)
		}
		n++
	}
	return n, nil
}

// Requests lists page p of the requests about people of organisation
// orgID, oldest first, for its admins and global admins; another
// organisation is ErrNotFound, a weaker role ErrForbidden.
func (s *Service) Requests(ctx context.Context, a accounts.Actor, orgID string, p pathways.Page) ([]Request, error) {
	if err := mayAudit(a, orgID); err != nil {
		return nil, fmt.Errorf("data requests of %s: %w", orgID, err)
	}
	return s.store.Requests(ctx, orgID, p.Normalise(RequestPages))
}
