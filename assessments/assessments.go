package assessments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// Bank is a trainer's collection of questions, with their texts in every
// language. Quizzes draw from banks when they are published.
type Bank struct {
	ID            string
	OrgID         string
	Name          string // for trainers, in their own language
	DefaultLocale string
	Locales       []string
	Questions     []BankQuestion
	Messages      i18n.Messages
	Revision      int
	Created       time.Time
	Updated       time.Time
}

// BankQuestion is a question with what a quiz may pick it by.
type BankQuestion struct {
	Question
	Tags       []string `json:"tags,omitempty"`       // topics, free words such as "scams"
	Difficulty int      `json:"difficulty,omitempty"` // 1 (easy) to 5 (hard); 0 not rated
}

// Quiz is a quiz, practice exercise or survey as its authors edit it.
type Quiz struct {
	ID            string
	OrgID         string
	Kind          Kind
	Shared        bool // usable by every organisation's learners
	DefaultLocale string
	Locales       []string
	Title         string // message IDs, in Messages
	Intro         string
	Messages      i18n.Messages

	Picks            []Pick
	ShuffleQuestions bool
	ShuffleOptions   bool
	// PassMark is the share of the maximum that passes, 0..1; 0 for none.
	PassMark     float64
	AttemptLimit int // 0: unlimited
	// TimeLimitSeconds is the time an attempt has, 0 for none, at most
	// MaxTimeLimitSeconds. It is kept as the number given and checked as
	// such (CheckQuiz): converted first, 18446744074 seconds would wrap
	// to 0.29 s of time.Duration and pass a check on the Duration.
	TimeLimitSeconds int
	// Offline marks a quiz the trainer lets learners take without a
	// connection: downloaded as an attempt without keys, answered on the
	// device, synced later. Practice and surveys may always be; a timed
	// quiz never is (see OfflineAllowed).
	Offline  bool
	Feedback FeedbackPolicy
	Due      time.Time // optional; FeedbackAfterDue needs it
	Grade    GradeMethod
	Mastery  Mastery // practice only
	// Pretest names the pretest quiz a posttest is compared with.
	Pretest string

	Revision  int
	Published int
	Archived  bool
	Created   time.Time
	Updated   time.Time
}

// OfflineAllowed says whether q may be answered offline and synced: a
// practice exercise, a survey, or a quiz its trainer marked Offline, and
// never one with a time limit (its clock runs on the server).
func (q Quiz) OfflineAllowed() bool {
	return q.TimeLimitSeconds == 0 && (q.Kind == KindPractice || q.Kind == KindSurvey || q.Offline)
}

// MaxTimeLimitSeconds is the longest time limit of a quiz: a day.
const MaxTimeLimitSeconds = 24 * 60 * 60

// timeLimit is q's time limit as a Duration; q passed CheckQuiz.
func (q Quiz) timeLimit() time.Duration {
	return time.Duration(min(max(q.TimeLimitSeconds, 0), MaxTimeLimitSeconds)) * time.Second
}

// Version is a published quiz, frozen with the questions it draws from:
// bank questions are copied in under keys "b<n>.<question ID>" (n the
// bank's place among the quiz's banks) and their texts under message IDs
// prefixed "b<n>.", so banks edited later change nothing here.
type Version struct {
	QuizID    string
	Number    int
	Quiz      Quiz
	Questions map[string]Question // by key
	// Pools lists, for each of Quiz.Picks, the keys it may draw.
	Pools     [][]string
	Messages  i18n.Messages // the quiz's and the questions' texts
	Revision  int           // the draft revision it was made from
	Published time.Time
}

// Attempt is one learner's go at one quiz version. Its ID is chosen by
// the client, so a retried start or submit never makes a second attempt.
type Attempt struct {
	ID        string
	QuizID    string
	Version   int
	LearnerID string
	OrgID     string
	Number    int    // 1 for the learner's first attempt at the quiz
	Locale    string // the language it is taken in, for per-locale accepted answers
	Seed      uint64 // drawn by the server at the start (newSeed), never from the ID
	Drawn     []Drawn
	Answers   map[string]Saved // by question key
	Started   time.Time
	Deadline  time.Time // zero without a time limit; submits are taken until Deadline + Grace
	Submitted time.Time // zero while open
	Results   map[string]Result
	Score     float64
	Max       float64
	// FollowUp, on a submitted attempt, is when its follow-up (counting
	// it in the learner's record and the item statistics) was queued,
	// zero once applied: the outbox entry, written in the same write as
	// the submit so that a crash cannot lose it (see Service.FollowUps).
	FollowUp time.Time
}

// Saved is the latest answer a learner saved to one question. AnswerID is
// the client's ID of that save, so a repeated save is recognised.
type Saved struct {
	AnswerID string
	Answer   Answer
	Saved    time.Time
}

// Open reports whether the attempt still takes answers.
func (a Attempt) Open() bool { return a.Submitted.IsZero() }

// Grace is how long after its deadline an attempt is still taken: a phone
// on a slow link may send the last answers late.
const Grace = 2 * time.Minute

// Record is one learner's history with one quiz: the document that lists
// their attempts, so counting attempts and grading is one read.
type Record struct {
	LearnerID string
	QuizID    string
	OrgID     string
	Attempts  []AttemptSummary
	// Practice: whether each answer was right, oldest first (bounded).
	History  []bool
	Mastered bool
	// Gain, on a posttest's record, is the learner's posttest score share
	// minus their first pretest score share: what the course taught.
	Gain    *float64
	Updated time.Time
}

// AttemptSummary is an attempt's line in a Record. Learners see it as an
// AttemptStatus, with its score only as the feedback policy allows.
type AttemptSummary struct {
	ID        string
	Version   int
	Number    int
	Started   time.Time
	Submitted time.Time
	Score     float64
	Max       float64
}

