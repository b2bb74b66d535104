package connectpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/storage"
)

// fixedKeys derives the same key for every label.
type fixedKeys struct{}

func (fixedKeys) Derive(label string) []byte { return []byte("0123456789abcdef0123456789abcdef") }

func testPage(now time.Time) *Page {
	return &Page{cfg: Config{Keyring: fixedKeys{}, PublicURL: "https://broker.example", Now: func() time.Time { return now },
		API: func(*gin.Context) storage.API { return storage.API{Name: "fed"} }}}
}

func TestSessionCookie(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := testPage(now)
	good := p.encodeSession(connectSession{API: "fed", ClientID: "app", Identity: "alice", Expires: now.Add(time.Minute).Unix()})
	data, _, _ := strings.Cut(good, ".")
	for _, tc := range []struct {
		name, cookie, api string
		ok                bool
	}{
		{"valid", good, "fed", true},
		{"other api", good, "other", false},
		{"tampered signature", data + ".AAAA", "fed", false},
		{"no signature", data, "fed", false},
		{"expired", p.encodeSession(connectSession{API: "fed", Expires: now.Unix()}), "fed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: connectCookie, Value: tc.cookie})
			sess, cookie, err := p.readSession(r, tc.api)
			if ok := err == nil; ok != tc.ok {
				t.Fatalf("got err %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (sess.Identity != "alice" || cookie != good) {
				t.Errorf("got %+v %q, want alice's session", sess, cookie)
			}
		})
	}
	if !p.checkCSRF(good, p.csrfToken(good)) || p.checkCSRF(good, p.csrfToken(good+"x")) {
		t.Error("the CSRF token must match its own session and no other")
	}
}

// An expired session answers 403, not a 401 without the WWW-Authenticate
// challenge RFC 7235 §3.1 requires.
func TestExpiredSessionIsForbidden(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	testPage(time.Unix(1_700_000_000, 0)).Routes(e.Group("/:api"))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fed/oauth2/connect", nil))
	if w.Code != http.StatusForbidden || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("got %d (WWW-Authenticate %q), want 403", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if !strings.Contains(w.Body.String(), "Your session has expired") || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("got %q, want the expired-session page, not framable", w.Body.String())
	}
}
