package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways/accounts"
)

// config is everything read from the environment. Every setting has a
// working default; the README lists them.
type config struct {
	Addr           string        // PATHWAYS_ADDR
	DataDir        string        // PATHWAYS_DATA_DIR
	MongoURI       string        // MONGODB_URI; empty starts the embedded database
	DBName         string        // PATHWAYS_DB_NAME
	Synchronous    string        // PATHWAYS_DB_SYNCHRONOUS: full (default) or normal, embedded only
	JWTSecret      []byte        // PATHWAYS_JWT_SECRET; empty: generated and kept in the database
	AccessTTL      time.Duration // PATHWAYS_ACCESS_TTL
	RefreshTTL     time.Duration // PATHWAYS_REFRESH_TTL
	AdminUsername  string        // PATHWAYS_ADMIN_USERNAME
	AdminPassword  string        // PATHWAYS_ADMIN_PASSWORD
	BodyLimit      int           // PATHWAYS_BODY_LIMIT (bytes)
	RequestTimeout time.Duration // PATHWAYS_REQUEST_TIMEOUT
	CORSOrigins    []string      // PATHWAYS_CORS_ORIGINS, comma-separated
	TrustedProxies []string      // PATHWAYS_TRUSTED_PROXIES, comma-separated
	MetricsToken   string        // PATHWAYS_METRICS_TOKEN: bearer token /metrics requires
	LogLevel       slog.Level    // PATHWAYS_LOG_LEVEL: debug, info, warn, error
	ShutdownGrace  time.Duration // PATHWAYS_SHUTDOWN_GRACE
	PruneInterval  time.Duration // PATHWAYS_PRUNE_INTERVAL: how often expired sessions are deleted
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
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
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
