package assets

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
)

// Resumable uploads: the client announces a file and its size, then sends
// it in chunks, each with the offset it starts at. A chunk is stored whole
// or not at all; after a dropped connection the client asks where the
// upload stands and goes on from there. Every chunk but the last is at
// least MinPartSize, because each becomes one part of a multipart upload.
// The type is decided from the first chunk, so a wrong file is refused
// before the rest is sent, and the checksum is carried from chunk to chunk
// in the upload's record.

// StartUpload opens a resumable upload of a file of size bytes. With m.ID
// set, a retry returns the upload already started and created = false (the
// asset it becomes takes the same id).
func (s *Service) StartUpload(ctx context.Context, actor accounts.Actor, m Meta, size int64) (u Upload, created bool, err error) {
	u, err = s.startUpload(ctx, actor, m, size, &created)
	return u, created, err
}

func (s *Service) startUpload(ctx context.Context, actor accounts.Actor, m Meta, size int64, created *bool) (Upload, error) {
	if !actor.IsAuthor() {
		return Upload{}, fmt.Errorf("upload: %w", pathways.ErrForbidden)
	}
	if err := CheckUpload(m, size); err != nil {
		return Upload{}, err
	}
	org, err := uploadOrg(actor, &m)
	if err != nil {
		return Upload{}, err
	}
	if err := s.checkUploadOrg(ctx, actor, org); err != nil {
		return Upload{}, err
	}
	if size > s.maxLimit() {
		return Upload{}, &TooLargeError{Limit: s.maxLimit()}
	}
	if k, ok := guessKind(m.DeclaredType, m.Name); ok && size > s.Limit(k) {
		return Upload{}, &TooLargeError{Kind: k, Limit: s.Limit(k)}
	}
	if m.ID != "" {
		if u, err := s.store.Upload(ctx, m.ID); err == nil && u.OwnerID == actor.UserID && u.Size == size {
			return u, nil
		}
		if _, ok, err := s.existing(ctx, m.ID, org); ok || err != nil {
			if err == nil {
				err = fmt.Errorf("asset %s exists: %w", m.ID, pathways.ErrConflict)
			}
			return Upload{}, err
		}
	} else {
		m.ID = newID()
	}
	key := newBlobKey()
	mpID, err := s.blobs.CreateMultipart(ctx, key)
	if err != nil {
		return Upload{}, fmt.Errorf("start upload %s: %w", m.ID, err)
	}
	now := s.now().UTC()
	u := Upload{
		ID: m.ID, OrgID: org, OwnerID: actor.UserID, Meta: m, Size: size,
		BlobKey: key, MultipartID: mpID, Created: now, Expires: now.Add(s.cfg.UploadTTL),
	}
	if err := s.store.InsertUpload(ctx, u); err != nil {
		s.abort(ctx, key, mpID)
		if errors.Is(err, pathways.ErrConflict) {
			if prev, gerr := s.store.Upload(ctx, m.ID); gerr == nil && prev.OwnerID == actor.UserID && prev.Size == size {
				return prev, nil // a concurrent retry
			}
		}
		return Upload{}, fmt.Errorf("start upload %s: %w", m.ID, err)
	}
	*created = true
	return u, nil
}

// ChunkRange bounds the size of a chunk at offset of an upload: every
// chunk but the last is at least MinPartSize.
func ChunkRange(u Upload) (lo, hi int64) {
	rest := u.Size - u.Offset
	return min(rest, MinPartSize), min(rest, MaxPartSize)
}

// UploadStatus returns an upload of actor's. Uploads are personal: anyone
// else's is ErrNotFound, as is an expired one.
func (s *Service) UploadStatus(ctx context.Context, actor accounts.Actor, id string) (Upload, error) {
	if !accounts.ValidID(id) {
		return Upload{}, fmt.Errorf("upload %q: %w", id, pathways.ErrNotFound)
	}
	u, err := s.store.Upload(ctx, id)
	if err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	if u.OwnerID != actor.UserID || !s.now().Before(u.Expires) {
		return Upload{}, fmt.Errorf("upload %s: %w", id, pathways.ErrNotFound)
	}
	return u, nil
}

