package outbound

import (
	"fmt"
	"net/netip"
	"strings"
)

// DefaultDeny are the ranges refused unless configured otherwise:
// link-local (which holds the cloud metadata endpoints 169.254.169.254
// and 169.254.170.2), the IPv6 metadata addresses of AWS (fd00:ec2::254)
// and the unspecified and "this network" addresses. No provider or
// webhook has a reason to live there.
func DefaultDeny() []netip.Prefix {
	return mustPrefixes("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128")
}

// PrivateRanges are the private address ranges (RFC 1918, RFC 6598
// shared space, RFC 4193 unique local), for a deployment whose
// providers and webhooks are all on the public Internet.
func PrivateRanges() []netip.Prefix {
	return mustPrefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
}

func mustPrefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, v := range s {
		out[i] = netip.MustParsePrefix(v)
	}
	return out
}

// ParseDeny reads a deny-list setting: comma-separated CIDR ranges or
// addresses, and the words "default" (DefaultDeny), "private"
// (PrivateRanges) and "loopback" (127.0.0.0/8, ::1). An empty value is
// the default; "none" alone denies nothing.
func ParseDeny(v string) ([]netip.Prefix, error) {
	v = strings.TrimSpace(v)
	switch v {
	case "":
		return DefaultDeny(), nil
	case "none":
		return []netip.Prefix{}, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "default":
			out = append(out, DefaultDeny()...)
		case "private":
			out = append(out, PrivateRanges()...)
		case "loopback":
			out = append(out, mustPrefixes("127.0.0.0/8", "::1/128")...)
		default:
			pr, err := parsePrefix(part)
			if err != nil {
				return nil, err
			}
			out = append(out, pr)
		}
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if pr, err := netip.ParsePrefix(s); err == nil {
		return pr.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("outbound: deny entry %q: want a CIDR range, an address, default, private, loopback or none", s)
}
