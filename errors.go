// Package pathways holds the error vocabulary shared by every domain package.
// Domain packages return these; the server maps them to HTTP problems in one
// table, so a handler never chooses a status code itself.
package pathways

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Wrap them with context (fmt.Errorf("get user %s: %w", id,
// ErrNotFound)); callers test with errors.Is.
var (
	// ErrNotFound: the object does not exist, or the caller may not know it does.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write clashes with existing state (duplicate key, stale revision).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: no valid credentials or token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller is known but may not act on this object.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: a backing service (database, storage) cannot be reached.
	ErrUnavailable = errors.New("unavailable")
)

// FieldError says what is wrong with one input field. Code is a stable,
// machine-readable reason ("required", "too_long", ...) that the server
// translates; Params carries values for the translated message.
type FieldError struct {
	Field  string
	Code   string
	Params map[string]any
}

// MaxFieldErrors is how many field errors a ValidationError lists at most.
// An input with more problems (a request listing 340,000 empty questions)
// is told how many more there are instead, so an error answer never costs
// more memory than the input that caused it.
const MaxFieldErrors = 100

// ValidationError lists every problem found in one input, so a client can
// show them all at once instead of one per round trip, up to
// MaxFieldErrors; Omitted counts the problems found beyond that (at
// least: validators stop looking once the list is Full).
type ValidationError struct {
	Fields  []FieldError
	Omitted int
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Code
	}
	s := "invalid input: " + strings.Join(parts, ", ")
	if e.Omitted > 0 {
		s += fmt.Sprintf(" and %d more", e.Omitted)
	}
	return s
}

// Add records a problem with field; it returns e for chaining. Past
// MaxFieldErrors it only counts the problem.
func (e *ValidationError) Add(field, code string, params map[string]any) *ValidationError {
	if len(e.Fields) >= MaxFieldErrors {
		e.Omitted++
		return e
	}
	e.Fields = append(e.Fields, FieldError{Field: field, Code: code, Params: params})
	return e
}

// Full reports whether e has listed MaxFieldErrors problems and counted
// at least one more: a validator looping over a long input stops there,
// since the answer already says that there are more (Omitted is then a
// lower bound). Stopping only once one problem is omitted keeps an input
// with exactly MaxFieldErrors problems from looking truncated.
func (e *ValidationError) Full() bool { return e.Omitted > 0 }

// Count is the number of problems found, listed or not.
func (e *ValidationError) Count() int { return len(e.Fields) + e.Omitted }

// Merge adds the problems of err, a *ValidationError, to e, each field
// prefixed with prefix (a path ending in "/", or ""). It returns err
// itself if err is another kind of error, nil otherwise.
func (e *ValidationError) Merge(prefix string, err error) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for _, f := range ve.Fields {
		e.Add(prefix+f.Field, f.Code, f.Params)
	}
	e.Omitted += ve.Omitted
	return nil
}

// Err returns e if it holds any field error, nil otherwise; it lets a
// validator collect problems and return `v.Err()` at the end.
func (e *ValidationError) Err() error {
	if e == nil || e.Count() == 0 {
		return nil
	}
	return e
}

// Invalid is a shorthand for a validation error about one field.
func Invalid(field, code string) error {
	return (&ValidationError{}).Add(field, code, nil)
}

// RateLimitedError says the caller must wait before trying again. It is
// returned for login lock-outs, whether or not the account exists.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return "too many attempts, retry after " + e.RetryAfter.String()
}