// PutChunk stores the n bytes of body as the chunk at offset. When the
// file is complete it becomes an asset, which is returned too. An offset
// other than the upload's is an *OffsetError (as is a chunk while another
// is being written); the client then asks for the status and resumes. A
// chunk of zero bytes at the end finishes an upload whose last chunk was
// stored but not yet recorded as an asset.
func (s *Service) PutChunk(ctx context.Context, actor accounts.Actor, id string, offset int64, body io.Reader, n int64) (Upload, *Asset, error) {
	u, err := s.UploadStatus(ctx, actor, id)
	if err != nil {
		return Upload{}, nil, err
	}
	if offset != u.Offset {
		return u, nil, &OffsetError{Offset: u.Offset}
	}
	if u.Offset == u.Size {
		if n > 0 {
			return u, nil, (&pathways.ValidationError{}).Add("chunk", CodeChunkSize, map[string]any{"Min": 0, "Max": 0})
		}
		a, err := s.finish(ctx, u)
		return u, a, err
	}
	if lo, hi := ChunkRange(u); n < lo || n > hi {
		return u, nil, (&pathways.ValidationError{}).Add("chunk", CodeChunkSize, map[string]any{"Min": lo, "Max": hi})
	}
	if _, busy := s.busy.LoadOrStore(id, true); busy {
		return u, nil, &OffsetError{Offset: u.Offset}
	}
	defer s.busy.Delete(id)

	br := bufio.NewReaderSize(body, sniffLen)
	if u.Offset == 0 {
		head, err := br.Peek(int(min(n, sniffLen)))
		if err != nil {
			return u, nil, fmt.Errorf("%w: %v", ErrIncomplete, err)
		}
		ft, err := sniff(head, u.Meta.Name, u.Meta.DeclaredType)
		if err == nil && u.Size > s.Limit(ft.kind) {
			err = &TooLargeError{Kind: ft.kind, Limit: s.Limit(ft.kind)}
		}
		if err != nil {
			// This file can never be accepted: end the upload.
			s.cancel(ctx, u)
			return u, nil, err
		}
		u.Kind, u.ContentType = ft.kind, ft.contentType
	}
	h, err := restoreHash(u.HashState)
	if err != nil {
		return u, nil, fmt.Errorf("upload %s: %w", id, err)
	}
	in := &meter{r: br, h: h, want: n, limit: n, kind: u.Kind}
	part := len(u.Parts) + 1
	etag, err := s.blobs.PutPart(ctx, u.BlobKey, u.MultipartID, part, io.LimitReader(in, n), n)
	if err == nil && in.n < n {
		err = fmt.Errorf("%w: %d of %d bytes", ErrIncomplete, in.n, n)
	}
	if err != nil {
		if in.err != nil {
			return u, nil, in.err
		}
		return u, nil, fmt.Errorf("upload %s part %d: %w", id, part, err)
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return u, nil, fmt.Errorf("upload %s: save checksum: %w", id, err)
	}
	kind, ctype := u.Kind, u.ContentType
	u, err = s.store.UpdateUpload(ctx, id, func(cur *Upload) error {
		if cur.Offset != offset {
			return &OffsetError{Offset: cur.Offset}
		}
		cur.Parts = append(cur.Parts, Part{N: part, ETag: etag, Size: n})
		cur.Offset += n
		cur.HashState = state
		cur.Kind, cur.ContentType = kind, ctype
		return nil
	})
	if err != nil {
		return u, nil, fmt.Errorf("upload %s: %w", id, err)
	}
	if u.Offset < u.Size {
		return u, nil, nil
	}
	a, err := s.finish(ctx, u)
	return u, a, err
}

// finish joins a complete upload's parts and records the asset. It is
// idempotent: a retry after a failure part-way goes on where it stopped.
func (s *Service) finish(ctx context.Context, u Upload) (*Asset, error) {
	if a, ok, err := s.existing(ctx, u.ID, u.OrgID); err != nil {
		return nil, err
	} else if ok {
		if a.BlobKey == u.BlobKey || len(u.HashState) > 0 && a.SHA256 == hashOf(u.HashState) {
			s.forget(ctx, u.ID) // finished by an earlier attempt
			return &a, nil
		}
		return nil, fmt.Errorf("finish upload %s: another asset has its id: %w", u.ID, pathways.ErrConflict)
	}
	if err := s.blobs.CompleteMultipart(ctx, u.BlobKey, u.MultipartID, u.Parts); err != nil {
		// Completed by an earlier attempt whose answer was lost?
		info, serr := s.blobs.Stat(ctx, u.BlobKey)
		if serr != nil || info.Size != u.Size {
			return nil, fmt.Errorf("finish upload %s: %w", u.ID, err)
		}
	}
	h, err := restoreHash(u.HashState)
	if err != nil {
		return nil, fmt.Errorf("finish upload %s: %w", u.ID, err)
	}
	now := s.now().UTC()
	a, _, err := s.record(ctx, Asset{
		ID: u.ID, OrgID: u.OrgID, OwnerID: u.OwnerID, Kind: u.Kind, ContentType: u.ContentType,
		Size: u.Size, SHA256: hex.EncodeToString(h.Sum(nil)), Name: u.Meta.Name, Locale: u.Meta.Locale,
		AltText: u.Meta.AltText, Transcript: u.Meta.Transcript, Created: now, Updated: now,
	}, u.BlobKey, false)
	if err != nil {
		return nil, err
	}
	s.forget(ctx, u.ID)
	return &a, nil
}

// CancelUpload ends an upload of actor's and drops what it stored.
func (s *Service) CancelUpload(ctx context.Context, actor accounts.Actor, id string) error {
	u, err := s.UploadStatus(ctx, actor, id)
	if err != nil {
		return err
	}
	s.cancel(ctx, u)
	return nil
}

// cancel drops an upload's record and parts.
func (s *Service) cancel(ctx context.Context, u Upload) {
	s.forget(ctx, u.ID)
	s.abort(ctx, u.BlobKey, u.MultipartID)
}

func (s *Service) forget(ctx context.Context, id string) {
	if err := s.store.DeleteUpload(context.WithoutCancel(ctx), id); err != nil && !errors.Is(err, pathways.ErrNotFound) {
		s.log.WarnContext(ctx, "delete upload record failed; the clean-up job will retry", "upload", id, "error", err)
	}
}

func (s *Service) abort(ctx context.Context, key, mpID string) {
	if err := s.blobs.AbortMultipart(context.WithoutCancel(ctx), key, mpID); err != nil {
		s.log.WarnContext(ctx, "abort multipart upload failed; the clean-up job will retry", "key", key, "error", err)
	}
}

// hashOf is the hex SHA-256 a saved state stands at ("" if unreadable).
func hashOf(state []byte) string {
	h, err := restoreHash(state)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// restoreHash continues a SHA-256 from a saved state ("" starts afresh).
func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restore checksum: %w", err)
	}
	return h, nil
}
