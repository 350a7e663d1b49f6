package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/i18n"
)

// ProblemContentType is the media type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// problemTypeBase prefixes the stable "type" of every problem. It is a URN,
// not a URL: clients compare it, nothing fetches it.
const problemTypeBase = "urn:pathways:problem:"

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"requestId,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	// Omitted counts the problems found beyond those listed in Errors.
	Omitted int `json:"omitted,omitempty"`
	// Checks names each readiness check and its state, on /readyz failures.
	Checks map[string]string `json:"checks,omitempty"`
}

// FieldProblem is one invalid input. Pointer is a JSON Pointer into the
// request body (RFC 6901; "" is the whole body), as in RFC 9457's own
// example; Parameter names a query or path parameter instead.
type FieldProblem struct {
	// File and Line place a problem of a course package.
	File      string  `json:"file,omitempty"`
	Line      int     `json:"line,omitempty"`
	Pointer   *string `json:"pointer,omitempty"`
	Parameter string  `json:"parameter,omitempty"`
	Field     string  `json:"field"`
	Code      string  `json:"code"`
	Detail    string  `json:"detail"`
}

// fieldProblem renders one field error.
func fieldProblem(loc *i18n.Localizer, f pathways.FieldError, param bool) FieldProblem {
	fp := FieldProblem{Field: f.Field, Code: f.Code, Detail: loc.T(i18n.FieldMessageID(f.Code), f.Params)}
	switch {
	case param:
		fp.Parameter = f.Field
	case f.Field == "$":
		fp.Pointer = new("")
	default:
		// Field is a path of tokens joined by "/" (modules/0/title),
		// each already escaped as RFC 6901 wants.
		fp.Pointer = new("/" + f.Field)
	}
	return fp
}

// readinessError says which readiness checks failed.
type readinessError struct {
	checks map[string]string
	err    error
}

func (e *readinessError) Error() string { return e.err.Error() }
func (e *readinessError) Unwrap() error { return e.err }

// kind is one row of the error table.
type kind struct {
	status int
	slug   string
	title  string
	detail string
}

