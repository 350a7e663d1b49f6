package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/assets"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/server"
	"github.com/pathways-lms/pathways/storage/media"
)

// config is everything read from the environment. Every setting has a
// working default; the README lists them.
type config struct {
	Addr           string        // PATHWAYS_ADDR
	DataDir        string        // PATHWAYS_DATA_DIR
	MongoURI       string        // MONGODB_URI; empty keeps the data in SQLite under DataDir
	DBName         string        // PATHWAYS_DB_NAME
	Synchronous    string        // PATHWAYS_DB_SYNCHRONOUS: full (default) or normal, SQLite only
	JWTSecret      []byte        // PATHWAYS_JWT_SECRET; empty: generated and kept in the database
	AccessTTL      time.Duration // PATHWAYS_ACCESS_TTL
	RefreshTTL     time.Duration // PATHWAYS_REFRESH_TTL
	AdminUsername  string        // PATHWAYS_ADMIN_USERNAME
	AdminPassword  string        // PATHWAYS_ADMIN_PASSWORD
	BodyLimit      int           // PATHWAYS_BODY_LIMIT (bytes)
	RequestTimeout time.Duration // PATHWAYS_REQUEST_TIMEOUT
	// PATHWAYS_MAX_IN_FLIGHT, PATHWAYS_MAX_IN_FLIGHT_CACHED: admission
	// bounds (server/admission.go)
	MaxInFlight, MaxInFlightCached int
	CORSOrigins                    []string // PATHWAYS_CORS_ORIGINS, comma-separated
	TrustedProxies                 []string // PATHWAYS_TRUSTED_PROXIES, comma-separated
	MetricsToken                   string   // PATHWAYS_METRICS_TOKEN: bearer token /metrics requires
	// PublicURL is the address learners reach the server at, printed on
	// login cards and certificates (PATHWAYS_PUBLIC_URL; default
	// http://localhost plus the port of Addr).
	PublicURL     string
	LogLevel      slog.Level    // PATHWAYS_LOG_LEVEL: debug, info, warn, error
	ShutdownGrace time.Duration // PATHWAYS_SHUTDOWN_GRACE
	PruneInterval time.Duration // PATHWAYS_PRUNE_INTERVAL: how often expired sessions are deleted

	MediaDir           string                // PATHWAYS_MEDIA_DIR: the disk store, when S3 is not set
	S3                 media.S3Config        // S3_*: media on S3 when S3_ENDPOINT is set
	MediaLimits        map[assets.Kind]int64 // PATHWAYS_MEDIA_LIMITS: e.g. "video=2GB,image=5MB"
	MediaCleanInterval time.Duration         // PATHWAYS_MEDIA_CLEAN_INTERVAL
	PresignTTL         time.Duration         // S3_PRESIGN_TTL
	TransferTimeout    time.Duration         // PATHWAYS_TRANSFER_TIMEOUT: one upload or download, whole
	TransferIdle       time.Duration         // PATHWAYS_TRANSFER_IDLE: a transfer that stalls this long ends

	CourseCache int64 // PATHWAYS_COURSE_CACHE: memory for published content, e.g. "64MB"
	Demo        bool  // PATHWAYS_DEMO: seed the demo curriculum at start (default true)
}

