package assets

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Config holds the media rules an installation may change.
type Config struct {
	// Limits is the largest file of each kind, in bytes.
	Limits map[Kind]int64
	// UploadTTL is how long a resumable upload may stay unfinished.
	UploadTTL time.Duration
	// OrphanAge is how old stored bytes without a record must be before
	// the clean-up deletes them, so that an upload in flight is never
	// taken for an orphan.
	OrphanAge time.Duration
	// PresignTTL is the lifetime of a direct download URL.
	PresignTTL time.Duration
}

// DefaultConfig has the defaults the README documents.
var DefaultConfig = Config{
	Limits: map[Kind]int64{
		KindImage:    10 << 20,
		KindAudio:    100 << 20,
		KindVideo:    1 << 30,
		KindSubtitle: 1 << 20,
		KindDocument: 50 << 20,
	},
	UploadTTL:  24 * time.Hour,
	OrphanAge:  24 * time.Hour,
	PresignTTL: 5 * time.Minute,
}

// Service is the media library: uploads, reads, edits and deletes of
// assets, with the rules on who may do what.
type Service struct {
	store   Store
	blobs   Blobs
	presign Presigner // nil: downloads pass through the server
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	// busy holds the resumable uploads with a chunk in flight on this
	// instance, so two requests never write the same part.
	busy sync.Map
	// orgs checks that an organisation exists (ErrNotFound if not); nil
	// skips the check.
	orgs func(ctx context.Context, id string) error
	// shows tells the clean-up, by reference prefix, whether a use's
	// version shows the asset; uses of other prefixes are kept.
	shows map[string]UseChecker
}

// UseChecker reports whether the published version a use's Ref names
// exists and shows the asset; it answers true for a reference it cannot
// read, so such uses are kept.
type UseChecker func(ctx context.Context, ref, assetID string) (bool, error)

// CheckUses makes the clean-up ask shows about the uses whose Ref begins
// with prefix ("course:", "quiz:"), and remove those no published version
// accounts for (left by a publish that failed or lost a race) once they
// are older than pathways.ClaimGrace, so that their assets can be deleted
// again. Call it while wiring, before the service is used.
func (s *Service) CheckUses(prefix string, shows UseChecker) {
	if s.shows == nil {
		s.shows = map[string]UseChecker{}
	}
	s.shows[prefix] = shows
}

// showsOf returns the checker of ref's prefix, or nil.
func (s *Service) showsOf(ref string) UseChecker {
	for prefix, shows := range s.shows {
		if strings.HasPrefix(ref, prefix) {
			return shows
		}
	}
	return nil
}

// CheckOrganisations makes the service refuse an organisation that does
// not exist when a global admin names one (others can only name their
// own): a library of none is ErrNotFound, an upload to none a validation
// error on orgId. The accounts store provides the check.
func (s *Service) CheckOrganisations(exists func(ctx context.Context, id string) error) {
	s.orgs = exists
}

// NewService returns the media library on store and blobs. presign may be
// nil; a missing limit in cfg takes its default.
func NewService(store Store, blobs Blobs, presign Presigner, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	limits := make(map[Kind]int64, len(Kinds))
	for _, k := range Kinds {
		limits[k] = DefaultConfig.Limits[k]
		if v, ok := cfg.Limits[k]; ok && v > 0 {
			limits[k] = v
		}
	}
	cfg.Limits = limits
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = DefaultConfig.UploadTTL
	}
	if cfg.OrphanAge <= 0 {
		cfg.OrphanAge = DefaultConfig.OrphanAge
	}
	if cfg.PresignTTL <= 0 {
		cfg.PresignTTL = DefaultConfig.PresignTTL
	}
	return &Service{store: store, blobs: blobs, presign: presign, cfg: cfg, now: now, log: log}
}

// Limit is the largest file of kind k, in bytes.
func (s *Service) Limit(k Kind) int64 { return s.cfg.Limits[k] }

// maxLimit is the largest file of any kind.
func (s *Service) maxLimit() int64 {
	var m int64
	for _, v := range s.cfg.Limits {
		m = max(m, v)
	}
	return m
}

// Ping reports whether the blob store can serve.
func (s *Service) Ping(ctx context.Context) error { return s.blobs.Ping(ctx) }

