package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The server streams request bodies (fasthttp's StreamRequestBody), so
// that a media upload is never held whole in memory. Two consequences are
// handled here: JSON bodies are read through a limit of their own, and a
// body a handler leaves unread must not be parsed as the next request on
// the connection.

const localBody = "body"

// trackedBody is the request body; it notes whether it was read to the end.
type trackedBody struct {
	r   io.Reader
	eof bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

// bodyGuard gives handlers the request body as a stream and, if a handler
// did not read it to the end (an error answered early, a 413), closes the
// connection after the response: the unread rest would otherwise be taken
// for the next request, which a proxy could be led to smuggle.
func (s *Server) bodyGuard(c *fiber.Ctx) error {
	stream := c.Context().RequestBodyStream()
	if stream == nil || c.Request().Header.ContentLength() == 0 {
		return c.Next()
	}
	b := &trackedBody{r: stream}
	c.Locals(localBody, b)
	err := c.Next()
	if !b.eof {
		c.Context().SetConnectionClose()
	}
	return err
}

// body returns the request body stream (empty if there is none).
func body(c *fiber.Ctx) io.Reader {
	if b, ok := c.Locals(localBody).(*trackedBody); ok {
		return b
	}
	return eofReader{}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// readBody reads a whole request body of at most limit bytes. A declared
// length over the limit is refused before anything is read.
func readBody(c *fiber.Ctx, limit int) ([]byte, error) {
	if n := c.Request().Header.ContentLength(); n > limit {
		return nil, fiber.ErrRequestEntityTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(body(c), int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIncompleteBody, err)
	}
	if len(data) > limit {
		return nil, fiber.ErrRequestEntityTooLarge
	}
	return data, nil
}

var errIncompleteBody = errors.New("request body ended early")

// idleDeadline moves a connection's read or write deadline forward each
// time data moves, so a large transfer over a slow link takes as long as
// it needs while a stalled one still ends: the server's fixed read and
// write timeouts are meant for ordinary requests.
type idleDeadline struct {
	r     io.Reader
	conn  net.Conn
	idle  time.Duration
	write bool // extend the write deadline (a download), else the read one
	set   time.Time
}

func (d *idleDeadline) Read(p []byte) (int, error) {
	// Reads come every few KiB; moving the deadline once a second is
	// enough and keeps timer updates off the fast path.
	if now := time.Now(); d.conn != nil && now.Sub(d.set) > time.Second {
		d.set = now
		if d.write {
			_ = d.conn.SetWriteDeadline(now.Add(d.idle))
		} else {
			_ = d.conn.SetReadDeadline(now.Add(d.idle))
		}
	}
	return d.r.Read(p)
}

// copyBuffers are the buffers of WriteTo: fasthttp would copy a response
// body 4 KiB at a time; 64 KiB pieces took a 50 MB download over loopback
// from 2.0 to 2.6 GB/s (docs/PERFORMANCE.md).
var copyBuffers = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// WriteTo copies the rest of the stream to w in 64 KiB pieces.
func (d *idleDeadline) WriteTo(w io.Writer) (int64, error) {
	buf := copyBuffers.Get().(*[64 << 10]byte)
	defer copyBuffers.Put(buf)
	var total int64
	for {
		n, err := d.Read(buf[:])
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close closes the underlying reader if it can be closed (fasthttp closes
// a response body stream when it is done).
func (d *idleDeadline) Close() error {
	if c, ok := d.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
