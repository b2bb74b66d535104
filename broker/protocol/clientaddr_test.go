package protocol

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", " 192.0.2.7 ", "", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		proxies *TrustedProxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the header is ignored", nil, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"spoofed header from an untrusted peer", trusted, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer", trusted, "10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted peer, no header", trusted, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"client-written entries left of the proxy's are ignored", trusted, "10.1.2.3:5000", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", trusted, "192.0.2.7:443", []string{"6.6.6.6, 203.0.113.9, 10.9.9.9, 10.8.8.8"}, "203.0.113.9"},
		{"several header lines are one list", trusted, "10.1.2.3:5000", []string{"6.6.6.6", "203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"every entry trusted: the left-most", trusted, "10.1.2.3:5000", []string{"10.5.5.5, 10.6.6.6"}, "10.5.5.5"},
		{"garbage stops the walk at the last trusted hop", trusted, "10.1.2.3:5000", []string{"203.0.113.9, junk, 10.6.6.6"}, "10.6.6.6"},
		{"entries with ports", trusted, "10.1.2.3:5000", []string{"[2001:db8::1]:4711, 203.0.113.9:80"}, "203.0.113.9"},
		{"IPv6 proxy and client", trusted, "[fd00::1]:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4-mapped peer", trusted, "[::ffff:10.1.2.3]:443", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			r.Header.Set("Forwarded", "for=6.6.6.6")
			if got := tt.proxies.ClientAddr(r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "fe80::1%eth0"} {
		if _, err := ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("ParseTrustedProxies(%q): got no error", bad)
		}
	}
}

// ParseRequest takes the client address from the context when a server
// behind trusted proxies put it there, else the TCP peer's.
func TestParseRequestClientAddr(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("grant_type=password"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.RemoteAddr = "198.51.100.1:5000"
	p, err := ParseRequest(r)
	if err != nil || p.RemoteAddr != "198.51.100.1" {
		t.Fatalf("without a context address: got %q, %v, want the peer 198.51.100.1", p.RemoteAddr, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("grant_type=password"))
	r = r.WithContext(WithClientAddr(r.Context(), "203.0.113.9"))
	if p, err = ParseRequest(r); err != nil || p.RemoteAddr != "203.0.113.9" {
		t.Fatalf("with a context address: got %q, %v, want 203.0.113.9", p.RemoteAddr, err)
	}
}
