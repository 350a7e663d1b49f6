package paper

import "testing"

// TestModuleRects: the rectangles cover every dark module and no light one.
func TestModuleRects(t *testing.T) {
	for _, s := range []string{"https://pathways.example.org/signin?u=amina.y", "x", "https://pathways.example.org/verify/0194f7d2-0000-7000-8000-0000000000ee"} {
		m, err := qrMatrix(s)
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]int, len(m))
		for i := range got {
			got[i] = make([]int, len(m))
		}
		for _, r := range moduleRects(m) {
			for row := r.r0; row < r.r1; row++ {
				for col := r.c0; col < r.c1; col++ {
					got[row][col]++
				}
			}
		}
		for row := range m {
			for col := range m[row] {
				if want := map[bool]int{false: 0, true: 1}[m[row][col]]; got[row][col] != want {
					t.Fatalf("%q: module (%d,%d) covered %d times, want %d", s, row, col, got[row][col], want)
				}
			}
		}
	}
}
