package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// client sends the API's requests over one keep-alive connection pool.
type client struct {
	base    string
	http    *http.Client
	retries int // retries of a call refused with 503 or 429
}

// newClient makes a client whose pool keeps conns connections open.
func newClient(base string, conns, retries int) *client {
	tr := &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 2 * time.Minute,
		DisableCompression: true, ForceAttemptHTTP2: false,
	}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: time.Minute}, retries: retries}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// session is a signed-in user's tokens. Each belongs to one worker at a
// time, so it needs no lock.
type session struct {
	username, secret string
	access, refresh  string
	expires          time.Time
}

type sessionJSON struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (s *session) set(j sessionJSON, now time.Time) {
	s.access, s.refresh = j.AccessToken, j.RefreshToken
	s.expires = now.Add(time.Duration(j.ExpiresIn) * time.Second)
}

// call is one API operation to send.
type call struct {
	op           string // the name it is reported under
	method, path string
	body         any // JSON-encoded unless nil or []byte
	sess         *session
	header       http.Header
	want         any // decoded from a 2xx answer when not nil
}

// errStatus is a call that ended with a status other than 2xx.
type errStatus struct {
	op     string
	status int
	body   string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("%s: status %d: %.300s", e.op, e.status, e.body)
}

// refused says whether an answer is the server's "not now": retry later.
func refused(status int) bool {
	return status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests
}

// do sends cl, records it in rec (when not nil) and returns the answer's
// body. A 503 or 429 is retried after its Retry-After (1 s when it has
// none, plus up to 50 % jitter so refused learners do not come back
// together), up to c.retries times; a 401 refreshes the session once and
// resends. An access token about to expire is refreshed first.
func (c *client) do(ctx context.Context, rec *recorder, cl call) ([]byte, error) {
	var body []byte
	switch b := cl.body.(type) {
	case nil:
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("%s: %w", cl.op, err)
		}
	}
	var o *opRecord
	if rec != nil {
		o = rec.op(cl.op)
		o.calls++
	}
	if cl.sess != nil && cl.sess.refresh != "" && time.Until(cl.sess.expires) < 30*time.Second {
		if err := c.refresh(ctx, rec, cl.sess); err != nil {
			return nil, err
		}
	}
	wasRefused, refreshed := false, false
	for try := 0; ; try++ {
		status, header, data, elapsed, err := c.send(ctx, cl, body)
		if err != nil {
			if o != nil {
				o.transport++
				if wasRefused {
					o.refusedBad++
				}
			}
			return nil, fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
		}
		if o != nil {
			o.statuses[status]++
		}
		if rec != nil && refused(status) {
			rec.refusals++
		}
		switch {
		case status >= 200 && status < 300:
			if o != nil {
				o.ok++
				o.latencies = append(o.latencies, elapsed)
				if wasRefused {
					o.refusedOK++
				}
			}
			if cl.want != nil {
				if err := json.Unmarshal(data, cl.want); err != nil {
					return nil, fmt.Errorf("%s: decode the answer: %w", cl.op, err)
				}
			}
			return data, nil
		case refused(status) && try < c.retries:
			if !wasRefused && o != nil {
				o.refused++
			}
			wasRefused = true
			if err := sleep(ctx, retryAfter(header)); err != nil {
				if o != nil {
					o.refusedBad++
				}
				return nil, &errStatus{op: cl.op, status: status, body: string(data)}
			}
			continue
		case status == http.StatusUnauthorized && cl.sess != nil && cl.sess.refresh != "" && !refreshed:
			refreshed = true
			if err := c.refresh(ctx, rec, cl.sess); err != nil {
				return nil, err
			}
			continue
		}
		if o != nil && refused(status) {
			if !wasRefused {
				o.refused++
			}
			o.refusedBad++
		} else if o != nil && wasRefused {
			o.refusedBad++
		}
		return nil, &errStatus{op: cl.op, status: status, body: string(data)}
	}
}

// send makes one request and reads its whole answer.
func (c *client) send(ctx context.Context, cl call, body []byte) (status int, h http.Header, data []byte, elapsed time.Duration, err error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, r)
	if err != nil {
		return 0, nil, nil, 0, err
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.sess != nil && cl.sess.access != "" {
		req.Header.Set("Authorization", "Bearer "+cl.sess.access)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, 0, err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	elapsed = time.Since(start)
	if err != nil {
		return 0, nil, nil, 0, err
	}
	return resp.StatusCode, resp.Header, data, elapsed, nil
}

// login signs s in.
func (c *client) login(ctx context.Context, rec *recorder, s *session) error {
	var j sessionJSON
	_, err := c.do(ctx, rec, call{op: "login", method: "POST", path: "/api/v1/auth/login",
		body: map[string]string{"username": s.username, "password": s.secret}, want: &j})
	if err != nil {
		return err
	}
	s.set(j, time.Now())
	return nil
}

// refresh exchanges s's refresh token for a new session.
func (c *client) refresh(ctx context.Context, rec *recorder, s *session) error {
	var j sessionJSON
	_, err := c.do(ctx, rec, call{op: "refresh", method: "POST", path: "/api/v1/auth/refresh",
		body: map[string]string{"refreshToken": s.refresh}, want: &j})
	if err != nil {
		return err
	}
	s.set(j, time.Now())
	return nil
}

// retryAfter is how long a refused answer asks the client to wait, with
// jitter.
func retryAfter(h http.Header) time.Duration {
	wait := time.Second
	if n, err := strconv.Atoi(h.Get("Retry-After")); err == nil && n >= 0 {
		wait = time.Duration(n) * time.Second
	}
	return wait + time.Duration(rand.Int64N(int64(wait/2)+1))
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
