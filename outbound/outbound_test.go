package outbound_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
)

func TestCheckURL(t *testing.T) {
	prod := outbound.Policy{}
	dev := outbound.Policy{AllowHTTPLoopback: true}
	for _, tc := range []struct {
		url       string
		prod, dev bool
	}{
		{"https://idp.example/token", true, true},
		{"http://idp.example/token", false, false},
		{"http://127.0.0.1:8080/token", false, true},
		{"http://[::1]:8080/token", false, true},
		{"http://localhost/token", false, true},
		{"http://app.localhost/token", false, true},
		{"http://localhost.idp.example/token", false, false},
		{"http://10.0.0.1/token", false, false},
		{"ftp://idp.example/", false, false},
		{"/token", false, false},
	} {
		if got := prod.CheckURL(tc.url) == nil; got != tc.prod {
			t.Errorf("production CheckURL(%s): allowed %v, want %v", tc.url, got, tc.prod)
		}
		if got := dev.CheckURL(tc.url) == nil; got != tc.dev {
			t.Errorf("dev CheckURL(%s): allowed %v, want %v", tc.url, got, tc.dev)
		}
	}
}

func counting(h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	})), &n
}

// A plain http call is refused unless loopback http is allowed; no
// connection is made.
func TestPlainHTTPRefusedInProduction(t *testing.T) {
	srv, hits := counting(func(w http.ResponseWriter, r *http.Request) {})
	defer srv.Close()
	_, err := outbound.Policy{}.Client(5 * time.Second).Get(srv.URL)
	if !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("production policy, plain http: got %v, want ErrRefused", err)
	}
	resp, err := outbound.Policy{AllowHTTPLoopback: true}.Client(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("dev policy, loopback http: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Errorf("upstream calls: got %d, want 1", hits.Load())
	}
}

// The deny list applies to the address a name resolves to, at dial time:
// "localhost" is a name, refused because it resolves to a denied range.
func TestDenyAppliesToResolvedAddress(t *testing.T) {
	srv, hits := counting(func(w http.ResponseWriter, r *http.Request) {})
	defer srv.Close()
	deny, err := outbound.ParseDeny("default,loopback")
	if err != nil {
		t.Fatal(err)
	}
	c := outbound.Policy{AllowHTTPLoopback: true, Deny: deny}.Client(5 * time.Second)
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, u := range []string{srv.URL, byName} {
		if _, err := c.Get(u); !errors.Is(err, outbound.ErrRefused) {
			t.Errorf("GET %s with loopback denied: got %v, want ErrRefused", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("upstream calls: got %d, want 0", hits.Load())
	}
}

func TestParseDeny(t *testing.T) {
	def, _ := outbound.ParseDeny("")
	p := outbound.Policy{Deny: def}
	for _, a := range []string{"169.254.169.254", "fd00:ec2::254", "fe80::1", "::ffff:169.254.169.254"} {
		if !p.Denied(netip.MustParseAddr(a)) {
			t.Errorf("default deny list: %s not denied", a)
		}
	}
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "8.8.8.8", "2001:db8::1"} {
		if p.Denied(netip.MustParseAddr(a)) {
			t.Errorf("default deny list: %s denied", a)
		}
	}
	priv, err := outbound.ParseDeny("private, 203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	p = outbound.Policy{Deny: priv}
	for _, a := range []string{"10.1.2.3", "192.168.1.1", "fd12::1", "203.0.113.7"} {
		if !p.Denied(netip.MustParseAddr(a)) {
			t.Errorf("private deny list: %s not denied", a)
		}
	}
	if none, _ := outbound.ParseDeny("none"); len(none) != 0 {
		t.Errorf("none: got %v", none)
	}
	if _, err := outbound.ParseDeny("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}

// A 307 from a token endpoint is not followed: the credentials are sent
// once, to the endpoint configured.
func TestNoRedirect(t *testing.T) {
	elsewhere, stolen := counting(func(w http.ResponseWriter, r *http.Request) {})
	defer elsewhere.Close()
	token, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusTemporaryRedirect)
	})
	defer token.Close()
	c := outbound.Policy{AllowHTTPLoopback: true}.Client(5 * time.Second)
	_, err := c.Post(token.URL, "application/x-www-form-urlencoded", strings.NewReader("code=c&client_secret=s"))
	if !errors.Is(err, outbound.ErrRedirect) || !strings.Contains(err.Error(), "307") {
		t.Errorf("got %v, want ErrRedirect naming 307", err)
	}
	if stolen.Load() != 0 {
		t.Errorf("the redirect target was called %d times", stolen.Load())
	}
}

func TestSameOriginGET(t *testing.T) {
	other, otherHits := counting(func(w http.ResponseWriter, r *http.Request) {})
	defer other.Close()
	var srvURL string
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/keys", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/keys", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "keys")
		}
	})
	defer srv.Close()
	srvURL = srv.URL
	c := outbound.Policy{AllowHTTPLoopback: true}.Client(5 * time.Second)
	c.CheckRedirect = outbound.SameOriginGET
	resp, err := c.Get(srvURL + "/moved")
	if err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	resp.Body.Close()
	if _, err := c.Get(srvURL + "/away"); !errors.Is(err, outbound.ErrRedirect) {
		t.Errorf("cross-origin redirect: got %v, want ErrRedirect", err)
	}
	if otherHits.Load() != 0 {
		t.Errorf("the other origin was called")
	}
}

func TestLimitBody(t *testing.T) {
	big := strings.Repeat("x", 5<<20)
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/error" {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, big)
			return
		}
		if r.URL.Path == "/small" {
			_, _ = io.WriteString(w, big[:1000])
			return
		}
		_, _ = io.WriteString(w, big)
	})
	defer srv.Close()
	c := outbound.Policy{AllowHTTPLoopback: true, MaxBody: 1000}.Client(5 * time.Second)
	get := func(path string) ([]byte, error) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	if b, err := get("/small"); err != nil || len(b) != 1000 {
		t.Errorf("a body of exactly the bound: got %d bytes, %v", len(b), err)
	}
	if b, err := get("/big"); !errors.Is(err, outbound.ErrTooLarge) || len(b) > 1000 {
		t.Errorf("a 5 MB body: got %d bytes, %v; want at most 1000 and ErrTooLarge", len(b), err)
	}
	// An error answer is cut at the bound, so that its status can still
	// be reported.
	if b, err := get("/error"); err != nil || len(b) != 1000 {
		t.Errorf("a 5 MB error body: got %d bytes, %v; want 1000 and no error", len(b), err)
	}
}

// https goes through the same dial check: allowed to a loopback server
// in production (loopback is not in the default deny list), refused when
// its address is denied.
func TestHTTPSDialChecked(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig
	resp, err := outbound.Policy{Deny: outbound.DefaultDeny(), TLSConfig: roots}.Client(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("https to an allowed address: %v", err)
	}
	resp.Body.Close()
	deny, _ := outbound.ParseDeny("loopback")
	if _, err := (outbound.Policy{Deny: deny, TLSConfig: roots}).Client(5 * time.Second).Get(srv.URL); !errors.Is(err, outbound.ErrRefused) {
		t.Errorf("https to a denied address: got %v, want ErrRefused", err)
	}
}
