package server

import (
	_ "embed"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/pathways-lms/pathways"
)

// healthz says the process is alive; it touches no dependency, so an
// orchestrator does not restart the server because the database is down.
func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok", "version": s.cfg.Version})
}

// readyz says whether every dependency answers; 503 problem if not, so a
// load balancer stops sending traffic here.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	checks := map[string]string{}
	var failed []error
	for _, ch := range s.ready {
		if err := ch.Check(c.UserContext()); err != nil {
			checks[ch.Name] = "unavailable"
			failed = append(failed, fmt.Errorf("%s: %w", ch.Name, err))
			continue
		}
		checks[ch.Name] = "ok"
	}
	if len(failed) > 0 {
		return &readinessError{checks: checks, err: fmt.Errorf("%w: %w", pathways.ErrUnavailable, errors.Join(failed...))}
	}
	return c.JSON(fiber.Map{"status": "ok", "checks": checks})
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPIDoc)
}
