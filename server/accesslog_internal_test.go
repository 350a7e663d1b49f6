package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// slogLine is what slog's JSONHandler, without options, writes for l:
// the record observe logs when no Deps.AccessLog is set.
func slogLine(t testing.TB, l *accessLine) string {
	var buf bytes.Buffer
	r := slog.NewRecord(l.time, l.level, "request", 0)
	r.AddAttrs(l.attrs()...)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAccessLogAsSlog: the access log line is written byte for byte as
// slog's JSON handler writes the same record, whatever the strings hold.
func TestAccessLogAsSlog(t *testing.T) {
	kyiv := time.FixedZone("EET", 2*3600)
	base := accessLine{
		time: time.Now(), level: slog.LevelInfo, requestID: newRequestID(), method: "GET",
		path: "/api/v1/catalogue/x/versions/1/lessons/m0-l0", route: "/api/v1/catalogue/:id/versions/:version/lessons/:lesson",
		status: 200, duration: 1234567 * time.Nanosecond, ip: "127.0.0.1", bytes: 3719,
	}
	var lines []accessLine
	for _, tm := range []time.Time{base.time, time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 600, kyiv)} {
		for _, lv := range []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			l := base
			l.time, l.level = tm, lv
			lines = append(lines, l)
		}
	}
	for _, s := range []string{
		"", `"quoted"`, `back\slash`, "new\nline\rreturn\ttab", "\x00\x01\x1f\x7f", "<script>&amp;</script>",
		"bad \xff utf-8", "cut \xe2\x80", "\u2028 and \u2029", "درس", "🙂 emoji", "/path/%2F?q=1",
	} {
		l := base
		l.path, l.method, l.route, l.ip, l.requestID = s, s, s, s, s
		l.status, l.duration, l.bytes = 503, 0, 0
		lines = append(lines, l)
	}
	for _, l := range lines {
		got, want := string(appendAccessLine(nil, &l)), slogLine(t, &l)
		if got != want {
			t.Errorf("access log line\n%s\nslog writes\n%s", got, want)
		}
	}
}

// FuzzAccessLogPath: any path is quoted as slog quotes it.
func FuzzAccessLogPath(f *testing.F) {
	for _, s := range []string{"/a", "\"\\\n\x00", "\xff\xfe", "\u2028", "€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		l := accessLine{time: time.Unix(1, 2), level: slog.LevelInfo, path: path}
		if got, want := string(appendAccessLine(nil, &l)), slogLine(t, &l); got != want {
			t.Errorf("%q:\n%s\nslog writes\n%s", path, got, want)
		}
	})
}
