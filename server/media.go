package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
)

// Media: uploads (one request, or resumable in chunks), the library
// (list, describe, edit, delete, usage) and delivery of the bytes with
// ranges and validators. Bodies stream through; nothing holds a whole
// file in memory.

// mediaTypeOffset is the body type of a resumable upload's chunk (as in
// the tus protocol, whose Upload-Offset header this API shares).
const mediaTypeOffset = "application/offset+octet-stream"

// Header names of resumable uploads.
const (
	headerUploadOffset = "Upload-Offset"
	headerUploadLength = "Upload-Length"
)

// maxFormFields bounds the fields before the file part of a multipart
// upload (six are defined; each may come once).
const maxFormFields = 20

// maxFieldSize bounds one form field of a multipart upload (a transcript
// of 100,000 characters fits).
const maxFieldSize = 512 << 10

// Field error codes of the media handlers.
const (
	codeAfterFile = "after_file"
)

// transferContext is the context of a request that moves a file: not the
// ordinary request deadline, which a slow link would exceed, but
// Config.TransferTimeout; stalls are caught by idleDeadline instead.
func (s *Server) transferContext(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.UserContext()), s.cfg.TransferTimeout)
}

// uploadBody is the request body, with the connection's read deadline
// moved on as data arrives.
func (s *Server) uploadBody(c *fiber.Ctx) io.Reader {
	return &idleDeadline{r: body(c), conn: c.Context().Conn(), idle: s.cfg.TransferIdle}
}

type assetJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Name        string `json:"name"`
	Locale      string `json:"locale,omitempty"`
	AltText     string `json:"altText"`
	Transcript  string `json:"transcript"`
	// URL is where the bytes are (GET /media/{id}).
	URL string `json:"url"`
	// Shown to the asset's authors only.
	OrganisationID string     `json:"orgId,omitempty"`
	OwnerID        string     `json:"ownerId,omitempty"`
	SHA256         string     `json:"sha256,omitempty"`
	InUse          *bool      `json:"inUse,omitempty"`
	CreatedAt      *time.Time `json:"createdAt,omitempty"`
	UpdatedAt      *time.Time `json:"updatedAt,omitempty"`
}

func toAssetJSON(a assets.Asset, author bool) assetJSON {
	out := assetJSON{
		ID: a.ID, Kind: string(a.Kind), ContentType: a.ContentType, Size: a.Size, Name: a.Name,
		Locale: a.Locale, AltText: a.AltText, Transcript: a.Transcript, URL: "/media/" + a.ID,
	}
	if author {
		inUse := len(a.Uses) > 0
		out.OrganisationID, out.OwnerID, out.SHA256, out.InUse = a.OrgID, a.OwnerID, a.SHA256, &inUse
		out.CreatedAt, out.UpdatedAt = &a.Created, &a.Updated
	}
	return out
}

// uploadMedia stores a file sent as multipart/form-data (fields first,
// then the "file" part) or as the raw body, described by query parameters.
func (s *Server) uploadMedia(c *fiber.Ctx) error {
	ctx, cancel := s.transferContext(c)
	defer cancel()
	ct := c.Get(fiber.HeaderContentType)
	mt, params, _ := mime.ParseMediaType(ct)
	var (
		a       assets.Asset
		created bool
		err     error
	)
	if mt == fiber.MIMEMultipartForm {
		a, created, err = s.uploadMultipart(ctx, c, params["boundary"])
	} else {
		a, created, err = s.uploadRaw(ctx, c, ct)
	}
	if err != nil {
		return err
	}
	c.Location("/api/v1/media/" + a.ID)
	return c.Status(createdStatus(created)).JSON(toAssetJSON(a, true))
}

// uploadQuery lists the query parameters of a raw upload.
var uploadQuery = map[string]bool{"id": true, "orgId": true, "name": true, "locale": true, "altText": true, "transcript": true}

