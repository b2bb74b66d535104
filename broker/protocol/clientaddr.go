package protocol

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies (load balancers) in front of the
// broker whose X-Forwarded-For header is believed. The zero value, or
// nil, trusts none: the client is the TCP peer.
//
// Only X-Forwarded-For is read, not RFC 7239 Forwarded: a proxy that sets
// one of them passes the other through from the client unchanged, so
// reading both would let the client choose its address.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads a list of IP addresses and CIDR prefixes
// ("10.0.0.0/8", "192.0.2.7", "fd00::/8"); empty entries are skipped.
func ParseTrustedProxies(list []string) (*TrustedProxies, error) {
	t := &TrustedProxies{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("protocol: trusted proxy %q: want an IP address or a CIDR prefix", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		t.prefixes = append(t.prefixes, p.Masked())
	}
	return t, nil
}

// Empty reports whether no proxy is trusted.
func (t *TrustedProxies) Empty() bool { return t == nil || len(t.prefixes) == 0 }

func (t *TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address (IP, no port) of the client that sent r.
// It is the TCP peer, unless the peer is a trusted proxy: then it is the
// right-most X-Forwarded-For entry that is not itself a trusted proxy
// (the entries left of it were written by the client and prove nothing).
// Should every entry be trusted, it is the left-most; should the walk
// meet an entry that is not an address, it is the last trusted hop.
func (t *TrustedProxies) ClientAddr(r *http.Request) string {
	peer := remoteIP(r.RemoteAddr)
	if t.Empty() {
		return peer
	}
	client, err := netip.ParseAddr(peer)
	if err != nil || !t.trusts(client.Unmap()) {
		return peer
	}
	client = client.Unmap()
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = hop
		if !t.trusts(hop) {
			break
		}
	}
	return client.String()
}

// forwardedFor splits X-Forwarded-For field lines into entries, in order
// (several lines are one comma-separated list, RFC 9110 §5.3).
func forwardedFor(lines []string) []string {
	var hops []string
	for _, l := range lines {
		for _, h := range strings.Split(l, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, with or without
// a port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

type clientAddrKey struct{}

// WithClientAddr returns a copy of ctx carrying the client's address, which
// ParseRequest then puts in Request.RemoteAddr instead of the TCP peer's
// (a server behind trusted proxies sets it from ClientAddr).
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddr is the address WithClientAddr put in r's context, else the
// TCP peer's.
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok && a != "" {
		return a
	}
	return remoteIP(r.RemoteAddr)
}
