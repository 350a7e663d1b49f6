package server

import (
	"maps"
	"reflect"

	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
)

// listLimits names, by body type and JSON field, the longest list or map
// the domains accept there: their own constants, which their validators
// check with pathways.CheckCount. checkShape cuts a longer one at one item
// more, so that the domain still reports it with its limit, and decodes no
// more of it. Without this, nested lists cost the body's size, not the
// product of their limits: a 1 MiB bank of 69 questions of 5,000 empty
// options each (every list within maxItems) decoded into 345,000 options,
// 66 MiB of heap (docs/PERFORMANCE.md). A list not named here is bounded
// by maxItems only. A limit set too low here cannot truncate a body
// silently: a cut list is always refused (requestProblems).
var listLimits = map[reflect.Type]map[string]int{
	reflect.TypeFor[bankJSON](): {"questions": assessments.MaxQuestions, "locales": i18n.MaxLocales, "messages": i18n.MaxLocales},
	reflect.TypeFor[assessments.BankQuestion](): {
		"tags": assessments.MaxTagsPerItem, "options": assessments.OptionsMax, "matches": assessments.OptionsMax,
		"pairs": assessments.OptionsMax, "blanks": assessments.BlanksMax, "accepted": assessments.LocalesMax,
	},
	reflect.TypeFor[assessments.Blank]():       {"accepted": assessments.LocalesMax},
	reflect.TypeFor[assessments.Likert]():      {"labels": assessments.ScalePointsMax},
	reflect.TypeFor[quizJSON]():                {"picks": assessments.MaxPicks, "locales": i18n.MaxLocales, "messages": i18n.MaxLocales},
	reflect.TypeFor[saveAnswersRequest]():      {"answers": assessments.MaxBatchAnswers},
	reflect.TypeFor[syncRequest]():             {"events": learning.MaxBatch},
	reflect.TypeFor[createAssignmentRequest](): {"learners": learning.MaxAssignmentLearners, "modules": learning.MaxAssignmentModules},
	reflect.TypeFor[pickJSON]():                {"questions": assessments.MaxDrawn, "tags": assessments.MaxTagsPerItem},
	reflect.TypeFor[draftJSON]():               draftLimits,
	reflect.TypeFor[courseEditJSON]():          withLimits(draftLimits, map[string]int{"translations": courses.MaxLocales}),
	reflect.TypeFor[moduleJSON]():              {"lessons": courses.MaxLessons, "requires": courses.MaxModules},
	reflect.TypeFor[lessonJSON]():              {"blocks": courses.MaxBlocks},
	reflect.TypeFor[blockJSON]():               {"mediaBy": courses.MaxLocales, "subtitles": courses.MaxLocales},
}

var draftLimits = map[string]int{
	"modules": courses.MaxModules, "locales": courses.MaxLocales, "audiences": len(courses.Audiences), "messages": courses.MaxLocales,
}

// withLimits is the limits of a body that embeds another and adds fields:
// fieldsOf promotes the embedded fields, listLimits must name them again.
func withLimits(embedded, own map[string]int) map[string]int {
	out := maps.Clone(embedded)
	maps.Copy(out, own)
	return out
}
