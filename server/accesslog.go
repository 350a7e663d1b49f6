package server

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessLine is one request's access log line: the record observe logs.
type accessLine struct {
	time      time.Time
	level     slog.Level
	requestID string
	method    string
	path      string
	route     string
	status    int
	duration  time.Duration
	ip        string
	bytes     int
}

// attrs are the line's fields, for a slog handler.
func (l *accessLine) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("request_id", l.requestID),
		slog.String("method", l.method),
		slog.String("path", l.path),
		slog.String("route", l.route),
		slog.Int("status", l.status),
		slog.Duration("duration", l.duration),
		slog.String("ip", l.ip),
		slog.Int("bytes", l.bytes),
	}
}

// accessLog writes access log lines itself, in the bytes slog's
// JSONHandler (without options) writes for the same record: formatting
// the line through the handler (a record, its attributes, the handler's
// generic encoding) was the largest part of the server's own work on a
// cached lesson read. TestAccessLogAsSlog holds the two to one format.
// The writer must be safe for concurrent use; each line is one Write.
type accessLog struct {
	w    io.Writer
	bufs sync.Pool // *[]byte
}

func (a *accessLog) write(l *accessLine) error {
	bp, _ := a.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = appendAccessLine((*bp)[:0], l)
	_, err := a.w.Write(*bp)
	if cap(*bp) <= 4<<10 { // an odd huge line is not kept
		a.bufs.Put(bp)
	}
	return err
}

// appendAccessLine appends l as slog's JSONHandler writes it, newline
// included.
func appendAccessLine(b []byte, l *accessLine) []byte {
	b = append(b, `{"time":"`...)
	b = l.time.Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, l.level.String())
	b = append(b, `,"msg":"request","request_id":`...)
	b = appendJSONString(b, l.requestID)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, l.path)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(l.duration), 10)
	b = append(b, `,"ip":`...)
	b = appendJSONString(b, l.ip)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	return append(b, "}\n"...)
}

// appendJSONString appends s quoted as slog's JSON handler quotes it:
// `"` and `\` escaped, \n \r \t as such and other control characters as
// \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped, the rest
// as it is (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	flush := func(i int) { b = append(b, s[start:i]...) }
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			flush(i)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			flush(i)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			flush(i)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	flush(len(s))
	return append(b, '"')
}
