package learning

import (
	"slices"
	"time"

	"github.com/pathways-lms/pathways/courses"
)

// The merges of progress. Each is a join (see the package doc): the
// result does not depend on the order or the number of times the same
// facts arrive.

// earliest is the earlier of two times, the zero time counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// after orders two stamped facts: by time, then by event id, so two
// facts at one time resolve the same way wherever they are merged.
func after(at time.Time, id string, than time.Time, thanID string) bool {
	return at.After(than) || at.Equal(than) && id > thanID
}

// addSeen adds a block to a sorted set of block IDs.
func addSeen(seen []string, block string) ([]string, bool) {
	i, found := slices.BinarySearch(seen, block)
	if found {
		return seen, false
	}
	return slices.Insert(seen, i, block), true
}

// addInterval merges iv into a sorted list of disjoint intervals (ones
// that touch are joined). Past MaxIntervals the two with the smallest gap
// are joined, so the list stays bounded.
func addInterval(spent []Interval, iv Interval) ([]Interval, bool) {
	if iv.To <= iv.From {
		return spent, false
	}
	out := make([]Interval, 0, len(spent)+1)
	placed := false
	for _, s := range spent {
		switch {
		case s.To < iv.From:
			out = append(out, s)
		case iv.To < s.From:
			if !placed {
				out, placed = append(out, iv), true
			}
			out = append(out, s)
		default: // overlapping or touching: absorb s
			iv.From, iv.To = min(iv.From, s.From), max(iv.To, s.To)
		}
	}
	if !placed {
		out = append(out, iv)
	}
	for len(out) > MaxIntervals {
		gap := 0
		for i := 1; i < len(out)-1; i++ {
			if out[i+1].From-out[i].To < out[gap+1].From-out[gap].To {
				gap = i
			}
		}
		out[gap].To = out[gap+1].To
		out = slices.Delete(out, gap+1, gap+2)
	}
	return out, !slices.Equal(out, spent)
}

// remember adds an event id to the recent ones, bounded.
func (p *Progress) remember(id string) {
	p.Recent = append(p.Recent, id)
	if over := len(p.Recent) - RecentEvents; over > 0 {
		p.Recent = slices.Delete(p.Recent, 0, over)
	}
}

func (p *Progress) seen(id string) bool { return slices.Contains(p.Recent, id) }

// apply merges one checked event, at its corrected time, into p and says
// whether anything changed.
func (p *Progress) apply(ev Event, at time.Time) bool {
	if p.Lessons == nil {
		p.Lessons = map[string]LessonProgress{}
	}
	l := p.Lessons[ev.LessonID]
	before := l
	changed := false
	point := func() {
		if after(at, ev.ID, p.Resume.At, p.Resume.EventID) {
			p.Resume, changed = Point{LessonID: ev.LessonID, BlockID: ev.BlockID, At: at, EventID: ev.ID}, true
		}
	}
	switch ev.Type {
	case EventLessonOpened:
		l.Opened = earliest(l.Opened, at)
		point()
	case EventBlockSeen:
		l.Opened = earliest(l.Opened, at)
		var added bool
		if l.Seen, added = addSeen(slices.Clone(l.Seen), ev.BlockID); added {
			changed = true
		}
		point()
	case EventLessonCompleted:
		l.Opened = earliest(l.Opened, at)
		l.Completed = earliest(l.Completed, at)
		point()
	case EventTimeSpent:
		secs := min(ev.Seconds, MaxEventSeconds)
		iv := Interval{From: at.UnixMilli() - int64(secs)*1000, To: at.UnixMilli()}
		var grew bool
		if l.Spent, grew = addInterval(l.Spent, iv); grew {
			changed = true
		}
	case EventReflectionSaved:
		if p.Reflections == nil {
			p.Reflections = map[string]Reflection{}
		}
		key := ev.LessonID + "/" + ev.BlockID
		r := p.Reflections[key]
		if after(at, ev.ID, r.At, r.EventID) {
			p.Reflections[key], changed = Reflection{Text: ev.Text, Shared: ev.Shared, At: at, EventID: ev.ID}, true
		}
	}
	l.Last = latest(l.Last, at)
	if !l.Opened.Equal(before.Opened) || !l.Completed.Equal(before.Completed) || !l.Last.Equal(before.Last) {
		changed = true
	}
	if changed {
		p.Lessons[ev.LessonID] = l
	}
	return changed
}

// Rule is what the completion rule needs of one version of a course: its
// lessons and the quizzes it requires (quiz blocks whose quiz is scored
// with a pass mark), in course order.
type Rule struct {
	Lessons []string
	Modules map[string][]string // module ID → its lesson IDs
	Quizzes []string            // quiz IDs of every quiz block, in order
}

// ruleOf reads a version's structure.
func ruleOf(c courses.Course) Rule {
	r := Rule{Modules: map[string][]string{}}
	seen := map[string]bool{}
	for _, m := range c.Modules {
		for _, l := range m.Lessons {
			r.Lessons = append(r.Lessons, l.ID)
			r.Modules[m.ID] = append(r.Modules[m.ID], l.ID)
			for _, b := range l.Blocks {
				if b.Kind == courses.BlockQuiz && b.Quiz != "" && !seen[b.Quiz] {
					seen[b.Quiz] = true
					r.Quizzes = append(r.Quizzes, b.Quiz)
				}
			}
		}
	}
	return r
}

// lesson finds a lesson of a version and its blocks.
func findLesson(c courses.Course, id string) (courses.Lesson, bool) {
	for _, m := range c.Modules {
		for _, l := range m.Lessons {
			if l.ID == id {
				return l, true
			}
		}
	}
	return courses.Lesson{}, false
}

// QuizDone is when a learner met a required quiz's requirement (zero: not
// yet), and whether the quiz is required at all.
type QuizDone struct {
	Required bool
	DoneAt   time.Time
}

// completedAt applies the completion rule to p: every lesson of the
// version completed and every required quiz done. It returns when the
// rule became true (the latest of those times), zero if it does not hold.
func completedAt(p Progress, r Rule, quizzes map[string]QuizDone) time.Time {
	if len(r.Lessons) == 0 {
		return time.Time{}
	}
	var at time.Time
	for _, id := range r.Lessons {
		done := p.Lessons[id].Completed
		if done.IsZero() {
			return time.Time{}
		}
		at = latest(at, done)
	}
	for _, id := range r.Quizzes {
		q := quizzes[id]
		if !q.Required {
			continue
		}
		if q.DoneAt.IsZero() {
			return time.Time{}
		}
		at = latest(at, q.DoneAt)
	}
	return at
}