func (s *Server) uploadRaw(ctx context.Context, c *fiber.Ctx, ct string) (assets.Asset, bool, error) {
	v := &pathways.ValidationError{}
	for _, k := range slices.Sorted(maps.Keys(c.Queries())) {
		if !uploadQuery[k] {
			v.Add(pathways.Clip(k), pathways.CodeUnknown, nil)
		}
	}
	m := assets.Meta{
		ID: c.Query("id"), OrgID: c.Query("orgId"), Name: c.Query("name"), DeclaredType: ct,
		Locale: c.Query("locale"), AltText: c.Query("altText"), Transcript: c.Query("transcript"),
	}
	if m.Name == "" {
		if _, p, err := mime.ParseMediaType(c.Get(fiber.HeaderContentDisposition)); err == nil {
			m.Name = p["filename"]
		}
	}
	if v.Err() != nil {
		_ = v.Merge("", assets.CheckMeta(m)) // every bad parameter at once
		return assets.Asset{}, false, paramErr(v)
	}
	size := int64(c.Request().Header.ContentLength())
	if size < 0 {
		size = -1 // chunked: the length shows at the end
	}
	a, created, err := s.media.Upload(ctx, actor(c), m, s.uploadBody(c), size)
	// What the client said came as query parameters; only "file" (the
	// body) and "name" from Content-Disposition are not parameters.
	var ve *pathways.ValidationError
	if errors.As(err, &ve) && !slices.ContainsFunc(ve.Fields, func(f pathways.FieldError) bool { return f.Field == "file" }) {
		return a, created, paramErr(ve)
	}
	return a, created, err
}

var errMalformedMultipart = errors.New("malformed multipart body")

func (s *Server) uploadMultipart(ctx context.Context, c *fiber.Ctx, boundary string) (assets.Asset, bool, error) {
	if boundary == "" {
		return assets.Asset{}, false, errMalformedMultipart
	}
	mr := multipart.NewReader(s.uploadBody(c), boundary)
	var m assets.Meta
	fields := map[string]*string{
		"id": &m.ID, "orgId": &m.OrgID, "name": &m.Name, "locale": &m.Locale,
		"altText": &m.AltText, "transcript": &m.Transcript,
	}
	// Problems of the fields are collected until the file part, and then
	// answered all at once, with what the fields say, before any byte of
	// the file is stored.
	v := &pathways.ValidationError{}
	seen := map[string]bool{}
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			v.Add("file", pathways.CodeRequired, nil)
			_ = v.Merge("", assets.CheckMeta(m))
			return assets.Asset{}, false, v
		}
		if err != nil {
			return assets.Asset{}, false, fmt.Errorf("%w: %v", errMalformedMultipart, err)
		}
		name := part.FormName()
		if name == "file" {
			if v.Err() != nil {
				_ = v.Merge("", assets.CheckMeta(m))
				return assets.Asset{}, false, v
			}
			return s.uploadPart(ctx, c, mr, part, m)
		}
		field := pathways.EscapeToken(pathways.Clip(name))
		dst, known := fields[name]
		switch {
		case parts >= maxFormFields:
			return assets.Asset{}, false, v.Add("$", pathways.CodeTooMany, map[string]any{"Count": maxFormFields})
		case !known:
			v.Add(field, pathways.CodeUnknown, nil)
		case seen[name]:
			v.Add(field, pathways.CodeDuplicateKey, nil)
			known = false // the first stands
		}
		seen[name] = true
		val, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
		switch {
		case err != nil:
			return assets.Asset{}, false, fmt.Errorf("%w: %v", assets.ErrIncomplete, err)
		case len(val) > maxFieldSize:
			v.Add(field, pathways.CodeTooLong, map[string]any{"Count": maxFieldSize})
		case known:
			*dst = string(val)
		}
	}
}

// uploadPart stores the file part; nothing may follow it, since fields
// after the file would come too late to describe it.
func (s *Server) uploadPart(ctx context.Context, c *fiber.Ctx, mr *multipart.Reader, part *multipart.Part, m assets.Meta) (assets.Asset, bool, error) {
	if m.Name == "" {
		m.Name = part.FileName()
	}
	m.DeclaredType = part.Header.Get(fiber.HeaderContentType)
	a, created, err := s.media.Upload(ctx, actor(c), m, part, -1)
	if err != nil {
		return a, created, err
	}
	next, err := mr.NextPart()
	if errors.Is(err, io.EOF) {
		return a, created, nil
	}
	if created {
		if derr := s.media.Delete(ctx, actor(c), a.ID); derr != nil {
			return assets.Asset{}, false, derr
		}
	}
	if err != nil {
		return assets.Asset{}, false, fmt.Errorf("%w: after the file: %v", errMalformedMultipart, err)
	}
	return assets.Asset{}, false, pathways.Invalid(next.FormName(), codeAfterFile)
}

