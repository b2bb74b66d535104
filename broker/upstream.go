package broker

import (
	"fmt"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/outbound"
)

// DefaultOutbound is the outbound policy of production: https only (no
// plain http, not even to loopback), and the link-local and metadata
// ranges of outbound.DefaultDeny refused at dial time.
func DefaultOutbound() outbound.Policy {
	return outbound.Policy{Deny: outbound.DefaultDeny()}
}

// checkOutboundURLs checks, for each named URL that is set, that the
// outbound policy allows calls to it; the error names the field.
func (s *Server) checkOutboundURLs(urls [][2]string) error {
	for _, u := range urls {
		if u[1] == "" {
			continue
		}
		if err := s.outbound.CheckURL(u[1]); err != nil {
			return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("%s: https required (plain http only to loopback, and only when --outbound-allow-http-loopback is set)", u[0]))
		}
	}
	return nil
}

// DevOutbound is the outbound policy of `dev` and tests: DefaultOutbound
// plus plain http to loopback, where their demo and fake upstreams
// listen.
func DevOutbound() *outbound.Policy {
	p := DefaultOutbound()
	p.AllowHTTPLoopback = true
	return &p
}
