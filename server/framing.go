package server

import (
	"errors"
	"log/slog"
	"net"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Request framing. fasthttp reads requests leniently: it takes a request
// with both Content-Length and Transfer-Encoding as chunked, any
// Transfer-Encoding but "identity" as chunked, the last of two
// Content-Lengths, bare LF as a line end, NUL and other control bytes in
// header fields, folded header lines, junk after a chunk size
// (docs/DECISIONS.md has the whole table). A proxy in front may read the
// same bytes differently, and where the two disagree on where a request
// ends, what one takes for a body the other takes for a request: request
// smuggling. So every connection served by Serve is read through
// framedConn, which checks the bytes as received against RFC 9112's
// grammar (the request line and chunked bodies never reach a middleware:
// fasthttp keeps only the header fields as received), and a request it
// refuses is answered 400 and its connection closed after the answer.

// errMalformedRequest is a request the server refuses to read: its framing
// is malformed or ambiguous. The problem table answers it 400 bad-request.
var errMalformedRequest = errors.New("malformed request")

// framingError says what the framing checker refused.
type framingError struct{ reason string }

func (e *framingError) Error() string { return "request refused: " + e.reason }
func (e *framingError) Unwrap() error { return errMalformedRequest }

var (
	errBareLF           = &framingError{"a line ends in LF without CR"}
	errBareCR           = &framingError{"CR not followed by LF"}
	errControl          = &framingError{"control character in the request line or a header field"}
	errObsFold          = &framingError{"header line starts with whitespace (obs-fold)"}
	errFieldName        = &framingError{"header field name is not a token or is not followed by a colon"}
	errRequestLine      = &framingError{"request line is not method SP target SP version"}
	errVersion          = &framingError{"HTTP version is neither HTTP/1.1 nor HTTP/1.0"}
	errContentLength    = &framingError{"Content-Length is not a decimal number"}
	errTwoLengths       = &framingError{"more than one Content-Length"}
	errTransferEncoding = &framingError{"Transfer-Encoding is not exactly one chunked"}
	errLengthAndChunked = &framingError{"both Content-Length and Transfer-Encoding"}
	errChunked10        = &framingError{"Transfer-Encoding in an HTTP/1.0 request"}
	errTwoHosts         = &framingError{"more than one Host"}
	errChunkSize        = &framingError{"chunk size line is not hex digits with optional extensions"}
	errChunkEnd         = &framingError{"chunk data not followed by CRLF"}
	errTrailer          = &framingError{"trailer fields after the last chunk"}
	errUnknownMethod    = &framingError{"a method the router does not know"}
)

// framedListener hands out connections that check request framing.
type framedListener struct{ net.Listener }

func (l framedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framedConn{Conn: c, f: framer{num: 1}}, nil
}

// framedConn checks the framing of the requests read from it. A refusal in
// a request head is only noted: the bytes still reach fasthttp, which
// parses the head (so the answer has the caller's language) and calls the
// handler, and checkFraming answers it. A refusal in a chunked body also
// ends the bytes there, so a handler reading the body gets an error rather
// than data a proxy may have framed differently.
//
// fasthttp reads a connection, and calls the handler, from one goroutine.
type framedConn struct {
	net.Conn
	f   framer
	cut bool // reads end at the refusal
}

func (c *framedConn) Read(p []byte) (int, error) {
	if c.cut {
		return 0, c.f.err
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.f.err == nil {
		if i := c.f.scan(p[:n]); i >= 0 && c.f.inBody {
			c.cut = true
			if i == 0 {
				return 0, c.f.err
			}
			return i, nil
		}
	}
	return n, err
}

// refusal is the refusal of request n (1 for the first request on the
// connection), or nil. c may be nil (a connection that is not checked).
func (c *framedConn) refusal(n uint64) error {
	if c == nil || c.f.err == nil || c.f.refused != n {
		return nil
	}
	return c.f.err
}

// checkFraming wraps the fasthttp handler (Fiber's router): a request whose
// framing its connection refused, and one with a method Fiber does not know
// (Fiber answers those itself in plain text, before any middleware, leaving
// the body unread for the next request to start in), is answered with a
// problem and its connection closed. It runs before Fiber, so it also sees
// what Fiber's middleware never does.
func (s *Server) checkFraming(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	methods := s.app.Config().RequestMethods
	return func(fctx *fasthttp.RequestCtx) {
		fc, _ := fctx.Conn().(*framedConn)
		n := fctx.ConnRequestNum()
		if err := fc.refusal(n); err != nil {
			s.refuse(fctx, err)
			return
		}
		if !knownMethod(fctx.Method(), methods) {
			s.refuse(fctx, errUnknownMethod)
			return
		}
		next(fctx)
		// The refusal came with the body, while the handler read it.
		if err := fc.refusal(n); err != nil {
			s.refuse(fctx, err)
		}
	}
}

func knownMethod(m []byte, methods []string) bool {
	for _, k := range methods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// refuse replaces any answer to the request by the problem of err and
// closes the connection after it, so that nothing sent after the request
// on the connection is taken for another request.
func (s *Server) refuse(fctx *fasthttp.RequestCtx, err error) {
	fctx.Response.Reset()
	fctx.SetConnectionClose()
	c := s.app.AcquireCtx(fctx)
	defer s.app.ReleaseCtx(c)
	if rid := requestID(c); rid != "" { // the middleware ran before the body was refused
		c.Set(fiber.HeaderXRequestID, rid)
	}
	_ = s.handleError(c, err)
	s.log.WarnContext(c.UserContext(), "request refused", slog.String("request_id", c.GetRespHeader(fiber.HeaderXRequestID)),
		slog.String("ip", s.clientIP(c)), slog.Uint64("request_on_connection", fctx.ConnRequestNum()), slog.Any("error", err))
}

// framer states: where in a request the next byte is.
const (
	stStart       uint8 = iota // an empty line or a request line
	stStartLF                  // the LF of an empty line before the request line
	stMethod                   // the method, then SP
	stTargetStart              // the request target's first byte
	stTarget                   // the request target, then SP
	stVersion                  // HTTP/1.1 or HTTP/1.0, then CR
	stLineLF                   // the LF ending the request line or a field line
	stFieldStart               // a field name, or the empty line ending the head
	stName                     // a field name, then ':'
	stValue                    // a field value, then CR
	stHeadLF                   // the LF of the empty line ending the head
	stBody                     // n bytes of a body with a Content-Length
	stChunkSize                // the hex digits of a chunk size
	stChunkBWS                 // whitespace after a chunk size, then ';'
	stChunkExt                 // chunk extensions, then CR
	stChunkLF                  // the LF ending a chunk size line
	stChunkData                // n bytes of chunk data
	stChunkCR                  // the CR after chunk data
	stChunkDataLF              // the LF after chunk data
	stLastCR                   // the CR of the empty line after the last chunk
	stLastLF                   // its LF
	stRefused                  // nothing more is checked
)

// Fields the framer tracks, as bits of framer.field while a name is read.
const (
	fieldLength uint8 = 1 << iota
	fieldChunked
	fieldHost
)

var fieldNames = [...]string{"content-length", "transfer-encoding", "host"}

// framer follows the requests of one connection byte by byte, as RFC 9112
// writes them, and notes the first thing it refuses: it keeps no bytes,
// only where it is.
type framer struct {
	state   uint8
	num     uint64 // the request being read, from 1
	err     *framingError
	refused uint64 // the request err is about
	inBody  bool   // err is about a body

	// The head being read.
	pos       int   // bytes of the version or the field name so far
	http10    bool  // the version is HTTP/1.0
	field     uint8 // the tracked fields the name may still be
	val       uint8 // in a tracked value: 0 before it, 1 in it, 2 after it
	length    bool  // Content-Length seen
	chunked   bool  // Transfer-Encoding: chunked seen
	host      bool  // Host seen
	n         int64 // Content-Length; then what is left of the body or chunk
	digits    int   // digits of Content-Length or of a chunk size
	valueMore bool  // the tracked value's token is incomplete
}

// Byte classes.
const (
	cTchar   uint8 = 1 << iota // a token character (RFC 9110 §5.6.2)
	cVisible                   // a visible character or obs-text (field-vchar)
	cHex
	cValue // a byte of a field value: visible, SP or HTAB
)

var classes = func() (t [256]uint8) {
	for b := 0x21; b <= 0xff; b++ {
		if b != 0x7f {
			t[b] |= cVisible | cValue
		}
	}
	t[' '] |= cValue
	t['\t'] |= cValue
	for _, b := range []byte("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t[b] |= cTchar
	}
	for _, b := range []byte("0123456789abcdefABCDEF") {
		t[b] |= cHex
	}
	return t
}()

// maxLengthDigits bounds Content-Length and chunk sizes so they fit an
// int64 (and fasthttp's own limits: 18 decimal, 15 hex digits).
const (
	maxLengthDigits = 18
	maxChunkDigits  = 15
)

// scan checks b, the next bytes of the connection. It returns the index of
// the byte it refuses, or -1.
func (f *framer) scan(b []byte) int {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch f.state {
		case stBody, stChunkData:
			left := int64(len(b) - i)
			if left < f.n {
				f.n -= left
				return -1
			}
			i += int(f.n) - 1
			f.n = 0
			if f.state == stBody {
				f.nextRequest()
			} else {
				f.state = stChunkCR
			}
		case stStart:
			switch {
			case c == '\r':
				f.state = stStartLF
			case classes[c]&cTchar != 0:
				f.state = stMethod
			default:
				return f.refuse(i, lineError(c, errRequestLine))
			}
		case stStartLF, stLineLF, stHeadLF, stChunkLF, stChunkDataLF, stLastLF:
			if c != '\n' {
				return f.refuse(i, errBareCR)
			}
			if err := f.lineEnd(); err != nil {
				return f.refuse(i, err)
			}
		case stMethod:
			switch {
			case c == ' ':
				f.state = stTargetStart
			case classes[c]&cTchar == 0:
				return f.refuse(i, lineError(c, errRequestLine))
			}
		case stTargetStart:
			if classes[c]&cVisible == 0 {
				return f.refuse(i, lineError(c, errRequestLine))
			}
			f.state = stTarget
		case stTarget:
			if i = skip(b, i, cVisible); i == len(b) {
				return -1
			}
			if b[i] != ' ' {
				return f.refuse(i, lineError(b[i], errRequestLine))
			}
			f.state, f.pos = stVersion, 0
		case stVersion:
			const prefix = "HTTP/1."
			switch {
			case f.pos < len(prefix) && c == prefix[f.pos], f.pos == len(prefix) && c == '1':
				f.pos++
			case f.pos == len(prefix) && c == '0':
				f.pos++
				f.http10 = true
			case f.pos == len(prefix)+1 && c == '\r':
				f.state = stLineLF
			case f.pos == len(prefix)+1:
				return f.refuse(i, lineError(c, errRequestLine))
			default:
				return f.refuse(i, lineError(c, errVersion))
			}
		case stFieldStart:
			switch {
			case c == '\r':
				f.state = stHeadLF
			case c == ' ' || c == '\t':
				return f.refuse(i, errObsFold)
			case classes[c]&cTchar != 0:
				f.state, f.pos, f.field = stName, 0, fieldLength|fieldChunked|fieldHost
				f.nameByte(c)
			default:
				return f.refuse(i, lineError(c, errFieldName))
			}
		case stName:
			if f.field == 0 { // no longer a tracked name: skip the rest
				if i = skip(b, i, cTchar); i == len(b) {
					return -1
				}
				c = b[i]
			}
			switch {
			case c == ':':
				if err := f.nameEnd(); err != nil {
					return f.refuse(i, err)
				}
				f.state = stValue
			case classes[c]&cTchar != 0:
				f.nameByte(c)
			default:
				return f.refuse(i, lineError(c, errFieldName))
			}
		case stValue:
			if f.field == 0 { // only the bytes matter
				if i = skip(b, i, cValue); i == len(b) {
					return -1
				}
				c = b[i]
			}
			switch {
			case c == '\r':
				if err := f.valueEnd(); err != nil {
					return f.refuse(i, err)
				}
				f.state = stLineLF
			case classes[c]&cValue == 0:
				return f.refuse(i, lineError(c, errControl))
			case f.field != 0:
				if err := f.valueByte(c); err != nil {
					return f.refuse(i, err)
				}
			}
		case stChunkSize:
			switch {
			case classes[c]&cHex != 0:
				if f.digits++; f.digits > maxChunkDigits {
					return f.refuse(i, errChunkSize)
				}
				f.n = f.n<<4 | int64(unhex(c))
			case f.digits == 0:
				return f.refuse(i, errChunkSize)
			case c == '\r':
				f.state = stChunkLF
			case c == ';':
				f.state = stChunkExt
			case c == ' ' || c == '\t':
				f.state = stChunkBWS
			default:
				return f.refuse(i, lineError(c, errChunkSize))
			}
		case stChunkBWS:
			switch {
			case c == ';':
				f.state = stChunkExt
			case c != ' ' && c != '\t':
				return f.refuse(i, lineError(c, errChunkSize))
			}
		case stChunkExt:
			switch {
			case c == '\r':
				f.state = stChunkLF
			case classes[c]&cValue == 0:
				return f.refuse(i, lineError(c, errChunkSize))
			}
		case stChunkCR:
			if c != '\r' {
				return f.refuse(i, errChunkEnd)
			}
			f.state = stChunkDataLF
		case stLastCR:
			if c != '\r' {
				return f.refuse(i, lineError(c, errTrailer))
			}
			f.state = stLastLF
		}
	}
	return -1
}

// skip returns the index of the first byte of b from i on not in class.
func skip(b []byte, i int, class uint8) int {
	for i < len(b) && classes[b[i]]&class != 0 {
		i++
	}
	return i
}

// lineError is the refusal of an unexpected byte c: a bare LF and control
// bytes other than CR (which ends a line early) have their own reasons.
func lineError(c byte, otherwise *framingError) *framingError {
	switch {
	case c == '\n':
		return errBareLF
	case c != '\r' && (c < ' ' || c == 0x7f):
		return errControl
	}
	return otherwise
}

// lineEnd moves past the LF of a CRLF.
func (f *framer) lineEnd() *framingError {
	switch f.state {
	case stStartLF:
		f.state = stStart
	case stLineLF:
		f.state = stFieldStart
	case stHeadLF:
		return f.headEnd()
	case stChunkLF:
		if f.n > 0 {
			f.state = stChunkData
		} else {
			f.state = stLastCR
		}
	case stChunkDataLF:
		f.state, f.n, f.digits = stChunkSize, 0, 0
	case stLastLF:
		f.nextRequest()
	}
	return nil
}

// headEnd decides how the body is framed (RFC 9112 §6).
func (f *framer) headEnd() *framingError {
	switch {
	case f.chunked && f.length:
		return errLengthAndChunked
	case f.chunked && f.http10:
		return errChunked10
	case f.chunked:
		f.state, f.n, f.digits = stChunkSize, 0, 0
	case f.n > 0:
		f.state = stBody
	default:
		f.nextRequest()
	}
	return nil
}

func (f *framer) nextRequest() {
	*f = framer{num: f.num + 1}
}

// nameByte narrows the tracked fields the name being read may be.
func (f *framer) nameByte(c byte) {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	for k, name := range fieldNames {
		if bit := uint8(1) << k; f.field&bit != 0 && (f.pos >= len(name) || name[f.pos] != c) {
			f.field &^= bit
		}
	}
	f.pos++
}

// nameEnd settles which tracked field, if any, the line is.
func (f *framer) nameEnd() *framingError {
	for k, name := range fieldNames {
		if f.pos != len(name) {
			f.field &^= 1 << k
		}
	}
	f.pos, f.val, f.digits = 0, 0, 0
	switch f.field {
	case fieldLength:
		if f.length {
			return errTwoLengths
		}
	case fieldChunked:
		if f.chunked {
			return errTransferEncoding
		}
	case fieldHost:
		if f.host {
			return errTwoHosts
		}
		f.host = true
		f.field = 0 // its value is not checked beyond its bytes
	}
	return nil
}

// valueByte reads the value of Content-Length (digits) or
// Transfer-Encoding ("chunked", in any case), with optional whitespace
// around it.
func (f *framer) valueByte(c byte) *framingError {
	ws := c == ' ' || c == '\t'
	switch {
	case ws && f.val != 1:
		return nil
	case ws && !f.valueMore:
		f.val = 2
		return nil
	case f.val == 2:
		return f.valueError()
	}
	f.val = 1
	if f.field == fieldLength {
		if c < '0' || c > '9' {
			return errContentLength
		}
		if f.digits++; f.digits > maxLengthDigits {
			return errContentLength
		}
		f.n = f.n*10 + int64(c-'0')
		return nil
	}
	const chunked = "chunked"
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	if f.pos >= len(chunked) || c != chunked[f.pos] {
		return errTransferEncoding
	}
	f.pos++
	f.valueMore = f.pos < len(chunked)
	return nil
}

// valueEnd checks a tracked value at the end of its line.
func (f *framer) valueEnd() *framingError {
	switch {
	case f.field == 0:
	case f.val == 0 || f.valueMore:
		return f.valueError()
	case f.field == fieldLength:
		f.length = true
	default:
		f.chunked = true
	}
	f.field, f.valueMore = 0, false
	return nil
}

func (f *framer) valueError() *framingError {
	if f.field == fieldLength {
		return errContentLength
	}
	return errTransferEncoding
}

// refuse notes err about byte i of the current request and stops checking.
func (f *framer) refuse(i int, err *framingError) int {
	f.err, f.refused, f.inBody = err, f.num, f.state >= stBody
	f.state = stRefused
	return i
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
