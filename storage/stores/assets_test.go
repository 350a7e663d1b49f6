package stores

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

const (
	orgA  = "0194f7d2-0000-7000-8000-00000000000a"
	orgB  = "0194f7d2-0000-7000-8000-00000000000b"
	owner = "0194f7d2-0000-7000-8000-0000000000b1"
)

func assetID(n int) string { return fmt.Sprintf("0194f7d2-0000-7000-8000-%012d", n) }

func newAsset(n int, org string) assets.Asset {
	at := t0.Add(time.Duration(n) * time.Minute)
	return assets.Asset{
		ID: assetID(n), OrgID: org, OwnerID: owner, Kind: assets.KindImage, ContentType: "image/gif",
		Size: 43, SHA256: fmt.Sprintf("%064d", n), BlobKey: fmt.Sprint("blobs/00/", n), Name: "dot.gif",
		Created: at, Updated: at,
	}
}

func mustInsert(t *testing.T, s *AssetsStore, as ...assets.Asset) {
	t.Helper()
	for _, a := range as {
		if err := s.InsertAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// libraryIDs is the ids a library lists, sorted.
func libraryIDs(t *testing.T, s *AssetsStore, org string) []string {
	t.Helper()
	lib, err := s.Library(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, it := range lib.Items {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	return ids
}

func entry(t *testing.T, s *AssetsStore, org, id string) (assets.LibraryItem, bool) {
	t.Helper()
	lib, err := s.Library(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(lib.Items, func(it assets.LibraryItem) bool { return it.ID == id })
	if i < 0 {
		return assets.LibraryItem{}, false
	}
	return lib.Items[i], true
}

func uses(a assets.Asset) []string {
	var out []string
	for _, u := range a.Uses {
		out = append(out, fmt.Sprint(u.Ref, "@", u.At.UnixMilli()))
	}
	return out
}

// TestAssets: what the store keeps reads back the same on both engines
// (times in milliseconds, uses recorded without a time), ids are unique,
// the library follows inserts, edits and deletes, and the scans visit
// everything.
func TestAssets(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		s := New(e).Assets()
		a := newAsset(1, orgA)
		a.Created = t0.Add(123456789) // sub-millisecond: kept to the millisecond
		a.Updated = a.Created
		a.Locale, a.AltText, a.Transcript = "fa", "یک نقطه", "…"
		a.Uses = []assets.Use{{Ref: "course:x@1", OrgID: orgA, At: t0}, {Ref: "course:y@2"}}
		mustInsert(t, s, a, newAsset(2, orgA), newAsset(3, orgB))
		if err := s.InsertAsset(ctx, newAsset(1, orgB)); !errors.Is(err, pathways.ErrConflict) || errors.Is(err, assets.ErrLibraryFull) {
			t.Errorf("insert of a taken id: %v", err)
		}
		got, err := s.Asset(ctx, a.ID)
		want := a
		want.Created, want.Updated = msUTC(a.Created), msUTC(a.Updated)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("read back:\n got %+v %v\nwant %+v", got, err, want)
		}
		if _, err := s.Asset(ctx, assetID(99)); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("missing asset: %v", err)
		}
		if ids := libraryIDs(t, s, orgA); !slices.Equal(ids, []string{assetID(1), assetID(2)}) {
			t.Errorf("library A: %v", ids)
		}
		if ids := libraryIDs(t, s, orgB); !slices.Equal(ids, []string{assetID(3)}) {
			t.Errorf("library B (the refused insert left nothing): %v", ids)
		}
		if lib, err := s.Library(ctx, "0194f7d2-0000-7000-8000-00000000000e"); err != nil || len(lib.Items) != 0 || lib.Items == nil {
			t.Errorf("library of an organisation that never uploaded: %+v %v", lib, err)
		}
		lib, _ := s.Library(ctx, orgA)
		if it := lib.Items[0]; it.ID != assetID(2) || !it.Created.Equal(newAsset(2, orgA).Created) || lib.Items[1] != assets.ItemOf(want) {
			t.Errorf("library A, newest first, as the assets say: %+v", lib.Items)
		}

		// An edit the entry shows, one it does not, and a failed one.
		up, err := s.UpdateAsset(ctx, a.ID, func(a *assets.Asset) error { a.Name = "renamed.gif"; a.Uses = nil; return nil })
		if err != nil || up.Name != "renamed.gif" {
			t.Fatalf("update: %+v %v", up, err)
		}
		if it, _ := entry(t, s, orgA, a.ID); it.Name != "renamed.gif" || it.Used {
			t.Errorf("entry after the update: %+v", it)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateAsset(ctx, a.ID, func(a *assets.Asset) error { a.Name = "no"; return boom }); !errors.Is(err, boom) {
			t.Errorf("failed change: %v", err)
		}
		if _, err := s.UpdateAsset(ctx, assetID(99), func(*assets.Asset) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("update of a missing asset: %v", err)
		}
		if got, _ := s.Asset(ctx, a.ID); got.Name != "renamed.gif" {
			t.Errorf("a failed change was written: %q", got.Name)
		}

		// Delete: refused by check, then done with its entry.
		if _, err := s.DeleteAsset(ctx, a.ID, func(assets.Asset) error { return assets.ErrInUse }); !errors.Is(err, assets.ErrInUse) {
			t.Errorf("delete refused: %v", err)
		}
		del, err := s.DeleteAsset(ctx, a.ID, func(assets.Asset) error { return nil })
		if err != nil || del.ID != a.ID || del.SHA256 != a.SHA256 {
			t.Errorf("delete: %+v %v", del, err)
		}
		if _, err := s.DeleteAsset(ctx, a.ID, func(assets.Asset) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("delete again: %v", err)
		}
		if ids := libraryIDs(t, s, orgA); !slices.Equal(ids, []string{assetID(2)}) {
			t.Errorf("library A after the delete: %v", ids)
		}

		// ListAsset and UnlistAsset, the clean-up's repairs.
		ghost := newAsset(7, orgA)
		if err := s.ListAsset(ctx, ghost); err != nil {
			t.Fatal(err)
		}
		if err := s.UnlistAsset(ctx, orgA, assetID(2)); err != nil {
			t.Fatal(err)
		}
		if err := s.UnlistAsset(ctx, orgA, assetID(2)); err != nil {
			t.Errorf("unlist again: %v", err)
		}
		if err := s.UnlistAsset(ctx, "0194f7d2-0000-7000-8000-00000000000e", assetID(2)); err != nil {
			t.Errorf("unlist in a library that does not exist: %v", err)
		}
		if ids := libraryIDs(t, s, orgA); !slices.Equal(ids, []string{ghost.ID}) {
			t.Errorf("library A after the repairs: %v", ids)
		}

		// Blob records.
		b, err := s.ClaimBlob(ctx, assets.Blob{SHA256: "feed", Key: "blobs/fe/ed", Size: 3, Created: t0.Add(7)}, assetID(2), t0)
		if err != nil || b.Key != "blobs/fe/ed" || !slices.Equal(b.Assets, []string{assetID(2)}) || !b.Created.Equal(t0) {
			t.Fatalf("first claim: %+v %v", b, err)
		}
		b, err = s.ClaimBlob(ctx, assets.Blob{SHA256: "feed", Key: "blobs/other", Size: 3, Created: t0}, assetID(3), t0.Add(time.Hour))
		if err != nil || b.Key != "blobs/fe/ed" || !slices.Equal(b.Assets, []string{assetID(2), assetID(3)}) {
			t.Fatalf("second claim: %+v %v", b, err)
		}
		b, err = s.ClaimBlob(ctx, assets.Blob{SHA256: "feed", Key: "blobs/retry"}, assetID(2), t0.Add(2*time.Hour))
		if err != nil || len(b.Assets) != 2 || !b.Claimed[assetID(2)].Equal(t0.Add(2*time.Hour)) || !b.Claimed[assetID(3)].Equal(t0.Add(time.Hour)) {
			t.Fatalf("claim again: %+v %v", b, err)
		}
		if got, err := s.Blob(ctx, "feed"); err != nil || !reflect.DeepEqual(got, b) {
			t.Errorf("blob read back: %+v %v, want %+v", got, err, b)
		}
		if b, last, err := s.ReleaseBlob(ctx, "feed", assetID(9)); err != nil || last || len(b.Assets) != 2 {
			t.Errorf("release of an asset not listed: %+v %v %v", b, last, err)
		}
		if b, last, err := s.ReleaseBlob(ctx, "feed", assetID(2)); err != nil || last || !slices.Equal(b.Assets, []string{assetID(3)}) {
			t.Errorf("release of one of two: %+v %v %v", b, last, err)
		}
		if b, last, err := s.ReleaseBlob(ctx, "feed", assetID(3)); err != nil || !last || b.Key != "blobs/fe/ed" || len(b.Assets) != 0 {
			t.Errorf("release of the last: %+v %v %v", b, last, err)
		}
		if _, _, err := s.ReleaseBlob(ctx, "feed", assetID(3)); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("release of a deleted record: %v", err)
		}
		if _, err := s.Blob(ctx, "feed"); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("deleted record: %v", err)
		}
		// A record of claims made before times were recorded.
		if err := e.Insert(ctx, collBlobs, "old", blobDoc{Key: "k", Assets: []string{assetID(2)}}); err != nil {
			t.Fatal(err)
		}
		if b, err := s.Blob(ctx, "old"); err != nil || b.Claimed != nil || !b.Claimed[assetID(2)].IsZero() {
			t.Errorf("record without claim times: %+v %v", b, err)
		}

		// Uploads.
		u := assets.Upload{
			ID: assetID(20), OrgID: orgA, OwnerID: owner,
			Meta: assets.Meta{ID: assetID(20), OrgID: orgA, Name: "big.mp4", DeclaredType: "video/mp4", Locale: "uk", AltText: "a", Transcript: "t"},
			Size: 20 << 20, BlobKey: "blobs/up", MultipartID: "mp", Created: t0, Expires: t0.Add(24 * time.Hour),
		}
		if err := s.InsertUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertUpload(ctx, u); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("insert of a taken upload id: %v", err)
		}
		if got, err := s.Upload(ctx, u.ID); err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("upload read back:\n got %+v %v\nwant %+v", got, err, u)
		}
		u2, err := s.UpdateUpload(ctx, u.ID, func(u *assets.Upload) error {
			u.Parts = append(u.Parts, assets.Part{N: 1, ETag: "e1", Size: 5 << 20})
			u.Offset, u.HashState, u.Kind, u.ContentType = 5<<20, []byte{0, 1, 2, 255}, assets.KindVideo, "video/mp4"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Upload(ctx, u.ID); err != nil || !reflect.DeepEqual(got, u2) || got.Offset != 5<<20 || len(got.Parts) != 1 {
			t.Errorf("updated upload read back: %+v %v, want %+v", got, err, u2)
		}
		if _, err := s.UpdateUpload(ctx, assetID(99), func(*assets.Upload) error { return nil }); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("update of a missing upload: %v", err)
		}

		// The scans.
		var seen []string
		if err := s.EachAsset(ctx, func(a assets.Asset) error { seen = append(seen, a.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seen, []string{assetID(2), assetID(3)}) {
			t.Errorf("EachAsset: %v", seen)
		}
		libs := map[string]int{}
		if err := s.EachLibrary(ctx, func(l assets.Library) error { libs[l.OrgID] = len(l.Items); return nil }); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(libs) != fmt.Sprint(map[string]int{orgA: 1, orgB: 1}) {
			t.Errorf("EachLibrary: %v", libs)
		}
		n := 0
		if err := s.EachBlob(ctx, func(b assets.Blob) error { n++; return nil }); err != nil || n != 1 {
			t.Errorf("EachBlob: %d %v", n, err)
		}
		n = 0
		if err := s.EachUpload(ctx, func(u assets.Upload) error { n++; return nil }); err != nil || n != 1 {
			t.Errorf("EachUpload: %d %v", n, err)
		}
		if err := s.DeleteUpload(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUpload(ctx, u.ID); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("delete a deleted upload: %v", err)
		}
	})
}

// TestAssetsInterleaved: for every read-then-write of the store, B writes
// on another instance between A's read and A's write; A's write must fail
// and retry, and the result must include both.
func TestAssetsInterleaved(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		other := New(dbtest.Second(t, e, Schema())).Assets()
		s := New(e).Assets()
		interleaved := func(coll, id string, between func()) (*AssetsStore, *dbtest.Interleaved) {
			i := dbtest.AfterGet(e, coll, id, between)
			return New(i).Assets(), i
		}
		fired := func(t *testing.T, i *dbtest.Interleaved) {
			t.Helper()
			if i.Fired != 1 {
				t.Errorf("B's write ran %d times, want 1", i.Fired)
			}
		}
		mustInsert(t, s, newAsset(1, orgA), newAsset(2, orgA))

		t.Run("UpdateAsset", func(t *testing.T) {
			a, i := interleaved(collAssets, assetID(1), func() {
				if _, err := other.UpdateAsset(ctx, assetID(1), func(a *assets.Asset) error { a.AltText = "B"; return nil }); err != nil {
					t.Error(err)
				}
			})
			got, err := a.UpdateAsset(ctx, assetID(1), func(a *assets.Asset) error { a.Name = "A.gif"; return nil })
			fired(t, i)
			if err != nil || got.Name != "A.gif" || got.AltText != "B" {
				t.Errorf("A's update after B's: %+v %v", got, err)
			}
			if it, _ := entry(t, s, orgA, assetID(1)); it.Name != "A.gif" {
				t.Errorf("entry: %+v", it)
			}
		})

		t.Run("UpdateAsset entry", func(t *testing.T) {
			// A wrote the asset and reads the library to refresh its
			// entry; B renames it again (asset and entry) in between: the
			// entry must end as the asset does.
			a, i := interleaved(collLibraries, orgA, func() {
				if _, err := other.UpdateAsset(ctx, assetID(1), func(a *assets.Asset) error { a.Name = "B.gif"; return nil }); err != nil {
					t.Error(err)
				}
			})
			if _, err := a.UpdateAsset(ctx, assetID(1), func(a *assets.Asset) error { a.Name = "A2.gif"; return nil }); err != nil {
				t.Fatal(err)
			}
			fired(t, i)
			got, _ := s.Asset(ctx, assetID(1))
			if it, _ := entry(t, s, orgA, assetID(1)); it.Name != got.Name || got.Name != "B.gif" {
				t.Errorf("entry %q, asset %q; want both B.gif", it.Name, got.Name)
			}
		})

		t.Run("PullUse", func(t *testing.T) {
			u1 := assets.Use{Ref: "course:c@1", OrgID: orgA, At: t0}
			if _, err := s.UpdateAsset(ctx, assetID(2), func(a *assets.Asset) error { a.Uses = []assets.Use{u1}; return nil }); err != nil {
				t.Fatal(err)
			}
			a, i := interleaved(collAssets, assetID(2), func() {
				if _, err := other.UpdateAsset(ctx, assetID(2), func(a *assets.Asset) error {
					a.Uses = append(a.Uses, assets.Use{Ref: "quiz:q@1", At: t0.Add(time.Second)})
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
			got, err := a.PullUse(ctx, assetID(2), u1)
			fired(t, i)
			if err != nil || !slices.Equal(uses(got), []string{fmt.Sprint("quiz:q@1@", t0.Add(time.Second).UnixMilli())}) {
				t.Errorf("A pulled u1 while B added a use: %v %v", uses(got), err)
			}
			if it, _ := entry(t, s, orgA, assetID(2)); !it.Used {
				t.Errorf("entry not used: %+v", it)
			}

			// B records the pulled use again, later, between A's read and
			// write: A's pull of the old one removes nothing.
			u2 := assets.Use{Ref: "course:c@2", At: t0}
			if _, err := s.UpdateAsset(ctx, assetID(2), func(a *assets.Asset) error { a.Uses = []assets.Use{u2, u2}; return nil }); err != nil {
				t.Fatal(err)
			}
			if got, err := s.PullUse(ctx, assetID(2), u2); err != nil || len(got.Uses) != 1 {
				t.Errorf("PullUse removes exactly one use: %v %v", uses(got), err)
			}
			a, i = interleaved(collAssets, assetID(2), func() {
				if _, err := other.UpdateAsset(ctx, assetID(2), func(a *assets.Asset) error {
					a.Uses = []assets.Use{{Ref: "course:c@2", At: t0.Add(time.Minute)}}
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
			got, err = a.PullUse(ctx, assetID(2), u2)
			fired(t, i)
			if err != nil || !slices.Equal(uses(got), []string{fmt.Sprint("course:c@2@", t0.Add(time.Minute).UnixMilli())}) {
				t.Errorf("the use recorded again meanwhile: %v %v", uses(got), err)
			}
			if got, err := s.PullUse(ctx, assetID(2), got.Uses[0]); err != nil || len(got.Uses) != 0 {
				t.Errorf("last use: %v %v", uses(got), err)
			}
			if it, _ := entry(t, s, orgA, assetID(2)); it.Used {
				t.Errorf("entry still used: %+v", it)
			}
			if _, err := s.PullUse(ctx, assetID(99), u2); !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("PullUse of a missing asset: %v", err)
			}
		})

		t.Run("DeleteAsset", func(t *testing.T) {
			// A checks a fresh read (no use), B adds a use, A's delete
			// must fail, read again and be refused by the check.
			a, i := interleaved(collAssets, assetID(2), func() {
				if _, err := other.UpdateAsset(ctx, assetID(2), func(a *assets.Asset) error {
					a.Uses = []assets.Use{{Ref: "course:c@3", At: t0}}
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
			_, err := a.DeleteAsset(ctx, assetID(2), func(a assets.Asset) error {
				if len(a.Uses) > 0 {
					return assets.ErrInUse
				}
				return nil
			})
			fired(t, i)
			if !errors.Is(err, assets.ErrInUse) {
				t.Errorf("delete of an asset given a use meanwhile: %v", err)
			}
			if _, err := s.Asset(ctx, assetID(2)); err != nil {
				t.Errorf("the asset is gone: %v", err)
			}
		})

		t.Run("ListAsset", func(t *testing.T) {
			a, i := interleaved(collLibraries, orgB, func() {
				if err := other.ListAsset(ctx, newAsset(11, orgB)); err != nil {
					t.Error(err)
				}
			})
			if err := a.ListAsset(ctx, newAsset(10, orgB)); err != nil {
				t.Fatal(err)
			}
			fired(t, i)
			a, i = interleaved(collLibraries, orgB, func() {
				if err := other.ListAsset(ctx, newAsset(12, orgB)); err != nil {
					t.Error(err)
				}
			})
			if err := a.UnlistAsset(ctx, orgB, assetID(10)); err != nil {
				t.Fatal(err)
			}
			fired(t, i)
			if ids := libraryIDs(t, s, orgB); !slices.Equal(ids, []string{assetID(11), assetID(12)}) {
				t.Errorf("library B: %v", ids)
			}
		})

		t.Run("ClaimBlob", func(t *testing.T) {
			// The record is created meanwhile, then changed meanwhile.
			a, i := interleaved(collBlobs, "c1", func() {
				if _, err := other.ClaimBlob(ctx, assets.Blob{SHA256: "c1", Key: "kB"}, "B", t0); err != nil {
					t.Error(err)
				}
			})
			b, err := a.ClaimBlob(ctx, assets.Blob{SHA256: "c1", Key: "kA"}, "A", t0)
			fired(t, i)
			if err != nil || b.Key != "kB" || !slices.Equal(b.Assets, []string{"B", "A"}) {
				t.Errorf("A claimed a record B created meanwhile: %+v %v", b, err)
			}
			a, i = interleaved(collBlobs, "c1", func() {
				if _, err := other.ClaimBlob(ctx, assets.Blob{SHA256: "c1", Key: "kD"}, "D", t0); err != nil {
					t.Error(err)
				}
			})
			b, err = a.ClaimBlob(ctx, assets.Blob{SHA256: "c1", Key: "kC"}, "C", t0)
			fired(t, i)
			if err != nil || b.Key != "kB" || !slices.Equal(b.Assets, []string{"B", "A", "D", "C"}) {
				t.Errorf("A claimed a record B changed meanwhile: %+v %v", b, err)
			}
			// The record is emptied and started again from other bytes
			// meanwhile (same revision number as A read, were records
			// deleted and inserted anew): A must join the new record.
			if err := e.Insert(ctx, collBlobs, "c2", blobDoc{Key: "kOld", Assets: []string{"X"}}); err != nil {
				t.Fatal(err)
			}
			a, i = interleaved(collBlobs, "c2", func() {
				if _, last, err := other.ReleaseBlob(ctx, "c2", "X"); err != nil || !last {
					t.Errorf("X's release: %v %v", last, err)
				}
				if _, err := other.ClaimBlob(ctx, assets.Blob{SHA256: "c2", Key: "kNew"}, "B", t0); err != nil {
					t.Error(err)
				}
			})
			b, err = a.ClaimBlob(ctx, assets.Blob{SHA256: "c2", Key: "kA"}, "A", t0)
			fired(t, i)
			if err != nil || b.Key != "kNew" || !slices.Equal(b.Assets, []string{"B", "A"}) {
				t.Errorf("A claimed a record emptied and started again meanwhile: %+v %v", b, err)
			}
		})

		t.Run("ReleaseBlob", func(t *testing.T) {
			// A releases the only asset; B claims the record meanwhile:
			// A must not delete it nor report last.
			if _, err := s.ClaimBlob(ctx, assets.Blob{SHA256: "r1", Key: "k"}, "A", t0); err != nil {
				t.Fatal(err)
			}
			a, i := interleaved(collBlobs, "r1", func() {
				if _, err := other.ClaimBlob(ctx, assets.Blob{SHA256: "r1", Key: "kB"}, "B", t0); err != nil {
					t.Error(err)
				}
			})
			b, last, err := a.ReleaseBlob(ctx, "r1", "A")
			fired(t, i)
			if err != nil || last || !slices.Equal(b.Assets, []string{"B"}) {
				t.Errorf("A's release while B claimed: %+v last %v %v", b, last, err)
			}
			// Two releases at once: exactly one reports last.
			if _, err := s.ClaimBlob(ctx, assets.Blob{SHA256: "r1", Key: "k"}, "A", t0); err != nil {
				t.Fatal(err)
			}
			var lastB bool
			a, i = interleaved(collBlobs, "r1", func() {
				var err error
				if _, lastB, err = other.ReleaseBlob(ctx, "r1", "B"); err != nil {
					t.Error(err)
				}
			})
			_, lastA, err := a.ReleaseBlob(ctx, "r1", "A")
			fired(t, i)
			if err != nil || !lastA || lastB {
				t.Errorf("two releases: A last %v (%v), B last %v; want A only", lastA, err, lastB)
			}
			if _, err := s.Blob(ctx, "r1"); !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("record after the last release: %v", err)
			}
		})

		t.Run("UpdateUpload", func(t *testing.T) {
			u := assets.Upload{ID: assetID(30), OrgID: orgA, OwnerID: owner, Size: 30, Created: t0, Expires: t0.Add(time.Hour)}
			if err := s.InsertUpload(ctx, u); err != nil {
				t.Fatal(err)
			}
			part := func(n int) func(*assets.Upload) error {
				return func(u *assets.Upload) error {
					u.Parts = append(u.Parts, assets.Part{N: n, ETag: fmt.Sprint("e", n), Size: 10})
					u.Offset += 10
					return nil
				}
			}
			a, i := interleaved(collUploads, u.ID, func() {
				if _, err := other.UpdateUpload(ctx, u.ID, part(1)); err != nil {
					t.Error(err)
				}
			})
			got, err := a.UpdateUpload(ctx, u.ID, part(2))
			fired(t, i)
			if err != nil || got.Offset != 20 || len(got.Parts) != 2 || got.Parts[0].N != 1 || got.Parts[1].N != 2 {
				t.Errorf("A's part after B's: %+v %v", got, err)
			}
			// The service's chunk rule: a part is recorded only at the
			// offset its chunk was sent for, so B's chunk at 20 wins and
			// A's (also sent at 20) is refused on its retry.
			at20 := func(n int) func(*assets.Upload) error {
				return func(u *assets.Upload) error {
					if u.Offset != 20 {
						return &assets.OffsetError{Offset: u.Offset}
					}
					return part(n)(u)
				}
			}
			a, i = interleaved(collUploads, u.ID, func() {
				if _, err := other.UpdateUpload(ctx, u.ID, at20(3)); err != nil {
					t.Error(err)
				}
			})
			_, err = a.UpdateUpload(ctx, u.ID, at20(4))
			fired(t, i)
			var oe *assets.OffsetError
			if !errors.As(err, &oe) || oe.Offset != 30 {
				t.Errorf("A's chunk at an offset B's filled meanwhile: %v", err)
			}
			if got, _ := s.Upload(ctx, u.ID); got.Offset != 30 || len(got.Parts) != 3 || got.Parts[2].N != 3 {
				t.Errorf("upload: %+v", got)
			}
		})
	})
}

// TestLibraryCap: two instances insert into a library with one place
// left, B between A's read of the library and A's write: A must retry,
// find it full and leave nothing behind. The cap is lowered to 3 here
// (the same code: BenchmarkLibraryEntry fills a library to the real cap).
func TestLibraryCap(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		capped := func(e docdb.Engine) *AssetsStore {
			s := New(e).Assets()
			s.libraryCap = 3
			return s
		}
		s, other := capped(e), capped(dbtest.Second(t, e, Schema()))
		mustInsert(t, s, newAsset(1, orgA), newAsset(2, orgA))
		i := dbtest.AfterGet(e, collLibraries, orgA, func() {
			if err := other.InsertAsset(ctx, newAsset(4, orgA)); err != nil {
				t.Errorf("B takes the last place: %v", err)
			}
		})
		err := capped(i).InsertAsset(ctx, newAsset(3, orgA))
		if !errors.Is(err, assets.ErrLibraryFull) || i.Fired != 1 {
			t.Errorf("A's insert into the library B filled: %v (interleaved %d)", err, i.Fired)
		}
		if _, err := s.Asset(ctx, assetID(3)); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("A's refused asset was kept: %v", err)
		}
		if ids := libraryIDs(t, s, orgA); !slices.Equal(ids, []string{assetID(1), assetID(2), assetID(4)}) {
			t.Errorf("library: %v", ids)
		}
		// An entry refreshed in a full library is no new entry; a place
		// freed is taken again.
		if _, err := s.UpdateAsset(ctx, assetID(4), func(a *assets.Asset) error { a.Name = "still.gif"; return nil }); err != nil {
			t.Errorf("update in a full library: %v", err)
		}
		if _, err := s.DeleteAsset(ctx, assetID(1), func(assets.Asset) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertAsset(ctx, newAsset(3, orgA)); err != nil {
			t.Errorf("insert into a freed place: %v", err)
		}
	})
}

// TestBlobClaimsConcurrent: goroutines on two instances claim and release
// one content over and over, each for its own asset, as uploads and
// deletes of identical files do. A claim must never join a record whose
// bytes a release deleted (every release finds its asset in the record it
// claimed), bytes are deleted once, when the last asset lets go, and at
// the end the record lists exactly the assets still holding it.
func TestBlobClaimsConcurrent(t *testing.T) {
	dbtest.Each(t, Schema(), func(t *testing.T, e docdb.Engine) {
		handles := []*AssetsStore{New(e).Assets(), New(dbtest.Second(t, e, Schema())).Assets()}
		const workers, rounds = 8, 12
		var (
			mu        sync.Mutex
			stored    = map[string]bool{} // bytes that exist, by key
			created   int                 // records made by a claim
			lasts     int                 // releases that said last
			conflicts int                 // operations out of tries (ErrConflict)
			wg        sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				asset := fmt.Sprint("asset-", w)
				for r := range rounds {
					s := handles[(w+r)%2]
					key := fmt.Sprintf("k-%d-%d", w, r)
					mu.Lock()
					stored[key] = true // bytes are stored before they are claimed
					mu.Unlock()
					b, err := s.ClaimBlob(ctx, assets.Blob{SHA256: "same", Key: key, Size: 1, Created: t0}, asset, t0)
					if errors.Is(err, pathways.ErrConflict) {
						// Out of tries on this hot document: a 409 that
						// changed nothing; the upload drops its bytes.
						mu.Lock()
						delete(stored, key)
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if b.Key == key {
						created++
					} else {
						delete(stored, key) // identical content is stored already
					}
					if !stored[b.Key] {
						t.Errorf("%s claimed a record whose bytes %s were deleted", asset, b.Key)
					}
					mu.Unlock()
					if w%2 == 0 && r == rounds-1 {
						return // holds it at the end
					}
					b2, last, err := s.ReleaseBlob(ctx, "same", asset)
					for errors.Is(err, pathways.ErrConflict) { // out of tries: the caller (or the clean-up) retries
						mu.Lock()
						conflicts++
						mu.Unlock()
						b2, last, err = s.ReleaseBlob(ctx, "same", asset)
					}
					if err != nil {
						t.Errorf("%s's release: %v", asset, err)
						return
					}
					mu.Lock()
					if b2.Key != b.Key {
						t.Errorf("%s released record %s, claimed %s", asset, b2.Key, b.Key)
					}
					if last {
						lasts++
						if !stored[b2.Key] {
							t.Errorf("bytes %s deleted twice", b2.Key)
						}
						delete(stored, b2.Key)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		b, err := handles[0].Blob(ctx, "same")
		if err != nil {
			t.Fatal(err)
		}
		var holders []string
		for w := 0; w < workers; w += 2 {
			holders = append(holders, fmt.Sprint("asset-", w))
		}
		if got := slices.Sorted(slices.Values(b.Assets)); !slices.Equal(got, holders) {
			t.Errorf("record lists %v, want %v", got, holders)
		}
		if keys := slices.Collect(maps.Keys(stored)); len(keys) != 1 || keys[0] != b.Key {
			t.Errorf("bytes left %v, want only the record's %s", keys, b.Key)
		}
		if lasts != created-1 {
			t.Errorf("%d releases said last, %d records were made (one left): want %d", lasts, created, created-1)
		}
		t.Logf("%d records made and emptied along the way; %d operations ran out of tries", created-1, conflicts)
	})
}

// BenchmarkLibraryEntry: the cost of an edit that rewrites an asset's
// library entry (asset read and write, library read and write), in a
// library of a few assets and in one at the cap, on SQLite.
func BenchmarkLibraryEntry(b *testing.B) {
	for _, size := range []int{100, assets.MaxLibrarySize} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			e := dbtest.New(b, "sqlite", Schema())
			lib := libraryDoc{Items: map[string]libraryItemDoc{}}
			for n := range size - 1 {
				lib.Items[assetID(100000+n)] = toLibraryItemDoc(newAsset(100000+n, orgA))
			}
			if err := e.Insert(ctx, collLibraries, orgA, lib); err != nil {
				b.Fatal(err)
			}
			s := New(e).Assets()
			if err := s.InsertAsset(ctx, newAsset(1, orgA)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.UpdateAsset(ctx, assetID(1), func(a *assets.Asset) error { a.Name = fmt.Sprint(i, ".gif"); return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
