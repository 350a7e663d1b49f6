package server

import (
	"errors"
	"strconv"
	"strings"
)

// byteRange is a satisfiable range of a representation: [start, start+length).
type byteRange struct{ start, length int64 }

// maxRanges bounds the ranges of one request: players ask for one at a
// time, and many small overlapping ranges only make work.
const maxRanges = 16

// errRange is a Range header that is malformed or that no part of the
// content satisfies (416).
var errRange = errors.New("range not satisfiable")

// parseRange reads a Range header (RFC 9110 §14.1.2) for content of size
// bytes. It returns no ranges (serve the whole) if the header is absent
// or of another unit, or if the ranges ask for more than the whole (an
// overlap trick); errRange if it is malformed or unsatisfiable.
func parseRange(h string, size int64) ([]byteRange, error) {
	if h == "" {
		return nil, nil
	}
	unit, spec, ok := strings.Cut(h, "=")
	if !ok {
		return nil, errRange
	}
	if !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, nil // other units are ignored, as the RFC allows
	}
	parts := strings.Split(spec, ",")
	if len(parts) > maxRanges {
		return nil, errRange
	}
	var out []byteRange
	var total int64
	for _, p := range parts {
		p = strings.TrimSpace(p)
		first, last, ok := strings.Cut(p, "-")
		if !ok {
			return nil, errRange
		}
		var r byteRange
		switch {
		case first == "": // suffix: the last n bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return nil, errRange
			}
			if n == 0 {
				continue // unsatisfiable on its own
			}
			n = min(n, size)
			r = byteRange{size - n, n}
		default:
			start, err := strconv.ParseInt(first, 10, 64)
			if err != nil || start < 0 {
				return nil, errRange
			}
			end := size - 1
			if last != "" {
				e, err := strconv.ParseInt(last, 10, 64)
				if err != nil || e < start {
					return nil, errRange
				}
				end = min(e, size-1)
			}
			if start >= size {
				continue // unsatisfiable on its own
			}
			r = byteRange{start, end - start + 1}
		}
		if r.length <= 0 {
			continue
		}
		out = append(out, r)
		total += r.length
	}
	if len(out) == 0 {
		return nil, errRange
	}
	if total > size {
		return nil, nil
	}
	return out, nil
}
