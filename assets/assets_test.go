package assets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/stores"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// eachStore runs fn on a fixture of the store on both engines.
func eachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, kind := range dbtest.Engines {
		t.Run(kind, func(t *testing.T) {
			fn(t, newFixture(t, stores.New(dbtest.New(t, kind, stores.Schema())).Assets()))
		})
	}
}

// fixture is a media library on a fresh database and disk store, with a
// clock that starts now (the disk store dates files by the real clock).
type fixture struct {
	t     *testing.T
	store assets.Store
	blobs *media.Disk
	dir   string
	svc   *assets.Service
	mu    sync.Mutex
	skew  time.Duration
	org   string
	who   accounts.Actor
}

func newFixture(t *testing.T, store assets.Store) *fixture {
	t.Helper()
	dir := t.TempDir()
	disk, err := media.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, blobs: disk, dir: dir, org: "0194f7d2-0000-7000-8000-00000000000a"}
	f.who = accounts.Actor{UserID: "0194f7d2-0000-7000-8000-0000000000b1", OrgID: f.org, Role: accounts.RoleTrainer}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = assets.NewService(f.store, disk, nil, assets.DefaultConfig, f.now, log)
	return f
}

func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.skew)
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skew += d
}

// gif is a real one-pixel GIF; extra makes files differ.
func gif(extra string) []byte {
	b := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	return append(b, extra...)
}

