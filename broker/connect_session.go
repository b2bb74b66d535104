package broker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
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

var errNoSession = errors.New("broker: no valid connect session")

func (s *Server) sessionMAC(data string) []byte {
	mac := hmac.New(sha256.New, s.keyring.Derive("connect-session"))
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// encodeSession returns the cookie value of sess.
func (s *Server) encodeSession(sess connectSession) string {
	b, _ := json.Marshal(sess)
	data := base64.RawURLEncoding.EncodeToString(b)
	return data + "." + base64.RawURLEncoding.EncodeToString(s.sessionMAC(data))
}

// readSession checks the request's session cookie for api.
func (s *Server) readSession(r *http.Request, api string) (connectSession, string, error) {
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
	if err != nil || json.Unmarshal(raw, &sess) != nil || sess.API != api || s.now().Unix() >= sess.Expires {
		return connectSession{}, "", errNoSession
	}
	return sess, ck.Value, nil
}

// csrfToken binds a form to the session (the cookie alone is not enough
// for a POST).
func (s *Server) csrfToken(cookie string) string {
	return hex.EncodeToString(s.sessionMAC("csrf\x00" + cookie))
}

func (s *Server) checkCSRF(cookie, token string) bool {
	return hmac.Equal([]byte(token), []byte(s.csrfToken(cookie)))
}
