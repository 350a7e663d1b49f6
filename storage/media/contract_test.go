package media_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/storage/media"
	"github.com/pathways-lms/pathways/storage/media/miniotest"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }

func openDisk(t testing.TB) assets.Blobs {
	d, err := media.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func openS3(t testing.TB) assets.Blobs { return miniotest.NewS3(t) }

func TestDisk(t *testing.T) {
	t.Parallel()
	testBlobs(t, openDisk)
}

func TestS3(t *testing.T) {
	t.Parallel()
	testBlobs(t, openS3)
}

// big is larger than the S3 store's 8 MiB part, so that Put takes the
// multipart path there.
const big = 12 << 20

// testBlobs checks the assets.Blobs contract on fresh stores from open.
func testBlobs(t *testing.T, open func(testing.TB) assets.Blobs) {
	ctx := context.Background()

	t.Run("put and open ranges", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		data := randomBytes(t, 1000)
		put(t, b, "blobs/x", data)
		for _, c := range []struct {
			offset, length int64
			want           []byte
		}{
			{0, -1, data},
			{10, -1, data[10:]},
			{10, 100, data[10:110]},
			{0, 1, data[:1]},
			{999, 1, data[999:]},
			{990, 100, data[990:]}, // past the end: stops at the end
			{990, math.MaxInt64, data[990:]},
			{0, 0, nil},
			{1000, -1, nil}, // offset at the end: nothing to read
			{1000, 5, nil},
		} {
			if got := read(t, b, "blobs/x", c.offset, c.length); !bytes.Equal(got, c.want) {
				t.Errorf("Open(%d, %d): got %d bytes, want %d", c.offset, c.length, len(got), len(c.want))
			}
		}
		for _, off := range []int64{1001, 5000} {
			_, err := b.Open(ctx, "blobs/x", off, -1)
			if re := (*media.RangeError)(nil); !errors.As(err, &re) || re.Size != 1000 || re.Offset != off {
				t.Errorf("Open(%d, -1): got %v, want *RangeError{Size: 1000}", off, err)
			}
		}
		if _, err := b.Open(ctx, "blobs/x", -1, -1); err == nil {
			t.Error("Open(-1, -1): no error")
		}
	})

	t.Run("stat", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		before := time.Now().Add(-time.Minute)
		put(t, b, "blobs/s", randomBytes(t, 1234))
		info, err := b.Stat(ctx, "blobs/s")
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != "blobs/s" || info.Size != 1234 || info.Modified.Before(before) || info.Modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("Stat: %+v", info)
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		put(t, b, "blobs/o", randomBytes(t, 5000))
		second := randomBytes(t, 300)
		put(t, b, "blobs/o", second)
		if got := read(t, b, "blobs/o", 0, -1); !bytes.Equal(got, second) {
			t.Errorf("after overwrite: %d bytes, want the second blob's %d", len(got), len(second))
		}
		if info, err := b.Stat(ctx, "blobs/o"); err != nil || info.Size != 300 {
			t.Errorf("Stat after overwrite: %+v, %v", info, err)
		}
	})

	t.Run("empty and unknown sizes", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		put(t, b, "blobs/empty", nil)
		if got := read(t, b, "blobs/empty", 0, -1); len(got) != 0 {
			t.Errorf("empty blob reads %d bytes", len(got))
		}
		for _, n := range []int{0, 1000, big} {
			data := randomBytes(t, n)
			key := fmt.Sprintf("blobs/unknown-%d", n)
			if err := b.Put(ctx, key, bytes.NewReader(data), -1); err != nil {
				t.Fatalf("Put(size -1, %d bytes): %v", n, err)
			}
			if got := read(t, b, key, 0, -1); !bytes.Equal(got, data) {
				t.Errorf("size -1, %d bytes: read back %d bytes, not the same", n, len(got))
			}
		}
	})

	t.Run("delete and missing", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		put(t, b, "blobs/d", []byte("bye"))
		if err := b.Delete(ctx, "blobs/d"); err != nil {
			t.Fatal(err)
		}
		assertAbsent(t, b, "blobs/d")
		if err := b.Delete(ctx, "blobs/d"); err != nil {
			t.Errorf("delete again: %v", err)
		}
		if err := b.Delete(ctx, "blobs/never"); err != nil {
			t.Errorf("delete missing: %v", err)
		}
		assertAbsent(t, b, "never/existed")
	})

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		keys := []string{"a/1", "a/2", "a/b/3", "ab", "b/1"}
		for _, k := range keys {
			put(t, b, k, []byte(k))
		}
		// An upload in progress is no blob.
		id, err := b.CreateMultipart(ctx, "a/pending")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.PutPart(ctx, "a/pending", id, 1, bytes.NewReader([]byte("part")), 4); err != nil {
			t.Fatal(err)
		}
		// Nor is a failed Put, whatever it left.
		_ = b.Put(ctx, "a/failed", &failingReader{data: randomBytes(t, 100)}, 200)

		for prefix, want := range map[string][]string{
			"":      keys,
			"a/":    {"a/1", "a/2", "a/b/3"},
			"a":     {"a/1", "a/2", "a/b/3", "ab"},
			"a/b":   {"a/b/3"},
			"b/1":   {"b/1"},
			"c/":    nil,
			"nope/": nil,
		} {
			var got []string
			err := b.List(ctx, prefix, func(info assets.BlobInfo) error {
				if info.Size != int64(len(info.Key)) {
					t.Errorf("List: %s has size %d", info.Key, info.Size)
				}
				got = append(got, info.Key)
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err = b.List(ctx, "", func(assets.BlobInfo) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("List with failing fn: %v after %d calls, want stop after 1", err, calls)
		}
	})

	t.Run("failed puts leave nothing", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		for _, c := range []struct {
			name string
			r    func() io.Reader
			size int64
			want error // for errors.Is; nil: any error
		}{
			{"reader fails", func() io.Reader { return &failingReader{data: randomBytes(t, 500)} }, 1000, errBoom},
			{"reader fails, big", func() io.Reader { return &failingReader{data: randomBytes(t, 10<<20)} }, big, errBoom},
			{"reader fails, size unknown", func() io.Reader { return &failingReader{data: randomBytes(t, 10<<20)} }, -1, errBoom},
			{"short", func() io.Reader { return bytes.NewReader(randomBytes(t, 999)) }, 1000, io.ErrUnexpectedEOF},
			{"short, big", func() io.Reader { return bytes.NewReader(randomBytes(t, big-1)) }, big, io.ErrUnexpectedEOF},
			{"short, empty", func() io.Reader { return bytes.NewReader(nil) }, 10, io.ErrUnexpectedEOF},
			{"long", func() io.Reader { return bytes.NewReader(randomBytes(t, 1001)) }, 1000, nil},
			{"long, big", func() io.Reader { return bytes.NewReader(randomBytes(t, big+1)) }, big, nil},
			{"long, size 0", func() io.Reader { return bytes.NewReader([]byte("x")) }, 0, nil},
		} {
			key := "blobs/failed"
			err := b.Put(ctx, key, c.r(), c.size)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("%s: Put returned %v, want an error (wrapping %v)", c.name, err, c.want)
			}
			if errors.Is(err, pathways.ErrUnavailable) || errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("%s: the input's fault is reported as the store's: %v", c.name, err)
			}
			assertAbsent(t, b, key)
			assertNoLeftovers(t, b, key)
		}
	})

	t.Run("failed put keeps the previous blob", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		old := randomBytes(t, 100)
		put(t, b, "blobs/keep", old)
		if err := b.Put(ctx, "blobs/keep", &failingReader{data: randomBytes(t, 50)}, 100); err == nil {
			t.Fatal("Put with a failing reader succeeded")
		}
		if got := read(t, b, "blobs/keep", 0, -1); !bytes.Equal(got, old) {
			t.Errorf("after a failed Put the blob reads %d bytes, not the previous %d", len(got), len(old))
		}
	})

	t.Run("cancelled ctx leaves nothing", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		for _, size := range []int64{1 << 20, big, -1} {
			ctx, cancel := context.WithCancel(ctx)
			r := &cancellingReader{r: bytes.NewReader(randomBytes(t, big)), after: 10 << 20, cancel: cancel}
			if size == 1<<20 {
				r.after = 64 << 10
				r.r = bytes.NewReader(randomBytes(t, int(size)))
			}
			err := b.Put(ctx, "blobs/cancelled", r, size)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("size %d: Put with ctx cancelled midway returned %v", size, err)
			}
			assertAbsent(t, b, "blobs/cancelled")
			assertNoLeftovers(t, b, "blobs/cancelled")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Put(cancelled, "blobs/cancelled", bytes.NewReader([]byte("x")), 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Put with a cancelled ctx returned %v", err)
		}
		assertAbsent(t, b, "blobs/cancelled")
	})

	t.Run("multipart", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const key = "blobs/multi"
		id, err := b.CreateMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		data := [][]byte{randomBytes(t, assets.MinPartSize), randomBytes(t, assets.MinPartSize), randomBytes(t, 1000)}
		parts := make([]assets.Part, len(data))
		for _, i := range []int{2, 0, 1} { // parts may arrive in any order
			etag := putPart(t, b, key, id, i+1, data[i])
			parts[i] = assets.Part{N: i + 1, ETag: etag, Size: int64(len(data[i]))}
		}
		assertAbsent(t, b, key) // nothing before Complete
		if err := b.CompleteMultipart(ctx, key, id, parts); err != nil {
			t.Fatal(err)
		}
		want := bytes.Join(data, nil)
		if got := read(t, b, key, 0, -1); !bytes.Equal(got, want) {
			t.Errorf("completed blob: %d bytes, want %d, the parts joined", len(got), len(want))
		}
		if got := read(t, b, key, assets.MinPartSize-10, 20); !bytes.Equal(got, want[assets.MinPartSize-10:assets.MinPartSize+10]) {
			t.Error("range across a part boundary differs")
		}
		if info, err := b.Stat(ctx, key); err != nil || info.Size != int64(len(want)) {
			t.Errorf("Stat: %+v, %v", info, err)
		}
		assertNoLeftovers(t, b, key)
		if _, err := b.PutPart(ctx, key, id, 4, bytes.NewReader([]byte("late")), 4); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("PutPart to a completed upload: %v, want ErrNotFound", err)
		}
	})

	t.Run("multipart single small part", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		id, err := b.CreateMultipart(ctx, "blobs/one")
		if err != nil {
			t.Fatal(err)
		}
		etag := putPart(t, b, "blobs/one", id, 1, []byte("tiny"))
		if err := b.CompleteMultipart(ctx, "blobs/one", id, []assets.Part{{N: 1, ETag: etag, Size: 4}}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, b, "blobs/one", 0, -1); string(got) != "tiny" {
			t.Errorf("got %q", got)
		}
	})

	t.Run("multipart refuses small parts", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const key = "blobs/small"
		id, err := b.CreateMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		parts := []assets.Part{
			{N: 1, ETag: putPart(t, b, key, id, 1, randomBytes(t, assets.MinPartSize-1))},
			{N: 2, ETag: putPart(t, b, key, id, 2, randomBytes(t, 10))},
		}
		err = b.CompleteMultipart(ctx, key, id, parts)
		if err == nil || errors.Is(err, pathways.ErrNotFound) || errors.Is(err, pathways.ErrUnavailable) {
			t.Errorf("Complete with a small first part: %v, want a plain error", err)
		}
		assertAbsent(t, b, key)
		for _, bad := range [][]assets.Part{nil, {parts[1], parts[0]}, {{N: 0, ETag: parts[0].ETag}}} {
			if err := b.CompleteMultipart(ctx, key, id, bad); err == nil {
				t.Errorf("Complete(%v) succeeded", bad)
			}
		}
		if err := b.AbortMultipart(ctx, key, id); err != nil {
			t.Fatal(err)
		}
		assertNoLeftovers(t, b, key)
	})

	t.Run("multipart part replaced", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const key = "blobs/replaced"
		id, err := b.CreateMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		first := putPart(t, b, key, id, 1, []byte("first"))
		second := putPart(t, b, key, id, 1, []byte("second"))
		if first == second {
			t.Fatalf("two contents, one ETag %q", first)
		}
		if err := b.CompleteMultipart(ctx, key, id, []assets.Part{{N: 1, ETag: first}}); err == nil {
			t.Error("Complete with the replaced part's ETag succeeded")
		}
		if err := b.CompleteMultipart(ctx, key, id, []assets.Part{{N: 1, ETag: second}}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, b, key, 0, -1); string(got) != "second" {
			t.Errorf("got %q, want the second part", got)
		}
		assertNoLeftovers(t, b, key)
	})

	t.Run("multipart failed part", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const key = "blobs/failedpart"
		id, err := b.CreateMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.PutPart(ctx, key, id, 1, &failingReader{data: []byte("half")}, 8); !errors.Is(err, errBoom) {
			t.Errorf("PutPart with failing reader: %v", err)
		}
		if _, err := b.PutPart(ctx, key, id, 1, bytes.NewReader([]byte("short")), 8); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("PutPart with short reader: %v", err)
		}
		for _, n := range []int{0, assets.MaxParts + 1} {
			if _, err := b.PutPart(ctx, key, id, n, bytes.NewReader(nil), 0); err == nil {
				t.Errorf("PutPart(n=%d) succeeded", n)
			}
		}
		// The failed parts were not stored: completing with part 1 fails.
		if err := b.CompleteMultipart(ctx, key, id, []assets.Part{{N: 1, ETag: "d41d8cd98f00b204e9800998ecf8427e"}}); err == nil {
			t.Error("Complete with a part never stored succeeded")
		}
		if err := b.AbortMultipart(ctx, key, id); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("multipart abort", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const key = "blobs/aborted"
		id, err := b.CreateMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		etag := putPart(t, b, key, id, 1, []byte("gone"))
		if err := b.AbortMultipart(ctx, key, id); err != nil {
			t.Fatal(err)
		}
		if err := b.AbortMultipart(ctx, key, id); err != nil {
			t.Errorf("abort twice: %v", err)
		}
		assertAbsent(t, b, key)
		assertNoLeftovers(t, b, key)
		if _, err := b.PutPart(ctx, key, id, 1, bytes.NewReader([]byte("x")), 1); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("PutPart after abort: %v, want ErrNotFound", err)
		}
		if err := b.CompleteMultipart(ctx, key, id, []assets.Part{{N: 1, ETag: etag}}); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Complete after abort: %v, want ErrNotFound", err)
		}
		if err := b.AbortMultipart(ctx, key, "00000000000000000000000000000000"); err != nil {
			t.Errorf("abort unknown upload: %v", err)
		}
	})

	t.Run("multipart upload is bound to its key", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		id, err := b.CreateMultipart(ctx, "blobs/mine")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.PutPart(ctx, "blobs/other", id, 1, bytes.NewReader([]byte("x")), 1); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("PutPart with another key: %v, want ErrNotFound", err)
		}
		if err := b.AbortMultipart(ctx, "blobs/mine", id); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent puts", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		const n = 16
		data := make([][]byte, n)
		for i := range data {
			data[i] = randomBytes(t, 100_000+i)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = b.Put(ctx, fmt.Sprintf("blobs/c/%d", i), bytes.NewReader(data[i]), int64(len(data[i])))
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("put %d: %v", i, errs[i])
				continue
			}
			if got := read(t, b, fmt.Sprintf("blobs/c/%d", i), 0, -1); !bytes.Equal(got, data[i]) {
				t.Errorf("blob %d differs", i)
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		t.Parallel()
		if err := open(t).Ping(ctx); err != nil {
			t.Error(err)
		}
	})
}

