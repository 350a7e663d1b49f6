package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/storage/docdb"
	"github.com/pathways-lms/pathways/storage/docdb/dbtest"
)

// eachAssessments runs fn on a fresh assessments store of every engine.
func eachAssessments(t *testing.T, fn func(t *testing.T, e docdb.Engine, s *AssessmentsStore)) {
	dbtest.Each(t, assessmentsSchema, func(t *testing.T, e docdb.Engine) {
		fn(t, e, &AssessmentsStore{e: e})
	})
}

func refOf[T any](v T) *T { return &v }

// richQuestions has a question of every type, using every field its type
// may have, with nil and empty slices and maps, keys with dots and
// pointers to zero values.
func richQuestions() []assessments.Question {
	return []assessments.Question{
		{
			ID: "single", Prompt: "q.single.prompt", Hint: "q.single.hint", Feedback: "q.single.feedback",
			Image: "a-img", Audio: "a-audio", Type: assessments.TypeSingle, Points: 2.5,
			Options: []assessments.Option{
				{ID: "a", Text: "q.single.a", Correct: true, Feedback: "q.single.a.feedback"},
				{ID: "b", Text: "q.single.b", Image: "a-img-b", Audio: "a-audio-b"},
			},
		},
		{
			ID: "multiple", Prompt: "q.multiple", Type: assessments.TypeMultiple, Partial: assessments.PartialProportional,
			Options: []assessments.Option{{ID: "a", Text: "t.a", Correct: true}, {ID: "b", Text: "t.b", Correct: true}, {ID: "c", Text: "t.c"}},
		},
		{
			ID: "truefalse", Prompt: "q.tf", Type: assessments.TypeTrueFalse, Partial: assessments.PartialNone,
			Options: []assessments.Option{{ID: "true", Correct: true}, {ID: "false", Feedback: "q.tf.false"}},
			Matches: []assessments.Match{}, Pairs: map[string]string{}, Blanks: []assessments.Blank{},
		},
		{
			ID: "short", Prompt: "q.short", Type: assessments.TypeShort, CaseSensitive: true, DiacriticSensitive: true,
			Accepted: map[string][]string{"*": {"42"}, "fr": {"café", "Cafe"}, "fa-AF": {"سلام"}, "en": {}, "ar": nil},
		},
		{ID: "numeric", Prompt: "q.numeric", Type: assessments.TypeNumeric, Numeric: &assessments.Numeric{Value: -3.25, Tolerance: 0.01}},
		{ID: "numeric-zero", Prompt: "q.numeric0", Type: assessments.TypeNumeric, Numeric: &assessments.Numeric{}},
		{
			ID: "matching", Prompt: "q.matching", Type: assessments.TypeMatching, Partial: assessments.PartialProportional,
			Options: []assessments.Option{{ID: "left-1", Text: "m.l1"}, {ID: "left-2", Text: "m.l2"}},
			Matches: []assessments.Match{{ID: "right-1", Text: "m.r1"}, {ID: "right-2", Image: "a-r2", Audio: "a-r2-audio"}, {ID: "decoy", Text: "m.decoy"}},
			Pairs:   map[string]string{"left-1": "right-2", "left-2": "right-1", "odd.key$/x": "decoy"},
		},
		{
			ID: "ordering", Prompt: "q.ordering", Type: assessments.TypeOrdering,
			Options: []assessments.Option{{ID: "first", Text: "o.1"}, {ID: "second", Text: "o.2"}, {ID: "third", Image: "a-3"}},
		},
		{
			ID: "blanks", Prompt: "q.blanks", Type: assessments.TypeBlanks, Partial: assessments.PartialProportional,
			Blanks: []assessments.Blank{
				{ID: "b1", Accepted: map[string][]string{"*": {"Paris"}, "ar": {"باريس"}, "uk": {}}},
				{ID: "b2", Accepted: map[string][]string{}},
				{ID: "b3"},
			},
		},
		{
			ID: "likert", Prompt: "q.likert", Type: assessments.TypeLikert,
			Scale: &assessments.Likert{Min: -2, Max: 2, Labels: map[int]string{-2: "l.disagree", 0: "l.neutral", 2: "l.agree"}},
		},
		{ID: "likert-bare", Prompt: "q.likert2", Type: assessments.TypeLikert, Scale: &assessments.Likert{Labels: map[int]string{}}},
		{ID: "free", Prompt: "q.free", Type: assessments.TypeFree, MaxLength: 300, Options: []assessments.Option{}},
		{ID: "bare", Type: assessments.TypeFree},
	}
}

func richMessages() i18n.Messages {
	return i18n.Messages{
		"en": {
			"q.single.prompt": {Description: "The first question", Other: "Which is **right**?"},
			"items.count":     {One: "{{.Count}} item", Other: "{{.Count}} items"},
		},
		"ar": {
			"q.single.prompt": {Hash: "sha1-3e1d", Other: "أيها صحيح؟"},
			"items.count":     {Zero: "لا عناصر", One: "عنصر", Two: "عنصران", Few: "{{.Count}} عناصر", Many: "{{.Count}} عنصرًا", Other: "{{.Count}} عنصر"},
		},
		"fr": {},
		"uk": nil,
	}
}

func richBank(id, orgID string) assessments.Bank {
	b := assessments.Bank{
		ID: id, OrgID: orgID, Name: "Money basics", DefaultLocale: "en", Locales: []string{"en", "ar", "fr"},
		Messages: richMessages(), Revision: 4, Created: t0, Updated: t0.Add(time.Minute),
	}
	for i, q := range richQuestions() {
		bq := assessments.BankQuestion{Question: q, Difficulty: i % 6}
		switch i % 3 {
		case 0:
			bq.Tags = []string{"scams", "budget"}
		case 1:
			bq.Tags = []string{}
		}
		b.Questions = append(b.Questions, bq)
	}
	return b
}

func richQuiz(id, orgID string) assessments.Quiz {
	return assessments.Quiz{
		ID: id, OrgID: orgID, Kind: assessments.KindPractice, Shared: true, DefaultLocale: "en",
		Locales: []string{"en", "ar"}, Title: "quiz.title", Intro: "quiz.intro", Messages: richMessages(),
		Picks: []assessments.Pick{
			{Bank: "bank1", Questions: []string{"single", "short"}},
			{Bank: "bank2", Tags: []string{"scams"}, Difficulty: 3, Count: 2, Questions: []string{}},
			{Bank: "bank1"},
		},
		ShuffleQuestions: true, ShuffleOptions: true, PassMark: 0.75, AttemptLimit: 3,
		TimeLimitSeconds: 90, Feedback: assessments.FeedbackAfterDue, Due: t0.Add(24 * time.Hour),
		Grade: assessments.GradeAverage, Mastery: assessments.Mastery{M: 3, N: 5}, Pretest: "pre-quiz",
		Revision: 7, Published: 2, Archived: true, Created: t0, Updated: t0.Add(time.Hour),
	}
}

