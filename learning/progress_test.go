package learning

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestMergeIsOrderFree: any order of the same events, each applied once
// or several times, gives the same progress (the package doc's claim).
func TestMergeIsOrderFree(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 8))
	types := []EventType{EventLessonOpened, EventBlockSeen, EventLessonCompleted, EventTimeSpent, EventReflectionSaved}
	events := make([]Event, 300)
	for i := range events {
		events[i] = Event{
			ID: fmt.Sprintf("e%03d", i), Type: types[rng.IntN(len(types))], LessonID: fmt.Sprintf("l%d", rng.IntN(4)),
			BlockID: fmt.Sprintf("b%d", rng.IntN(3)), Seconds: 1 + rng.IntN(600), Text: fmt.Sprint("text ", i), Shared: i%2 == 0,
			// Some at one time, to exercise the tie-break by id.
			At: t0.Add(time.Duration(rng.IntN(100)) * time.Minute),
		}
	}
	run := func(order []Event) Progress {
		var p Progress
		for _, ev := range order {
			p.apply(ev, ev.At)
		}
		return p
	}
	want := run(events)
	for range 20 {
		order := append([]Event(nil), events...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		order = append(order, order[:rng.IntN(len(order))]...) // some twice
		if got := run(order); !reflect.DeepEqual(got, want) {
			t.Fatalf("another order gives another progress:\n got %+v\nwant %+v", got, want)
		}
	}
}

// TestTimeSpentCountsOnce: a time report is capped, and overlapping
// reports count their union.
func TestTimeSpentCountsOnce(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	var p Progress
	p.apply(Event{ID: "a", Type: EventTimeSpent, LessonID: "l", Seconds: 7200}, t0)                   // capped: 300
	p.apply(Event{ID: "b", Type: EventTimeSpent, LessonID: "l", Seconds: 120}, t0.Add(-time.Minute))  // inside a
	p.apply(Event{ID: "c", Type: EventTimeSpent, LessonID: "l", Seconds: 60}, t0.Add(10*time.Minute)) // apart
	if got := p.Lessons["l"].Seconds(); got != 360 {
		t.Errorf("seconds: %d, want 360", got)
	}
	var spent []Interval
	for i := range MaxIntervals + 50 {
		from := int64(i) * 10_000
		spent, _ = addInterval(spent, Interval{From: from, To: from + 1000})
	}
	if len(spent) != MaxIntervals {
		t.Errorf("intervals kept: %d", len(spent))
	}
}