// Asset returns an asset actor may read. An asset they may not read is
// ErrNotFound, whether it exists or not.
func (s *Service) Asset(ctx context.Context, actor accounts.Actor, id string) (Asset, error) {
	if !accounts.ValidID(id) {
		return Asset{}, fmt.Errorf("asset %q: %w", id, pathways.ErrNotFound)
	}
	a, err := s.store.Asset(ctx, id)
	if err != nil {
		return Asset{}, fmt.Errorf("asset %s: %w", id, err)
	}
	if !mayRead(actor, a) {
		return Asset{}, fmt.Errorf("asset %s: %w", id, pathways.ErrNotFound)
	}
	return a, nil
}

// authored returns an asset actor may change: ErrNotFound if they may not
// even read it, ErrForbidden if they may only read it.
func (s *Service) authored(ctx context.Context, actor accounts.Actor, id string) (Asset, error) {
	a, err := s.Asset(ctx, actor, id)
	if err != nil {
		return Asset{}, err
	}
	if !MayEdit(actor, a) {
		return Asset{}, fmt.Errorf("change asset %s: %w", id, pathways.ErrForbidden)
	}
	return a, nil
}

// Open reads length bytes of a's content from offset (length -1: to the
// end). The caller has read a through Asset, which checked access.
func (s *Service) Open(ctx context.Context, a Asset, offset, length int64) (io.ReadCloser, error) {
	r, err := s.blobs.Open(ctx, a.BlobKey, offset, length)
	if err != nil {
		return nil, fmt.Errorf("open asset %s: %w", a.ID, err)
	}
	return r, nil
}

// DownloadURL returns a short-lived URL from which the client fetches a's
// content directly from the blob store, and how long it is valid; ok is
// false if the store has none to give (the server streams instead).
func (s *Service) DownloadURL(ctx context.Context, a Asset, disposition string) (url string, ttl time.Duration, ok bool, err error) {
	if s.presign == nil {
		return "", 0, false, nil
	}
	url, err = s.presign.PresignGet(ctx, a.BlobKey, s.cfg.PresignTTL, a.ContentType, disposition)
	if err != nil {
		return "", 0, false, fmt.Errorf("presign asset %s: %w", a.ID, err)
	}
	return url, s.cfg.PresignTTL, true, nil
}

// checkOrg makes sure an organisation a global admin named exists.
func (s *Service) checkOrg(ctx context.Context, actor accounts.Actor, orgID string) error {
	if !actor.IsGlobalAdmin() || s.orgs == nil {
		return nil
	}
	if err := s.orgs(ctx, orgID); err != nil {
		return fmt.Errorf("organisation %s: %w", orgID, err)
	}
	return nil
}

// checkUploadOrg checks the organisation an upload names, as checkOrg; one
// that does not exist is a field of the upload that is not valid (code
// invalid on orgId, as for every other create), not a missing object.
func (s *Service) checkUploadOrg(ctx context.Context, actor accounts.Actor, orgID string) error {
	err := s.checkOrg(ctx, actor, orgID)
	if errors.Is(err, pathways.ErrNotFound) {
		return pathways.Invalid("orgId", pathways.CodeInvalid)
	}
	return err
}

// beginUpload settles what every upload checks first: the library it goes
// to (its organisation, as the caller may name it) and, for a
// client-chosen ID, whether an asset of that library has it already (a
// retry: done, with that asset).
func (s *Service) beginUpload(ctx context.Context, actor accounts.Actor, m *Meta) (org string, prior Asset, done bool, err error) {
	org, err = uploadOrg(actor, m)
	if err != nil {
		return "", Asset{}, false, err
	}
	if err := s.checkUploadOrg(ctx, actor, org); err != nil {
		return "", Asset{}, false, err
	}
	if m.ID != "" {
		a, ok, err := s.existing(ctx, m.ID, org)
		return org, a, ok, err
	}
	return org, Asset{}, false, nil
}

