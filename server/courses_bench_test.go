package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// lessonText is about one screen of lesson text.
var lessonText = strings.Repeat("When someone speaks to you, **look at them** and nod. Ask a question if you are not sure. ", 6)

// benchCourse is a published course of modules×lessons lessons, each with
// five text blocks in four languages, in org.
func benchCourse(b *testing.B, crs *courses.Service, admin accounts.Actor, org, slug string, modules, lessons int) courses.Course {
	b.Helper()
	c := courses.Course{
		OrgID: org, Slug: slug, Topic: courses.TopicSoftSkills, Audiences: []courses.Audience{courses.AudienceYoungRefugees},
		Level: courses.LevelBeginner, DefaultLocale: "en", Locales: []string{"en", "fr", "ar", "uk"}, Title: "title",
		Messages: i18n.Messages{"en": {}, "fr": {}, "ar": {}, "uk": {}},
	}
	set := func(id, text string) {
		for _, loc := range c.Locales {
			c.Messages[loc][id] = i18n.Message{Other: "[" + loc + "] " + text}
		}
	}
	set("title", "A course")
	for m := range modules {
		mod := courses.Module{ID: fmt.Sprintf("m%d", m), Title: fmt.Sprintf("m%d", m)}
		set(mod.Title, "Module")
		for l := range lessons {
			les := courses.Lesson{ID: fmt.Sprintf("m%d-l%d", m, l), Title: fmt.Sprintf("m%d.l%d", m, l), Minutes: 6}
			set(les.Title, "Lesson")
			for k := range 5 {
				id := fmt.Sprintf("%s.b%d", les.Title, k)
				les.Blocks = append(les.Blocks, courses.Block{ID: fmt.Sprintf("b%d", k), Kind: courses.BlockText, Text: id})
				set(id, lessonText)
			}
			mod.Lessons = append(mod.Lessons, les)
		}
		c.Modules = append(c.Modules, mod)
	}
	ctx := context.Background()
	c, _, err := crs.Create(ctx, admin, c)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := crs.Publish(ctx, admin, c.ID, c.Revision); err != nil {
		b.Fatal(err)
	}
	return c
}

