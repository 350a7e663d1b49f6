// Package csvout writes CSV that spreadsheet programs open safely: a UTF-8
// byte order mark first, so Excel reads Arabic and Cyrillic as UTF-8, and
// every cell that a spreadsheet would take for a formula (starting with
// =, +, -, @, a tab or a carriage return) prefixed with ', as OWASP's
// CSV injection advice says.
package csvout

import (
	"encoding/csv"
	"fmt"
	"io"
)

// BOM is the UTF-8 byte order mark a Writer starts with.
const BOM = "\ufeff"

// Writer writes records as CSV. Errors stick: Flush returns the first.
type Writer struct {
	w       io.Writer
	csv     *csv.Writer
	started bool
	err     error
	cells   []string
}

// NewWriter returns a Writer on w; nothing is written before the first
// record.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, csv: csv.NewWriter(w)} }

// Write writes one record, neutralising each cell (Neutralise).
func (w *Writer) Write(record ...string) error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		w.started = true
		if _, err := io.WriteString(w.w, BOM); err != nil {
			w.err = fmt.Errorf("write BOM: %w", err)
			return w.err
		}
	}
	w.cells = w.cells[:0]
	for _, c := range record {
		w.cells = append(w.cells, Neutralise(c))
	}
	if err := w.csv.Write(w.cells); err != nil {
		w.err = fmt.Errorf("write record: %w", err)
	}
	return w.err
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if !w.started { // an empty document still starts with the mark
		w.started = true
		if _, err := io.WriteString(w.w, BOM); err != nil {
			w.err = fmt.Errorf("write BOM: %w", err)
			return w.err
		}
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		w.err = fmt.Errorf("flush: %w", err)
	}
	return w.err
}

// Neutralise returns cell prefixed with ' if a spreadsheet would read it
// as a formula, unchanged otherwise.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}
