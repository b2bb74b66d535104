package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/seal"
)

// The console's session is the cookie alone: the signed-in person's
// credential, a random id and the session's times, sealed (AES-GCM) with
// the broker's keyring. Any replica opens it, a restart keeps it, and no
// server holds state; the price is that signing out clears the cookie in
// the browser but cannot recall a copy of it, which therefore dies only
// at its idle or absolute expiry (both short).
const (
	sessionCookie = "oauth2broker_console"
	// preCookie carries the sign-in form's CSRF token (double submit).
	preCookie = "oauth2broker_console_signin"
	// touchEvery is how stale the last-seen time may be before a request
	// seals the cookie again with the current time.
	touchEvery = time.Minute
)

// session is what the cookie holds.
type session struct {
	Credential string `json:"c"`
	// ID is random: it binds the CSRF token to this session.
	ID string `json:"i"`
	// Start is the sign-in time; Seen the last use (Unix seconds).
	Start int64 `json:"s"`
	Seen  int64 `json:"l"`
	// Root says the credential is the admin token; Who names it on the
	// pages (whoami at sign-in). The admin API still decides every call.
	Root bool   `json:"r,omitempty"`
	Who  string `json:"w,omitempty"`
}

// request is one console request of a signed-in person.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	sess session
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) sessionAD() []byte { return seal.ConsoleSession.AD("", "") }

// setSession seals s into the session cookie.
func (c *Console) setSession(w http.ResponseWriter, s session) error {
	raw, _ := json.Marshal(s)
	sealed, err := c.cfg.Keyring.Seal(raw, c.sessionAD())
	if err != nil {
		return err
	}
	left := time.Unix(s.Start, 0).Add(c.cfg.MaxAge).Sub(c.cfg.Now())
	c.setCookie(w, sessionCookie, base64.RawURLEncoding.EncodeToString(sealed), int(left.Seconds()))
	return nil
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
}

// readSession opens the request's session cookie, refusing one past its
// idle or absolute expiry.
func (c *Console) readSession(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return session{}, false
	}
	raw, err := c.cfg.Keyring.Open(sealed, c.sessionAD())
	var s session
	if err != nil || json.Unmarshal(raw, &s) != nil || s.Credential == "" || s.ID == "" {
		return session{}, false
	}
	now := c.cfg.Now()
	if now.After(time.Unix(s.Start, 0).Add(c.cfg.MaxAge)) || now.After(time.Unix(s.Seen, 0).Add(c.cfg.IdleTimeout)) {
		return session{}, false
	}
	return s, true
}

// signedIn runs h for a signed-in person, keeping the session alive, or
// sends the browser to the sign-in form.
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request, h func(*request)) {
	s, ok := c.readSession(r)
	if !ok {
		http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
		return
	}
	if now := c.cfg.Now(); now.Sub(time.Unix(s.Seen, 0)) >= touchEvery {
		s.Seen = now.Unix()
		if err := c.setSession(w, s); err != nil {
			c.cfg.Logger.Error("console: sealing the session failed", "err", err)
		}
	}
	h(&request{w: w, r: r, sess: s})
}

// get serves a page to a signed-in person.
func (c *Console) get(h func(*request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { c.signedIn(w, r, h) }
}

// maxForm bounds a console form.
const maxForm = 64 << 10

// post serves a form of a signed-in person, refused (403) without the
// session's CSRF token.
func (c *Console) post(h func(*request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			c.refuse(w, http.StatusBadRequest, "The form could not be read.")
			return
		}
		c.signedIn(w, r, func(q *request) {
			if !sameToken(r.PostForm.Get("csrf"), q.sess.ID) {
				c.refuse(w, http.StatusForbidden, "Refused: the form has no valid CSRF token. Reload the page and try again.")
				return
			}
			h(q)
		})
	}
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// signinForm shows the sign-in form, with a fresh CSRF token in a cookie
// and in the form.
func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	c.showSignin(w, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, status int, problem string) {
	token := randomID()
	c.setCookie(w, preCookie, token, int((10 * time.Minute).Seconds()))
	c.render(w, status, "signin", view{Title: "Sign in", CSRF: token, Error: problem})
}

// signin checks the credential against the admin API and starts a
// session. What the admin API accepts signs in, including a key that may
// not list every API (403, 404): its pages say what it may not do.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	pre, err := r.Cookie(preCookie)
	if r.ParseForm() != nil || err != nil || !sameToken(r.PostForm.Get("csrf"), pre.Value) {
		c.refuse(w, http.StatusForbidden, "Refused: the form has no valid CSRF token. Reload the page and try again.")
		return
	}
	cred := r.PostForm.Get("credential")
	q := &request{w: w, r: r, sess: session{Credential: cred}}
	if cred == "" || !accepted(c.call(q, http.MethodGet, "/apis", nil, nil)) {
		c.showSignin(w, http.StatusUnauthorized, "The admin API did not accept this token or key.")
		return
	}
	now := c.cfg.Now().Unix()
	root, who := c.whoami(q)
	if err := c.setSession(w, session{Credential: cred, ID: randomID(), Start: now, Seen: now, Root: root, Who: who}); err != nil {
		c.cfg.Logger.Error("console: sealing the session failed", "err", err)
		c.refuse(w, http.StatusInternalServerError, "The session could not be started.")
		return
	}
	c.setCookie(w, preCookie, "", -1)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// accepted reports whether the admin API took the credential of a call
// that ended with err.
func accepted(err error) bool {
	var ae *adminError
	return err == nil || (errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound))
}

// whoami asks the admin API what the credential of q is: the admin
// token (root), or an admin key, named with its access.
func (c *Console) whoami(q *request) (root bool, who string) {
	var out struct {
		Root bool                `json:"root"`
		Key  *admin.AdminKeyView `json:"admin_key"`
	}
	if err := c.call(q, http.MethodGet, "/whoami", nil, &out); err != nil {
		return false, "an unknown credential"
	}
	if out.Root || out.Key == nil {
		return out.Root, "the admin token"
	}
	name := out.Key.Name
	if name == "" {
		name = out.Key.ID
	}
	return false, "admin key " + name + " (" + out.Key.Access + ")"
}

// signout clears the session cookie.
func (c *Console) signout(q *request) {
	c.setCookie(q.w, sessionCookie, "", -1)
	http.Redirect(q.w, q.r, Prefix+"signin", http.StatusSeeOther)
}
