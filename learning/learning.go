// Package learning connects learners to courses: assignments (an
// educator gives a course, or some of its modules, to a group or to
// single learners, with start and due dates), self-enrolment, each
// learner's progress in each course, and the offline sync that records
// it.
//
// Progress is a join of what happened, not a log of it. Each fact a
// learner's device reports (a lesson opened, a block seen, a lesson
// completed, time spent in a lesson, a reflection saved) merges into the
// learner's progress document by an operation that is commutative,
// associative and idempotent: the earliest time a lesson was opened or
// completed, the union of the blocks seen, the union of the time
// intervals spent, the latest reflection and resume point by device time.
// So the same events applied in any order, any number of times, on any
// instance, give the same progress, and progress never goes backwards.
// The event ids (client UUIDs) are remembered for a while only to answer
// "duplicate" rather than "applied"; correctness does not rest on them.
//
// Versions follow the rule of package courses: progress is kept per
// lesson ID, the learner stays on the version they started until they
// move on, and moving on keeps every lesson's progress.
//
// The package knows neither HTTP nor the database; it declares the Store
// it needs.
package learning

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
)

// Assignment gives a course, or chosen modules of it, to a group or to
// single learners of one organisation.
type Assignment struct {
	ID       string
	OrgID    string
	CourseID string
	// Modules are the module IDs assigned; empty assigns the whole course.
	Modules []string
	// GroupID, or else Learners: who it is for. A learner who joins the
	// group later has its assignments too.
	GroupID   string
	Learners  []string
	Start     time.Time // optional: not shown before
	Due       time.Time // optional
	CreatedBy string
	Created   time.Time
}

// Enrolment is one course on a learner's list: self-enrolled, or started
// from an assignment (the version they are on is in their Progress).
type Enrolment struct {
	CourseID string
	Self     bool
	At       time.Time
}

// Progress is one learner's progress in one course. Lessons are keyed by
// lesson ID, stable across versions.
type Progress struct {
	LearnerID string
	OrgID     string
	CourseID  string
	Version   int // the version the learner is on
	Lessons   map[string]LessonProgress
	// Reflections are the learner's answers to reflection blocks, keyed
	// "lessonID/blockID".
	Reflections map[string]Reflection
	Resume      Point
	// Completed is when the completion rule was first met; it stays.
	Completed time.Time
	// Awarded: the completion hook (the certificate) ran.
	Awarded bool
	// Recent are the ids of the latest events applied, oldest first, at
	// most RecentEvents: they tell a resent event ("duplicate").
	Recent  []string
	Updated time.Time
}

// LessonProgress is what a learner did in one lesson.
type LessonProgress struct {
	Opened    time.Time // first opened
	Completed time.Time // first completed
	Seen      []string  // block IDs seen, sorted
	// Spent are the intervals the learner spent in the lesson, disjoint
	// and sorted; their union is the time spent, so a resent or
	// overlapping report (two devices) never counts twice.
	Spent []Interval
	Last  time.Time // the latest activity
}

// Interval is a span of time, in Unix milliseconds: [From, To).
type Interval struct{ From, To int64 }

// Seconds is the total length of the lesson's time intervals.
func (l LessonProgress) Seconds() int {
	var ms int64
	for _, iv := range l.Spent {
		ms += iv.To - iv.From
	}
	return int(ms / 1000)
}

// Reflection is a learner's answer to a reflection block: private to
// them unless Shared, which lets the educators of their organisation read
// it.
type Reflection struct {
	Text    string
	Shared  bool
	At      time.Time // device time of the save, corrected for skew
	EventID string    // breaks ties between saves at one time
}

// Point is where a learner was last: the resume point.
type Point struct {
	LessonID string
	BlockID  string
	At       time.Time
	EventID  string
}

// Bounds keep every document and every request bounded.
const (
	MaxAssignmentLearners = 500 // learners named by one assignment
	MaxAssignmentModules  = 50
	MaxGroupAssignments   = 200 // assignments of one group, or of one learner directly
	MaxEnrolments         = 200 // courses on a learner's list
	MaxBatch              = 1000
	MaxReflection         = 4000 // characters
	RecentEvents          = 2 * MaxBatch
	// MaxIntervals per lesson: beyond it the two closest intervals are
	// joined (the gap between them is then counted).
	MaxIntervals = 200
	// MaxEventSeconds caps what one time-spent event adds, so a tab left
	// open does not count hours.
	MaxEventSeconds = 300
	// MaxFuture is how far ahead of the batch's sent_at an event's device
	// time may be; MaxPast how far behind.
	MaxFuture = 5 * time.Minute
	MaxPast   = 366 * 24 * time.Hour
)

// AssignmentPages are the page sizes of an organisation's assignments.
var AssignmentPages = pathways.PageLimits{Default: 50, Max: 200}

// Field error codes of learning.
const (
	CodeNotEnrolled    = "not_enrolled" // a course not on the learner's list
	CodeUnknownLesson  = "unknown_lesson"
	CodeUnknownBlock   = "unknown_block"
	CodeFuture         = "in_future"
	CodeTooOld         = "too_old"
	CodeDueBeforeStart = "due_before_start"
	CodeNotReflection  = "not_reflection"
)

// FieldCodes lists learning's field error codes, for the catalogue test.
var FieldCodes = []string{
	CodeNotEnrolled, CodeUnknownLesson, CodeUnknownBlock, CodeFuture, CodeTooOld,
	CodeDueBeforeStart, CodeNotReflection,
}

var (
	// ErrFull: a bounded list (a group's assignments, a learner's
	// courses) is full.
	ErrFull = fmt.Errorf("%w: list is full", pathways.ErrConflict)
)

// Store keeps assignments, enrolments and progress. Lists are documents
// read by id; every change is a compare-and-swap on one document.
type Store interface {
	// CreateAssignment stores a and lists it under its group or each of
	// its learners (ErrConflict if its id is taken by another; ErrFull at
	// the bounds). Retried after a crash it completes the lists.
	CreateAssignment(ctx context.Context, a Assignment) error
	Assignment(ctx context.Context, id string) (Assignment, error)
	// DeleteAssignment removes a and takes it off its lists.
	DeleteAssignment(ctx context.Context, a Assignment) error
	// Assignments returns page p of an organisation's assignments in id
	// order, from an index.
	Assignments(ctx context.Context, orgID string, p pathways.Page) ([]Assignment, error)
	// AssignedTo returns the ids of the assignments listed under a group
	// or a learner (the owner id), in the order made.
	AssignedTo(ctx context.Context, ownerID string) ([]string, error)

	// Enrolments returns a learner's courses, in the order enrolled.
	Enrolments(ctx context.Context, learnerID string) ([]Enrolment, error)
	// Enrol adds a course to a learner's list (a course already there
	// keeps its entry, made Self if self is); ErrFull at the bound.
	Enrol(ctx context.Context, learnerID string, e Enrolment) error
	// DropEnrolments removes a learner's list (data rights).
	DropEnrolments(ctx context.Context, learnerID string) error

	// Progress returns a learner's progress in a course (ErrNotFound
	// before any).
	Progress(ctx context.Context, learnerID, courseID string) (Progress, error)
	// UpdateProgress reads the progress (start, when there is none),
	// lets change modify it and writes it by compare-and-swap, retried.
	UpdateProgress(ctx context.Context, learnerID, courseID string, start func() Progress, change func(*Progress) error) (Progress, error)
	// DeleteProgress removes it (data rights).
	DeleteProgress(ctx context.Context, learnerID, courseID string) error
}