func (s *Server) getMedia(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.media.Asset(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toAssetJSON(a, assets.MayEdit(actor(c), a)))
}

type updateMediaRequest struct {
	Name       *string `json:"name"`
	Locale     *string `json:"locale"`
	AltText    *string `json:"altText"`
	Transcript *string `json:"transcript"`
}

func (r updateMediaRequest) check() error { return assets.CheckChange(assets.Change(r)) }

func (s *Server) updateMedia(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in updateMediaRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	a, err := s.media.Update(c.UserContext(), actor(c), id, assets.Change(in))
	if err != nil {
		return err
	}
	return c.JSON(toAssetJSON(a, true))
}

func (s *Server) deleteMedia(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.media.Delete(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type libraryItemJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	Name        string    `json:"name"`
	Locale      string    `json:"locale,omitempty"`
	OwnerID     string    `json:"ownerId"`
	InUse       bool      `json:"inUse"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"createdAt"`
}

// listMedia lists an organisation's library: the caller's own, or the one
// a global admin names.
func (s *Server) listMedia(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, assets.ListLimits)
	org := mediaOrg(c, v)
	f := assets.Filter{Kind: assets.Kind(c.Query("kind")), Locale: c.Query("locale"), OwnerID: c.Query("ownerId"), Query: c.Query("q")}
	if f.Kind != "" && !f.Kind.Valid() {
		v.Add("kind", pathways.CodeEnum, map[string]any{"Value": pathways.JoinValues(assets.Kinds)})
	}
	if f.OwnerID != "" && !accounts.ValidID(f.OwnerID) {
		v.Add("ownerId", pathways.CodeID, nil)
	}
	switch c.Query("unused") {
	case "", "false":
	case "true":
		f.Unused = true
	default:
		v.Add("unused", pathways.CodeType, map[string]any{"Expected": "boolean"})
	}
	if err := paramErr(v); err != nil {
		return err
	}
	items, total, err := s.media.List(c.UserContext(), actor(c), org, f, p)
	if err != nil {
		return err
	}
	return sendList(c, listOf(items, func(it assets.LibraryItem) libraryItemJSON {
		return libraryItemJSON{
			ID: it.ID, Kind: string(it.Kind), ContentType: it.ContentType, Size: it.Size, Name: it.Name,
			Locale: it.Locale, OwnerID: it.OwnerID, InUse: it.Used, URL: "/media/" + it.ID, CreatedAt: it.Created,
		}
	}), p, total)
}

// mediaOrg is the organisation a library request is about: the
// orgId parameter, or the caller's own.
func mediaOrg(c *fiber.Ctx, v *pathways.ValidationError) string {
	org := c.Query("orgId")
	switch {
	case org != "" && !accounts.ValidID(org):
		v.Add("orgId", pathways.CodeID, nil)
	case org == "" && actor(c).OrgID == "":
		v.Add("orgId", pathways.CodeRequired, nil)
	case org == "":
		return actor(c).OrgID
	}
	return org
}

type usageJSON struct {
	Count  int                      `json:"count"`
	Bytes  int64                    `json:"bytes"`
	ByKind map[string]kindUsageJSON `json:"byKind"`
	Limits map[string]int64         `json:"limits"`
}

type kindUsageJSON struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

func (s *Server) mediaUsage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.media.Usage(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	out := usageJSON{Count: u.Count, Bytes: u.Bytes, ByKind: map[string]kindUsageJSON{}, Limits: map[string]int64{}}
	for _, k := range assets.Kinds {
		out.ByKind[string(k)] = kindUsageJSON(u.ByKind[k])
		out.Limits[string(k)] = s.media.Limit(k)
	}
	return c.JSON(out)
}

// Resumable uploads.

type startUploadRequest struct {
	// ID, optional, is chosen by a client that may retry (a UUID); the
	// asset takes it too.
	ID             string `json:"id"`
	OrganisationID string `json:"orgId"`
	Name           string `json:"name"`
	// Type is the content type the client believes the file has.
	Type       string `json:"type"`
	Size       int64  `json:"size"`
	Locale     string `json:"locale"`
	AltText    string `json:"altText"`
	Transcript string `json:"transcript"`
}