var (
	kindBadRequest     = kind{fiber.StatusBadRequest, "bad-request", i18n.ProblemBadRequestTitle, i18n.ProblemBadRequestDetail}
	kindMalformedJSON  = kind{fiber.StatusBadRequest, "malformed-json", i18n.ProblemMalformedJSONTitle, i18n.ProblemMalformedJSONDetail}
	kindMediaType      = kind{fiber.StatusUnsupportedMediaType, "unsupported-media-type", i18n.ProblemMediaTypeTitle, i18n.ProblemMediaTypeDetail}
	kindTooLarge       = kind{fiber.StatusRequestEntityTooLarge, "too-large", i18n.ProblemTooLargeTitle, i18n.ProblemTooLargeDetail}
	kindValidation     = kind{fiber.StatusUnprocessableEntity, "validation", i18n.ProblemValidationTitle, i18n.ProblemValidationDetail}
	kindNotFound       = kind{fiber.StatusNotFound, "not-found", i18n.ProblemNotFoundTitle, i18n.ProblemNotFoundDetail}
	kindMethod         = kind{fiber.StatusMethodNotAllowed, "method-not-allowed", i18n.ProblemMethodTitle, i18n.ProblemMethodDetail}
	kindUnauthenticate = kind{fiber.StatusUnauthorized, "unauthenticated", i18n.ProblemUnauthenticatedTitle, i18n.ProblemUnauthenticatedDetail}
	kindLoginFailed    = kind{fiber.StatusUnauthorized, "login-failed", i18n.ProblemLoginFailedTitle, i18n.ProblemLoginFailedDetail}
	kindForbidden      = kind{fiber.StatusForbidden, "forbidden", i18n.ProblemForbiddenTitle, i18n.ProblemForbiddenDetail}
	kindConflict       = kind{fiber.StatusConflict, "conflict", i18n.ProblemConflictTitle, i18n.ProblemConflictDetail}
	kindRateLimited    = kind{fiber.StatusTooManyRequests, "rate-limited", i18n.ProblemRateLimitedTitle, i18n.ProblemRateLimitedDetail}
	kindUnavailable    = kind{fiber.StatusServiceUnavailable, "unavailable", i18n.ProblemUnavailableTitle, i18n.ProblemUnavailableDetail}
	kindTimeout        = kind{fiber.StatusServiceUnavailable, "timeout", i18n.ProblemTimeoutTitle, i18n.ProblemTimeoutDetail}
	kindOverloaded     = kind{fiber.StatusServiceUnavailable, "overloaded", i18n.ProblemOverloadedTitle, i18n.ProblemOverloadedDetail}
	kindInternal       = kind{fiber.StatusInternalServerError, "internal", i18n.ProblemInternalTitle, i18n.ProblemInternalDetail}

	kindMediaTooLarge      = kind{fiber.StatusRequestEntityTooLarge, "media-too-large", i18n.ProblemMediaTooLargeTitle, i18n.ProblemMediaTooLargeDetail}
	kindUploadIncomplete   = kind{fiber.StatusBadRequest, "upload-incomplete", i18n.ProblemUploadIncompleteTitle, i18n.ProblemUploadIncompleteDetail}
	kindUploadOffset       = kind{fiber.StatusConflict, "upload-offset", i18n.ProblemUploadOffsetTitle, i18n.ProblemUploadOffsetDetail}
	kindInUse              = kind{fiber.StatusConflict, "in-use", i18n.ProblemInUseTitle, i18n.ProblemInUseDetail}
	kindLibraryFull        = kind{fiber.StatusConflict, "library-full", i18n.ProblemLibraryFullTitle, i18n.ProblemLibraryFullDetail}
	kindRange              = kind{fiber.StatusRequestedRangeNotSatisfiable, "range-not-satisfiable", i18n.ProblemRangeTitle, i18n.ProblemRangeDetail}
	kindLengthRequired     = kind{fiber.StatusLengthRequired, "length-required", i18n.ProblemLengthRequiredTitle, i18n.ProblemLengthRequiredDetail}
	kindChunkType          = kind{fiber.StatusUnsupportedMediaType, "unsupported-media-type", i18n.ProblemMediaTypeTitle, i18n.ProblemChunkTypeDetail}
	kindStale              = kind{fiber.StatusConflict, "stale-revision", i18n.ProblemStaleTitle, i18n.ProblemStaleDetail}
	kindArchived           = kind{fiber.StatusConflict, "archived", i18n.ProblemArchivedTitle, i18n.ProblemArchivedDetail}
	kindSlugTaken          = kind{fiber.StatusConflict, "slug-taken", i18n.ProblemSlugTakenTitle, i18n.ProblemSlugTakenDetail}
	kindPublished          = kind{fiber.StatusConflict, "published", i18n.ProblemPublishedTitle, i18n.ProblemPublishedDetail}
	kindAttemptClosed      = kind{fiber.StatusConflict, "attempt-closed", i18n.ProblemAttemptClosedTitle, i18n.ProblemAttemptClosedDetail}
	kindTimeUp             = kind{fiber.StatusConflict, "time-up", i18n.ProblemTimeUpTitle, i18n.ProblemTimeUpDetail}
	kindAttemptLimit       = kind{fiber.StatusConflict, "attempt-limit", i18n.ProblemAttemptLimitTitle, i18n.ProblemAttemptLimitDetail}
	kindZipType            = kind{fiber.StatusUnsupportedMediaType, "unsupported-media-type", i18n.ProblemMediaTypeTitle, i18n.ProblemZipTypeDetail}
	kindInvalidPackage     = kind{fiber.StatusUnprocessableEntity, "invalid-package", i18n.ProblemInvalidPackageTitle, i18n.ProblemInvalidPackageDetail}
	kindMalformedMultipart = kind{fiber.StatusBadRequest, "malformed-multipart", i18n.ProblemMalformedMultipartTitle, i18n.ProblemMalformedMultipartDetail}
)

// kindMessages are the message ids naming each kind of media file.
var kindMessages = map[assets.Kind]string{
	assets.KindImage: i18n.MediaKindImage, assets.KindAudio: i18n.MediaKindAudio, assets.KindVideo: i18n.MediaKindVideo,
	assets.KindSubtitle: i18n.MediaKindSubtitle, assets.KindDocument: i18n.MediaKindDocument,
	"": i18n.MediaKindFile, // the kind is not known yet
}

// bodyLimitError is a body over a route's own limit (not BodyLimit).
type bodyLimitError struct{ limit int64 }

func (e *bodyLimitError) Error() string { return fmt.Sprintf("body over %d bytes", e.limit) }

// malformedJSONError is a request body that is not valid JSON.
type malformedJSONError struct {
	offset int64
	err    error
}

func (e *malformedJSONError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %v", e.offset, e.err)
}
func (e *malformedJSONError) Unwrap() error { return e.err }

var errMediaType = errors.New("request body is not application/json")