func richVersion(quizID string, n int) assessments.Version {
	v := assessments.Version{
		QuizID: quizID, Number: n, Quiz: richQuiz(quizID, "o1"), Questions: map[string]assessments.Question{},
		Pools:    [][]string{{"b1/single", "b1/short"}, {}, nil, {"b2/matching"}},
		Messages: i18n.Messages{"en": {"b1.q.single.prompt": {Other: "Which?"}, "quiz.title": {Other: "Money"}}},
		Revision: 7, Published: t0.Add(2 * time.Hour),
	}
	for i, q := range richQuestions() {
		v.Questions[fmt.Sprintf("b%d/%s", i%2+1, q.ID)] = q
	}
	return v
}

// richAttempt has answers of every shape and, when scored, results.
func richAttempt(id string) assessments.Attempt {
	return assessments.Attempt{
		ID: id, QuizID: "quiz1", Version: 2, LearnerID: "learner1", OrgID: "o1", Locale: "fa-AF",
		Seed: math.MaxUint64 - 5,
		Drawn: []assessments.Drawn{
			{Question: "b1/single", Options: []string{"b", "a"}},
			{Question: "b2/short"},
			{Question: "b1/free", Options: []string{}},
			{Question: "b2/matching", Options: []string{"odd.key$/x", "left-1"}, Matches: []string{"decoy", "right-1"}},
		},
		Answers: map[string]assessments.Saved{
			"b1/single":       {AnswerID: "s1", Answer: assessments.Answer{Option: "a"}, Saved: t0.Add(time.Second)},
			"b2/multiple":     {AnswerID: "s2", Answer: assessments.Answer{Options: []string{"a", "c"}}, Saved: t0.Add(2 * time.Second)},
			"b1/multiple":     {Answer: assessments.Answer{Options: []string{}}, Saved: t0},
			"b1/ordering":     {AnswerID: "s3", Answer: assessments.Answer{Order: []string{"third", "first", "second"}}, Saved: t0},
			"b2/matching":     {AnswerID: "s4", Answer: assessments.Answer{Pairs: map[string]string{"left-1": "right-1", "odd.key$/x": "decoy"}}, Saved: t0},
			"b1/matching":     {Answer: assessments.Answer{Pairs: map[string]string{}}, Saved: t0},
			"b2/short":        {AnswerID: "s5", Answer: assessments.Answer{Text: "  Café  "}, Saved: t0},
			"b1/numeric":      {Answer: assessments.Answer{Number: refOf(-3.25)}, Saved: t0},
			"b2/numeric-zero": {Answer: assessments.Answer{Number: refOf(0.0)}, Saved: t0},
			"b1/blanks":       {Answer: assessments.Answer{Blanks: map[string]string{"b1": "paris", "b2": ""}}, Saved: t0},
			"b2/likert":       {Answer: assessments.Answer{Value: refOf(-2)}, Saved: t0},
			"b1/likert-bare":  {Answer: assessments.Answer{Value: refOf(0)}, Saved: t0},
			"b1/free":         {Answer: assessments.Answer{Text: "I would ask.\nThen wait."}, Saved: t0},
			"b2/bare":         {Answer: assessments.Answer{}, Saved: t0},
		},
		Started: t0, Deadline: t0.Add(90 * time.Second),
	}
}

func richResults() map[string]assessments.Result {
	return map[string]assessments.Result{
		"b1/single": {Points: 2.5, Max: 2.5, Correct: true, Answered: true, Feedback: []string{"q.single.a.feedback", "q.single.feedback"}},
		"b2/short":  {Max: 1, Answered: true, Feedback: []string{}},
		"b1/free":   {Answered: true},
		"b2/bare":   {},
	}
}

func TestBankRoundTrip(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		b := richBank("bank1", "o1")
		zone := time.FixedZone("UTC-5", -5*3600)
		b.Created = t0.Add(123456789 * time.Nanosecond).In(zone)
		if err := s.InsertBank(ctx, b); err != nil {
			t.Fatal(err)
		}
		want := richBank("bank1", "o1")
		want.Created = t0.Add(123 * time.Millisecond)
		got, err := s.Bank(ctx, "bank1")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %#v, %v\nwant %#v", got, err, want)
		}
		checkKeys(t, e, collBanks, "bank1")

		if err := s.InsertBank(ctx, richBank("bank1", "o2")); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate bank: %v, want ErrConflict", err)
		}

		// What UpdateBank returns is what a later read gives; the id stays.
		updated, err := s.UpdateBank(ctx, "bank1", func(b *assessments.Bank) error {
			b.ID = "moved"
			b.Revision++
			b.Questions = b.Questions[:1]
			b.Updated = t0.Add(time.Hour + 999999*time.Nanosecond)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want.Revision, want.Questions, want.Updated = 5, want.Questions[:1], t0.Add(time.Hour)
		if !reflect.DeepEqual(updated, want) {
			t.Fatalf("UpdateBank returned:\n got %#v\nwant %#v", updated, want)
		}
		if got, err := s.Bank(ctx, "bank1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after update:\n got %#v, %v\nwant %#v", got, err, want)
		}

		// A failed change writes nothing.
		errNo := errors.New("no")
		if _, err := s.UpdateBank(ctx, "bank1", func(b *assessments.Bank) error { b.Name = "x"; return errNo }); !errors.Is(err, errNo) {
			t.Fatalf("change error: %v", err)
		}
		if got, _ := s.Bank(ctx, "bank1"); got.Name != want.Name {
			t.Fatalf("aborted change stored: %q", got.Name)
		}

		// A bare bank keeps its nil slices and maps nil.
		bare := assessments.Bank{ID: "bank2", DefaultLocale: "en", Created: t0, Updated: t0}
		if err := s.InsertBank(ctx, bare); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Bank(ctx, "bank2"); err != nil || !reflect.DeepEqual(got, bare) {
			t.Fatalf("bare bank:\n got %#v, %v\nwant %#v", got, err, bare)
		}
	})
}

