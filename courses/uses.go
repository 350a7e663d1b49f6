package courses

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
)

// UseRefPrefix begins the reference of the media uses a published course
// version records: "course:<id>@<n>".
const UseRefPrefix = "course:"

// UseRef is the reference of the media uses of version n of a course.
func UseRef(courseID string, n int) string { return UseRefPrefix + VersionID(courseID, n) }

// parseUseRef is UseRef's inverse; ok is false for any other string.
func parseUseRef(ref string) (courseID string, n int, ok bool) {
	v, ok := strings.CutPrefix(ref, UseRefPrefix)
	i := strings.LastIndexByte(v, '@')
	if !ok || i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(v[i+1:])
	return v[:i], n, err == nil && n > 0
}

// dropUses undoes the media uses a publish of version n recorded before it
// failed or lost the race for n (two publishers of a course both compute
// the same n, so the same reference): it reads version n and removes the
// reference from each of ours the version does not show. If no version n
// exists, another publisher of n may be between recording its uses, under
// the same reference, and storing its version, so nothing is removed: the
// media clean-up removes uses of a version that still does not exist once
// they are older than pathways.ClaimGrace. It works on a context of its
// own, since the request's may be what failed.
func (s *Service) dropUses(ctx context.Context, courseID string, n int, ours map[string]MediaInfo) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	winner, err := s.store.Version(ctx, courseID, n)
	if err != nil {
		if !errors.Is(err, pathways.ErrNotFound) {
			s.log.WarnContext(ctx, "undo media uses: read version failed; the media clean-up will retry",
				slog.String("course", courseID), slog.Int("version", n), slog.Any("error", err))
		}
		return
	}
	ref := UseRef(courseID, n)
	for id := range ours {
		if _, shown := winner.Media[id]; shown {
			continue
		}
		if _, err := s.lib.RemoveUse(ctx, id, ref); err != nil && !errors.Is(err, pathways.ErrNotFound) {
			s.log.WarnContext(ctx, "undo media use failed; the media clean-up will retry",
				slog.String("asset", id), slog.String("ref", ref), slog.Any("error", err))
		}
	}
}

// ShowsMedia reports whether the published version a media use's
// reference names exists and shows asset assetID; it answers true for a
// reference that is not a course version's. The media clean-up asks it.
func (s *Service) ShowsMedia(ctx context.Context, ref, assetID string) (bool, error) {
	courseID, n, ok := parseUseRef(ref)
	if !ok {
		return true, nil
	}
	ct, err := s.published(ctx, courseID, n)
	if errors.Is(err, pathways.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, shown := ct.media[assetID]
	return shown, nil
}

// SweepSlugs removes slug reservations left by creates and slug changes
// that crashed, once older than pathways.ClaimGrace (see
// Store.SweepSlugs). It scans: a background job runs it.
func (s *Service) SweepSlugs(ctx context.Context) (int, error) {
	return s.store.SweepSlugs(ctx, s.now().Add(-pathways.ClaimGrace))
}