// loadConfig reads the configuration through getenv and validates it,
// reporting every bad setting at once.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:           or(getenv("PATHWAYS_ADDR"), ":8080"),
		DataDir:        or(getenv("PATHWAYS_DATA_DIR"), "data"),
		MongoURI:       getenv("MONGODB_URI"),
		DBName:         or(getenv("PATHWAYS_DB_NAME"), "pathways"),
		AdminUsername:  or(getenv("PATHWAYS_ADMIN_USERNAME"), "admin"),
		AdminPassword:  getenv("PATHWAYS_ADMIN_PASSWORD"),
		CORSOrigins:    list(getenv("PATHWAYS_CORS_ORIGINS")),
		TrustedProxies: list(getenv("PATHWAYS_TRUSTED_PROXIES")),
		MetricsToken:   getenv("PATHWAYS_METRICS_TOKEN"),
	}
	var errs []error
	c.Synchronous = or(getenv("PATHWAYS_DB_SYNCHRONOUS"), "full")
	if c.Synchronous != "full" && c.Synchronous != "normal" {
		errs = append(errs, fmt.Errorf("PATHWAYS_DB_SYNCHRONOUS: %q, want full or normal", c.Synchronous))
	}
	c.AccessTTL = duration(getenv, "PATHWAYS_ACCESS_TTL", 15*time.Minute, &errs)
	c.RefreshTTL = duration(getenv, "PATHWAYS_REFRESH_TTL", accounts.DefaultConfig.RefreshTTL, &errs)
	c.RequestTimeout = duration(getenv, "PATHWAYS_REQUEST_TIMEOUT", 15*time.Second, &errs)
	c.ShutdownGrace = duration(getenv, "PATHWAYS_SHUTDOWN_GRACE", 20*time.Second, &errs)
	c.PruneInterval = duration(getenv, "PATHWAYS_PRUNE_INTERVAL", time.Hour, &errs)
	c.BodyLimit = integer(getenv, "PATHWAYS_BODY_LIMIT", 1<<20, &errs)
	c.MaxInFlight = integer(getenv, "PATHWAYS_MAX_IN_FLIGHT", server.DefaultMaxInFlight, &errs)
	c.MaxInFlightCached = integer(getenv, "PATHWAYS_MAX_IN_FLIGHT_CACHED", server.DefaultMaxInFlightCached, &errs)
	c.MediaDir = or(getenv("PATHWAYS_MEDIA_DIR"), filepath.Join(c.DataDir, "media"))
	c.MediaCleanInterval = duration(getenv, "PATHWAYS_MEDIA_CLEAN_INTERVAL", 6*time.Hour, &errs)
	c.PresignTTL = duration(getenv, "S3_PRESIGN_TTL", assets.DefaultConfig.PresignTTL, &errs)
	c.TransferTimeout = duration(getenv, "PATHWAYS_TRANSFER_TIMEOUT", 2*time.Hour, &errs)
	c.TransferIdle = duration(getenv, "PATHWAYS_TRANSFER_IDLE", time.Minute, &errs)
	c.MediaLimits = mediaLimits(getenv("PATHWAYS_MEDIA_LIMITS"), &errs)
	c.CourseCache = byteSize(getenv, "PATHWAYS_COURSE_CACHE", courses.DefaultConfig.CacheBytes, &errs)
	switch v := or(getenv("PATHWAYS_DEMO"), "true"); v {
	case "true", "1", "yes":
		c.Demo = true
	case "false", "0", "no":
	default:
		errs = append(errs, fmt.Errorf("PATHWAYS_DEMO: %q, want true or false", v))
	}
	c.S3 = s3Config(getenv, &errs)
	c.PublicURL = publicURL(getenv("PATHWAYS_PUBLIC_URL"), c.Addr, &errs)

	if s := getenv("PATHWAYS_JWT_SECRET"); s != "" {
		if len(s) < accounts.MinSecretLen {
			errs = append(errs, fmt.Errorf("PATHWAYS_JWT_SECRET: %d bytes, need at least %d", len(s), accounts.MinSecretLen))
		}
		c.JWTSecret = []byte(s)
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("PATHWAYS_LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("PATHWAYS_LOG_LEVEL: %w", err))
	}
	if c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour {
		errs = append(errs, errors.New("PATHWAYS_ACCESS_TTL: between 1m and 24h"))
	}
	if c.RefreshTTL < c.AccessTTL {
		errs = append(errs, errors.New("PATHWAYS_REFRESH_TTL: must not be shorter than PATHWAYS_ACCESS_TTL"))
	}
	if c.BodyLimit < 1024 {
		errs = append(errs, errors.New("PATHWAYS_BODY_LIMIT: at least 1024 bytes"))
	}
	if c.MaxInFlight < 1 || c.MaxInFlightCached < 1 {
		errs = append(errs, errors.New("PATHWAYS_MAX_IN_FLIGHT, PATHWAYS_MAX_IN_FLIGHT_CACHED: at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// publicURL is the server's public address: s, an absolute http(s) URL
// without query or fragment (a trailing slash dropped), or, when s is
// empty, http://localhost with the port of addr.
func publicURL(s, addr string, errs *[]error) string {
	if s == "" {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port == "" || port == "0" {
			return "http://localhost:8080"
		}
		return "http://localhost:" + port
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		*errs = append(*errs, fmt.Errorf("PATHWAYS_PUBLIC_URL: %q, want an absolute http(s) address such as https://learn.example.org", s))
		return ""
	}
	return strings.TrimSuffix(u.String(), "/")
}

// s3Config reads the S3_* settings; S3_ENDPOINT empty means media stay on
// local disk.
func s3Config(getenv func(string) string, errs *[]error) media.S3Config {
	c := media.S3Config{
		Endpoint:       getenv("S3_ENDPOINT"),
		Bucket:         or(getenv("S3_BUCKET"), "pathways"),
		AccessKey:      getenv("S3_ACCESS_KEY"),
		SecretKey:      getenv("S3_SECRET_KEY"),
		Region:         or(getenv("S3_REGION"), "us-east-1"),
		UseSSL:         boolean(getenv, "S3_USE_SSL", true, errs),
		PublicEndpoint: getenv("S3_PUBLIC_ENDPOINT"),
	}
	c.PublicUseSSL = boolean(getenv, "S3_PUBLIC_USE_SSL", c.UseSSL, errs)
	if c.Endpoint == "" {
		if c.PublicEndpoint != "" {
			*errs = append(*errs, errors.New("S3_PUBLIC_ENDPOINT: set S3_ENDPOINT too"))
		}
		return c
	}
	if strings.Contains(c.Endpoint, "://") || strings.Contains(c.PublicEndpoint, "://") {
		*errs = append(*errs, errors.New("S3_ENDPOINT, S3_PUBLIC_ENDPOINT: host[:port] only, without http(s)://; S3_USE_SSL chooses the scheme"))
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		*errs = append(*errs, errors.New("S3_ACCESS_KEY and S3_SECRET_KEY: required with S3_ENDPOINT"))
	}
	return c
}

// mediaLimits reads "kind=size,..." (sizes such as 10MB, 1.5GB, 500KiB).
func mediaLimits(v string, errs *[]error) map[assets.Kind]int64 {
	out := map[assets.Kind]int64{}
	for _, item := range list(v) {
		k, size, ok := strings.Cut(item, "=")
		kind := assets.Kind(strings.TrimSpace(k))
		n, err := humanize.ParseBytes(strings.TrimSpace(size))
		switch {
		case !ok || !kind.Valid():
			*errs = append(*errs, fmt.Errorf("PATHWAYS_MEDIA_LIMITS: %q: want kind=size with kind one of %v", item, assets.Kinds))
		case err != nil || n == 0 || n > 1<<40:
			*errs = append(*errs, fmt.Errorf("PATHWAYS_MEDIA_LIMITS: %q: size such as 10MB or 2GB", item))
		default:
			out[kind] = int64(n)
		}
	}
	return out
}

func boolean(getenv func(string) string, name string, def bool, errs *[]error) bool {
	v := getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %q is not true or false", name, v))
		return def
	}
	return b
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func duration(getenv func(string) string, name string, def time.Duration, errs *[]error) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a positive duration such as 15m", name, v))
		return def
	}
	return d
}

func integer(getenv func(string) string, name string, def int, errs *[]error) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a whole number", name, v))
		return def
	}
	return n
}

// byteSize reads a size such as "64MB" or "1GiB" (at least 1 MiB).
func byteSize(getenv func(string) string, name string, def int64, errs *[]error) int64 {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n < 1<<20 || n > 1<<40 {
		*errs = append(*errs, fmt.Errorf("%s: %q, want a size from 1MiB to 1TiB such as 64MB", name, v))
		return def
	}
	return int64(n)
}