// classify is the one table from errors to problems. The order matters: a
// specific error (login failed) comes before the sentinel it wraps.
func classify(err error) (k kind, data map[string]any) {
	var (
		ve *pathways.ValidationError
		rl *pathways.RateLimitedError
		mj *malformedJSONError
		fe *fiber.Error
		tl *assets.TooLargeError
		oe *assets.OffsetError
		pe *coursefile.Error
		bl *bodyLimitError
		de *deadlineError
	)
	switch {
	case errors.Is(err, errOverloaded):
		return kindOverloaded, nil
	case errors.As(err, &de):
		return kindTimeout, nil
	case errors.As(err, &tl):
		return kindMediaTooLarge, map[string]any{"Kind": tl.Kind, "Size": humanSize(tl.Limit)}
	case errors.Is(err, assets.ErrIncomplete):
		return kindUploadIncomplete, nil
	case errors.Is(err, errIncompleteBody), errors.Is(err, errMalformedRequest):
		return kindBadRequest, nil
	case errors.As(err, &oe):
		return kindUploadOffset, map[string]any{"Offset": oe.Offset}
	case errors.Is(err, assets.ErrInUse):
		return kindInUse, nil
	case errors.Is(err, assets.ErrLibraryFull):
		return kindLibraryFull, map[string]any{"Count": assets.MaxLibrarySize}
	case errors.Is(err, errRange):
		return kindRange, nil
	case errors.Is(err, errLengthRequired):
		return kindLengthRequired, nil
	case errors.Is(err, errMalformedMultipart):
		return kindMalformedMultipart, nil
	case errors.Is(err, errChunkType):
		return kindChunkType, nil
	case errors.As(err, &bl):
		return kindTooLarge, map[string]any{"Limit": bl.limit}
	case errors.As(err, &pe):
		return kindInvalidPackage, map[string]any{"Count": len(pe.Problems) + pe.Omitted}
	case errors.Is(err, errZipType):
		return kindZipType, nil
	case errors.Is(err, courses.ErrStale), errors.Is(err, assessments.ErrStale), errors.Is(err, accounts.ErrStale):
		return kindStale, nil
	case errors.Is(err, assessments.ErrClosed):
		return kindAttemptClosed, nil
	case errors.Is(err, assessments.ErrTimeUp):
		return kindTimeUp, nil
	case errors.Is(err, assessments.ErrAttemptLimit):
		return kindAttemptLimit, nil
	case errors.Is(err, courses.ErrArchived):
		return kindArchived, nil
	case errors.Is(err, courses.ErrSlugTaken):
		return kindSlugTaken, nil
	case errors.Is(err, courses.ErrPublished):
		return kindPublished, nil
	case errors.As(err, &ve):
		return kindValidation, map[string]any{"Count": ve.Count()}
	case errors.As(err, &mj):
		return kindMalformedJSON, map[string]any{"Offset": mj.offset}
	case errors.Is(err, errMediaType):
		return kindMediaType, nil
	case errors.As(err, &rl):
		return kindRateLimited, map[string]any{"Count": int(rl.RetryAfter.Seconds())}
	case errors.Is(err, accounts.ErrLoginFailed):
		return kindLoginFailed, nil
	case errors.Is(err, pathways.ErrUnauthenticated):
		return kindUnauthenticate, nil
	case errors.Is(err, pathways.ErrForbidden):
		return kindForbidden, nil
	case errors.Is(err, pathways.ErrNotFound):
		return kindNotFound, nil
	case errors.Is(err, pathways.ErrConflict):
		return kindConflict, nil
	case errors.Is(err, context.DeadlineExceeded):
		return kindTimeout, nil
	case errors.Is(err, pathways.ErrUnavailable):
		return kindUnavailable, nil
	case errors.As(err, &fe):
		return fiberKind(fe.Code), nil
	}
	return kindInternal, nil
}

// fiberKind maps the errors Fiber and fasthttp raise themselves (no route,
// wrong method, body too large, unreadable request).
func fiberKind(code int) kind {
	switch {
	case code == fiber.StatusNotFound:
		return kindNotFound
	case code == fiber.StatusMethodNotAllowed:
		return kindMethod
	case code == fiber.StatusRequestEntityTooLarge:
		return kindTooLarge
	case code == fiber.StatusRequestTimeout:
		return kind{fiber.StatusRequestTimeout, "timeout", i18n.ProblemTimeoutTitle, i18n.ProblemTimeoutDetail}
	case code == fiber.StatusUnsupportedMediaType:
		return kindMediaType
	case code >= 400 && code < 500:
		k := kindBadRequest
		k.status = code
		return k
	}
	return kindInternal
}

