package stores

import (
	"cmp"
	"maps"
	"slices"
)

// The list helpers every store's documents use.

// list is a slice encoded as absent when nil and as an array (possibly
// empty) otherwise, so nil and empty survive a round trip apart: json's
// omitzero and the MongoDB driver's omitempty both ask IsZero.
type list[T any] []T

// IsZero is true for nil lists only.
func (l list[T]) IsZero() bool { return l == nil }

// convert maps in through f, keeping nil nil.
func convert[T, U any](in []T, f func(T) U) list[U] {
	if in == nil {
		return nil
	}
	out := make(list[U], len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// convertBack maps a stored list back through f, keeping nil nil.
func convertBack[T, U any](in list[T], f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// keyed stores a map as an array sorted by key, each entry made by f, so
// no key (message IDs with dots, question keys, answers) ever becomes a
// field name; nil stays nil.
func keyed[K cmp.Ordered, V, D any](m map[K]V, f func(K, V) D) list[D] {
	if m == nil {
		return nil
	}
	out := make(list[D], 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, f(k, m[k]))
	}
	return out
}

// unkeyed turns an array stored by keyed back into its map; nil stays nil.
func unkeyed[K comparable, V, D any](l list[D], f func(D) (K, V)) map[K]V {
	if l == nil {
		return nil
	}
	m := make(map[K]V, len(l))
	for _, d := range l {
		k, v := f(d)
		m[k] = v
	}
	return m
}

// pairDoc is one entry of a string map (texts by locale, answers by
// key), stored as an array element so no key ever becomes a field name.
type pairDoc struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// toPairs stores m as pairs sorted by key; nil stays nil.
func toPairs(m map[string]string) list[pairDoc] {
	return keyed(m, func(k, v string) pairDoc { return pairDoc{Key: k, Value: v} })
}

// fromPairs is the map of stored pairs; nil stays nil.
func fromPairs(l list[pairDoc]) map[string]string {
	return unkeyed(l, func(d pairDoc) (string, string) { return d.Key, d.Value })
}
