package tui

import "time"

// Column widths that fit the content. A flexible column (max > width, no
// short form) is measured once per refresh: its title and its widest cell
// among all the rows, not only those in view, so that it does not change
// width as the list scrolls. The cells left after every column has its
// minimum go first to what the flexible columns' content needs (up to
// their max), then to content longer than max — a lock's holder
// "popd@mx1.example.org pid 4242" on a wide terminal is not cut while
// there is room — and what is still left stretches them to their max.

// flexible says whether c takes more than its width when there is room.
func (c *column[T]) flexible() bool { return c.max > c.width && c.short == nil }

// measure works out t.fit, when the data changed since it last did.
func (t *table[T]) measure(now time.Time) {
	if t.fit != nil && len(t.fit) == len(t.cols) {
		return
	}
	t.fit = make([]int, len(t.cols))
	for i := range t.cols {
		c := &t.cols[i]
		if !c.flexible() {
			continue
		}
		n := width(c.title) + 1 // and the sort's arrow
		for j := range t.all {
			n = max(n, width(c.cell(&t.all[j], now)))
		}
		t.fit[i] = n
	}
}

// grow shares extra cells among the flexible columns shown (ws[i] > 0),
// a cell at a time round them: up to what their content needs within
// their max, then up to what it needs beyond, then up to their max.
func (t *table[T]) grow(ws []int, extra int) {
	fit := func(i int) int {
		if i < len(t.fit) {
			return t.fit[i]
		}
		return 0
	}
	limits := []func(i int) int{
		func(i int) int { return min(fit(i), t.cols[i].max) },
		fit,
		func(i int) int { return t.cols[i].max },
	}
	for _, limit := range limits {
		for extra > 0 {
			grew := false
			for i := range t.cols {
				if extra > 0 && ws[i] > 0 && t.cols[i].flexible() && ws[i] < limit(i) {
					ws[i]++
					extra--
					grew = true
				}
			}
			if !grew {
				break
			}
		}
	}
}
