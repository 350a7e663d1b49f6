package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assessments"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
	"github.com/pathways-lms/pathways/learning"
	"github.com/pathways-lms/pathways/rights"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/media"
)

// benchServer is a server with production hash parameters.
func benchServer(b *testing.B) (*server.Server, *accounts.Service) {
	b.Helper()
	e := benchMediaServer(b, nil, assets.DefaultConfig)
	return e.srv, e.acc
}

// benchEnv is a server and its services, with production hash parameters.
type benchEnv struct {
	srv    *server.Server
	acc    *accounts.Service
	lib    *assets.Service
	crs    *courses.Service
	assess *assessments.Service
}

// benchMediaServer is benchServer with its media library on blobs (nil: a
// fresh disk store) under cfg.
func benchMediaServer(b *testing.B, blobs assets.Blobs, cfg assets.Config) benchEnv {
	b.Helper()
	ctx := context.Background()
	db := newDB(b)
	if blobs == nil {
		disk, err := media.NewDisk(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		blobs = disk
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	lib := assets.NewService(db.Assets(), blobs, nil, cfg, time.Now, logger)
	tokens, _ := accounts.NewTokenIssuer(testKey, 15*time.Minute, time.Now)
	acc, err := accounts.NewService(ctx, db.Accounts(), accounts.NewHasher(accounts.DefaultHashParams), tokens, testKey, accounts.DefaultConfig, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	catalog, _ := i18n.New()
	crs := courses.NewService(db.Courses(), lib, courses.DefaultConfig, time.Now, logger)
	assess := assessments.NewService(db.Assessments(), lib, 0, time.Now, logger)
	srv, err := server.New(server.DefaultConfig, server.Deps{
		Accounts: acc, Media: lib, Courses: crs, Assess: assess, Catalog: catalog, Logger: logger, Metrics: prometheus.NewRegistry(),
		Rights:    rights.NewService(db.Rights(), acc, nil, time.Now, logger),
		Learning:  learning.NewService(db.Learning(), acc, crs, assess, time.Now, logger),
		AccessLog: io.Discard, // as the JSON handler of logger writes
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := acc.Bootstrap(ctx, "root", fixturePassword); err != nil {
		b.Fatal(err)
	}
	return benchEnv{srv: srv, acc: acc, lib: lib, crs: crs, assess: assess}
}

// BenchmarkLogin measures POST /api/v1/auth/login end to end through the
// Fiber app with the production argon2id parameters (19 MiB, t=2): limiter
// look-ups, user look-up, hash verification, refresh token insert, JWT.
//
//	go test -run '^$' -bench Login -benchtime 100x ./server
func BenchmarkLogin(b *testing.B) {
	srv, _ := benchServer(b)
	body := `{"username":"root","password":"` + fixturePassword + `"}`
	login := func() error {
		r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		resp, err := srv.App().Test(r, -1)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	b.Run("success", func(b *testing.B) {
		for b.Loop() {
			if err := login(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := login(); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	})
}

// BenchmarkMe measures an authenticated read: JWT verification and one
// _id look-up.
//
//	go test -run '^$' -bench Me -benchtime 2s ./server
func BenchmarkMe(b *testing.B) {
	srv, acc := benchServer(b)
	sess, err := acc.Login(context.Background(), "root", fixturePassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.Header.Set("Authorization", "Bearer "+sess.AccessToken)
		resp, err := srv.App().Test(r, -1)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}