type uploadJSON struct {
	ID        string    `json:"id"`
	Size      int64     `json:"size"`
	Offset    int64     `json:"offset"`
	ChunkMin  int64     `json:"chunkMin"`
	ChunkMax  int64     `json:"chunkMax"`
	ExpiresAt time.Time `json:"expiresAt"`
	URL       string    `json:"url"`
}

func (s *Server) sendUpload(c *fiber.Ctx, status int, u assets.Upload) error {
	lo, hi := assets.ChunkRange(u)
	c.Set(headerUploadOffset, strconv.FormatInt(u.Offset, 10))
	c.Set(headerUploadLength, strconv.FormatInt(u.Size, 10))
	url := "/api/v1/media/uploads/" + u.ID
	return c.Status(status).JSON(uploadJSON{ID: u.ID, Size: u.Size, Offset: u.Offset, ChunkMin: lo, ChunkMax: hi, ExpiresAt: u.Expires, URL: url})
}

func (r startUploadRequest) meta() assets.Meta {
	return assets.Meta{
		ID: r.ID, OrgID: r.OrganisationID, Name: r.Name, DeclaredType: r.Type,
		Locale: r.Locale, AltText: r.AltText, Transcript: r.Transcript,
	}
}

func (r startUploadRequest) check() error { return assets.CheckUpload(r.meta(), r.Size) }

func (s *Server) startUpload(c *fiber.Ctx) error {
	var in startUploadRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, created, err := s.media.StartUpload(c.UserContext(), actor(c), in.meta(), in.Size)
	if err != nil {
		return err
	}
	c.Location("/api/v1/media/uploads/" + u.ID)
	return s.sendUpload(c, createdStatus(created), u)
}

func (s *Server) uploadStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.media.UploadStatus(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.sendUpload(c, fiber.StatusOK, u)
}

var (
	errLengthRequired = errors.New("request has no Content-Length")
	errChunkType      = errors.New("chunk is not application/offset+octet-stream")
)

