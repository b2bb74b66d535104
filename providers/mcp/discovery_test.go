package mcp

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
)

// The challenge's resource_metadata and scope are used: no well-known
// probing, and its scope wins over the metadata's.
func TestDiscoverFollowsChallenge(t *testing.T) {
	f := newFakeServer(t)
	f.challenge = `Bearer realm="mcp", resource_metadata="{base}/meta/prm.json", scope="mcp:tools"`
	f.doc("/meta/prm.json", prmDoc, "")
	f.doc("/.well-known/oauth-authorization-server/as", asDoc, "")
	md, err := NewDiscoverer(nil, nil).Discover(context.Background(), f.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /mcp", "GET /meta/prm.json", "GET /.well-known/oauth-authorization-server/as"}
	if got := f.log(); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if md.Resource != f.URL+"/mcp" || md.AS.Issuer != f.URL+"/as" || md.AS.TokenEndpoint != f.URL+"/as/token" {
		t.Errorf("metadata %+v", md)
	}
	if got := md.Scopes(); !slices.Equal(got, []string{"mcp:tools"}) {
		t.Errorf("scopes %v, want the challenge's", got)
	}
}

// Without a challenge hint: the path-based well-known URL first, then the
// root one (RFC 9728 §3.1); for an issuer with a path: RFC 8414 with the
// path inserted, OpenID Discovery inserted, then appended (MCP spec's
// order).
func TestDiscoverWellKnownOrder(t *testing.T) {
	f := newFakeServer(t)
	f.doc("/.well-known/oauth-protected-resource", `{"resource":"{base}","authorization_servers":["{base}/as"],"scopes_supported":["a","b"]}`, "")
	f.doc("/as/.well-known/openid-configuration", asDoc, "")
	md, err := NewDiscoverer(nil, nil).Discover(context.Background(), f.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /mcp",
		"GET /.well-known/oauth-protected-resource/mcp", "GET /.well-known/oauth-protected-resource",
		"GET /.well-known/oauth-authorization-server/as", "GET /.well-known/openid-configuration/as", "GET /as/.well-known/openid-configuration",
	}
	if got := f.log(); !slices.Equal(got, want) {
		t.Errorf("requests\n got %v\nwant %v", got, want)
	}
	if got := md.Scopes(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("scopes %v, want the metadata's scopes_supported", got)
	}
}

// An issuer without a path: RFC 8414 at the root, then OpenID Discovery.
func TestDiscoverRootIssuer(t *testing.T) {
	f := newFakeServer(t)
	f.doc("/.well-known/oauth-protected-resource/mcp", `{"resource":"{base}/mcp","authorization_servers":["{base}"]}`, "")
	f.doc("/.well-known/openid-configuration", strings.ReplaceAll(asDoc, "{base}/as\"", "{base}\""), "")
	if _, err := NewDiscoverer(nil, nil).Discover(context.Background(), f.URL+"/mcp"); err != nil {
		t.Fatal(err)
	}
	got := f.log()[2:]
	want := []string{"GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}

// Metadata that names another resource or issuer is not used; an
// authorization server without PKCE S256 is refused with a reason.
func TestDiscoverRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, prm, as, want string
		is                  error
	}{
		{"resource of another host", `{"resource":"https://evil.example/mcp","authorization_servers":["{base}/as"]}`, asDoc, "names resource", nil},
		{"resource of a sibling path", `{"resource":"{base}/mc","authorization_servers":["{base}/as"]}`, asDoc, "names resource", nil},
		{"a megabyte of resource", `{"resource":"` + strings.Repeat("r", 900<<10) + `","authorization_servers":["{base}/as"]}`, asDoc, "names resource", nil},
		{"no authorization server", `{"resource":"{base}/mcp","authorization_servers":[]}`, asDoc, "no authorization_servers", nil},
		{"issuer mismatch", prmDoc, strings.Replace(asDoc, `"issuer":"{base}/as"`, `"issuer":"{base}/other"`, 1), "names issuer", nil},
		{"no PKCE advertised", prmDoc, strings.Replace(asDoc, `"code_challenge_methods_supported":["S256"],`, "", 1), "PKCE S256", ErrNoPKCE},
		{"authorization endpoint not https", prmDoc, strings.Replace(asDoc, `"authorization_endpoint":"{base}/as/authorize"`, `"authorization_endpoint":"http://as.example/authorize"`, 1), "authorization_endpoint is not an https URL", nil},
		{"authorization endpoint a script", prmDoc, strings.Replace(asDoc, `"authorization_endpoint":"{base}/as/authorize"`, `"authorization_endpoint":"javascript:alert(1)//as.example"`, 1), "authorization_endpoint is not an https URL", nil},
		{"plain PKCE only", prmDoc, strings.Replace(asDoc, `["S256"]`, `["plain"]`, 1), "PKCE S256", ErrNoPKCE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t)
			f.doc("/.well-known/oauth-protected-resource/mcp", tc.prm, "")
			f.doc("/.well-known/oauth-authorization-server/as", tc.as, "")
			_, err := NewDiscoverer(nil, nil).Discover(context.Background(), f.URL+"/mcp")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %.300v, want one saying %q", err, tc.want)
			}
			if n := len(err.Error()); n > maxErrorText+10 {
				t.Errorf("error text of %d bytes: what the server answers is logged unbounded", n)
			}
			if tc.is != nil {
				var ue *providers.UnusableError
				if !errors.Is(err, tc.is) || !errors.As(err, &ue) {
					t.Errorf("err %v is not %v as an UnusableError", err, tc.is)
				}
			}
		})
	}
}