// Upload stores a file streamed from body (size bytes, or -1 if unknown)
// as a new asset in the caller's library. The type is decided from the
// content; the checksum is computed while streaming; content stored
// already is not stored twice. With m.ID set, a retry returns the asset
// the first attempt stored and created = false, without reading body.
//
// Nothing is left behind on failure: a body that ends early is
// ErrIncomplete, a body over its kind's limit a *TooLargeError, a file of
// a refused or unsupported type a ValidationError, a blob store that
// cannot be reached ErrUnavailable.
func (s *Service) Upload(ctx context.Context, actor accounts.Actor, m Meta, body io.Reader, size int64) (a Asset, created bool, err error) {
	org, prior, done, err := s.beginUpload(ctx, actor, &m)
	if done || err != nil {
		return prior, false, err
	}
	if m.ID != "" {
		if _, err := s.store.Upload(ctx, m.ID); err == nil {
			return Asset{}, false, fmt.Errorf("id %s is a resumable upload's: %w", m.ID, pathways.ErrConflict)
		}
	} else {
		m.ID = newID()
	}
	in, ft, err := s.typedBody(m, body, size)
	if err != nil {
		return Asset{}, false, err
	}
	key := newBlobKey()
	if err := s.blobs.Put(ctx, key, in, size); err != nil {
		if in.err != nil {
			return Asset{}, false, in.err
		}
		return Asset{}, false, fmt.Errorf("upload %s: %w", m.ID, err)
	}
	now := s.now().UTC()
	a = Asset{
		ID: m.ID, OrgID: org, OwnerID: actor.UserID, Kind: ft.kind, ContentType: ft.contentType,
		Size: in.n, SHA256: hex.EncodeToString(in.h.Sum(nil)), Name: m.Name, Locale: m.Locale,
		AltText: m.AltText, Transcript: m.Transcript, Created: now, Updated: now,
	}
	return s.record(ctx, a, key, true)
}

// typedBody reads the head of an upload's body to decide its type from
// the content, against its name and declared type, and checks its size
// against that kind's limit; the meter it returns hashes, counts and
// bounds the rest as it is read.
func (s *Service) typedBody(m Meta, body io.Reader, size int64) (*meter, fileType, error) {
	if size == 0 {
		return nil, fileType{}, pathways.Invalid("file", CodeEmpty)
	}
	br := bufio.NewReaderSize(body, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fileType{}, fmt.Errorf("%w: %v", ErrIncomplete, err)
	}
	if len(head) == 0 {
		return nil, fileType{}, pathways.Invalid("file", CodeEmpty)
	}
	ft, err := sniff(head, m.Name, m.DeclaredType)
	if err != nil {
		return nil, fileType{}, err
	}
	limit := s.Limit(ft.kind)
	if size > limit {
		return nil, fileType{}, &TooLargeError{Kind: ft.kind, Limit: limit}
	}
	return &meter{r: br, h: sha256.New(), want: size, limit: limit, kind: ft.kind}, ft, nil
}

// existing returns the asset with a client-chosen id, if it is in org: a
// retried upload. An id taken in another organisation is ErrConflict.
func (s *Service) existing(ctx context.Context, id, org string) (Asset, bool, error) {
	a, err := s.store.Asset(ctx, id)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		return Asset{}, false, nil
	case err != nil:
		return Asset{}, false, fmt.Errorf("asset %s: %w", id, err)
	case a.OrgID != org:
		return Asset{}, false, fmt.Errorf("asset id %s: %w", id, pathways.ErrConflict)
	}
	return a, true, nil
}

// record makes stored bytes (under key) an asset: it claims the content's
// blob record, deleting the new bytes if identical content was stored
// already, then inserts the metadata. If that fails it releases the claim,
// so no record counts bytes without metadata. ownBytes says whether the
// bytes under key may be deleted on failure (a resumable upload keeps
// them for a retry).
func (s *Service) record(ctx context.Context, a Asset, key string, ownBytes bool) (Asset, bool, error) {
	b, err := s.store.ClaimBlob(ctx, Blob{SHA256: a.SHA256, Key: key, Size: a.Size, Created: a.Created}, a.ID, s.now())
	if err != nil {
		if ownBytes {
			s.dropBytes(ctx, key)
		}
		return Asset{}, false, fmt.Errorf("record asset %s: %w", a.ID, err)
	}
	if b.Key != key {
		s.dropBytes(ctx, key) // identical content is stored already
	}
	a.BlobKey = b.Key
	err = s.store.InsertAsset(ctx, a)
	if err == nil {
		return a, true, nil
	}
	if errors.Is(err, pathways.ErrConflict) && !errors.Is(err, ErrLibraryFull) {
		// A concurrent retry with the same id got there first. If it
		// stored the same content, its claim is ours too: keep it.
		if prev, gerr := s.store.Asset(ctx, a.ID); gerr == nil && prev.OrgID == a.OrgID && prev.SHA256 == a.SHA256 {
			return prev, false, nil
		}
	}
	s.release(ctx, a.SHA256, a.ID)
	return Asset{}, false, fmt.Errorf("record asset %s: %w", a.ID, err)
}

