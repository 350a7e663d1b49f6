package server

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxies is the set of trusted reverse proxies (PATHWAYS_TRUSTED_PROXIES).
type proxies []netip.Prefix

// parseProxies reads IPs and CIDRs.
func parseProxies(list []string) (proxies, error) {
	var out proxies
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address the login limits count against. The peer address
// is used unless the peer is a trusted proxy; then X-Forwarded-For is read
// from the right, skipping trusted proxies, and the first other address is
// the client. The left part of the header is whatever the client sent, so
// taking the left-most address would let anyone pick a new "address" for
// every attempt and never be limited.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !s.proxies.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop trusting the header here
		}
		if !s.proxies.trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.String()
}
