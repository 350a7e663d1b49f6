package learning

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
)

// Export is a learner's learning data, for their data-rights export:
// the courses on their list and their progress in each, reflections
// included.
type Export struct {
	Enrolments []EnrolmentData `json:"enrolments"`
	Progress   []ProgressData  `json:"progress"`
}

// EnrolmentData is a course on the learner's list.
type EnrolmentData struct {
	CourseID string    `json:"courseId"`
	Self     bool      `json:"self"`
	At       time.Time `json:"at"`
}

// ProgressData is what the learner did in a course.
type ProgressData struct {
	CourseID    string           `json:"courseId"`
	Version     int              `json:"version"`
	Lessons     []LessonData     `json:"lessons"`
	Reflections []ReflectionData `json:"reflections"`
	CompletedAt *time.Time       `json:"completedAt,omitempty"`
}

// LessonData is what the learner did in a lesson.
type LessonData struct {
	LessonID    string     `json:"lessonId"`
	OpenedAt    *time.Time `json:"openedAt,omitempty"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	Seen        []string   `json:"seen"`
	Seconds     int        `json:"seconds"`
}

// ReflectionData is one reflection answer.
type ReflectionData struct {
	LessonID string    `json:"lessonId"`
	BlockID  string    `json:"blockId"`
	Text     string    `json:"text"`
	Shared   bool      `json:"shared"`
	At       time.Time `json:"at"`
}

func optional(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func exportOf(p Progress) ProgressData {
	out := ProgressData{CourseID: p.CourseID, Version: p.Version, Lessons: []LessonData{}, Reflections: []ReflectionData{},
		CompletedAt: optional(p.Completed)}
	for _, id := range slices.Sorted(maps.Keys(p.Lessons)) {
		l := p.Lessons[id]
		out.Lessons = append(out.Lessons, LessonData{LessonID: id, OpenedAt: optional(l.Opened), CompletedAt: optional(l.Completed),
			Seen: append([]string{}, l.Seen...), Seconds: l.Seconds()})
	}
	for _, k := range slices.Sorted(maps.Keys(p.Reflections)) {
		r := p.Reflections[k]
		lesson, block, _ := strings.Cut(k, "/")
		out.Reflections = append(out.Reflections, ReflectionData{LessonID: lesson, BlockID: block, Text: r.Text, Shared: r.Shared, At: r.At})
	}
	return out
}

// ExportLearner returns what learning keeps about a learner. No access
// check: package rights decides who may ask.
func (s *Service) ExportLearner(ctx context.Context, learnerID string) (Export, error) {
	list, err := s.store.Enrolments(ctx, learnerID)
	if err != nil {
		return Export{}, fmt.Errorf("export enrolments of %s: %w", learnerID, err)
	}
	out := Export{Enrolments: []EnrolmentData{}, Progress: []ProgressData{}}
	for _, e := range list {
		out.Enrolments = append(out.Enrolments, EnrolmentData(e))
		p, err := s.store.Progress(ctx, learnerID, e.CourseID)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue // enrolled, nothing done yet
		case err != nil:
			return Export{}, fmt.Errorf("export progress of %s in %s: %w", learnerID, e.CourseID, err)
		}
		out.Progress = append(out.Progress, exportOf(p))
	}
	return out, nil
}

// ForgetLearner deletes a learner's progress (reflections with it) and
// their list of courses; assignments naming them stay, for the others.
// It is idempotent.
func (s *Service) ForgetLearner(ctx context.Context, learnerID string) error {
	list, err := s.store.Enrolments(ctx, learnerID)
	if err != nil {
		return fmt.Errorf("forget enrolments of %s: %w", learnerID, err)
	}
	for _, e := range list {
		if err := s.store.DeleteProgress(ctx, learnerID, e.CourseID); err != nil {
			return fmt.Errorf("forget progress of %s in %s: %w", learnerID, e.CourseID, err)
		}
	}
	if err := s.store.DropEnrolments(ctx, learnerID); err != nil {
		return fmt.Errorf("forget enrolments of %s: %w", learnerID, err)
	}
	return nil
}