func TestQuizRoundTrip(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		q := richQuiz("quiz1", "o1")
		q.Due = t0.Add(24*time.Hour + 7*time.Microsecond).In(time.FixedZone("UTC+4:30", 4*3600+1800))
		if err := s.InsertQuiz(ctx, q); err != nil {
			t.Fatal(err)
		}
		want := richQuiz("quiz1", "o1")
		if got, err := s.Quiz(ctx, "quiz1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %#v, %v\nwant %#v", got, err, want)
		}
		checkKeys(t, e, collQuizzes, "quiz1")
		if err := s.InsertQuiz(ctx, q); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate quiz: %v, want ErrConflict", err)
		}

		updated, err := s.UpdateQuiz(ctx, "quiz1", func(q *assessments.Quiz) error {
			q.Published, q.Due, q.TimeLimitSeconds, q.Picks = 3, time.Time{}, 0, nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want.Published, want.Due, want.TimeLimitSeconds, want.Picks = 3, time.Time{}, 0, nil
		if !reflect.DeepEqual(updated, want) {
			t.Fatalf("UpdateQuiz returned:\n got %#v\nwant %#v", updated, want)
		}
		if got, err := s.Quiz(ctx, "quiz1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after update:\n got %#v, %v\nwant %#v", got, err, want)
		}

		bare := assessments.Quiz{ID: "quiz2", Kind: assessments.KindSurvey, Created: t0, Updated: t0}
		if err := s.InsertQuiz(ctx, bare); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Quiz(ctx, "quiz2"); err != nil || !reflect.DeepEqual(got, bare) {
			t.Fatalf("bare quiz:\n got %#v, %v\nwant %#v", got, err, bare)
		}
	})
}

func TestQuizVersions(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		v := richVersion("quiz1", 1)
		if err := s.InsertVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Version(ctx, "quiz1", 1); err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("Version:\n got %#v, %v\nwant %#v", got, err, v)
		}
		checkKeys(t, e, collVersions, "quiz1@1")

		dup := richVersion("quiz1", 1)
		dup.Revision = 99
		if err := s.InsertVersion(ctx, dup); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate version: %v, want ErrConflict", err)
		}
		if got, _ := s.Version(ctx, "quiz1", 1); got.Revision != 7 {
			t.Fatalf("duplicate insert changed the version: revision %d", got.Revision)
		}

		bare := assessments.Version{QuizID: "quiz1", Number: 2, Quiz: assessments.Quiz{ID: "quiz1"}, Published: t0}
		if err := s.InsertVersion(ctx, bare); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Version(ctx, "quiz1", 2); err != nil || !reflect.DeepEqual(got, bare) {
			t.Fatalf("bare version:\n got %#v, %v\nwant %#v", got, err, bare)
		}
		if _, err := s.Version(ctx, "quiz1", 3); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("missing version: %v, want ErrNotFound", err)
		}
		if _, err := s.Version(ctx, "quiz2", 1); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("version of another quiz: %v, want ErrNotFound", err)
		}
	})
}

// TestDeleteAssessments: a deleted bank, quiz or version is gone, the
// others stay, and deleting what is not there is ErrNotFound (so undoing
// an import twice is harmless and visible).
func TestDeleteAssessments(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		for _, id := range []string{"bank1", "bank2"} {
			if err := s.InsertBank(ctx, richBank(id, "o1")); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"quiz1", "quiz2"} {
			if err := s.InsertQuiz(ctx, richQuiz(id, "o1")); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 2} {
			if err := s.InsertVersion(ctx, richVersion("quiz1", n)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteBank(ctx, "bank1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteQuiz(ctx, "quiz1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteVersion(ctx, "quiz1", 2); err != nil {
			t.Fatal(err)
		}
		for what, err := range map[string]error{
			"bank":                          errOnly(s.Bank(ctx, "bank1")),
			"quiz":                          errOnly(s.Quiz(ctx, "quiz1")),
			"version":                       errOnly(s.Version(ctx, "quiz1", 2)),
			"DeleteBank again":              s.DeleteBank(ctx, "bank1"),
			"DeleteQuiz again":              s.DeleteQuiz(ctx, "quiz1"),
			"DeleteVersion again":           s.DeleteVersion(ctx, "quiz1", 2),
			"DeleteVersion of another quiz": s.DeleteVersion(ctx, "quiz2", 1),
		} {
			if !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", what, err)
			}
		}
		if _, err := s.Bank(ctx, "bank2"); err != nil {
			t.Errorf("other bank: %v", err)
		}
		if _, err := s.Quiz(ctx, "quiz2"); err != nil {
			t.Errorf("other quiz: %v", err)
		}
		if _, err := s.Version(ctx, "quiz1", 1); err != nil {
			t.Errorf("other version: %v", err)
		}
	})
}