// ItemStats are running sums over the submitted attempts of one
// organisation's learners at one question, enough for facility (mean
// score share), discrimination (the correlation of the item score with
// the rest of the test) and the commonest wrong answers.
type ItemStats struct {
	N                        int
	SumX, SumX2, SumY, SumY2 float64 // x: item share; y: share of the rest
	SumXY                    float64
	Wrong                    map[string]int // a wrong answer's key → count (bounded)
}

// Stats are the item statistics of one quiz version for one
// organisation, kept in StatsShards documents (an attempt adds to the
// shard its ID falls in), so a class submitting at once does not queue on
// one document; a report adds the shards up.
type Stats struct {
	QuizID  string
	Version int
	OrgID   string
	Shard   int
	Items   map[string]ItemStats
	// Applied holds the attempts added to Items whose follow-up is not yet
	// cleared, with when they were added, so that a follow-up repeated
	// after a crash adds nothing twice; an entry is forgotten once its
	// attempt's follow-up is cleared.
	Applied map[string]time.Time
}

// StatsShards is how many documents hold one quiz version's statistics
// for one organisation.
const StatsShards = 16

// Limits that keep documents bounded.
const (
	MaxQuestions   = 500 // in a bank
	MaxPicks       = 50
	MaxDrawn       = 200 // questions in one attempt
	MaxAttempts    = 100 // kept in a learner's record
	MaxHistory     = 200
	MaxWrongKinds  = 20 // wrong answers counted per question
	MaxTagsPerItem = 20
)

// Errors specific to assessments; each wraps a pathways sentinel.
var (
	ErrStale        = fmt.Errorf("%w: the draft changed since you loaded it", pathways.ErrConflict)
	ErrClosed       = fmt.Errorf("%w: the attempt is submitted", pathways.ErrConflict)
	ErrTimeUp       = fmt.Errorf("%w: the time for this attempt is over", pathways.ErrConflict)
	ErrAttemptLimit = fmt.Errorf("%w: no attempts left", pathways.ErrConflict)
	ErrNotPublished = fmt.Errorf("%w: the quiz is not published", pathways.ErrNotFound)
	// ErrNoChange, returned by the change of UpdateAttempt, UpdateRecord
	// or UpdateStats, writes nothing: the update returns the document as
	// read (a repeated save, a follow-up already applied).
	ErrNoChange = errors.New("no change")
)

// Store keeps banks, quizzes, versions, attempts, records and stats.
// Every update is a read-decide-write of one document that holds across
// instances (a compare-and-swap retried on conflict): change may run more
// than once and must decide from the document alone.
type Store interface {
	Bank(ctx context.Context, id string) (Bank, error)
	// Banks and Quizzes list a page of an organisation's banks and
	// quizzes, in ID order, without their questions, picks and texts, for
	// authors (a scan, off the learners' path).
	Banks(ctx context.Context, orgID string, p pathways.Page) ([]Bank, error)
	Quizzes(ctx context.Context, orgID string, p pathways.Page) ([]Quiz, error)
	InsertBank(ctx context.Context, b Bank) error
	UpdateBank(ctx context.Context, id string, change func(*Bank) error) (Bank, error)

	Quiz(ctx context.Context, id string) (Quiz, error)
	InsertQuiz(ctx context.Context, q Quiz) error
	UpdateQuiz(ctx context.Context, id string, change func(*Quiz) error) (Quiz, error)
	InsertVersion(ctx context.Context, v Version) error // ErrConflict if the number exists
	Version(ctx context.Context, quizID string, n int) (Version, error)
	// DeleteBank, DeleteQuiz and DeleteVersion remove one document, or
	// return ErrNotFound. Only the undoing of an import that failed calls
	// them (Service.Discard): a bank or quiz anyone may have used is never
	// deleted, since attempts and versions keep naming it.
	DeleteBank(ctx context.Context, id string) error
	DeleteQuiz(ctx context.Context, id string) error
	DeleteVersion(ctx context.Context, quizID string, n int) error
	// DeleteAttempt and DeleteRecord remove a learner's attempt or record
	// (erasure); one already gone is ErrNotFound.
	DeleteAttempt(ctx context.Context, id string) error
	DeleteRecord(ctx context.Context, learnerID, quizID string) error

	Attempt(ctx context.Context, id string) (Attempt, error)
	// StartAttempt stores a new attempt and lists it in the learner's
	// record: check sees the record as it is (Attempts may be empty) and
	// may refuse (ErrAttemptLimit); of concurrent starts on any instances
	// each check sees the attempts listed before it. If the attempt ID
	// exists it returns ErrConflict. It returns the attempt as stored
	// (numbered), so the caller need not read it back.
	StartAttempt(ctx context.Context, a Attempt, check func(Record) error) (Attempt, error)
	UpdateAttempt(ctx context.Context, id string, change func(*Attempt) error) (Attempt, error)
	// FollowUps lists up to limit submitted attempts whose follow-up is
	// pending and was queued before before, oldest first (an index: the
	// background worker's query).
	FollowUps(ctx context.Context, before time.Time, limit int) ([]Attempt, error)
	Record(ctx context.Context, learnerID, quizID string) (Record, error)
	// Records lists page p of a learner's records, one per quiz started,
	// in quiz id order, from an index.
	Records(ctx context.Context, learnerID string, p pathways.Page) ([]Record, error)
	UpdateRecord(ctx context.Context, learnerID, quizID string, change func(*Record) error) (Record, error)
	Stats(ctx context.Context, quizID string, version int, orgID string, shard int) (Stats, error)
	UpdateStats(ctx context.Context, quizID string, version int, orgID string, shard int, change func(*Stats) error) error
}
