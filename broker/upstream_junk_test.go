package broker_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// junkUpstream stands before a Fake's token endpoint: while answer is
// set, refresh_token grants get it instead of the Fake's answer; every
// other request reaches the Fake. It records the refresh tokens sent.
type junkUpstream struct {
	mu      sync.Mutex
	answer  func(http.ResponseWriter)
	sent    []string
	forward http.Handler
}

func (j *junkUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	j.mu.Lock()
	answer := j.answer
	if form.Get("grant_type") == "refresh_token" {
		j.sent = append(j.sent, form.Get("refresh_token"))
	} else {
		answer = nil
	}
	j.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	j.forward.ServeHTTP(w, r)
}

func (j *junkUpstream) set(answer func(http.ResponseWriter)) {
	j.mu.Lock()
	j.answer = answer
	j.mu.Unlock()
}

// A provider answering a refresh with something no fixture foresaw
// gives the app an RFC 6749 error, and the stored refresh token
// survives: the next refresh, once the provider recovers, sends it
// again and succeeds (issue 13, "Bad input").
func TestUnforeseenRefreshAnswerKeepsRefreshToken(t *testing.T) {
	clk := newClock()
	e := newEnvOpts(t, adminToken, clk.now)
	id, sec := fedSetup(e, map[string]any{"expose_refresh_token": true})
	f := providertest.NewFake(t)
	target, _ := url.Parse(f.TokenURL)
	j := &junkUpstream{forward: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL, r.Out.Host = target, target.Host
	}}}
	up := httptest.NewServer(j)
	t.Cleanup(up.Close)
	e.mustAdmin(200, "PUT", "/apis/fed/providers/fake", map[string]any{
		"type": "oauth2", "auth_url": f.AuthURL, "token_url": up.URL + "/token",
		"client_id": f.ClientID, "client_secret": f.ClientSecret, "scopes": []string{"read"},
	})
	e.connect(id, sec, "u1", "fake", func(u string) *url.URL { return f.Authorize(t, u) })
	first := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	original := first.str("refresh_token")
	if first.Status != 200 || original == "" {
		t.Fatalf("first token: got %d %s, want 200 with the upstream refresh_token", first.Status, first.Raw)
	}
	// A failed refresh serves a still-valid access token: let it expire,
	// so that each refresh below must answer on its own.
	clk.add(2 * time.Hour)
	jsonAnswer := func(status int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name   string
		answer func(http.ResponseWriter)
	}{
		{"html 500 page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			io.WriteString(w, "<html><body><h1>Internal Server Error</h1></body></html>")
		}},
		{"html 200 page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Sign in</body></html>")
		}},
		{"200 empty body", jsonAnswer(200, "")},
		{"200 without access_token", jsonAnswer(200, `{"token_type":"bearer","expires_in":3600,"refresh_token":"rt-from-junk"}`)},
		{"200 JSON null", jsonAnswer(200, `null`)},
		{"200 JSON array", jsonAnswer(200, `[]`)},
		{"400 empty body", jsonAnswer(400, "")},
		{"400 html page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(400)
			io.WriteString(w, "<html><body>Bad Request</body></html>")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j.set(tc.answer)
			clk.add(time.Minute) // past any back-off of the previous case
			a := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
			if a.Status < 400 || a.str("error") == "" || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("got %d %s, want an RFC 6749 JSON error", a.Status, a.Raw)
			}
			if a.Status >= 500 && a.Status != 502 && a.Status != 503 {
				t.Errorf("got %d %s, want 4xx, 502 or 503", a.Status, a.Raw)
			}
			if d := a.str("error_description"); strings.Contains(d, "providers:") || strings.Contains(d, "oauth2:") || strings.Contains(d, "html") {
				t.Errorf("error_description %q shows an internal error", d)
			}
			if a.str("connection_status") == "needs_reauth" {
				t.Errorf("got %s: an unreadable answer is not a refused grant", a.Raw)
			}
		})
	}
	list := e.mustAdmin(200, "GET", "/apis/fed/connections?client_user_identity=u1", nil)
	if strings.Contains(list.Raw, "needs_reauth") || strings.Contains(list.Raw, "rt-from-junk") {
		t.Errorf("admin connections after unusable answers: got %s, want the connection kept, not needs_reauth", list.Raw)
	}
	if logs := e.Logs.String(); strings.Contains(logs, "<html") || strings.Contains(logs, "rt-from-junk") {
		t.Errorf("the logs show the provider's answer body:\n%s", logs)
	}
	j.set(nil)
	clk.add(time.Minute)
	ok := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
	if ok.Status != 200 || ok.str("refresh_token") != original {
		t.Errorf("after the provider recovers: got %d %s, want 200 with the original refresh token", ok.Status, ok.Raw)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, rt := range j.sent {
		if rt != original {
			t.Errorf("refresh %d sent refresh token %q, want the original %q", i, rt, original)
		}
	}
}