// release drops an asset's claim on its content and, with the last claim,
// the bytes. It runs after the caller's work is done or failed, so it
// uses a context of its own; a failure leaves work for the clean-up job.
func (s *Service) release(ctx context.Context, sha, assetID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	b, last, err := s.store.ReleaseBlob(ctx, sha, assetID)
	if err != nil {
		if !errors.Is(err, pathways.ErrNotFound) {
			s.log.WarnContext(ctx, "release blob failed; the clean-up job will retry", slog.String("sha256", sha), slog.Any("error", err))
		}
		return
	}
	if last {
		s.dropBytes(ctx, b.Key)
	}
}

// dropBytes deletes bytes no record refers to.
func (s *Service) dropBytes(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "delete blob failed; the clean-up job will retry", slog.String("key", key), slog.Any("error", err))
	}
}

// Change edits an asset's description; nil fields stay as they are.
type Change struct {
	Name       *string
	Locale     *string
	AltText    *string
	Transcript *string
}

// meta is what ch sets, as the Meta of an upload.
func (ch Change) meta() Meta {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return Meta{Name: deref(ch.Name), Locale: deref(ch.Locale), AltText: deref(ch.AltText), Transcript: deref(ch.Transcript)}
}

// CheckChange checks what a change of an asset's description sets.
func CheckChange(ch Change) error { return CheckMeta(ch.meta()) }

// Update edits the description of an asset the actor may author.
func (s *Service) Update(ctx context.Context, actor accounts.Actor, id string, ch Change) (Asset, error) {
	if _, err := s.authored(ctx, actor, id); err != nil {
		return Asset{}, err
	}
	m := ch.meta()
	if err := checkMeta(&m); err != nil {
		return Asset{}, err
	}
	a, err := s.store.UpdateAsset(ctx, id, func(a *Asset) error {
		if ch.Name != nil {
			if ext := strings.ToLower(path.Ext(m.Name)); ext != "" && ext != strings.ToLower(path.Ext(a.Name)) {
				if ft, ok := typeOf(a.ContentType); ok && !ft.hasExt(ext) {
					return (&pathways.ValidationError{}).Add("name", CodeExtensionMismatch,
						map[string]any{"Extension": ext, "Type": a.ContentType})
				}
			}
			a.Name = m.Name
		}
		if ch.Locale != nil {
			a.Locale = m.Locale
		}
		if ch.AltText != nil {
			a.AltText = m.AltText
		}
		if ch.Transcript != nil {
			a.Transcript = m.Transcript
		}
		a.Updated = s.now().UTC()
		return nil
	})
	if err != nil {
		return Asset{}, fmt.Errorf("update asset %s: %w", id, err)
	}
	return a, nil
}

