// Package lru is a least-recently-used cache bounded by the total cost
// (bytes, usually) of what it holds, safe for concurrent use. Pathways keeps
// published course content in it: immutable, so an entry never goes stale,
// and bounded, so memory stays flat however many courses are read.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, evicting the least recently used entries
// once the sum of their costs exceeds the budget.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	order   *list.List // front: most recently used
	entries map[K]*list.Element
	hits    int64
	misses  int64
}

type entry[K comparable, V any] struct {
	key   K
	value V
	cost  int64
}

// New returns a cache holding entries whose costs sum to at most budget.
func New[K comparable, V any](budget int64) *Cache[K, V] {
	return &Cache[K, V]{budget: budget, order: list.New(), entries: map[K]*list.Element{}}
}

// Get returns the value under key and marks it recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		c.misses++
		var zero V
		return zero, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).value, true
}

// Add stores value under key at the given cost, replacing any value there,
// and evicts the least recently used entries until the cache fits its
// budget. A value costing more than the whole budget is not kept.
func (c *Cache[K, V]) Add(key K, value V, cost int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	if cost > c.budget {
		return
	}
	c.entries[key] = c.order.PushFront(&entry[K, V]{key: key, value: value, cost: cost})
	c.used += cost
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

// Remove drops key, if present.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry[K, V])
	delete(c.entries, e.key)
	c.used -= e.cost
}

// Stats is what a cache holds and how it has served.
type Stats struct {
	Entries      int
	Cost, Budget int64
	Hits, Misses int64
}

// Stats returns the cache's current figures.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Cost: c.used, Budget: c.budget, Hits: c.hits, Misses: c.misses}
}