func TestAttemptRoundTrip(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		a := richAttempt("att1")
		a.Number = 42 // the store numbers attempts itself
		a.Started = t0.Add(987654321 * time.Nanosecond).In(time.FixedZone("UTC+1", 3600))
		if _, err := s.StartAttempt(ctx, a, func(assessments.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		want := richAttempt("att1")
		want.Number, want.Started = 1, t0.Add(987*time.Millisecond)
		got, err := s.Attempt(ctx, "att1")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %#v, %v\nwant %#v", got, err, want)
		}

		// Scored and submitted, its follow-up pending: results of every shape.
		updated, err := s.UpdateAttempt(ctx, "att1", func(a *assessments.Attempt) error {
			a.ID = "moved"
			a.Results = richResults()
			a.Score, a.Max = 2.5, 3.5
			a.Submitted = t0.Add(time.Minute + time.Nanosecond)
			a.FollowUp = t0.Add(time.Minute + time.Microsecond)
			delete(a.Answers, "b2/bare")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want.Results, want.Score, want.Max, want.Submitted = richResults(), 2.5, 3.5, t0.Add(time.Minute)
		want.FollowUp = t0.Add(time.Minute)
		delete(want.Answers, "b2/bare")
		if !reflect.DeepEqual(updated, want) {
			t.Fatalf("UpdateAttempt returned:\n got %#v\nwant %#v", updated, want)
		}
		if got, err := s.Attempt(ctx, "att1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after update:\n got %#v, %v\nwant %#v", got, err, want)
		}
		checkKeys(t, e, collAttempts, "att1")

		// Empty maps stay empty, nil ones nil.
		bare := assessments.Attempt{ID: "att2", QuizID: "quiz1", Version: 1, LearnerID: "learner1", Answers: map[string]assessments.Saved{}, Started: t0}
		if _, err := s.StartAttempt(ctx, bare, func(assessments.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		bare.Number = 2
		if got, err := s.Attempt(ctx, "att2"); err != nil || !reflect.DeepEqual(got, bare) {
			t.Fatalf("bare attempt:\n got %#v, %v\nwant %#v", got, err, bare)
		}
		if _, err := s.UpdateAttempt(ctx, "att2", func(a *assessments.Attempt) error {
			a.Answers, a.Results = nil, map[string]assessments.Result{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		bare.Answers, bare.Results = nil, map[string]assessments.Result{}
		if got, err := s.Attempt(ctx, "att2"); err != nil || !reflect.DeepEqual(got, bare) {
			t.Fatalf("bare attempt after update:\n got %#v, %v\nwant %#v", got, err, bare)
		}

		// ErrNoChange writes nothing and gives the attempt as read.
		var before attemptDoc
		rev, _ := e.Get(ctx, collAttempts, "att2", &before)
		same, err := s.UpdateAttempt(ctx, "att2", func(a *assessments.Attempt) error {
			a.Score = 99
			return assessments.ErrNoChange
		})
		if after, _ := e.Get(ctx, collAttempts, "att2", &before); err != nil || after != rev || !reflect.DeepEqual(same, bare) {
			t.Fatalf("ErrNoChange: %v, revision %d → %d, returned %#v", err, rev, after, same)
		}
	})
}

func TestStartAttempt(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		start := func(id string, at time.Time) assessments.Attempt {
			return assessments.Attempt{ID: id, QuizID: "quiz1", Version: 1, LearnerID: "learner1", OrgID: "o1", Started: at}
		}
		var seen []assessments.Record
		remember := func(r assessments.Record) error { seen = append(seen, r); return nil }

		// A refused first attempt leaves neither attempt nor record.
		errNo := errors.New("no")
		if _, err := s.StartAttempt(ctx, start("att0", t0), func(r assessments.Record) error {
			want := assessments.Record{LearnerID: "learner1", QuizID: "quiz1", OrgID: "o1"}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("check saw %#v, want %#v", r, want)
			}
			return errNo
		}); !errors.Is(err, errNo) {
			t.Fatalf("refused start: %v, want the check's error", err)
		}
		if _, err := s.Attempt(ctx, "att0"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("attempt of a refused start: %v, want ErrNotFound", err)
		}
		if _, err := s.Record(ctx, "learner1", "quiz1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("record after a refused first start: %v, want ErrNotFound", err)
		}

		var sums []assessments.AttemptSummary
		for i, id := range []string{"att1", "att2", "att3"} {
			at := t0.Add(time.Duration(i) * time.Minute)
			if _, err := s.StartAttempt(ctx, start(id, at), remember); err != nil {
				t.Fatal(err)
			}
			a, err := s.Attempt(ctx, id)
			if err != nil || a.Number != i+1 {
				t.Fatalf("attempt %s: number %d, %v; want %d", id, a.Number, err, i+1)
			}
			sums = append(sums, assessments.AttemptSummary{ID: id, Version: 1, Number: i + 1, Started: at})
		}
		if len(seen) != 3 || len(seen[0].Attempts) != 0 || !reflect.DeepEqual(seen[2].Attempts, sums[:2]) {
			t.Fatalf("check saw %#v", seen)
		}
		want := assessments.Record{LearnerID: "learner1", QuizID: "quiz1", OrgID: "o1", Attempts: sums}
		if r, err := s.Record(ctx, "learner1", "quiz1"); err != nil || !reflect.DeepEqual(r, want) {
			t.Fatalf("record:\n got %#v, %v\nwant %#v", r, err, want)
		}

		// An existing id is ErrConflict and changes nothing.
		if _, err := s.StartAttempt(ctx, start("att2", t0.Add(time.Hour)), remember); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("duplicate attempt: %v, want ErrConflict", err)
		}
		if a, err := s.Attempt(ctx, "att2"); err != nil || a.Number != 2 || !a.Started.Equal(t0.Add(time.Minute)) {
			t.Fatalf("duplicate start changed the attempt: %+v, %v", a, err)
		}
		// A refusal with a record changes nothing either.
		if _, err := s.StartAttempt(ctx, start("att4", t0), func(assessments.Record) error { return assessments.ErrAttemptLimit }); !errors.Is(err, assessments.ErrAttemptLimit) {
			t.Fatalf("refused start: %v, want ErrAttemptLimit", err)
		}
		if _, err := s.Attempt(ctx, "att4"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("attempt of a refused start: %v, want ErrNotFound", err)
		}
		if r, err := s.Record(ctx, "learner1", "quiz1"); err != nil || !reflect.DeepEqual(r, want) {
			t.Fatalf("record after refusals:\n got %#v, %v\nwant %#v", r, err, want)
		}

		// Another learner, another quiz: records of their own, numbered from 1.
		other := start("att5", t0)
		other.LearnerID = "learner2"
		other2 := start("att6", t0)
		other2.QuizID = "quiz2"
		for _, a := range []assessments.Attempt{other, other2} {
			if _, err := s.StartAttempt(ctx, a, remember); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Attempt(ctx, a.ID); err != nil || got.Number != 1 {
				t.Fatalf("attempt %s: number %d, %v; want 1", a.ID, got.Number, err)
			}
		}

		// Another learner's id: ErrConflict, and the reservation made for
		// it is withdrawn.
		thief := start("att1", t0)
		thief.LearnerID = "learner3"
		if _, err := s.StartAttempt(ctx, thief, remember); !errors.Is(err, pathways.ErrConflict) {
			t.Fatalf("start with another learner's attempt id: %v, want ErrConflict", err)
		}
		if r, err := s.Record(ctx, "learner3", "quiz1"); err != nil || len(r.Attempts) != 0 {
			t.Fatalf("record after a start with a taken id: %+v, %v; want no attempts", r, err)
		}
	})
}

// limitOf is a StartAttempt check allowing limit attempts.
func limitOf(limit int) func(assessments.Record) error {
	return func(r assessments.Record) error {
		if len(r.Attempts) >= limit {
			return assessments.ErrAttemptLimit
		}
		return nil
	}
}

// TestConcurrentStartAttempt: 20 starts at once, alternating between two
// instances, against a limit of 5 make exactly 5 attempts, numbered 1 to
// 5, each listed once.
func TestConcurrentStartAttempt(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		stores := []*AssessmentsStore{s, {e: dbtest.Second(t, e, assessmentsSchema)}}
		const n, limit = 20, 5
		var wg sync.WaitGroup
		var mu sync.Mutex
		var started, refused []string
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("att%02d", i)
				a := assessments.Attempt{ID: id, QuizID: "quiz1", Version: 1, LearnerID: "learner1", OrgID: "o1", Started: t0}
				_, err := stores[i%2].StartAttempt(ctx, a, limitOf(limit))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					started = append(started, id)
				case errors.Is(err, assessments.ErrAttemptLimit):
					refused = append(refused, id)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(started) != limit || len(refused) != n-limit {
			t.Fatalf("%d started, %d refused; want %d and %d", len(started), len(refused), limit, n-limit)
		}
		r, err := s.Record(ctx, "learner1", "quiz1")
		if err != nil || len(r.Attempts) != limit {
			t.Fatalf("record lists %d attempts, %v; want %d", len(r.Attempts), err, limit)
		}
		var listed []string
		for i, sum := range r.Attempts {
			if sum.Number != i+1 {
				t.Errorf("summary %d has number %d", i, sum.Number)
			}
			a, err := s.Attempt(ctx, sum.ID)
			if err != nil || a.Number != sum.Number {
				t.Errorf("attempt %s: number %d, %v; listed as %d", sum.ID, a.Number, err, sum.Number)
			}
			listed = append(listed, sum.ID)
		}
		slices.Sort(listed)
		slices.Sort(started)
		if !slices.Equal(listed, started) {
			t.Fatalf("record lists %v, started %v", listed, started)
		}
		for _, id := range refused {
			if _, err := s.Attempt(ctx, id); !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("refused attempt %s: %v, want ErrNotFound", id, err)
			}
		}
	})
}

