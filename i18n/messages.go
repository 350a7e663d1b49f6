package i18n

// Message IDs of the UI catalogue. Code refers to these constants, never to
// string literals, and the catalogue test checks that every one of them is in
// every locale file.
const (
	ProblemBadRequestTitle       = "problem.bad_request.title"
	ProblemBadRequestDetail      = "problem.bad_request.detail"
	ProblemMalformedJSONTitle    = "problem.malformed_json.title"
	ProblemMalformedJSONDetail   = "problem.malformed_json.detail"
	ProblemMediaTypeTitle        = "problem.media_type.title"
	ProblemMediaTypeDetail       = "problem.media_type.detail"
	ProblemTooLargeTitle         = "problem.too_large.title"
	ProblemTooLargeDetail        = "problem.too_large.detail"
	ProblemValidationTitle       = "problem.validation.title"
	ProblemValidationDetail      = "problem.validation.detail"
	ProblemNotFoundTitle         = "problem.not_found.title"
	ProblemNotFoundDetail        = "problem.not_found.detail"
	ProblemMethodTitle           = "problem.method_not_allowed.title"
	ProblemMethodDetail          = "problem.method_not_allowed.detail"
	ProblemUnauthenticatedTitle  = "problem.unauthenticated.title"
	ProblemUnauthenticatedDetail = "problem.unauthenticated.detail"
	ProblemLoginFailedTitle      = "problem.login_failed.title"
	ProblemLoginFailedDetail     = "problem.login_failed.detail"
	ProblemForbiddenTitle        = "problem.forbidden.title"
	ProblemForbiddenDetail       = "problem.forbidden.detail"
	ProblemConflictTitle         = "problem.conflict.title"
	ProblemConflictDetail        = "problem.conflict.detail"
	ProblemRateLimitedTitle      = "problem.rate_limited.title"
	ProblemRateLimitedDetail     = "problem.rate_limited.detail"
	ProblemUnavailableTitle      = "problem.unavailable.title"
	ProblemUnavailableDetail     = "problem.unavailable.detail"
	ProblemTimeoutTitle          = "problem.timeout.title"
	ProblemTimeoutDetail         = "problem.timeout.detail"
	ProblemInternalTitle         = "problem.internal.title"
	ProblemInternalDetail        = "problem.internal.detail"

	ProblemMediaTooLargeTitle       = "problem.media_too_large.title"
	ProblemMediaTooLargeDetail      = "problem.media_too_large.detail"
	ProblemUploadIncompleteTitle    = "problem.upload_incomplete.title"
	ProblemUploadIncompleteDetail   = "problem.upload_incomplete.detail"
	ProblemUploadOffsetTitle        = "problem.upload_offset.title"
	ProblemUploadOffsetDetail       = "problem.upload_offset.detail"
	ProblemInUseTitle               = "problem.in_use.title"
	ProblemInUseDetail              = "problem.in_use.detail"
	ProblemLibraryFullTitle         = "problem.library_full.title"
	ProblemLibraryFullDetail        = "problem.library_full.detail"
	ProblemRangeTitle               = "problem.range.title"
	ProblemRangeDetail              = "problem.range.detail"
	ProblemLengthRequiredTitle      = "problem.length_required.title"
	ProblemLengthRequiredDetail     = "problem.length_required.detail"
	ProblemChunkTypeDetail          = "problem.chunk_type.detail"
	ProblemMalformedMultipartTitle  = "problem.malformed_multipart.title"
	ProblemMalformedMultipartDetail = "problem.malformed_multipart.detail"

	// Kind names, for messages about a kind of media file.
	MediaKindImage    = "media.kind.image"
	MediaKindAudio    = "media.kind.audio"
	MediaKindVideo    = "media.kind.video"
	MediaKindSubtitle = "media.kind.subtitle"
	MediaKindDocument = "media.kind.document"
	MediaKindFile     = "media.kind.file"
)

// FieldMessageID is the message explaining a field error code (see the
// Code* constants of package pathways/accounts): "field." + code.
func FieldMessageID(code string) string { return "field." + code }
