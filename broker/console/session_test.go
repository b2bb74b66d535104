package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// fakeAdmin stands for the admin API: it lists no APIs for the Bearer
// token "root-token", refuses the list (403) to "scoped-key", and
// answers 401 to any other, as the real one does.
func fakeAdmin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") == "Bearer scoped-key" {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"access_denied"}`))
		return
	}
	if r.Header.Get("Authorization") != "Bearer root-token" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"admin token required"}`))
		return
	}
	_, _ = w.Write([]byte(`{"apis":[]}`))
}

type noTemplates struct{}

func (noTemplates) Names() []string                   { return nil }
func (noTemplates) Get(string) (*catalog.Entry, bool) { return nil, false }

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestConsole(t *testing.T, ring *seal.Keyring, publicURL string, clk *clock) *Console {
	t.Helper()
	c, err := New(Config{Admin: http.HandlerFunc(fakeAdmin), Keyring: ring, Catalog: noTemplates{}, PublicURL: publicURL,
		IdleTimeout: 10 * time.Minute, MaxAge: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRing(t *testing.T, old ...[]byte) (*seal.Keyring, []byte) {
	t.Helper()
	key, _ := seal.GenerateKey()
	ring, err := seal.NewKeyring(key, old...)
	if err != nil {
		t.Fatal(err)
	}
	return ring, key
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// serve sends one request to c with the cookies given, and answers the
// response and the page's CSRF token.
func serve(c *Console, method, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	token := ""
	if m := csrfField.FindStringSubmatch(rec.Body.String()); m != nil {
		token = m[1]
	}
	return rec.Result(), token
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// signIn signs in to c with credential and answers the session cookie
// (nil when refused).
func signIn(t *testing.T, c *Console, credential string) *http.Cookie {
	t.Helper()
	resp, token := serve(c, "GET", Prefix+"signin", nil)
	pre := cookie(resp, preCookie)
	resp, _ = serve(c, "POST", Prefix+"signin", url.Values{"csrf": {token}, "credential": {credential}}, pre)
	return cookie(resp, sessionCookie)
}

// The session cookie is HttpOnly, SameSite=Strict, scoped to the console,
// Secure exactly when the public URL is https, and holds no readable
// credential; a credential the admin API refuses starts no session.
func TestSessionCookieAttributes(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ring, _ := newRing(t)
	for _, base := range []string{"http://127.0.0.1:8080", "https://broker.example.com"} {
		c := newTestConsole(t, ring, base, clk)
		ck := signIn(t, c, "root-token")
		if ck == nil {
			t.Fatalf("%s: no session cookie", base)
		}
		wantSecure := strings.HasPrefix(base, "https://")
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != wantSecure || ck.Path != Prefix || ck.MaxAge != 3600 {
			t.Errorf("%s: cookie %+v, want HttpOnly, SameSite=Strict, Secure %t, Path %s, Max-Age 3600", base, ck, wantSecure, Prefix)
		}
		if strings.Contains(ck.Value, "root-token") {
			t.Errorf("%s: the cookie shows the credential", base)
		}
		if refused := signIn(t, c, "guess"); refused != nil {
			t.Errorf("%s: a refused credential got a session", base)
		}
		if scoped := signIn(t, c, "scoped-key"); scoped == nil {
			t.Errorf("%s: a credential the admin API knows (403 on the list) got no session", base)
		}
	}
}

// A session ends after the idle timeout without use, and at the
// absolute lifetime even when used all along.
func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ring, _ := newRing(t)
	c := newTestConsole(t, ring, "http://127.0.0.1:8080", clk)
	ck := signIn(t, c, "root-token")
	status := func() int {
		resp, _ := serve(c, "GET", Prefix, nil, ck)
		if fresh := cookie(resp, sessionCookie); fresh != nil {
			ck = fresh
		}
		return resp.StatusCode
	}
	// Used every 9 minutes (idle timeout 10): alive until the hour ends.
	for i := 0; i < 6; i++ {
		if got := status(); got != http.StatusOK {
			t.Fatalf("use %d at +%v: got %d, want 200", i, clk.t.Sub(time.Unix(1_800_000_000, 0)), got)
		}
		clk.t = clk.t.Add(9 * time.Minute)
	}
	clk.t = time.Unix(1_800_000_000, 0).Add(time.Hour + time.Second)
	if got := status(); got != http.StatusSeeOther {
		t.Errorf("past the absolute lifetime: got %d, want 303 to the sign-in", got)
	}

	idle := signIn(t, c, "root-token")
	clk.t = clk.t.Add(10*time.Minute + time.Second)
	if resp, _ := serve(c, "GET", Prefix, nil, idle); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("past the idle timeout: got %d, want 303 to the sign-in", resp.StatusCode)
	}
}

// The cookie opens on any console with the same key (another replica, or
// this one restarted), also after a key rotation that keeps the old key;
// not with another key, nor altered.
func TestSessionAcrossReplicas(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ring, key := newRing(t)
	ck := signIn(t, newTestConsole(t, ring, "http://127.0.0.1:8080", clk), "root-token")
	again, _ := seal.NewKeyring(key)
	rotated, _ := newRing(t, key)
	other, _ := newRing(t)
	altered := *ck
	altered.Value = ck.Value[:len(ck.Value)-2] + "AA"
	for name, tc := range map[string]struct {
		ring   *seal.Keyring
		ck     *http.Cookie
		status int
	}{
		"another replica": {again, ck, 200}, "rotated key ring": {rotated, ck, 200},
		"another key": {other, ck, 303}, "altered cookie": {again, &altered, 303},
	} {
		resp, _ := serve(newTestConsole(t, tc.ring, "http://127.0.0.1:8080", clk), "GET", Prefix, nil, tc.ck)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: got %d, want %d", name, resp.StatusCode, tc.status)
		}
	}
}

// A form needs the CSRF token of its own session: none, or another
// session's, is refused before anything is done; sign-in needs its form's
// token too.
func TestCSRFBoundToSession(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ring, _ := newRing(t)
	c := newTestConsole(t, ring, "http://127.0.0.1:8080", clk)
	mine, other := signIn(t, c, "root-token"), signIn(t, c, "root-token")
	_, otherToken := serve(c, "GET", Prefix, nil, other)
	_, myToken := serve(c, "GET", Prefix, nil, mine)
	if myToken == "" || myToken == otherToken {
		t.Fatalf("CSRF tokens %q and %q, want two different ones", myToken, otherToken)
	}
	for name, tc := range map[string]struct {
		token  string
		status int
	}{"none": {"", 403}, "another session's": {otherToken, 403}, "its own": {myToken, 303}} {
		resp, _ := serve(c, "POST", Prefix+"signout", url.Values{"csrf": {tc.token}}, mine)
		if resp.StatusCode != tc.status {
			t.Errorf("sign-out with %s token: got %d, want %d", name, resp.StatusCode, tc.status)
		}
	}
	resp, _ := serve(c, "POST", Prefix+"signin", url.Values{"credential": {"root-token"}})
	if resp.StatusCode != http.StatusForbidden || cookie(resp, sessionCookie) != nil {
		t.Errorf("sign-in without the form's token: got %d, want 403 and no session", resp.StatusCode)
	}
}