// TestStartAttemptInterleaved: A reads the record, B starts an attempt on
// another instance, A's reservation fails and is decided again on B's
// record: with one attempt left, A is refused.
func TestStartAttemptInterleaved(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		b := &AssessmentsStore{e: dbtest.Second(t, e, assessmentsSchema)}
		mk := func(id string) assessments.Attempt {
			return assessments.Attempt{ID: id, QuizID: "quiz1", Version: 1, LearnerID: "learner1", OrgID: "o1", Started: t0}
		}
		if _, err := s.StartAttempt(ctx, mk("att1"), limitOf(2)); err != nil {
			t.Fatal(err)
		}
		ia := dbtest.AfterGet(e, collRecords, recordID("learner1", "quiz1"), func() {
			if _, err := b.StartAttempt(ctx, mk("att2"), limitOf(2)); err != nil {
				t.Errorf("B's start: %v", err)
			}
		})
		var checks int
		_, err := (&AssessmentsStore{e: ia}).StartAttempt(ctx, mk("att3"), func(r assessments.Record) error {
			checks++
			return limitOf(2)(r)
		})
		if !errors.Is(err, assessments.ErrAttemptLimit) || ia.Fired != 1 || checks != 2 {
			t.Fatalf("A after B took the last attempt: %v (interleaved %d, checked %d times)", err, ia.Fired, checks)
		}
		r, _ := s.Record(ctx, "learner1", "quiz1")
		if len(r.Attempts) != 2 || r.Attempts[1].ID != "att2" {
			t.Fatalf("record %+v, want att1 and att2", r.Attempts)
		}
		if _, err := s.Attempt(ctx, "att3"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("A's attempt: %v, want ErrNotFound", err)
		}
	})
}

// failing is a real engine whose next Insert into coll fails once with
// err before reaching the database: a crash between two writes.
type failing struct {
	docdb.Engine
	mu   sync.Mutex
	coll string
	err  error
}

func (f *failing) Insert(ctx context.Context, coll, id string, v any) error {
	f.mu.Lock()
	err := f.err
	if coll == f.coll {
		f.err = nil
	}
	f.mu.Unlock()
	if coll == f.coll && err != nil {
		return err
	}
	return f.Engine.Insert(ctx, coll, id, v)
}

// TestStartAttemptCrash: a start that fails between the reservation and
// the attempt's insert leaves the reservation, which counts towards the
// limit (nobody gets an extra attempt), and the retry with the same id
// completes it under the reserved number.
func TestStartAttemptCrash(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		mk := func(id string) assessments.Attempt {
			return assessments.Attempt{ID: id, QuizID: "quiz1", Version: 1, LearnerID: "learner1", OrgID: "o1", Started: t0}
		}
		crash := &AssessmentsStore{e: &failing{Engine: e, coll: collAttempts, err: pathways.ErrUnavailable}}
		if _, err := crash.StartAttempt(ctx, mk("att1"), limitOf(1)); !errors.Is(err, pathways.ErrUnavailable) {
			t.Fatalf("interrupted start: %v", err)
		}
		if _, err := s.StartAttempt(ctx, mk("att2"), limitOf(1)); !errors.Is(err, assessments.ErrAttemptLimit) {
			t.Fatalf("another start while the first is reserved: %v, want ErrAttemptLimit", err)
		}
		if _, err := s.StartAttempt(ctx, mk("att1"), limitOf(1)); err != nil {
			t.Fatalf("the retry: %v", err)
		}
		a, err := s.Attempt(ctx, "att1")
		r, _ := s.Record(ctx, "learner1", "quiz1")
		if err != nil || a.Number != 1 || len(r.Attempts) != 1 || r.Attempts[0].ID != "att1" {
			t.Fatalf("after the retry: attempt %d %v, record %+v", a.Number, err, r.Attempts)
		}
	})
}