func (f *fixture) upload(data []byte, id string) assets.Asset {
	f.t.Helper()
	a, _, err := f.svc.Upload(context.Background(), f.who, assets.Meta{ID: id, Name: "dot.gif"}, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) keys() []string {
	f.t.Helper()
	var out []string
	if err := f.blobs.List(context.Background(), "", func(b assets.BlobInfo) error { out = append(out, b.Key); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) library() []string {
	f.t.Helper()
	lib, err := f.store.Library(context.Background(), f.org)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, it := range lib.Items {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestConcurrentIdenticalUploads: many uploads of one content at once
// make as many assets and one stored blob; deleting them all at once
// leaves nothing.
func TestConcurrentIdenticalUploads(t *testing.T) { eachStore(t, testConcurrentIdenticalUploads) }

func testConcurrentIdenticalUploads(t *testing.T, f *fixture) {
	data := gif("same")
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i] = f.upload(data, "").ID })
	}
	wg.Wait()
	if keys := f.keys(); len(keys) != 1 {
		t.Fatalf("stored blobs: %v", keys)
	}
	if lib := f.library(); len(lib) != n {
		t.Fatalf("library: %d items", len(lib))
	}
	for _, id := range ids {
		wg.Go(func() {
			if err := f.svc.Delete(context.Background(), f.who, id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if keys := f.keys(); len(keys) != 0 {
		t.Errorf("blobs after deleting every asset: %v", keys)
	}
	if lib := f.library(); len(lib) != 0 {
		t.Errorf("library after deleting every asset: %v", lib)
	}
}

// TestConcurrentRetries: the same client id sent many times at once
// makes one asset, and every caller gets it.
func TestConcurrentRetries(t *testing.T) { eachStore(t, testConcurrentRetries) }

func testConcurrentRetries(t *testing.T, f *fixture) {
	id := "0194f7d2-0000-7000-8000-00000000c0de"
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	for range 8 {
		wg.Go(func() {
			a, c, err := f.svc.Upload(context.Background(), f.who, assets.Meta{ID: id, Name: "dot.gif"}, bytes.NewReader(gif("retry")), -1)
			if err != nil || a.ID != id {
				t.Errorf("retry: %v %v", a.ID, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d callers created the asset", created)
	}
	if keys := f.keys(); len(keys) != 1 {
		t.Errorf("stored blobs: %v", keys)
	}
	if err := f.svc.Delete(context.Background(), f.who, id); err != nil {
		t.Fatal(err)
	}
	if keys := f.keys(); len(keys) != 0 {
		t.Errorf("a retry's claim outlived the asset: %v", keys)
	}
}

// TestClean: the clean-up job repairs what interrupted work leaves behind,
// and leaves young bytes (an upload in flight) alone.
func TestClean(t *testing.T) { eachStore(t, testClean) }

func testClean(t *testing.T, f *fixture) {
	ctx := context.Background()
	store := f.store
	keep := []assets.Asset{f.upload(gif("a"), ""), f.upload(gif("b"), ""), f.upload(gif("c"), "")}
	lost := f.upload(gif("lost"), "")

	// Bytes with no record: one old enough, one young (in flight).
	if err := f.blobs.Put(ctx, "blobs/zz/orphan", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	// A claim by an asset that was never recorded (a crash in between,
	// longer ago than the grace), and one just made by an upload that is
	// about to store its asset: only the first is released.
	if err := f.blobs.Put(ctx, "blobs/zz/claimed", bytes.NewReader([]byte("y")), 1); err != nil {
		t.Fatal(err)
	}
	crashed := f.now().Add(-pathways.ClaimGrace - time.Minute)
	if _, err := store.ClaimBlob(ctx, assets.Blob{SHA256: "feed", Key: "blobs/zz/claimed", Size: 1, Created: crashed}, "0194f7d2-0000-7000-8000-0000000000ff", crashed); err != nil {
		t.Fatal(err)
	}
	if err := f.blobs.Put(ctx, "blobs/zz/inflight", bytes.NewReader([]byte("z")), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ClaimBlob(ctx, assets.Blob{SHA256: "beef", Key: "blobs/zz/inflight", Size: 1, Created: f.now()}, "0194f7d2-0000-7000-8000-0000000000fe", f.now()); err != nil {
		t.Fatal(err)
	}
	// An asset whose bytes vanished.
	if err := f.blobs.Delete(ctx, lost.BlobKey); err != nil {
		t.Fatal(err)
	}
	// Library out of step: one entry missing, one stale.
	if err := store.UnlistAsset(ctx, f.org, keep[0].ID); err != nil {
		t.Fatal(err)
	}
	ghost := keep[1]
	ghost.ID = "0194f7d2-0000-7000-8000-000000000666"
	if err := store.ListAsset(ctx, ghost); err != nil {
		t.Fatal(err)
	}
	// An entry that says otherwise than its asset (a crash between the
	// asset's write and its entry's).
	renamed := keep[2]
	renamed.Name = "before-rename.gif"
	if err := store.ListAsset(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	// A resumable upload abandoned.
	if _, _, err := f.svc.StartUpload(ctx, f.who, assets.Meta{Name: "big.mp4"}, 20<<20); err != nil {
		t.Fatal(err)
	}

	// Young orphans are left alone; the rest is repaired.
	r, err := f.svc.Clean(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := assets.CleanReport{StaleClaims: 1, EmptyRecords: 1, MissingBlobs: 1, Relisted: 2, Unlisted: 1}
	if r != want {
		t.Errorf("first run: %+v, want %+v", r, want)
	}
	if !slices.Contains(f.keys(), "blobs/zz/orphan") {
		t.Error("a young orphan was deleted")
	}
	if !slices.Contains(f.keys(), "blobs/zz/inflight") {
		t.Error("the bytes of an upload being recorded were deleted")
	}
	if _, err := store.Asset(ctx, lost.ID); !errors.Is(err, pathways.ErrNotFound) {
		t.Errorf("asset without bytes: %v", err)
	}
	wantLib := []string{keep[0].ID, keep[1].ID, keep[2].ID}
	slices.Sort(wantLib)
	if got := f.library(); !slices.Equal(got, wantLib) {
		t.Errorf("library %v, want %v", got, wantLib)
	}
	if lib, err := store.Library(ctx, f.org); err != nil || !slices.ContainsFunc(lib.Items, func(it assets.LibraryItem) bool {
		return it.ID == keep[2].ID && it.Name == keep[2].Name
	}) {
		t.Errorf("the out-of-step entry was not refreshed: %+v %v", lib, err)
	}

	f.advance(assets.DefaultConfig.OrphanAge + time.Hour)
	r, err = f.svc.Clean(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (assets.CleanReport{ExpiredUploads: 1, OrphanBlobs: 1, StaleClaims: 1, EmptyRecords: 1}); r != want {
		t.Errorf("second run: %+v, want %+v", r, want)
	}
	if keys := f.keys(); len(keys) != 3 {
		t.Errorf("blobs after clean-up: %v", keys)
	}
	if left, err := os.ReadDir(filepath.Join(f.dir, ".multipart")); err != nil || len(left) != 0 {
		t.Errorf("multipart leftovers: %v %v", left, err)
	}
	for _, a := range keep {
		if _, err := f.svc.Open(ctx, a, 0, -1); err != nil {
			t.Errorf("kept asset %s: %v", a.ID, err)
		}
	}

	// A third run finds nothing to do.
	if r, err := f.svc.Clean(ctx); err != nil || r != (assets.CleanReport{}) {
		t.Errorf("third run: %+v %v", r, err)
	}
}

// TestCleanRefusesEmptyStore: if most bytes are gone at once, the store is
// misconfigured (an empty bucket): the job deletes nothing and says so.
func TestCleanRefusesEmptyStore(t *testing.T) { eachStore(t, testCleanRefusesEmptyStore) }

func testCleanRefusesEmptyStore(t *testing.T, f *fixture) {
	ctx := context.Background()
	var all []assets.Asset
	for _, s := range []string{"a", "b", "c"} {
		all = append(all, f.upload(gif(s), ""))
	}
	for _, a := range all {
		if err := f.blobs.Delete(ctx, a.BlobKey); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Clean(ctx); !errors.Is(err, pathways.ErrUnavailable) {
		t.Fatalf("clean of an empty store: %v", err)
	}
	if lib := f.library(); len(lib) != 3 {
		t.Errorf("metadata deleted: %v", lib)
	}
}

// TestUploadOnce: content the library holds already is reused, not stored
// again (no second record, no second blob); the same content in another
// library, new content and a retry by id behave as uploads do; a file is
// checked the same way whether it is found or stored.
func TestUploadOnce(t *testing.T) { eachStore(t, testUploadOnce) }

func testUploadOnce(t *testing.T, f *fixture) {
	ctx := context.Background()
	open := func(data []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	once := func(who accounts.Actor, m assets.Meta, data []byte) (assets.Asset, bool) {
		t.Helper()
		a, created, err := f.svc.UploadOnce(ctx, who, m, int64(len(data)), open(data))
		if err != nil {
			t.Fatal(err)
		}
		return a, created
	}
	first, created := once(f.who, assets.Meta{Name: "dot.gif"}, gif("one"))
	if !created {
		t.Fatal("first upload not created")
	}
	again, created := once(f.who, assets.Meta{Name: "other-name.gif", AltText: "new"}, gif("one"))
	if created || again.ID != first.ID || again.Name != "dot.gif" {
		t.Fatalf("identical content: created %v, %s %q; want %s reused as it was", created, again.ID, again.Name, first.ID)
	}
	if lib, keys := f.library(), f.keys(); len(lib) != 1 || len(keys) != 1 {
		t.Fatalf("after reuse: library %v, blobs %v", lib, keys)
	}

	// Another organisation's library gets its own record of the content
	// (whose bytes are still stored once).
	otherOrg := "0194f7d2-0000-7000-8000-00000000000c"
	other := accounts.Actor{UserID: "0194f7d2-0000-7000-8000-0000000000b2", OrgID: otherOrg, Role: accounts.RoleTrainer}
	theirs, created := once(other, assets.Meta{Name: "dot.gif"}, gif("one"))
	if !created || theirs.ID == first.ID || theirs.OrgID != otherOrg {
		t.Fatalf("other library: created %v, %+v", created, theirs)
	}
	if keys := f.keys(); len(keys) != 1 {
		t.Fatalf("identical content stored twice: %v", keys)
	}

	// New content, and a retry by id.
	id := "0194f7d2-0000-7000-8000-0000000000e1"
	fresh, created := once(f.who, assets.Meta{ID: id, Name: "two.gif"}, gif("two"))
	if !created || fresh.ID != id {
		t.Fatalf("new content: created %v, %s", created, fresh.ID)
	}
	retry, created := once(f.who, assets.Meta{ID: id, Name: "two.gif"}, gif("two"))
	if created || retry.ID != id {
		t.Fatalf("retry: created %v, %s", created, retry.ID)
	}
	if lib := f.library(); len(lib) != 2 {
		t.Fatalf("library %v, want 2 assets", lib)
	}

	// Checked as an upload, found or not: a name that lies about the type
	// is refused even though the content is there.
	_, _, err := f.svc.UploadOnce(ctx, f.who, assets.Meta{Name: "dot.pdf"}, int64(len(gif("one"))), open(gif("one")))
	var ve *pathways.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Code != assets.CodeExtensionMismatch {
		t.Fatalf("wrong extension: %v", err)
	}
	// Learners upload nothing.
	learner := accounts.Actor{UserID: "0194f7d2-0000-7000-8000-0000000000b3", OrgID: f.org, Role: accounts.RoleLearner}
	if _, _, err := f.svc.UploadOnce(ctx, learner, assets.Meta{Name: "dot.gif"}, int64(len(gif("one"))), open(gif("one"))); !errors.Is(err, pathways.ErrForbidden) {
		t.Fatalf("learner: %v", err)
	}
}
