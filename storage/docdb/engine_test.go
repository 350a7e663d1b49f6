package docdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// thing is a document with every kind of field the stores use.
type thing struct {
	Org     string            `json:"org"`
	Slug    string            `json:"slug,omitempty"`
	At      int64             `json:"at"`
	Pending bool              `json:"pending,omitempty"`
	N       int               `json:"n"`
	Big     int64             `json:"big"`
	Name    string            `json:"name"`
	Tags    []string          `json:"tags"`
	Texts   map[string]string `json:"texts,omitempty"`
	Inner   *inner            `json:"inner,omitempty"`
	When    time.Time         `json:"when"`
}

type inner struct {
	Score float64 `json:"score"`
	Keys  []int   `json:"keys"`
}

var schema = docdb.Schema{
	{Name: "things", Indexes: []docdb.Index{
		{Name: "org_at", Fields: []string{"org", "at"}},
		{Name: "pending_at", Fields: []string{"pending", "at"}},
		{Name: "slug", Fields: []string{"org", "slug"}, Unique: true},
	}},
	{Name: "counters"},
}

var ctx = context.Background()

func TestRoundTrip(t *testing.T) {
	dbtest.Each(t, schema, func(t *testing.T, e docdb.Engine) {
		want := thing{
			Org: "o1", Slug: "s", At: 1_700_000_000_123, Pending: true, N: -3, Big: 1 << 53,
			Name: "سلام — привіт", Tags: []string{"a", "b"}, Texts: map[string]string{"ar": "مرحبا", "en": "hi"},
			Inner: &inner{Score: 0.25, Keys: []int{3, 1}}, When: time.UnixMilli(1_700_000_000_123).UTC(),
		}
		if err := e.Insert(ctx, "things", "t1", want); err != nil {
			t.Fatal(err)
		}
		var got thing
		rev, err := e.Get(ctx, "things", "t1", &got)
		if err != nil || rev <= 0 {
			t.Fatalf("Get = rev %d, %v; want a positive revision", rev, err)
		}
		if !got.When.Equal(want.When) {
			t.Errorf("time read back as %v, want %v", got.When, want.When)
		}
		got.When = want.When
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		var empty thing
		if err := e.Insert(ctx, "things", "t2", thing{Org: "o1", Slug: "other"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Get(ctx, "things", "t2", &empty); err != nil || empty.Tags != nil || empty.Inner != nil {
			t.Errorf("empty document read back as %+v, %v", empty, err)
		}
	})
}

func TestConditionalWrites(t *testing.T) {
	dbtest.Each(t, schema, func(t *testing.T, e docdb.Engine) {
		var v thing
		if _, err := e.Get(ctx, "things", "nope", &v); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Get missing: %v, want ErrNotFound", err)
		}
		if err := e.Insert(ctx, "things", "a", thing{Org: "o", Slug: "x", N: 1}); err != nil {
			t.Fatal(err)
		}
		first, err := e.Get(ctx, "things", "a", &v)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Insert(ctx, "things", "a", thing{Org: "o", Slug: "y"}); !errors.Is(err, pathways.ErrConflict) || errors.Is(err, docdb.ErrStale) {
			t.Errorf("Insert taken id: %v, want ErrConflict (not stale)", err)
		}
		if err := e.Insert(ctx, "things", "b", thing{Org: "o", Slug: "x"}); !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("Insert taken unique key: %v, want ErrConflict", err)
		}
		if err := e.Insert(ctx, "things", "b", thing{Org: "other", Slug: "x"}); err != nil {
			t.Errorf("same slug in another org: %v", err)
		}
		rev, err := e.Replace(ctx, "things", "a", first, thing{Org: "o", Slug: "x", N: 2})
		if err != nil || rev != first+1 {
			t.Fatalf("Replace at %d = %d, %v; want %d", first, rev, err, first+1)
		}
		if got, err := e.Get(ctx, "things", "a", &v); err != nil || got != rev {
			t.Errorf("Get after Replace: rev %d, %v; want %d", got, err, rev)
		}
		if _, err := e.Replace(ctx, "things", "a", first, thing{Org: "o", N: 99}); !errors.Is(err, docdb.ErrStale) || !errors.Is(err, pathways.ErrConflict) {
			t.Errorf("Replace at stale rev: %v, want ErrStale", err)
		}
		if _, err := e.Replace(ctx, "things", "nope", 1, thing{}); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Replace missing: %v, want ErrNotFound", err)
		}
		if _, err := e.Get(ctx, "things", "a", &v); err != nil || v.N != 2 {
			t.Errorf("after a lost swap the document is %+v, %v; want N 2", v, err)
		}
		if err := e.Delete(ctx, "things", "a", first); !errors.Is(err, docdb.ErrStale) {
			t.Errorf("Delete at stale rev: %v, want ErrStale", err)
		}
		if err := e.Delete(ctx, "things", "a", rev); err != nil {
			t.Errorf("Delete at rev: %v", err)
		}
		// Deleted and inserted again, the document does not take up a
		// revision a writer may still hold from before: that writer's swap
		// fails instead of overwriting the new document.
		if err := e.Insert(ctx, "things", "a", thing{Org: "o", Slug: "x", N: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Replace(ctx, "things", "a", rev, thing{Org: "o", N: 99}); !errors.Is(err, docdb.ErrStale) {
			t.Errorf("Replace of a re-created document at the old revision: %v, want ErrStale", err)
		}
		if _, err := e.Replace(ctx, "things", "a", first, thing{Org: "o", N: 99}); !errors.Is(err, docdb.ErrStale) {
			t.Errorf("Replace of a re-created document at its first old revision: %v, want ErrStale", err)
		}
		if err := e.Delete(ctx, "things", "a", docdb.AnyRev); err != nil {
			t.Fatal(err)
		}
		if err := e.Delete(ctx, "things", "a", docdb.AnyRev); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Delete missing: %v, want ErrNotFound", err)
		}
		if err := e.Delete(ctx, "things", "b", docdb.AnyRev); err != nil {
			t.Errorf("Delete at any rev: %v", err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := e.Get(cancelled, "things", "b", &v); !errors.Is(err, context.Canceled) {
			t.Errorf("Get with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

// ids lists the documents q selects as id@n, n counting the document's
// writes (1 as inserted), from revs, the revisions they were inserted at.
func ids(t *testing.T, e docdb.Engine, q docdb.Query, revs map[string]docdb.Rev) string {
	t.Helper()
	var out []string
	if err := e.List(ctx, "things", q, func(d docdb.Doc) error {
		var v thing
		if err := d.Decode(&v); err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s@%d", d.ID, d.Rev-revs[d.ID]+1))
		return nil
	}); err != nil {
		t.Fatalf("List(%+v): %v", q, err)
	}
	return fmt.Sprint(out)
}

func TestList(t *testing.T) {
	dbtest.Each(t, schema, func(t *testing.T, e docdb.Engine) {
		for i, d := range []struct {
			id      string
			org     string
			at      int64
			pending bool
		}{
			{"e", "o1", 30, true}, {"a", "o1", 10, false}, {"c", "o2", 10, true},
			{"b", "o1", 20, true}, {"d", "o1", 20, false}, {"f", "o2", 5, false},
		} {
			if err := e.Insert(ctx, "things", d.id, thing{Org: d.org, At: d.at, Pending: d.pending, Slug: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		revs := map[string]docdb.Rev{}
		for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
			var v thing
			rev, err := e.Get(ctx, "things", id, &v)
			if err != nil {
				t.Fatal(err)
			}
			revs[id] = rev
		}
		if _, err := e.Replace(ctx, "things", "d", revs["d"], thing{Org: "o1", At: 20, Slug: "d"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    docdb.Query
			want string
		}{
			{docdb.Query{Limit: 10}, "[a@1 b@1 c@1 d@2 e@1 f@1]"},
			{docdb.Query{Limit: 2, AfterID: "b"}, "[c@1 d@2]"},
			{docdb.Query{Limit: 2, Offset: 4}, "[e@1 f@1]"},
			{docdb.Query{Index: "org_at", Eq: []any{"o1"}, Limit: 10}, "[a@1 b@1 d@2 e@1]"},
			{docdb.Query{Index: "org_at", Eq: []any{"o1"}, Below: int64(30), Limit: 10}, "[a@1 b@1 d@2]"},
			{docdb.Query{Index: "org_at", Eq: []any{"o1"}, Limit: 2, Offset: 1}, "[b@1 d@2]"},
			{docdb.Query{Index: "org_at", Eq: []any{"o1", int64(20)}, AfterID: "b", Limit: 10}, "[d@2]"},
			{docdb.Query{Index: "org_at", Limit: 10}, "[a@1 b@1 d@2 e@1 f@1 c@1]"},
			{docdb.Query{Index: "pending_at", Eq: []any{true}, Below: int64(25), Limit: 10}, "[c@1 b@1]"},
			{docdb.Query{Index: "org_at", Eq: []any{"none"}, Limit: 10}, "[]"},
		} {
			if got := ids(t, e, c.q, revs); got != c.want {
				t.Errorf("List(%+v) = %s, want %s", c.q, got, c.want)
			}
		}
		for _, bad := range []docdb.Query{
			{Index: "nope", Limit: 1},
			{Index: "org_at", Eq: []any{"o1", int64(1), "x"}, Limit: 1},
			{Index: "org_at", AfterID: "a", Limit: 1},
			{Limit: 0}, {Limit: docdb.MaxLimit + 1}, {Limit: 1, Offset: -1},
		} {
			if err := e.List(ctx, "things", bad, func(docdb.Doc) error { return nil }); err == nil {
				t.Errorf("List(%+v) accepted", bad)
			}
		}
		stop := errors.New("stop")
		n := 0
		if err := e.List(ctx, "things", docdb.Query{Limit: 10}, func(docdb.Doc) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("fn's error: List returned %v after %d documents", err, n)
		}
		var seen []string
		err := docdb.Each(ctx, e, "things", docdb.Query{Limit: 4}, func(d docdb.Doc) error { seen = append(seen, d.ID); return nil })
		if err != nil || fmt.Sprint(seen) != "[a b c d e f]" {
			t.Errorf("Each by id = %v, %v", seen, err)
		}
		seen = nil
		err = docdb.Each(ctx, e, "things", docdb.Query{Index: "org_at", Eq: []any{"o1"}, Limit: 3}, func(d docdb.Doc) error { seen = append(seen, d.ID); return nil })
		if err != nil || fmt.Sprint(seen) != "[a b d e]" {
			t.Errorf("Each on an index = %v, %v", seen, err)
		}
	})
}

type counter struct {
	N    int      `json:"n"`
	Seen []string `json:"seen"`
}

// TestUpdateInterleaved: A reads, B writes, A's write must fail and A
// decides again on B's document.
func TestUpdateInterleaved(t *testing.T) {
	dbtest.Each(t, schema, func(t *testing.T, e docdb.Engine) {
		other := dbtest.Second(t, e, schema)
		a := dbtest.AfterGet(e, "counters", "c", func() {
			if _, _, err := docdb.Update(ctx, other, "counters", "c", newCounter, add("B")); err != nil {
				t.Errorf("B: %v", err)
			}
		})
		calls := 0
		got, rev, err := docdb.Update(ctx, a, "counters", "c", newCounter, func(c *counter) error {
			calls++
			return add("A")(c)
		})
		if err != nil {
			t.Fatal(err)
		}
		var stored counter
		first, _ := e.Get(ctx, "counters", "c", &stored)
		if a.Fired != 1 || calls != 2 || got.N != 2 || fmt.Sprint(got.Seen) != "[B A]" || rev != first || fmt.Sprint(stored) != fmt.Sprint(got) {
			t.Errorf("A decided %d times, wrote %+v at rev %d (stored %+v at %d); want twice, [B A] at the stored revision", calls, got, rev, stored, first)
		}
		// The same with an existing document: B's replace beats A's.
		a = dbtest.AfterGet(e, "counters", "c", func() {
			if _, _, err := docdb.Update(ctx, other, "counters", "c", nil, add("B2")); err != nil {
				t.Errorf("B: %v", err)
			}
		})
		got, rev, err = docdb.Update(ctx, a, "counters", "c", nil, add("A2"))
		if err != nil || fmt.Sprint(got.Seen) != "[B A B2 A2]" || rev != first+2 {
			t.Errorf("second round: %+v at %d, %v", got, rev, err)
		}
		if _, _, err := docdb.Update(ctx, e, "counters", "missing", nil, add("x")); !errors.Is(err, pathways.ErrNotFound) {
			t.Errorf("Update of a missing document without missing: %v", err)
		}
		refuse := errors.New("refused")
		if _, _, err := docdb.Update(ctx, e, "counters", "c", nil, func(*counter) error { return refuse }); !errors.Is(err, refuse) {
			t.Errorf("change's error: %v", err)
		}
	})
}

// TestUpdateTwoInstances: concurrent increments through two handles on one
// database lose none.
func TestUpdateTwoInstances(t *testing.T) {
	dbtest.Each(t, schema, func(t *testing.T, e docdb.Engine) {
		engines := []docdb.Engine{e, dbtest.Second(t, e, schema)}
		const each = 25
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, _, err := docdb.Update(ctx, engines[i%2], "counters", "n", newCounter, func(c *counter) error { c.N++; return nil }); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var c counter
		_, err := e.Get(ctx, "counters", "n", &c)
		if err != nil || c.N != 4*each {
			t.Errorf("after %d increments: %+v, %v", 4*each, c, err)
		}
	})
}

func newCounter() (counter, error) { return counter{}, nil }

func add(who string) func(*counter) error {
	return func(c *counter) error { c.N++; c.Seen = append(c.Seen, who); return nil }
}
