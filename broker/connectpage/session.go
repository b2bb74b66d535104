package connectpage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The connect page's session: after the one-time link is used, the browser
// holds a cookie naming (API, client, identity) until it expires, signed
// with a key derived from the encryption key (the same on every replica).
const (
	connectCookie     = "oauth2broker_connect"
	connectSessionTTL = 30 * time.Minute
	connectLinkTTL    = 10 * time.Minute
)

type connectSession struct {
	API      string `json:"a"`
	ClientID string `json:"c"`
	Identity string `json:"i"`
	Expires  int64  `json:"e"`
}

var errNoSession = errors.New("connectpage: no valid connect session")

func (s *Page) sessionMAC(data string) []byte {
	mac := hmac.New(sha256.New, s.cfg.Keyring.Derive("connect-session"))
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// encodeSession returns the cookie value of sess.
func (s *Page) encodeSession(sess connectSession) string {
	b, _ := json.Marshal(sess)
	data := base64.RawURLEncoding.EncodeToString(b)
	return data + "." + base64.RawURLEncoding.EncodeToString(s.sessionMAC(data))
}

// readSession checks the request's session cookie for api.
func (s *Page) readSession(r *http.Request, api string) (connectSession, string, error) {
	ck, err := r.Cookie(connectCookie)
	if err != nil {
		return connectSession{}, "", errNoSession
	}
	data, sig, ok := strings.Cut(ck.Value, ".")
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err2 != nil || !hmac.Equal(got, s.sessionMAC(data)) {
		return connectSession{}, "", errNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	var sess connectSession
	if err != nil || json.Unmarshal(raw, &sess) != nil || sess.API != api || s.cfg.Now().Unix() >= sess.Expires {
		return connectSession{}, "", errNoSession
	}
	return sess, ck.Value, nil
}

// csrfToken binds a form to the session (the cookie alone is not enough
// for a POST).
func (s *Page) csrfToken(cookie string) string {
	return hex.EncodeToString(s.sessionMAC("csrf\x00" + cookie))
}

func (s *Page) checkCSRF(cookie, token string) bool {
	return hmac.Equal([]byte(token), []byte(s.csrfToken(cookie)))
}

// flowCookie binds the connect page's flows to the browser: the state
// keeps a hash of its value, and the callback (where the cookie's path
// sends it, on the provider's top-level redirect back: SameSite=Lax)
// requires it.
const flowCookie = "oauth2broker_flow"

// flowPostCookie carries the same secret with SameSite=None (https
// only), for providers that post their callback cross-site
// (response_mode=form_post: Apple), where a Lax cookie is not sent. The
// secret binds, it authorizes nothing: sending it cross-site lets no
// other site use it.
const flowPostCookie = "oauth2broker_flow_post"

// flowSecret returns the browser's flow secret and sets its cookies.
// The secret is derived from the browser's connect session (its cookie
// value), so every flow of the session shares it and flows started in
// two tabs both complete: the flow cookie's path keeps it from the
// connect page, so an existing random one could not be read back there.
func (s *Page) flowSecret(c *gin.Context, api, session string) string {
	v := base64.RawURLEncoding.EncodeToString(s.sessionMAC("flow\x00" + session))
	secure := strings.HasPrefix(s.connectURL(api), "https://")
	ck := &http.Cookie{
		Name: flowCookie, Value: v, Path: "/" + api + "/oauth2/provider/callback",
		MaxAge: int(connectSessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure,
	}
	http.SetCookie(c.Writer, ck)
	if secure {
		post := *ck
		post.Name, post.SameSite = flowPostCookie, http.SameSiteNoneMode
		http.SetCookie(c.Writer, &post)
	}
	return v
}

// BrowserSecret returns the flow secret a provider callback request
// carries in its flow cookie (set by the page when it starts a flow), or
// "" without one.
func BrowserSecret(r *http.Request) string {
	for _, name := range []string{flowCookie, flowPostCookie} {
		if ck, err := r.Cookie(name); err == nil && flowSecretRE.MatchString(ck.Value) {
			return ck.Value
		}
	}
	return ""
}

var flowSecretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// sameOrigin reports whether a browser request comes from a page of the
// broker's own origin (the connect page), by Fetch Metadata
// (Sec-Fetch-Site) or, in browsers without it, Origin. A request with
// neither comes from no browser that would carry a victim's cookies
// cross-site, and is let through.
func sameOrigin(r *http.Request, page string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(page)
	return err == nil && origin == u.Scheme+"://"+u.Host
}
