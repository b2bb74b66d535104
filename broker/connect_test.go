package broker_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// browser is a cookie-keeping client that shows redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func (b *browser) post(u string, form url.Values) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	linkRE = regexp.MustCompile(`name="link" value="([^"]+)"`)
)

// enter opens a connect link as a person does: the page it shows, then
// its Continue button (a same-origin POST). It answers the POST's status
// and Location.
func (b *browser) enter(link string) (int, string) {
	b.t.Helper()
	status, _, body := b.get(link)
	m := linkRE.FindStringSubmatch(body)
	if status != 200 || m == nil {
		b.t.Fatalf("opening %s: got %d, want the page with its Continue form", link, status)
	}
	return b.postFrom(strings.Split(link, "?")[0], url.Values{"link": {html.UnescapeString(m[1])}}, "same-origin")
}

// postFrom posts a form with the Sec-Fetch-Site a browser would send.
func (b *browser) postFrom(u string, form url.Values, site string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// The connect page: a single-use link, Connect at the provider, the
// connection listed, Disconnect, and the protections.
func TestConnectPage(t *testing.T) {
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	link := e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {"alice"}}, id, sec)
	if link.Status != 200 || !strings.HasPrefix(link.str("url"), e.URL+"/fed/oauth2/connect?link=") {
		t.Fatalf("link: got %d %s", link.Status, link.Raw)
	}
	b := newBrowser(t)
	status, loc := b.enter(link.str("url"))
	if status != 303 || loc != e.URL+"/fed/oauth2/connect" {
		t.Fatalf("opening the link: got %d → %s, want 303 to the page", status, loc)
	}
	if status, _ := newBrowser(t).enter(link.str("url")); status != 400 {
		t.Errorf("the link used a second time: got %d, want 400", status)
	}
	resp, _ := b.c.Get(loc)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("clickjacking headers missing: %v", resp.Header)
	}
	if !strings.Contains(string(page), "Connect fake") || !strings.Contains(string(page), "alice") {
		t.Fatalf("page: %s", page)
	}
	csrf := csrfRE.FindStringSubmatch(string(page))[1]
	if status, _, _ := b.post(loc+"/action", url.Values{"csrf": {"forged"}, "provider": {"fake"}, "action": {"connect"}}); status != 403 {
		t.Errorf("forged CSRF token: got %d, want 403", status)
	}
	status, authURL, _ := b.post(loc+"/action", url.Values{"csrf": {csrf}, "provider": {"fake"}, "action": {"connect"}})
	if status != 303 || !strings.HasPrefix(authURL, f.AuthURL) {
		t.Fatalf("Connect: got %d → %s, want the provider", status, authURL)
	}
	cb := f.Authorize(t, authURL)
	status, back, _ := b.get(cb.String())
	if status != 302 || !strings.HasPrefix(back, e.URL+"/fed/oauth2/connect?") || !strings.Contains(back, "status=connected") {
		t.Fatalf("callback: got %d → %s, want back to the page", status, back)
	}
	_, _, body := b.get(back)
	if !strings.Contains(body, "fake is connected") || !strings.Contains(body, "Disconnect fake") {
		t.Fatalf("page after connecting: %s", body)
	}
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"alice"}}); tok.Status != 200 {
		t.Errorf("the app's token for the connection: got %d", tok.Status)
	}
	status, back, _ = b.post(loc+"/action", url.Values{"csrf": {csrf}, "provider": {"fake"}, "action": {"disconnect"}})
	if status != 303 || f.RevokeCount() != 1 {
		t.Fatalf("Disconnect: got %d, %d upstream revocations", status, f.RevokeCount())
	}
	_, _, body = b.get(back)
	if !strings.Contains(body, "Connect fake") || strings.Contains(body, "Disconnect fake") {
		t.Errorf("page after disconnecting: %s", body)
	}
	// Without a session the page answers 403: a 401 would need a
	// WWW-Authenticate challenge (RFC 7235 §3.1), and a cookie session
	// has no scheme to name in one.
	if status, _, body := newBrowser(t).get(loc); status != 403 || !strings.Contains(body, "Your session has expired") {
		t.Errorf("the page without a session: got %d, want 403 and the expired-session page", status)
	}
}