func TestRecords(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		if _, err := s.Record(ctx, "learner1", "quiz1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("missing record: %v, want ErrNotFound", err)
		}

		// UpdateRecord on a missing record starts from an empty one.
		r, err := s.UpdateRecord(ctx, "learner1", "quiz1", func(r *assessments.Record) error {
			want := assessments.Record{LearnerID: "learner1", QuizID: "quiz1"}
			if !reflect.DeepEqual(*r, want) {
				t.Errorf("change saw %#v, want %#v", *r, want)
			}
			r.OrgID, r.LearnerID = "o1", "someone else"
			r.History = []bool{true, false, true}
			r.Mastered = true
			r.Gain = refOf(-0.25)
			r.Attempts = []assessments.AttemptSummary{
				{ID: "att1", Version: 1, Number: 1, Started: t0, Submitted: t0.Add(time.Minute + 1), Score: 2.5, Max: 4},
				{ID: "att2", Version: 2, Number: 2, Started: t0.Add(time.Hour)},
			}
			r.Updated = t0.Add(time.Hour + time.Microsecond)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := assessments.Record{
			LearnerID: "learner1", QuizID: "quiz1", OrgID: "o1", History: []bool{true, false, true}, Mastered: true, Gain: refOf(-0.25),
			Attempts: []assessments.AttemptSummary{
				{ID: "att1", Version: 1, Number: 1, Started: t0, Submitted: t0.Add(time.Minute), Score: 2.5, Max: 4},
				{ID: "att2", Version: 2, Number: 2, Started: t0.Add(time.Hour)},
			},
			Updated: t0.Add(time.Hour),
		}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("UpdateRecord returned:\n got %#v\nwant %#v", r, want)
		}
		if got, err := s.Record(ctx, "learner1", "quiz1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Record:\n got %#v, %v\nwant %#v", got, err, want)
		}
		if _, err := s.Record(ctx, "someone else", "quiz1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("record moved by its change: %v", err)
		}
		checkKeys(t, e, collRecords, "learner1:quiz1")

		// Empty slices stay empty.
		if _, err := s.UpdateRecord(ctx, "learner1", "quiz1", func(r *assessments.Record) error {
			r.History, r.Attempts = []bool{}, []assessments.AttemptSummary{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want.History, want.Attempts = []bool{}, []assessments.AttemptSummary{}
		if got, err := s.Record(ctx, "learner1", "quiz1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Record:\n got %#v, %v\nwant %#v", got, err, want)
		}

		// A failed change on a missing record creates nothing, nor does
		// ErrNoChange.
		errNo := errors.New("no")
		if _, err := s.UpdateRecord(ctx, "learner2", "quiz1", func(*assessments.Record) error { return errNo }); !errors.Is(err, errNo) {
			t.Fatalf("change error: %v", err)
		}
		if r, err := s.UpdateRecord(ctx, "learner2", "quiz1", func(*assessments.Record) error { return assessments.ErrNoChange }); err != nil || r.LearnerID != "learner2" {
			t.Fatalf("no change: %+v, %v", r, err)
		}
		if _, err := s.Record(ctx, "learner2", "quiz1"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("record of a failed change: %v, want ErrNotFound", err)
		}
	})
}

func TestStats(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		if _, err := s.Stats(ctx, "quiz1", 1, "o1", 0); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("missing stats: %v, want ErrNotFound", err)
		}
		items := map[string]assessments.ItemStats{
			"b1/single": {N: 3, SumX: 2, SumX2: 1.5, SumY: 0.25, SumY2: 0.125, SumXY: 0.0625,
				Wrong: map[string]int{`{"option":"b"}`: 2, `{"text":"a.b$c"}`: 1}},
			"b2/short": {N: 1, Wrong: map[string]int{}},
			"b1/free":  {},
		}
		applied := map[string]time.Time{"att1": t0, "att.2": t0.Add(time.Second)}
		if err := s.UpdateStats(ctx, "quiz1", 1, "o1", 3, func(st *assessments.Stats) error {
			want := assessments.Stats{QuizID: "quiz1", Version: 1, OrgID: "o1", Shard: 3}
			if !reflect.DeepEqual(*st, want) {
				t.Errorf("change saw %#v, want %#v", *st, want)
			}
			st.Items, st.Applied = items, applied
			st.OrgID, st.Shard = "o2", 4
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := assessments.Stats{QuizID: "quiz1", Version: 1, OrgID: "o1", Shard: 3, Items: items, Applied: applied}
		if got, err := s.Stats(ctx, "quiz1", 1, "o1", 3); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Stats:\n got %#v, %v\nwant %#v", got, err, want)
		}
		checkKeys(t, e, collStats, "quiz1@1:o1#3")
		for _, miss := range []struct {
			quiz    string
			version int
			org     string
			shard   int
		}{{"quiz1", 2, "o1", 3}, {"quiz1", 1, "o2", 3}, {"quiz2", 1, "o1", 3}, {"quiz1", 1, "o1", 0}} {
			if _, err := s.Stats(ctx, miss.quiz, miss.version, miss.org, miss.shard); !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("stats %v: %v, want ErrNotFound", miss, err)
			}
		}
		errNo := errors.New("no")
		if err := s.UpdateStats(ctx, "quiz1", 1, "o1", 3, func(st *assessments.Stats) error { st.Items = nil; return errNo }); !errors.Is(err, errNo) {
			t.Fatalf("change error: %v", err)
		}
		if err := s.UpdateStats(ctx, "quiz1", 1, "o1", 3, func(st *assessments.Stats) error { st.Items = nil; return assessments.ErrNoChange }); err != nil {
			t.Fatalf("no change: %v", err)
		}
		if got, err := s.Stats(ctx, "quiz1", 1, "o1", 3); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("stats after a failed change:\n got %#v, %v", got, err)
		}
	})
}

// TestConcurrentUpdateStats: concurrent updates of one statistics
// document from two instances all count, the first of them creating it.
func TestConcurrentUpdateStats(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		stores := []*AssessmentsStore{s, {e: dbtest.Second(t, e, assessmentsSchema)}}
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := stores[i%2].UpdateStats(ctx, "quiz1", 1, "o1", 0, func(st *assessments.Stats) error {
					if st.Items == nil {
						st.Items = map[string]assessments.ItemStats{}
					}
					it := st.Items["b1/q"]
					it.N++
					it.SumX += 1
					if it.Wrong == nil {
						it.Wrong = map[string]int{}
					}
					it.Wrong[fmt.Sprint("answer.", i%2)]++
					st.Items["b1/q"] = it
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		st, err := s.Stats(ctx, "quiz1", 1, "o1", 0)
		if err != nil {
			t.Fatal(err)
		}
		it := st.Items["b1/q"]
		if it.N != n || it.SumX != n || it.Wrong["answer.0"]+it.Wrong["answer.1"] != n {
			t.Fatalf("after %d concurrent updates: %+v", n, it)
		}
	})
}

