package server

import (
	"reflect"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// TestEveryRouteAdmitted: every route starts with an admission class
// (routes() says which), except the probes and the API document, so a
// route added without one is caught here rather than left unbounded.
func TestEveryRouteAdmitted(t *testing.T) {
	s := &Server{cfg: DefaultConfig, app: fiber.New(), reg: prometheus.NewRegistry(), database: &admission{}, cached: &admission{}}
	s.routes()
	admit := reflect.ValueOf(s.database.admit).Pointer()
	unbounded := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/openapi.json": true}
	n := 0
	for _, r := range s.app.GetRoutes(true) {
		first := len(r.Handlers) > 0 && reflect.ValueOf(r.Handlers[0]).Pointer() == admit
		switch {
		case unbounded[r.Path] && first:
			t.Errorf("%s %s is admitted, but probes must answer under load", r.Method, r.Path)
		case !unbounded[r.Path] && !first:
			t.Errorf("%s %s has no admission class", r.Method, r.Path)
		}
		n++
	}
	if n < 50 {
		t.Fatalf("only %d routes seen", n)
	}
}
