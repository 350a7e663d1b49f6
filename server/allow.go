package server

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// allowTable knows, for every route pattern, the methods registered on it,
// so that a 405 says in Allow what the path does answer (RFC 9110 requires
// it). There are no routes that exist only to refuse: a method the API has
// no operation for, on a path it knows, is 405 with Allow, whatever it is
// (changing a published version, deleting a lesson of one…), and nothing
// is looked up.
type allowTable []allowRoute

type allowRoute struct {
	segments []string // ":id" matches any one segment
	methods  []string
}

// newAllowTable reads the routes the app has, after they are registered.
func newAllowTable(app *fiber.App) allowTable {
	var t allowTable
	for _, r := range app.GetRoutes(true) {
		segs := strings.Split(strings.Trim(r.Path, "/"), "/")
		i := slices.IndexFunc(t, func(a allowRoute) bool { return slices.Equal(a.segments, segs) })
		if i < 0 {
			t = append(t, allowRoute{segments: segs})
			i = len(t) - 1
		}
		if !slices.Contains(t[i].methods, r.Method) {
			t[i].methods = append(t[i].methods, r.Method)
		}
	}
	return t
}

// allow lists the methods path answers, in a stable order, or "".
func (t allowTable) allow(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var methods []string
	for _, r := range t {
		if matchSegments(r.segments, segs) {
			for _, m := range r.methods {
				if !slices.Contains(methods, m) {
					methods = append(methods, m)
				}
			}
		}
	}
	order := []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete}
	slices.SortFunc(methods, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		return ia - ib
	})
	return strings.Join(methods, ", ")
}

func matchSegments(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		if segs[i] == "" || !strings.HasPrefix(p, ":") && p != segs[i] {
			return false
		}
	}
	return true
}