// TestUpdatesInterleaved: for every update of the store, A reads, B (on
// another instance) writes, A's compare-and-swap fails and A decides again
// on B's document: the result holds both changes. Records and statistics
// are also raced at their creation (both start from a missing document).
func TestUpdatesInterleaved(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		b := &AssessmentsStore{e: dbtest.Second(t, e, assessmentsSchema)}
		if err := s.InsertBank(ctx, richBank("bank1", "o1")); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertQuiz(ctx, richQuiz("quiz1", "o1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartAttempt(ctx, richAttempt("att1"), limitOf(5)); err != nil {
			t.Fatal(err)
		}
		// each runs A's update on an engine that lets B write right after
		// A's first read of id in coll; it reports how often A's change ran.
		each := func(name, coll, id string, bWrites func(), aWrites func(a *AssessmentsStore) (int, error)) {
			ia := dbtest.AfterGet(e, coll, id, bWrites)
			calls, err := aWrites(&AssessmentsStore{e: ia})
			if err != nil || ia.Fired != 1 || calls != 2 {
				t.Errorf("%s: %v (interleaved %d, change ran %d times, want 2)", name, err, ia.Fired, calls)
			}
		}
		each("UpdateBank", collBanks, "bank1", func() {
			if _, err := b.UpdateBank(ctx, "bank1", func(b *assessments.Bank) error { b.Name = "B"; return nil }); err != nil {
				t.Error(err)
			}
		}, func(a *AssessmentsStore) (int, error) {
			n := 0
			_, err := a.UpdateBank(ctx, "bank1", func(b *assessments.Bank) error { n++; b.Revision++; return nil })
			return n, err
		})
		if got, _ := s.Bank(ctx, "bank1"); got.Name != "B" || got.Revision != 5 {
			t.Errorf("bank after both: %q revision %d", got.Name, got.Revision)
		}
		each("UpdateQuiz", collQuizzes, "quiz1", func() {
			if _, err := b.UpdateQuiz(ctx, "quiz1", func(q *assessments.Quiz) error { q.Published = 9; return nil }); err != nil {
				t.Error(err)
			}
		}, func(a *AssessmentsStore) (int, error) {
			n := 0
			_, err := a.UpdateQuiz(ctx, "quiz1", func(q *assessments.Quiz) error { n++; q.Revision++; return nil })
			return n, err
		})
		if got, _ := s.Quiz(ctx, "quiz1"); got.Published != 9 || got.Revision != 8 {
			t.Errorf("quiz after both: published %d revision %d", got.Published, got.Revision)
		}
		each("UpdateAttempt", collAttempts, "att1", func() {
			if _, err := b.UpdateAttempt(ctx, "att1", func(a *assessments.Attempt) error {
				a.Answers["b9/b"] = assessments.Saved{AnswerID: "B", Saved: t0}
				return nil
			}); err != nil {
				t.Error(err)
			}
		}, func(a *AssessmentsStore) (int, error) {
			n := 0
			_, err := a.UpdateAttempt(ctx, "att1", func(a *assessments.Attempt) error {
				n++
				a.Answers["b9/a"] = assessments.Saved{AnswerID: "A", Saved: t0}
				return nil
			})
			return n, err
		})
		if got, _ := s.Attempt(ctx, "att1"); got.Answers["b9/a"].AnswerID != "A" || got.Answers["b9/b"].AnswerID != "B" {
			t.Errorf("attempt after both: %v", got.Answers)
		}
		for _, created := range []bool{false, true} {
			learner := map[bool]string{false: "learner1", true: "learner9"}[created]
			each(fmt.Sprint("UpdateRecord (creating it: ", created, ")"), collRecords, recordID(learner, "quiz1"), func() {
				if _, err := b.UpdateRecord(ctx, learner, "quiz1", func(r *assessments.Record) error {
					r.History = append(r.History, true)
					return nil
				}); err != nil {
					t.Error(err)
				}
			}, func(a *AssessmentsStore) (int, error) {
				n := 0
				_, err := a.UpdateRecord(ctx, learner, "quiz1", func(r *assessments.Record) error {
					n++
					r.History = append(r.History, false)
					return nil
				})
				return n, err
			})
			if got, _ := s.Record(ctx, learner, "quiz1"); !slices.Equal(got.History, []bool{true, false}) {
				t.Errorf("record of %s after both: %v", learner, got.History)
			}
			shard := map[bool]int{false: 1, true: 2}[created]
			if !created {
				if err := s.UpdateStats(ctx, "quiz1", 1, "o1", shard, func(*assessments.Stats) error { return nil }); err != nil {
					t.Fatal(err)
				}
			}
			each(fmt.Sprint("UpdateStats (creating them: ", created, ")"), collStats, statsID("quiz1", 1, "o1", shard), func() {
				if err := b.UpdateStats(ctx, "quiz1", 1, "o1", shard, func(st *assessments.Stats) error {
					st.Applied = map[string]time.Time{"B": t0}
					return nil
				}); err != nil {
					t.Error(err)
				}
			}, func(a *AssessmentsStore) (int, error) {
				n := 0
				err := a.UpdateStats(ctx, "quiz1", 1, "o1", shard, func(st *assessments.Stats) error {
					n++
					if st.Applied == nil {
						st.Applied = map[string]time.Time{}
					}
					st.Applied["A"] = t0
					return nil
				})
				return n, err
			})
			if got, _ := s.Stats(ctx, "quiz1", 1, "o1", shard); len(got.Applied) != 2 {
				t.Errorf("stats shard %d after both: %v", shard, got.Applied)
			}
		}
	})
}

// TestAuthorListings: banks and quizzes are listed by organisation through
// its index, in id order, paged, without their questions, picks and texts.
func TestAuthorListings(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		for _, id := range []string{"b3", "b1", "b2", "b4"} {
			org := "o1"
			if id == "b4" {
				org = "o2"
			}
			if err := s.InsertBank(ctx, richBank(id, org)); err != nil {
				t.Fatal(err)
			}
			if err := s.InsertQuiz(ctx, richQuiz("q"+id[1:], org)); err != nil {
				t.Fatal(err)
			}
		}
		banks, err := s.Banks(ctx, "o1", pathways.Page{Offset: 1, Limit: 5})
		if err != nil || len(banks) != 2 || banks[0].ID != "b2" || banks[1].ID != "b3" {
			t.Fatalf("banks of o1 from 1: %+v, %v", banks, err)
		}
		want := richBank("b2", "o1")
		want.Questions, want.Messages = nil, nil
		if !reflect.DeepEqual(banks[0], want) {
			t.Errorf("listed bank:\n got %#v\nwant %#v", banks[0], want)
		}
		quizzes, err := s.Quizzes(ctx, "o1", pathways.Page{Limit: 2})
		if err != nil || len(quizzes) != 2 || quizzes[0].ID != "q1" || quizzes[1].ID != "q2" {
			t.Fatalf("quizzes of o1: %+v, %v", quizzes, err)
		}
		wantQ := richQuiz("q1", "o1")
		wantQ.Picks, wantQ.Messages = nil, nil
		if !reflect.DeepEqual(quizzes[0], wantQ) {
			t.Errorf("listed quiz:\n got %#v\nwant %#v", quizzes[0], wantQ)
		}
		if none, err := s.Banks(ctx, "o3", pathways.Page{Limit: 5}); err != nil || len(none) != 0 || none == nil {
			t.Errorf("banks of an organisation without any: %#v, %v", none, err)
		}
		if q, err := s.Quizzes(ctx, "o2", pathways.Page{Limit: 5}); err != nil || len(q) != 1 || q[0].ID != "q4" {
			t.Errorf("quizzes of o2: %+v, %v", q, err)
		}
	})
}