// handleError is Fiber's error handler: every error a handler or middleware
// returns, and every error Fiber raises itself, becomes a problem document
// in the caller's language. Internal errors are logged with the request id
// and never echoed.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	k, data := classify(err)
	loc := s.localizer(c)
	rid := requestID(c)
	if rid == "" { // raised before the middleware ran (an oversized body)
		rid = newRequestID()
		c.Set(fiber.HeaderXRequestID, rid)
	}
	if data == nil {
		data = map[string]any{}
	}
	data["RequestID"] = rid
	if _, ok := data["Limit"]; !ok {
		data["Limit"] = s.cfg.BodyLimit
	}
	if k.status == fiber.StatusMethodNotAllowed {
		data["Allow"] = s.allowed.allow(c.Path())
		c.Set(fiber.HeaderAllow, data["Allow"].(string))
	}
	if mk, ok := data["Kind"].(assets.Kind); ok {
		data["Kind"] = loc.T(kindMessages[mk], nil)
	}

	p := Problem{
		Type:      problemTypeBase + k.slug,
		Title:     loc.T(k.title, nil),
		Status:    k.status,
		Detail:    loc.T(k.detail, data),
		Instance:  c.Path(),
		RequestID: rid,
	}
	var (
		ve *pathways.ValidationError
		pe paramError
		re *readinessError
	)
	if errors.As(err, &ve) {
		errors.As(err, &pe)
		for i, f := range ve.Fields {
			p.Errors = append(p.Errors, fieldProblem(loc, f, i < pe.params))
		}
		p.Omitted = ve.Omitted
	}
	if errors.As(err, &re) {
		p.Checks = re.checks
	}
	if k == kindSlugTaken {
		p.Errors = append(p.Errors, slugTaken(loc, err))
	}
	var pkg *coursefile.Error
	if errors.As(err, &pkg) {
		for _, pr := range pkg.Problems {
			p.Errors = append(p.Errors, FieldProblem{File: pr.File, Line: pr.Line, Field: pr.Field, Code: pr.Code,
				Detail: loc.T(i18n.FieldMessageID(pr.Code), pr.Params)})
		}
		p.Omitted = pkg.Omitted
	}
	var (
		oe *assets.OffsetError
		rg *rangeError
	)
	if errors.As(err, &oe) {
		c.Set(headerUploadOffset, strconv.FormatInt(oe.Offset, 10))
	}
	if errors.As(err, &rg) {
		c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(rg.size, 10))
	}
	switch k.status {
	case fiber.StatusInternalServerError:
		s.log.ErrorContext(c.UserContext(), "request failed", slog.String("request_id", rid),
			slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("error", err))
	case fiber.StatusServiceUnavailable:
		switch k {
		case kindOverloaded:
			// Counted (pathways_admission_refused_total) and in the access
			// log; a line more each would only add to the load.
		case kindTimeout:
			s.log.WarnContext(c.UserContext(), "request timed out", slog.String("request_id", rid), slog.Any("error", err))
		default:
			s.log.WarnContext(c.UserContext(), "dependency unavailable", slog.String("request_id", rid), slog.Any("error", err))
		}
		if k == kindOverloaded || k == kindTimeout {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfter()))
		}
	case fiber.StatusUnauthorized:
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="pathways"`)
	case fiber.StatusTooManyRequests:
		if n, ok := data["Count"].(int); ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(n))
		}
	}
	c.Set(fiber.HeaderContentLanguage, loc.Tag().String())
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(k.status)
	body, mErr := jsonMarshal(p)
	if mErr != nil {
		return c.SendString(p.Title)
	}
	c.Set(fiber.HeaderContentType, ProblemContentType+"; charset=utf-8")
	return c.Send(body)
}

// slugTaken names the slug of a slug-taken problem: the field of the
// JSON body, or for an import the slug parameter or course.yaml's field,
// with code taken (as a taken username or organisation slug has).
func slugTaken(loc *i18n.Localizer, err error) FieldProblem {
	fp := FieldProblem{Field: "slug", Code: accounts.CodeTaken, Detail: loc.T(i18n.FieldMessageID(accounts.CodeTaken), nil)}
	var st *slugTakenError
	switch {
	case !errors.As(err, &st):
		fp.Pointer = new("/slug")
	case st.param:
		fp.Parameter = "slug"
	default:
		fp.File = "course.yaml"
	}
	return fp
}

// humanSize writes a byte count the way people read file sizes (10 MB).
func humanSize(n int64) string {
	const unit = 1 << 20
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GB"
	case n >= unit:
		return strconv.FormatFloat(float64(n)/unit, 'f', -1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