// Metadata is kept for the shortest max-age of its documents, then
// fetched again; a failure is not kept.
func TestDiscoverCachesMaxAge(t *testing.T) {
	f := wellBehaved(t)
	f.doc("/.well-known/oauth-protected-resource/mcp", prmDoc, "public, max-age=600")
	f.doc("/.well-known/oauth-authorization-server/as", asDoc, "max-age=120")
	clk := newClock()
	d := NewDiscoverer(nil, clk.Now)
	ctx := context.Background()
	if _, err := d.Discover(ctx, f.URL+"/mcp"); err != nil {
		t.Fatal(err)
	}
	f.reset()
	clk.Add(119 * time.Second)
	if _, err := d.Discover(ctx, f.URL+"/mcp"); err != nil || len(f.log()) != 0 {
		t.Fatalf("within max-age: %v, requests %v, want none", err, f.log())
	}
	clk.Add(2 * time.Second)
	if _, err := d.Discover(ctx, f.URL+"/mcp"); err != nil || len(f.log()) != 3 {
		t.Fatalf("past max-age: %v, requests %v, want discovery again", err, f.log())
	}
	f.reset()
	f.doc("/.well-known/oauth-authorization-server/as", `{}`, "")
	clk.Add(time.Hour)
	if _, err := d.Discover(ctx, f.URL+"/mcp"); err == nil {
		t.Fatal("broken metadata was accepted")
	}
	f.doc("/.well-known/oauth-authorization-server/as", asDoc, "")
	if _, err := d.Discover(ctx, f.URL+"/mcp"); err != nil {
		t.Fatalf("after a failure: %v, want a new discovery", err)
	}
}

// Concurrent discoveries of one server share one fetch.
func TestDiscoverSharesOneFetch(t *testing.T) {
	f := wellBehaved(t)
	d := NewDiscoverer(nil, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := d.Discover(context.Background(), f.URL+"/mcp"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(f.log()); n != 3 {
		t.Errorf("%d requests for 8 concurrent discoveries, want 3 (one discovery)", n)
	}
}

func TestMaxAge(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                       DefaultMaxAge,
		"max-age=300":            5 * time.Minute,
		"public, max-age=\"90\"": 90 * time.Second,
		"max-age=0":              MinMaxAge,
		"no-store":               MinMaxAge,
		"max-age=9999999":        MaxMaxAge,
		"max-age=junk":           DefaultMaxAge,
	} {
		if got := maxAge(cc); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", cc, got, want)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		ok      bool
		rm, err string
		scopes  []string
	}{
		{[]string{`Bearer resource_metadata="https://x/prm", scope="a b"`}, true, "https://x/prm", "", []string{"a", "b"}},
		{[]string{`Basic realm="x", Bearer error="insufficient_scope", scope="a"`}, true, "", "insufficient_scope", []string{"a"}},
		{[]string{`Basic realm="x"`, `bearer scope=a`}, true, "", "", []string{"a"}},
		{[]string{`Bearer realm="q\"uoted, still", scope="a", DPoP algs="ES256"`}, true, "", "", []string{"a"}},
		{[]string{`Basic realm="x"`}, false, "", "", nil},
		// A stray "=" (token68 padding where a scheme or parameter is
		// expected) is skipped; it once made the parser loop for ever.
		{[]string{`==`, `Basic ==`, `Basic abc==, Bearer scope=a`}, true, "", "", []string{"a"}},
		{[]string{`Bearer ==`}, true, "", "", nil},
	} {
		c, ok := parseChallengeWithin(t, tc.in)
		if ok != tc.ok || c.ResourceMetadata != tc.rm || c.Error != tc.err || !slices.Equal(c.Scopes, tc.scopes) {
			t.Errorf("ParseChallenge(%q) = %+v, %t", tc.in, c, ok)
		}
	}
}

// A resource names the server by its origin and a path prefix ending at
// a segment, without user info (which would make the resource sent as
// RFC 8707 resource another string than the server's canonical URI).
func TestNamesServer(t *testing.T) {
	server, _ := url.Parse("https://mcp.example.com/tenant/mcp")
	for resource, want := range map[string]bool{
		"https://mcp.example.com/tenant/mcp":        true,
		"https://MCP.example.com/tenant":            true,
		"https://mcp.example.com/":                  true,
		"https://mcp.example.com/ten":               false,
		"https://mcp.example.com/other/mcp":         false,
		"https://mcp.example.com.evil/tenant/mcp":   false,
		"http://mcp.example.com/tenant/mcp":         false,
		"https://mcp.example.com/tenant/mcp#f":      false,
		"https://mcp.example.com/tenant/mcp?x=1":    false,
		"https://u:p@mcp.example.com/tenant/mcp":    false,
		"https://evil.example@mcp.example.com/mcp/": false,
	} {
		if got := namesServer(resource, server); got != want {
			t.Errorf("namesServer(%q) = %t, want %t", resource, got, want)
		}
	}
}

// parseChallengeWithin is ParseChallenge, failing the test when it does
// not return within a generous bound.
func parseChallengeWithin(t *testing.T, in []string) (Challenge, bool) {
	t.Helper()
	type result struct {
		c  Challenge
		ok bool
	}
	done := make(chan result, 1)
	go func() {
		c, ok := ParseChallenge(in)
		done <- result{c, ok}
	}()
	select {
	case r := <-done:
		return r.c, r.ok
	case <-time.After(10 * time.Second):
		t.Fatalf("ParseChallenge(%q) does not return", in)
		return Challenge{}, false
	}
}