// TestFollowUps: the index lists the submitted attempts whose follow-up
// is pending and was queued before the time asked, oldest first; a
// cleared one leaves the index.
func TestFollowUps(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		for i, id := range []string{"att1", "att2", "att3", "att4"} {
			a := richAttempt(id)
			a.LearnerID = "learner" + id
			if _, err := s.StartAttempt(ctx, a, limitOf(5)); err != nil {
				t.Fatal(err)
			}
			if id == "att4" {
				continue // open: no follow-up
			}
			if _, err := s.UpdateAttempt(ctx, id, func(a *assessments.Attempt) error {
				a.Submitted, a.FollowUp = t0, t0.Add(time.Duration(3-i)*time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(before time.Time, limit int) []string {
			t.Helper()
			as, err := s.FollowUps(ctx, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range as {
				out = append(out, a.ID)
			}
			return out
		}
		if got := ids(t0.Add(time.Hour), 10); !slices.Equal(got, []string{"att3", "att2", "att1"}) {
			t.Errorf("pending follow-ups: %v", got)
		}
		if got := ids(t0.Add(2*time.Minute+time.Second), 10); !slices.Equal(got, []string{"att3", "att2"}) {
			t.Errorf("pending follow-ups queued before 2 min: %v", got)
		}
		if got := ids(t0.Add(time.Hour), 1); !slices.Equal(got, []string{"att3"}) {
			t.Errorf("first pending follow-up: %v", got)
		}
		if _, err := s.UpdateAttempt(ctx, "att3", func(a *assessments.Attempt) error { a.FollowUp = time.Time{}; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := ids(t0.Add(time.Hour), 10); !slices.Equal(got, []string{"att2", "att1"}) {
			t.Errorf("pending follow-ups after clearing att3: %v", got)
		}
	})
}

func TestAssessmentsNotFound(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		never := func(what string) { t.Helper(); t.Errorf("change called for a missing %s", what) }
		for what, err := range map[string]error{
			"Bank":    errOnly(s.Bank(ctx, "nope")),
			"Quiz":    errOnly(s.Quiz(ctx, "nope")),
			"Version": errOnly(s.Version(ctx, "nope", 1)),
			"Attempt": errOnly(s.Attempt(ctx, "nope")),
			"Record":  errOnly(s.Record(ctx, "nope", "nope")),
			"Stats":   errOnly(s.Stats(ctx, "nope", 1, "o1", 0)),
			"UpdateBank": errOnly(s.UpdateBank(ctx, "nope", func(*assessments.Bank) error {
				never("bank")
				return nil
			})),
			"UpdateQuiz": errOnly(s.UpdateQuiz(ctx, "nope", func(*assessments.Quiz) error {
				never("quiz")
				return nil
			})),
			"UpdateAttempt": errOnly(s.UpdateAttempt(ctx, "nope", func(*assessments.Attempt) error {
				never("attempt")
				return nil
			})),
		} {
			if !errors.Is(err, pathways.ErrNotFound) {
				t.Errorf("%s of a missing document: %v, want ErrNotFound", what, err)
			}
			if err != nil && !strings.Contains(err.Error(), "nope") {
				t.Errorf("%s: error %q does not name what was missing", what, err)
			}
		}
		// The failed updates created nothing.
		if _, err := s.Bank(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("failed update created a bank: %v", err)
		}
		if _, err := s.Attempt(ctx, "nope"); !errors.Is(err, pathways.ErrNotFound) {
			t.Fatalf("failed update created an attempt: %v", err)
		}
	})
}

func errOnly[T any](_ T, err error) error { return err }

// checkKeys fails if the stored document id of coll has a field name that
// is not a plain lower-case word: map keys must be values.
func checkKeys(t *testing.T, e docdb.Engine, coll, id string) {
	t.Helper()
	var raw any
	if _, err := e.Get(ctx, coll, id, &raw); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	key := func(path, k string, v any) {
		if k != "_id" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("%s %s: field name %q at %s", coll, id, k, path)
		}
		walk(path+"."+k, v)
	}
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				key(path, k, x)
			}
		case bson.D:
			for _, el := range v {
				key(path, el.Key, el.Value)
			}
		case bson.M:
			for k, x := range v {
				key(path, k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprint(path, "[", i, "]"), x)
			}
		case bson.A:
			for i, x := range v {
				walk(fmt.Sprint(path, "[", i, "]"), x)
			}
		}
	}
	walk("", raw)
	if b, _ := json.Marshal(raw); len(b) < 10 {
		t.Errorf("%s %s: nothing stored: %s", coll, id, b)
	}
}

// TestRecordsOfLearner: a learner's records are listed through the
// "learner" index, a page at a time, in quiz id order, and only theirs.
func TestRecordsOfLearner(t *testing.T) {
	eachAssessments(t, func(t *testing.T, e docdb.Engine, s *AssessmentsStore) {
		ctx := context.Background()
		add := func(learner, quiz string) {
			t.Helper()
			if _, err := s.UpdateRecord(ctx, learner, quiz, func(r *assessments.Record) error {
				r.OrgID = "org"
				r.Attempts = append(r.Attempts, assessments.AttemptSummary{ID: learner + quiz, Number: 1})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{"q3", "q1", "q2"} {
			add("ana", q)
		}
		add("bo", "q1")
		first, err := s.Records(ctx, "ana", pathways.Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		rest, err := s.Records(ctx, "ana", pathways.Page{Offset: 2, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range append(first, rest...) {
			if r.LearnerID != "ana" || len(r.Attempts) != 1 || r.OrgID != "org" {
				t.Errorf("record %+v", r)
			}
			got = append(got, r.QuizID)
		}
		if !slices.Equal(got, []string{"q1", "q2", "q3"}) || len(first) != 2 {
			t.Errorf("ana's records in pages: %v (first page %d)", got, len(first))
		}
		none, err := s.Records(ctx, "cy", pathways.Page{Limit: 10})
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("a learner with no records: %v, %v", none, err)
		}
	})
}