// Delete removes an asset the actor may author, and its bytes if no other
// asset has the same content. It returns ErrInUse while a published
// course version shows it.
func (s *Service) Delete(ctx context.Context, actor accounts.Actor, id string) error {
	if _, err := s.authored(ctx, actor, id); err != nil {
		return err
	}
	a, err := s.store.DeleteAsset(ctx, id, func(a Asset) error {
		if len(a.Uses) > 0 {
			return ErrInUse
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete asset %s: %w", id, err)
	}
	s.release(ctx, a.SHA256, a.ID)
	return nil
}

// AddUse records that a published course version shows the asset (the
// courses package calls it when it publishes); adding a use twice is
// harmless and records it again as of now. It returns ErrNotFound if the
// asset does not exist.
func (s *Service) AddUse(ctx context.Context, id string, u Use) (Asset, error) {
	u.At = s.now().UTC().Truncate(time.Millisecond) // as the store keeps it
	a, err := s.store.UpdateAsset(ctx, id, func(a *Asset) error {
		a.Uses = slices.DeleteFunc(a.Uses, func(x Use) bool { return x.Ref == u.Ref })
		a.Uses = append(a.Uses, u)
		return nil
	})
	if err != nil {
		return Asset{}, fmt.Errorf("add use %s of asset %s: %w", u.Ref, id, err)
	}
	return a, nil
}

// RemoveUse forgets a use (a publish that failed or lost the race to
// another, a course version withdrawn). Each use is removed as it was
// read, atomically, so a use the asset gains meanwhile is kept.
func (s *Service) RemoveUse(ctx context.Context, id, ref string) (Asset, error) {
	a, err := s.store.Asset(ctx, id)
	for err == nil {
		i := slices.IndexFunc(a.Uses, func(x Use) bool { return x.Ref == ref })
		if i < 0 {
			return a, nil
		}
		n := len(a.Uses)
		if a, err = s.store.PullUse(ctx, id, a.Uses[i]); err == nil && len(a.Uses) == n {
			return a, nil // recorded again meanwhile: that one stays
		}
	}
	return Asset{}, fmt.Errorf("remove use %s of asset %s: %w", ref, id, err)
}

// Filter selects library items; zero fields select all.
type Filter struct {
	Kind    Kind
	Locale  string
	OwnerID string
	Query   string // a case-insensitive part of the name
	Unused  bool   // only assets no published version shows
}

// ListLimits are the page sizes of a library listing.
var ListLimits = pathways.PageLimits{Default: 50, Max: 500}

// List returns a page of an organisation's library, newest first, and how
// many items match in all.
func (s *Service) List(ctx context.Context, actor accounts.Actor, orgID string, f Filter, p pathways.Page) ([]LibraryItem, int, error) {
	lib, err := s.library(ctx, actor, orgID)
	if err != nil {
		return nil, 0, err
	}
	q := strings.ToLower(f.Query)
	var out []LibraryItem
	for _, it := range lib.Items {
		if f.Kind != "" && it.Kind != f.Kind || f.Locale != "" && it.Locale != f.Locale ||
			f.OwnerID != "" && it.OwnerID != f.OwnerID || f.Unused && it.Used ||
			q != "" && !strings.Contains(strings.ToLower(it.Name), q) {
			continue
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b LibraryItem) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return pathways.Window(out, p.Normalise(ListLimits)), len(out), nil
}

// Usage is the storage an organisation's library takes, counted from its
// metadata: what it uploaded, each asset in full, even where identical
// content is stored once.
type Usage struct {
	Count  int
	Bytes  int64
	ByKind map[Kind]KindUsage
}

// KindUsage is the storage of one kind of asset.
type KindUsage struct {
	Count int
	Bytes int64
}

// Usage returns the storage used by an organisation's library.
func (s *Service) Usage(ctx context.Context, actor accounts.Actor, orgID string) (Usage, error) {
	lib, err := s.library(ctx, actor, orgID)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{ByKind: map[Kind]KindUsage{}}
	for _, k := range Kinds {
		u.ByKind[k] = KindUsage{}
	}
	for _, it := range lib.Items {
		u.Count++
		u.Bytes += it.Size
		k := u.ByKind[it.Kind]
		k.Count++
		k.Bytes += it.Size
		u.ByKind[it.Kind] = k
	}
	return u, nil
}

// library returns the library of an organisation actor may author in:
// another organisation's is ErrNotFound, their own with too weak a role
// ErrForbidden.
func (s *Service) library(ctx context.Context, actor accounts.Actor, orgID string) (Library, error) {
	if err := mayOpenLibrary(actor, orgID); err != nil {
		return Library{}, err
	}
	if err := s.checkOrg(ctx, actor, orgID); err != nil {
		return Library{}, err
	}
	lib, err := s.store.Library(ctx, orgID)
	if err != nil {
		return Library{}, fmt.Errorf("media library of %s: %w", orgID, err)
	}
	return lib, nil
}

// meter passes an upload through: it hashes, counts, and stops the stream
// with a *TooLargeError past the limit or ErrIncomplete when the body ends
// before the announced size or breaks. err keeps why, so that the caller
// can tell a client's fault from the blob store's.
type meter struct {
	r     io.Reader
	h     hash.Hash
	n     int64
	want  int64 // -1: unknown
	limit int64
	kind  Kind
	err   error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	m.h.Write(p[:n])
	m.n += int64(n)
	switch {
	case m.n > m.limit:
		m.err = &TooLargeError{Kind: m.kind, Limit: m.limit}
	case m.want >= 0 && m.n > m.want:
		m.err = fmt.Errorf("%w: more bytes than announced", ErrIncomplete)
	case errors.Is(err, io.EOF) && m.want >= 0 && m.n < m.want:
		m.err = fmt.Errorf("%w: %d of %d bytes", ErrIncomplete, m.n, m.want)
	case err != nil && !errors.Is(err, io.EOF):
		m.err = fmt.Errorf("%w: %v", ErrIncomplete, err)
	case errors.Is(err, io.EOF) && m.n == 0:
		m.err = pathways.Invalid("file", CodeEmpty)
	default:
		return n, err
	}
	return n, m.err
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// newBlobKey names new bytes: random, so that concurrent uploads never
// collide, and fanned out over 256 folders for the disk store.
func newBlobKey() string {
	id := strings.ReplaceAll(uuid.NewString(), "-", "")
	return "blobs/" + id[:2] + "/" + id
}
