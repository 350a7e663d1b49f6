package assessments

import (
	"context"
	"fmt"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/i18n"
)

// ResultPages are the page sizes of a learner's results as staff list them.
var ResultPages = pathways.PageLimits{Default: 50, Max: 100}

// LearnerResult is a learner's standing at one quiz as the staff who
// follow them see it: every attempt with its score, the grade by the
// quiz's method, pass, mastery and gain, whatever the feedback policy
// shows the learner.
type LearnerResult struct {
	Progress
	Title i18n.Text `json:"title"`
	Lang  string    `json:"lang"`
	Dir   string    `json:"dir"`
	// Open is how many of the attempts are not submitted yet.
	Open int `json:"open"`
}

// LearnerResults returns page p of the results of learner learnerID, a
// member of organisation orgID, at every quiz they started, in quiz id
// order, with quiz titles in the languages wanted. Only staff of orgID
// who are not the learner may (see mayFollowLearner); anyone else gets
// ErrNotFound. Each record has its pending follow-ups applied first, so
// what the learner just submitted is counted. A record of a quiz that can
// no longer be read (deleted) is left out.
func (s *Service) LearnerResults(ctx context.Context, actor accounts.Actor, learnerID, orgID string, wanted []string, p pathways.Page) ([]LearnerResult, error) {
	if !mayFollowLearner(actor, orgID, learnerID) {
		return nil, fmt.Errorf("results of %s: %w", learnerID, pathways.ErrNotFound)
	}
	records, err := s.store.Records(ctx, learnerID, p)
	if err != nil {
		return nil, err
	}
	out := make([]LearnerResult, 0, len(records))
	for _, r := range records {
		if r.OrgID != "" && r.OrgID != orgID {
			continue // taken while in another organisation: not these staff's to see
		}
		q, err := s.store.Quiz(ctx, r.QuizID)
		if err != nil || q.Published == 0 {
			continue
		}
		pub, err := s.version(ctx, q.ID, q.Published)
		if err != nil {
			return nil, err
		}
		if r, err = s.settle(ctx, r); err != nil {
			return nil, err
		}
		chain := pub.texts.Chain(wanted)
		title, _, _ := pub.texts.Find(chain, pub.Quiz.Title, nil)
		res := LearnerResult{Progress: standing(pub.Quiz, r, true, true), Title: title, Lang: chain[0], Dir: pub.texts.Dir(chain[0])}
		for _, a := range r.Attempts {
			if a.Submitted.IsZero() {
				res.Open++
			}
		}
		out = append(out, res)
	}
	return out, nil
}
