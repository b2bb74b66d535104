package providertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// maxHops bounds the requests one browser run sends.
const maxHops = 20

// Login behaves like a browser whose user signs in at the OP: it GETs
// authorizationURL with a cookie-jar client, follows the OP's redirects to
// its login page, submits the login form (every field of the form,
// including the hidden auth-request id, with the username and password of
// the example user), and follows redirects until a Location points at one
// of the RedirectURIs. It returns that URL, carrying code and state (or
// error), without requesting it. Any other outcome fails the test.
func (o *OP) Login(t testing.TB, authorizationURL string) *url.URL {
	t.Helper()
	return LoginAt(t, authorizationURL, o.RedirectURIs, o.Username, o.Password)
}

// LoginAt is Login for any provider built on the example OP (such as the
// one of `oauth2broker dev`), with the given user and redirect URIs.
func LoginAt(t testing.TB, authorizationURL string, redirectURIs []string, username, password string) *url.URL {
	t.Helper()
	submitted := false
	u, err := newBrowser(redirectURIs).run(authorizationURL, func(page *url.URL, body []byte) (*http.Request, error) {
		if submitted {
			return nil, fmt.Errorf("login form shown again at %s (credentials rejected?)", page)
		}
		submitted = true
		form, err := parseForm(page, body)
		if err != nil {
			return nil, err
		}
		form.fields.Set("username", username)
		form.fields.Set("password", password)
		return form.request()
	})
	if err != nil {
		t.Fatalf("providertest: login: %v", err)
	}
	return u
}

// SkipLogin behaves like a browser whose user leaves the OP's login page
// without signing in and lets it carry on: it GETs authorizationURL,
// follows the redirects to the login page and then requests the OP's
// authorization callback for that auth request. The example OP has no way
// to deny consent (it never answers error=access_denied); this is its only
// error answer after a valid authorization request, an
// error=interaction_required redirect (OpenID Connect Core §3.1.2.6)
// carrying the state. SkipLogin returns that URL without requesting it.
func (o *OP) SkipLogin(t testing.TB, authorizationURL string) *url.URL {
	t.Helper()
	skipped := false
	u, err := newBrowser(o.RedirectURIs).run(authorizationURL, func(page *url.URL, body []byte) (*http.Request, error) {
		if skipped {
			return nil, fmt.Errorf("unexpected page %s", page)
		}
		skipped = true
		form, err := parseForm(page, body)
		if err != nil {
			return nil, err
		}
		id := form.fields.Get("id")
		if id == "" {
			return nil, fmt.Errorf("login page %s has no auth request id", page)
		}
		// The OP's callback is its authorization endpoint + "/callback".
		return http.NewRequest(http.MethodGet, o.AuthURL+"/callback?id="+url.QueryEscape(id), nil)
	})
	if err != nil {
		t.Fatalf("providertest: skip login: %v", err)
	}
	return u
}

// browser is a cookie-keeping HTTP client that follows redirects by hand
// and stops at the first one pointing at a redirect URI.
type browser struct {
	client *http.Client
	stopAt []*url.URL
}

func newBrowser(redirectURIs []string) *browser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	b := &browser{client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
	for _, s := range redirectURIs {
		if u, err := url.Parse(s); err == nil {
			b.stopAt = append(b.stopAt, u)
		}
	}
	return b
}

// run GETs start and follows redirects. For a 200 page it asks onPage for
// the next request. It returns the first Location that points at a
// redirect URI.
func (b *browser) run(start string, onPage func(page *url.URL, body []byte) (*http.Request, error)) (*url.URL, error) {
	next, err := http.NewRequest(http.MethodGet, start, nil)
	if err != nil {
		return nil, err
	}
	for range maxHops {
		loc, body, err := b.do(next)
		switch {
		case err != nil:
			return nil, err
		case loc != nil && b.isRedirectURI(loc):
			return loc, nil
		case loc != nil:
			next, err = http.NewRequest(http.MethodGet, loc.String(), nil)
		default:
			next, err = onPage(next.URL, body)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no redirect to a redirect URI after %d requests", maxHops)
}

// do sends req. It returns the resolved Location of a redirect, or the body
// of a 200 answer; any other status is an error.
func (b *browser) do(req *http.Request) (*url.URL, []byte, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc, err := resp.Location()
		return loc, nil, err
	case resp.StatusCode == http.StatusOK:
		return nil, body, nil
	}
	return nil, nil, fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL, resp.StatusCode, body)
}

// isRedirectURI reports whether u is one of the redirect URIs, ignoring
// query and fragment.
func (b *browser) isRedirectURI(u *url.URL) bool {
	for _, r := range b.stopAt {
		if u.Scheme == r.Scheme && u.Host == r.Host && u.Path == r.Path {
			return true
		}
	}
	return false
}

// htmlForm is the first form of a page: where it goes and its fields.
type htmlForm struct {
	method string
	action *url.URL
	fields url.Values
}

// parseForm reads the first <form> of an HTML page served at page.
func parseForm(page *url.URL, body []byte) (*htmlForm, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", page, err)
	}
	node := findElement(doc, "form")
	if node == nil {
		return nil, fmt.Errorf("page %s has no form: %.300s", page, body)
	}
	action, err := page.Parse(attr(node, "action"))
	if err != nil {
		return nil, fmt.Errorf("page %s: form action: %w", page, err)
	}
	form := &htmlForm{method: strings.ToUpper(attr(node, "method")), action: action, fields: url.Values{}}
	if form.method == "" {
		form.method = http.MethodGet
	}
	collectInputs(node, form.fields)
	return form, nil
}

// request builds the request that submits the form.
func (f *htmlForm) request() (*http.Request, error) {
	if f.method != http.MethodPost {
		return nil, errors.New("login form is not a POST form")
	}
	req, err := http.NewRequest(http.MethodPost, f.action.String(), strings.NewReader(f.fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// findElement returns the first element named tag under n, depth first.
func findElement(n *html.Node, tag string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if found := findElement(c, tag); found != nil {
			return found
		}
	}
	return nil
}

// collectInputs adds the named <input> values under n to fields, skipping
// unchecked checkboxes and radio buttons.
func collectInputs(n *html.Node, fields url.Values) {
	if n.Type == html.ElementNode && n.Data == "input" {
		name, typ := attr(n, "name"), strings.ToLower(attr(n, "type"))
		_, checked := attrLookup(n, "checked")
		if name != "" && ((typ != "checkbox" && typ != "radio") || checked) {
			fields.Add(name, attr(n, "value"))
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		collectInputs(c, fields)
	}
}

func attr(n *html.Node, key string) string {
	v, _ := attrLookup(n, key)
	return v
}

func attrLookup(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