// benchCourses is a server with one organisation, and a global admin to
// act in it.
func benchCourses(b *testing.B) (benchEnv, accounts.Actor, string) {
	b.Helper()
	e := benchMediaServer(b, nil, assets.DefaultConfig)
	admin := accounts.Actor{UserID: "bench", Role: accounts.RoleAdmin}
	org, _, err := e.acc.CreateOrganisation(context.Background(), admin, accounts.NewOrganisation{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return e, admin, org.ID
}

// benchLesson is a server with one published lesson of one module, and
// the path of that lesson in Arabic and a learner's token to read it.
func benchLesson(b *testing.B) (benchEnv, string, string) {
	b.Helper()
	e, admin, org := benchCourses(b)
	ctx := context.Background()
	c := benchCourse(b, e.crs, admin, org, "bench", 1, 1)
	if _, _, err := e.acc.CreateUser(ctx, admin, org, accounts.NewUser{Username: "learner", Role: accounts.RoleLearner, PIN: "3916"}); err != nil {
		b.Fatal(err)
	}
	sess, err := e.acc.Login(ctx, "learner", "3916", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	return e, fmt.Sprintf("/api/v1/catalogue/%s/versions/1/lessons/m0-l0?lang=ar", c.ID), sess.AccessToken
}

// BenchmarkLessonDelivery compares, in one run and over real loopback
// connections, reading a published lesson (authentication, access check,
// cache look-up, ETag) with a bare Fiber handler sending the same body
// from memory ("ratio"), and with one sending the same body and the same
// response headers ("ratio-same-headers": the security headers, ETag,
// Cache-Control and the rest cost the clients, which share the cores, to
// parse). All use 8 concurrent keep-alive clients. They take turns, in
// ten rounds, so that other work on a shared machine weighs on each alike
// and the ratios hold.
//
//	go test -run '^$' -bench LessonDelivery -benchtime 20000x ./server
func BenchmarkLessonDelivery(b *testing.B) {
	e, path, token := benchLesson(b)
	base := serveBench(b, e.srv)
	body, header := fetch(b, base+path, token)

	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/lesson", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(body)
	})
	bare.Get("/headers", func(c *fiber.Ctx) error {
		for k, v := range header {
			if k != "Date" && k != "Content-Length" {
				c.Set(k, v[0])
			}
		}
		return c.Send(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bare.Listener(ln) }()
	b.Cleanup(func() { _ = bare.Shutdown() })
	direct, same := "http://"+ln.Addr().String()+"/lesson", "http://"+ln.Addr().String()+"/headers"
	for _, url := range []string{direct, same} {
		if got, _ := fetch(b, url, ""); string(got) != string(body) {
			b.Fatal("bare handler sends other bytes")
		}
	}

	b.ResetTimer()
	const rounds = 10
	var tServed, tDirect, tSame time.Duration
	for i := range rounds {
		n := b.N / rounds
		if i < b.N%rounds {
			n++ // b.N in all
		}
		phases := []func(){
			func() { tServed += load(b, base+path, token, n) },
			func() { tDirect += load(b, direct, "", n) },
			func() { tSame += load(b, same, "", n) },
		}
		for j := range phases {
			phases[(i+j)%len(phases)]() // each goes first in turn
		}
	}
	b.ReportMetric(float64(b.N)/tServed.Seconds(), "lesson-req/s")
	b.ReportMetric(float64(b.N)/tDirect.Seconds(), "bare-req/s")
	b.ReportMetric(tDirect.Seconds()/tServed.Seconds(), "ratio")
	b.ReportMetric(tSame.Seconds()/tServed.Seconds(), "ratio-same-headers")
	b.ReportMetric(float64(len(body)), "bytes/lesson")
}

func fetch(b *testing.B, url, token string) ([]byte, http.Header) {
	b.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, resp.Header
}

// load sends n GETs from 8 keep-alive clients and returns the time they
// took.
func load(b *testing.B, url, token string, n int) time.Duration {
	b.Helper()
	const clients = 8
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range jobs {
				req, _ := http.NewRequest("GET", url, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return time.Since(start)
}

// BenchmarkCourseCacheMemory publishes 1,000 lessons (100 courses of 2
// modules × 5 lessons, five text blocks each, four languages), reads every
// lesson once in Arabic (so each version is loaded and each lesson
// rendered), and reports the live heap the caches hold and what their
// own accounting says.
//
//	go test -run '^$' -bench CourseCacheMemory -benchtime 1x ./server
func BenchmarkCourseCacheMemory(b *testing.B) {
	for range b.N {
		e, admin, org := benchCourses(b)
		ctx := context.Background()
		var all []courses.Course
		for i := range 100 {
			all = append(all, benchCourse(b, e.crs, admin, org, fmt.Sprintf("c%d", i), 2, 5))
		}
		before := liveHeap()
		lessons := 0
		for _, c := range all {
			for _, m := range c.Modules {
				for _, l := range m.Lessons {
					if _, err := e.crs.LessonJSON(ctx, admin, c.ID, 1, l.ID, []string{"ar"}); err != nil {
						b.Fatal(err)
					}
					lessons++
				}
			}
		}
		after := liveHeap()
		versions, rendered := e.crs.CacheStats()
		if rendered.Entries != lessons || versions.Entries != len(all) {
			b.Fatalf("cache holds %d versions and %d lessons, want %d and %d", versions.Entries, rendered.Entries, len(all), lessons)
		}
		b.ReportMetric(float64(after-before)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(versions.Cost)/(1<<20), "versions-MiB")
		b.ReportMetric(float64(rendered.Cost)/(1<<20), "rendered-MiB")
		b.ReportMetric(float64(lessons), "lessons")
		runtime.KeepAlive(e)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLessonHandler is BenchmarkLessonDelivery without the network
// and the clients: the same lesson request handed to the server's
// handler, and to a bare Fiber app's handler sending the same bytes, on
// one reused fasthttp request context, in turns. It reports what each
// costs per request (ns and allocations) and their ratio, which is what
// the server's own work weighs on a lesson read.
//
//	go test -run '^$' -bench LessonHandler -benchtime 200000x ./server
func BenchmarkLessonHandler(b *testing.B) {
	e, path, token := benchLesson(b)
	app := e.srv.App().Handler()
	var fc fasthttp.RequestCtx
	call := func(h fasthttp.RequestHandler, uri, token string) {
		var r fasthttp.Request
		r.SetRequestURI(uri)
		r.Header.SetHost("bench")
		r.Header.Set("Accept-Language", "ar,en;q=0.8")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		fc.Init(&r, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, nil)
		fc.ResetUserValues() // as fasthttp does between requests (Fiber keeps the request's context there)
		h(&fc)
		if fc.Response.StatusCode() != 200 {
			b.Fatalf("GET %s: %d %s", uri, fc.Response.StatusCode(), fc.Response.Body())
		}
	}
	call(app, path, token)
	body := append([]byte(nil), fc.Response.Body()...)
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/lesson", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(body)
	})
	bareH := bare.Handler()
	call(bareH, "/lesson", "")

	measure := func(h fasthttp.RequestHandler, uri, token string, n int) (time.Duration, uint64) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range n {
			call(h, uri, token)
		}
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		return d, after.Mallocs - before.Mallocs
	}
	b.ResetTimer()
	const rounds = 10
	var served, direct time.Duration
	var servedAllocs, directAllocs uint64
	for i := range rounds {
		n := b.N / rounds
		if i < b.N%rounds {
			n++
		}
		d, a := measure(app, path, token, n)
		served, servedAllocs = served+d, servedAllocs+a
		d, a = measure(bareH, "/lesson", "", n)
		direct, directAllocs = direct+d, directAllocs+a
	}
	b.ReportMetric(float64(served.Nanoseconds())/float64(b.N), "lesson-ns/req")
	b.ReportMetric(float64(direct.Nanoseconds())/float64(b.N), "bare-ns/req")
	b.ReportMetric(float64(servedAllocs)/float64(b.N), "lesson-allocs/req")
	b.ReportMetric(float64(directAllocs)/float64(b.N), "bare-allocs/req")
	b.ReportMetric(direct.Seconds()/served.Seconds(), "ratio")
}