// errBoom is what failingReader fails with.
var errBoom = errors.New("boom")

// failingReader yields data, then fails.
type failingReader struct {
	data []byte
	off  int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.off == len(r.data) {
		return 0, errBoom
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

// cancellingReader cancels its ctx once after bytes have been read from it,
// and goes on yielding data.
type cancellingReader struct {
	r      io.Reader
	after  int
	n      int
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += n
	if r.n >= r.after {
		r.cancel()
	}
	return n, err
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func put(t testing.TB, b assets.Blobs, key string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func putPart(t testing.TB, b assets.Blobs, key, id string, n int, data []byte) string {
	t.Helper()
	etag, err := b.PutPart(context.Background(), key, id, n, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("put part %d: %v", n, err)
	}
	if etag == "" {
		t.Fatalf("put part %d: empty ETag", n)
	}
	return etag
}

func read(t testing.TB, b assets.Blobs, key string, offset, length int64) []byte {
	t.Helper()
	r, err := b.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("open %s (%d, %d): %v", key, offset, length, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// assertAbsent checks that Open and Stat report key as not found.
func assertAbsent(t testing.TB, b assets.Blobs, key string) {
	t.Helper()
	if r, err := b.Open(context.Background(), key, 0, -1); !errors.Is(err, pathways.ErrNotFound) {
		if err == nil {
			r.Close()
		}
		t.Errorf("Open(%s): %v, want ErrNotFound", key, err)
	}
	if _, err := b.Stat(context.Background(), key); !errors.Is(err, pathways.ErrNotFound) {
		t.Errorf("Stat(%s): %v, want ErrNotFound", key, err)
	}
}

// assertNoLeftovers checks that the store keeps no temporary file or
// incomplete upload for key.
func assertNoLeftovers(t testing.TB, b assets.Blobs, key string) {
	t.Helper()
	left, err := media.Leftovers(context.Background(), b, key)
	if err != nil {
		t.Fatalf("leftovers: %v", err)
	}
	if len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}
