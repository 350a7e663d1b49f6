package lru

import (
	"sync"
	"testing"
)

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](10)
	c.Add("a", 1, 4)
	c.Add("b", 2, 4)
	if _, ok := c.Get("a"); !ok { // a is now more recent than b
		t.Fatal("a missing")
	}
	c.Add("c", 3, 4) // 12 > 10: b goes
	if _, ok := c.Get("b"); ok {
		t.Error("b should have been evicted")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if s := c.Stats(); s.Entries != 2 || s.Cost != 8 {
		t.Errorf("stats = %+v, want 2 entries costing 8", s)
	}
}

func TestReplaceAndOversized(t *testing.T) {
	c := New[string, string](10)
	c.Add("a", "x", 3)
	c.Add("a", "y", 5)
	if v, _ := c.Get("a"); v != "y" {
		t.Errorf("a = %q, want y", v)
	}
	if s := c.Stats(); s.Cost != 5 || s.Entries != 1 {
		t.Errorf("after replace: %+v", s)
	}
	c.Add("big", "z", 11)
	if _, ok := c.Get("big"); ok {
		t.Error("a value above the budget was kept")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("an oversized add evicted others")
	}
	c.Remove("a")
	if s := c.Stats(); s.Cost != 0 || s.Entries != 0 {
		t.Errorf("after remove: %+v", s)
	}
}

func TestConcurrentUseStaysWithinBudget(t *testing.T) {
	c := New[int, []byte](1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := (g*500 + i) % 300
				if _, ok := c.Get(k); !ok {
					c.Add(k, make([]byte, 10), 10)
				}
			}
		})
	}
	wg.Wait()
	if s := c.Stats(); s.Cost > 1000 || s.Cost != int64(s.Entries)*10 {
		t.Errorf("stats %+v: over budget or cost out of step", s)
	}
}
