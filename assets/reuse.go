package assets

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// UploadOnce stores a file as Upload does, unless the library it goes to
// holds identical content already (the same SHA-256): then it returns
// that asset with created false and stores nothing, neither a second
// record nor the bytes. Importing the same course package twice thus
// leaves the library as the first import did. The file is checked as an
// upload is (type from the content, against its name and declared type;
// the size limit of its kind) whether it is stored or found, so a file
// is refused or taken the same way either way.
//
// open is called once to compute the checksum and, only for new
// content, once more to store it: content that is there already costs a
// read, not a write. With m.ID set and taken by an asset of the library,
// it returns that asset (a retry), as Upload does. A reused asset keeps
// its own name, locale, alt text and transcript.
func (s *Service) UploadOnce(ctx context.Context, actor accounts.Actor, m Meta, size int64, open func() (io.ReadCloser, error)) (Asset, bool, error) {
	org, prior, done, err := s.beginUpload(ctx, actor, &m)
	if done || err != nil {
		return prior, false, err
	}
	sha, err := s.checksum(m, size, open)
	if err != nil {
		return Asset{}, false, err
	}
	if a, ok, err := s.findContent(ctx, org, sha); ok || err != nil {
		return a, false, err
	}
	body, err := open()
	if err != nil {
		return Asset{}, false, fmt.Errorf("%w: %v", ErrIncomplete, err)
	}
	defer body.Close()
	return s.Upload(ctx, actor, m, body, size)
}

// checksum reads a file once: it checks its type and size as Upload
// would and returns its SHA-256 in hex.
func (s *Service) checksum(m Meta, size int64, open func() (io.ReadCloser, error)) (string, error) {
	r, err := open()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrIncomplete, err)
	}
	defer r.Close()
	in, _, err := s.typedBody(m, r, size)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, in); err != nil {
		return "", err
	}
	return hex.EncodeToString(in.h.Sum(nil)), nil
}

// findContent returns an asset of org's library whose content has
// checksum sha, the first stored; ok is false if there is none. It reads
// the content's blob record, which lists the assets of every library that
// hold it, and then each of those by id.
func (s *Service) findContent(ctx context.Context, org, sha string) (Asset, bool, error) {
	b, err := s.store.Blob(ctx, sha)
	if errors.Is(err, pathways.ErrNotFound) {
		return Asset{}, false, nil
	}
	if err != nil {
		return Asset{}, false, fmt.Errorf("find content %s: %w", sha, err)
	}
	for _, id := range b.Assets {
		a, err := s.store.Asset(ctx, id)
		switch {
		case errors.Is(err, pathways.ErrNotFound):
			continue // a claim the clean-up will remove
		case err != nil:
			return Asset{}, false, fmt.Errorf("find content %s: asset %s: %w", sha, id, err)
		case a.OrgID == org && a.SHA256 == sha:
			return a, true, nil
		}
	}
	return Asset{}, false, nil
}
