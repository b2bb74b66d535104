package proxy

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Header names the proxy reads or sets.
const (
	// HeaderIdentity names the end user whose connection is used.
	HeaderIdentity = "X-Client-User-Identity"
	// HeaderBase picks one of the provider's api_base_urls (exactly as
	// configured) when it has more than one; the first by default.
	HeaderBase = "X-Proxy-Base-Url"
)

// hopByHop are the headers of one connection (RFC 9110 §7.6.1), never
// forwarded in either direction.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// notForwarded are the client's headers that stay at the broker: its own
// credentials, cookies, the identity and the proxy's own settings, and
// what names the broker's address.
var notForwarded = []string{"Authorization", "Cookie", HeaderIdentity, HeaderBase, "Host",
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}

// notReturned are the upstream's headers the client never sees: cookies
// for the broker's origin would land on the caller's.
var notReturned = []string{"Set-Cookie", "Set-Cookie2"}

// copyHeader copies src into dst without hop-by-hop headers (those named
// by Connection included) and without drop.
func copyHeader(dst, src http.Header, drop []string) {
	skip := map[string]bool{}
	for _, h := range append(hopByHop, drop...) {
		skip[textproto.CanonicalMIMEHeaderKey(h)] = true
	}
	for _, v := range src.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				skip[textproto.CanonicalMIMEHeaderKey(name)] = true
			}
		}
	}
	for k, vs := range src {
		if skip[textproto.CanonicalMIMEHeaderKey(k)] {
			continue
		}
		dst[k] = append(dst[k][:0:0], vs...)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
