package pathways

// Every list the API answers is paged the same way: ?offset= and ?limit=,
// a default and a largest limit per list, and an answer that says which
// window it holds (and the total, where it is known without a scan).

// Page selects a window of a list.
type Page struct {
	Offset int
	Limit  int
}

// PageLimits are the default and largest page size of one listing.
type PageLimits struct{ Default, Max int }

// DefaultPages are the page sizes of a listing that sets none of its own.
var DefaultPages = PageLimits{Default: 50, Max: 200}

// Normalise clamps a page to l: a missing limit becomes l.Default, a
// larger one l.Max, a negative offset 0.
func (p Page) Normalise(l PageLimits) Page {
	p.Offset = max(p.Offset, 0)
	if p.Limit <= 0 {
		p.Limit = l.Default
	}
	p.Limit = min(p.Limit, l.Max)
	return p
}

// Window returns the items of all that page p (normalised) selects.
func Window[T any](all []T, p Page) []T {
	lo := min(p.Offset, len(all))
	hi := min(lo+p.Limit, len(all))
	return all[lo:hi:hi]
}
