package assessments

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
)

// UseRefPrefix begins the reference of the media uses a published quiz
// version records: "quiz:<id>@<n>".
const UseRefPrefix = "quiz:"

// UseRef is the reference of the media uses of version n of a quiz.
func UseRef(quizID string, n int) string { return UseRefPrefix + quizID + "@" + strconv.Itoa(n) }

// parseUseRef is UseRef's inverse; ok is false for any other string.
func parseUseRef(ref string) (quizID string, n int, ok bool) {
	v, ok := strings.CutPrefix(ref, UseRefPrefix)
	i := strings.LastIndexByte(v, '@')
	if !ok || i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(v[i+1:])
	return v[:i], n, err == nil && n > 0
}

// dropUses undoes the media uses a publish of version v recorded before it
// failed or lost the race for v.Number (two publishers compute the same
// number, so the same reference): it reads the version stored under that
// number and removes the reference from each of v's media that version
// does not show. If none is stored, another publisher may be between
// recording its uses and storing its version, so nothing is removed: the
// media clean-up removes uses of a version that still does not exist once
// they are older than pathways.ClaimGrace.
func (s *Service) dropUses(ctx context.Context, v Version) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	winner, err := s.store.Version(ctx, v.QuizID, v.Number)
	if err != nil {
		if !errors.Is(err, pathways.ErrNotFound) {
			s.log.WarnContext(ctx, "undo media uses: read quiz version failed; the media clean-up will retry",
				slog.String("quiz", v.QuizID), slog.Int("version", v.Number), slog.Any("error", err))
		}
		return
	}
	shown := map[string]bool{}
	for _, r := range mediaOf(winner) {
		shown[r.id] = true
	}
	ref := UseRef(v.QuizID, v.Number)
	for _, r := range mediaOf(v) {
		if shown[r.id] {
			continue
		}
		shown[r.id] = true // once per asset
		if _, err := s.lib.RemoveUse(ctx, r.id, ref); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			s.log.WarnContext(ctx, "undo media use failed; the media clean-up will retry",
				slog.String("asset", r.id), slog.String("ref", ref), slog.Any("error", err))
		}
	}
}

// ShowsMedia reports whether the published quiz version a media use's
// reference names exists and shows asset assetID; it answers true for a
// reference that is not a quiz version's. The media clean-up asks it.
func (s *Service) ShowsMedia(ctx context.Context, ref, assetID string) (bool, error) {
	quizID, n, ok := parseUseRef(ref)
	if !ok {
		return true, nil
	}
	p, err := s.version(ctx, quizID, n)
	if errors.Is(err, pathways.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, r := range mediaOf(p.Version) {
		if r.id == assetID {
			return true, nil
		}
	}
	return false, nil
}
