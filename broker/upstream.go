package broker

import (
	"github.com/oauth2broker/oauth2broker/outbound"
)

// DefaultOutbound is the outbound policy of production: https only (no
// plain http, not even to loopback), and the link-local and metadata
// ranges of outbound.DefaultDeny refused at dial time.
func DefaultOutbound() outbound.Policy {
	return outbound.Policy{Deny: outbound.DefaultDeny()}
}

// DevOutbound is the outbound policy of `dev` and tests: DefaultOutbound
// plus plain http to loopback, where their demo and fake upstreams
// listen.
func DevOutbound() *outbound.Policy {
	p := DefaultOutbound()
	p.AllowHTTPLoopback = true
	return &p
}