// putChunk stores one chunk at the offset the Upload-Offset header names.
// It answers 204 with the new offset, or 201 with the asset once the file
// is complete.
func (s *Server) putChunk(c *fiber.Ctx) error {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != mediaTypeOffset && mt != fiber.MIMEOctetStream {
		return errChunkType
	}
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	offset, err := strconv.ParseInt(c.Get(headerUploadOffset), 10, 64)
	if err != nil || offset < 0 {
		v.Add(headerUploadOffset, pathways.CodeInvalid, nil)
	}
	if err := paramErr(v); err != nil {
		return err
	}
	n := int64(c.Request().Header.ContentLength())
	if n < 0 {
		return errLengthRequired
	}
	ctx, cancel := s.transferContext(c)
	defer cancel()
	u, a, err := s.media.PutChunk(ctx, actor(c), id, offset, s.uploadBody(c), n)
	if err != nil {
		return err
	}
	c.Set(headerUploadOffset, strconv.FormatInt(u.Offset, 10))
	if a != nil {
		c.Location("/api/v1/media/" + a.ID)
		return c.Status(fiber.StatusCreated).JSON(toAssetJSON(*a, true))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) cancelUpload(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.media.CancelUpload(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Delivery.

// immutable is the Cache-Control of an asset's bytes: they never change
// (a new file is a new asset), but they are personal to who may read them.
const immutable = "private, max-age=31536000, immutable"

// rangeError is a Range header that cannot be served; size goes into the
// Content-Range of the 416 answer.
type rangeError struct{ size int64 }

func (e *rangeError) Error() string { return "range not satisfiable" }
func (e *rangeError) Unwrap() error { return errRange }

// serveMedia sends an asset's bytes: whole, one range (206) or several
// (206 multipart/byteranges), with a strong ETag, 304 for a matching
// If-None-Match, and a long private cache lifetime. With a blob store that
// presigns, it redirects to a short-lived direct URL instead.
func (s *Server) serveMedia(c *fiber.Ctx) error {
	id := c.Params("id")
	if !accounts.ValidID(id) {
		return fmt.Errorf("media %q: %w", id, pathways.ErrNotFound)
	}
	a, err := s.media.Asset(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	etag := `"` + a.SHA256 + `"`
	disposition := contentDisposition(c.Query("download") == "1", a.Name)
	h := &c.Response().Header
	h.Set(fiber.HeaderETag, etag)
	h.Set(fiber.HeaderCacheControl, immutable)
	h.Set(fiber.HeaderLastModified, a.Created.UTC().Format(http.TimeFormat))
	h.Set(fiber.HeaderAcceptRanges, "bytes")
	h.Set(fiber.HeaderContentDisposition, disposition)
	if a.ContentType != "application/pdf" {
		// Nothing in a picture, a sound or subtitles should ever run; the
		// browser's PDF viewer does not work in a sandbox.
		h.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	}
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	ctx, cancel := s.transferContext(c)
	defer cancel()
	if url, _, ok, err := s.media.DownloadURL(ctx, a, disposition); err != nil {
		return err
	} else if ok {
		h.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect(url, fiber.StatusTemporaryRedirect)
	}

	contentType := a.ContentType
	if strings.HasPrefix(contentType, "text/") {
		contentType += "; charset=utf-8"
	}
	var ranges []byteRange
	if ifRange := c.Get(fiber.HeaderIfRange); ifRange == "" || ifRange == etag {
		if ranges, err = parseRange(c.Get(fiber.HeaderRange), a.Size); err != nil {
			return &rangeError{size: a.Size}
		}
	}
	head := c.Method() == fiber.MethodHead
	switch len(ranges) {
	case 0:
		h.Set(fiber.HeaderContentType, contentType)
		return s.sendBytes(c, a, 0, a.Size, head)
	case 1:
		r := ranges[0]
		c.Status(fiber.StatusPartialContent)
		h.Set(fiber.HeaderContentType, contentType)
		h.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, a.Size))
		return s.sendBytes(c, a, r.start, r.length, head)
	}
	c.Status(fiber.StatusPartialContent)
	return s.sendRanges(c, a, contentType, ranges, head)
}

// sendBytes streams length bytes of a from offset as the response body.
func (s *Server) sendBytes(c *fiber.Ctx, a assets.Asset, offset, length int64, head bool) error {
	if head {
		c.Response().Header.SetContentLength(int(length))
		c.Response().SkipBody = true
		return nil
	}
	// The body is read after the handler returns, so the blob is opened
	// with a context that outlives it, bounded by TransferTimeout;
	// fasthttp closes the reader when done, which ends the context.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), s.cfg.TransferTimeout)
	r, err := s.media.Open(ctx, a, offset, length)
	if err != nil {
		cancel()
		return err
	}
	c.Context().SetBodyStream(&idleDeadline{r: cancelOnClose{r, cancel}, conn: c.Context().Conn(), idle: s.cfg.TransferIdle, write: true}, int(length))
	return nil
}

// cancelOnClose ends a context when its reader is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// sendRanges answers several ranges as multipart/byteranges.
func (s *Server) sendRanges(c *fiber.Ctx, a assets.Asset, contentType string, ranges []byteRange, head bool) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	c.Response().Header.Set(fiber.HeaderContentType, "multipart/byteranges; boundary="+mw.Boundary())
	if head {
		pw.Close()
		c.Response().SkipBody = true
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), s.cfg.TransferTimeout)
	go func() {
		defer cancel()
		for _, r := range ranges {
			part, err := mw.CreatePart(map[string][]string{
				fiber.HeaderContentType:  {contentType},
				fiber.HeaderContentRange: {fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, a.Size)},
			})
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			body, err := s.media.Open(ctx, a, r.start, r.length)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(part, body)
			body.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	c.Context().SetBodyStream(&idleDeadline{r: pr, conn: c.Context().Conn(), idle: s.cfg.TransferIdle, write: true}, -1)
	return nil
}

// etagMatch reports whether an If-None-Match header matches etag, by the
// weak comparison RFC 9110 prescribes for it.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// contentDisposition names the file for "save as": inline (shown in the
// page) or as an attachment (?download=1). mime.FormatMediaType quotes the
// name and encodes non-ASCII names (Arabic, Cyrillic) as RFC 2231 UTF-8;
// names were cleaned of control characters and quotes on upload.
func contentDisposition(download bool, name string) string {
	kind := "inline"
	if download {
		kind = "attachment"
	}
	if name == "" {
		return kind
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": name}); v != "" {
		return v
	}
	return kind
}
