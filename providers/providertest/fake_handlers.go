package providertest

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// handleAuthorize is the authorization endpoint (RFC 6749 §4.1.1): it
// redirects straight back to redirect_uri with a code and the state.
func (f *Fake) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	b := f.record(r, EndpointAuthorize)
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !back.IsAbs() || q.Get("client_id") != f.ClientID {
		// RFC 6749 §4.1.2.1: never redirect to an unverified redirect_uri.
		http.Error(w, "providertest: invalid client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	params := back.Query()
	switch method := q.Get("code_challenge_method"); {
	case b.AuthorizeError != "":
		params.Set("error", b.AuthorizeError)
	case q.Get("response_type") != "code":
		params.Set("error", "unsupported_response_type")
	case method != "" && method != "plain" && method != "S256":
		params.Set("error", "invalid_request") // RFC 7636 §4.4.1
	default:
		params.Set("code", f.mint("code", func(code string) {
			f.codes[code] = authCode{
				redirectURI: q.Get("redirect_uri"),
				scope:       q.Get("scope"),
				challenge:   q.Get("code_challenge"),
				method:      method,
			}
		}))
	}
	if state := q.Get("state"); state != "" {
		params.Set("state", state)
	}
	back.RawQuery = params.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// handleToken is the token endpoint (RFC 6749 §3.2) for the
// authorization_code (§4.1.3) and refresh_token (§6) grants.
func (f *Fake) handleToken(w http.ResponseWriter, r *http.Request) {
	if !parsePost(w, r) {
		return
	}
	b := f.record(r, EndpointToken)
	if b.Delay > 0 && !f.hold(r, b.Delay) {
		return
	}
	if !f.clientOK(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="providertest"`)
		writeError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		if f.fail(w, r, b, b.ExchangeFail) {
			f.exchange(w, r, b)
		}
	case "refresh_token":
		if f.fail(w, r, b, b.RefreshFail) {
			f.refreshGrant(w, r, b)
		}
	default:
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// exchange answers an authorization_code grant. Codes are single use.
func (f *Fake) exchange(w http.ResponseWriter, r *http.Request, b Behavior) {
	code := r.PostForm.Get("code")
	f.mu.Lock()
	c, ok := f.codes[code]
	delete(f.codes, code)
	f.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
	case r.PostForm.Get("redirect_uri") != c.redirectURI:
		writeError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
	case !pkceOK(c, r.PostForm.Get("code_verifier")):
		writeError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
	default:
		refresh := f.mint("rt", func(rt string) { f.refresh[rt] = true })
		writeTokens(w, b, f.mint("at", nil), refresh, c.scope)
	}
}

// refreshGrant answers a refresh_token grant according to b.RefreshTokens.
func (f *Fake) refreshGrant(w http.ResponseWriter, r *http.Request, b Behavior) {
	old := r.PostForm.Get("refresh_token")
	f.mu.Lock()
	live := f.refresh[old]
	next := ""
	if live {
		switch b.RefreshTokens {
		case RefreshRotate:
			delete(f.refresh, old)
			next = f.nextLocked("rt")
			f.refresh[next] = true
		case RefreshEcho:
			next = old
		}
	}
	f.mu.Unlock()
	if !live {
		writeError(w, http.StatusBadRequest, "invalid_grant", "unknown or revoked refresh token")
		return
	}
	writeTokens(w, b, f.mint("at", nil), next, r.PostForm.Get("scope"))
}

// handleRevoke is the revocation endpoint (RFC 7009 §2).
func (f *Fake) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !parsePost(w, r) {
		return
	}
	b := f.record(r, EndpointRevoke)
	if b.Delay > 0 && !f.hold(r, b.Delay) {
		return
	}
	switch {
	case !f.clientOK(r):
		w.Header().Set("WWW-Authenticate", `Basic realm="providertest"`)
		writeError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
	case b.RevokeStatus != 0 && b.RevokeStatus != http.StatusOK:
		writeError(w, b.RevokeStatus, "server_error", "")
	case r.PostForm.Get("token") == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "token is missing")
	default:
		f.mu.Lock()
		delete(f.refresh, r.PostForm.Get("token"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}
}

// fail applies a Failure. It reports whether the request is still to be
// answered normally.
func (f *Fake) fail(w http.ResponseWriter, r *http.Request, b Behavior, failure Failure) bool {
	switch failure {
	case FailInvalidGrant:
		writeError(w, http.StatusBadRequest, "invalid_grant", "grant expired or revoked")
	case FailServerError:
		writeError(w, http.StatusInternalServerError, "server_error", "")
	case FailUnavailable:
		w.Header().Set("Retry-After", cmp.Or(b.RetryAfter, "1"))
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
	case FailTooManyRequests:
		if b.RetryAfter != "" {
			w.Header().Set("Retry-After", b.RetryAfter)
		}
		writeError(w, http.StatusTooManyRequests, "too_many_requests", "")
	case FailHang:
		return f.hold(r, b.Hang) // never true for Hang zero
	default:
		return true
	}
	return false
}

// hold waits d, or without end when d is zero, until the client gives up
// or the Fake closes. It reports whether d passed.
func (f *Fake) hold(r *http.Request, d time.Duration) bool {
	var elapsed <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		elapsed = timer.C
	}
	select {
	case <-elapsed:
		return true
	case <-r.Context().Done():
	case <-f.stop:
	}
	return false
}

// record stores r and counts it; it returns the behaviour to apply to it.
func (f *Fake) record(r *http.Request, endpoint string) Behavior {
	req := Request{
		Endpoint:      endpoint,
		Method:        r.Method,
		Query:         r.URL.Query(),
		Form:          cloneValues(r.PostForm),
		Authorization: r.Header.Get("Authorization"),
		Header:        r.Header.Clone(),
	}
	if user, pass, ok := r.BasicAuth(); ok {
		req.BasicUser, req.BasicPassword = formDecode(user), formDecode(pass)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	switch {
	case endpoint == EndpointAuthorize:
		f.authorize++
	case endpoint == EndpointRevoke:
		f.revokes++
	case req.Form.Get("grant_type") == "authorization_code":
		f.exchanges++
	case req.Form.Get("grant_type") == "refresh_token":
		f.refreshes++
	}
	return f.behavior
}

// clientOK checks client_secret_basic, or else client_secret_post,
// credentials (RFC 6749 §2.3.1).
func (f *Fake) clientOK(r *http.Request) bool {
	if user, pass, ok := r.BasicAuth(); ok {
		return formDecode(user) == f.ClientID && formDecode(pass) == f.ClientSecret
	}
	return r.PostForm.Get("client_id") == f.ClientID && r.PostForm.Get("client_secret") == f.ClientSecret
}

// mint returns a new unique value prefix-N and, under the Fake's lock,
// passes it to keep (if not nil).
func (f *Fake) mint(prefix string, keep func(string)) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.nextLocked(prefix)
	if keep != nil {
		keep(v)
	}
	return v
}

// nextLocked returns prefix-N for the next N. f.mu must be held.
func (f *Fake) nextLocked(prefix string) string {
	f.seq[prefix]++
	return prefix + "-" + strconv.Itoa(f.seq[prefix])
}

// pkceOK checks a code_verifier against the recorded code_challenge
// (RFC 7636 §4.6). A verifier without a challenge is refused, as OAuth 2.1
// requires.
func pkceOK(c authCode, verifier string) bool {
	switch {
	case c.challenge == "":
		return verifier == ""
	case verifier == "":
		return false
	case c.method == "S256":
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == c.challenge
	}
	return verifier == c.challenge // plain
}

// parsePost parses a POST body of at most 1 MiB, answering 400 on error.
func parsePost(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "cannot parse form")
		return false
	}
	return true
}

// writeTokens writes a successful token answer (RFC 6749 §5.1) in the
// format b asks for. Empty refresh and scope are left out.
func writeTokens(w http.ResponseWriter, b Behavior, access, refresh, scope string) {
	expiresIn := b.ExpiresIn
	if expiresIn == 0 {
		expiresIn = time.Hour
	}
	v := url.Values{"access_token": {access}, "token_type": {"Bearer"}}
	if !b.OmitExpiresIn {
		v.Set("expires_in", strconv.Itoa(int(expiresIn/time.Second)))
	}
	if refresh != "" {
		v.Set("refresh_token", refresh)
	}
	if scope != "" && !b.OmitScope {
		v.Set("scope", scope)
	}
	var body []byte
	ctype := "application/json"
	if b.Format == FormatForm {
		body, ctype = []byte(v.Encode()), "application/x-www-form-urlencoded"
	} else {
		m := map[string]any{}
		for k := range v {
			m[k] = v.Get(k)
		}
		if !b.OmitExpiresIn {
			m["expires_in"] = int(expiresIn / time.Second)
		}
		body, _ = json.Marshal(m)
	}
	if b.ContentType != "" {
		ctype = b.ContentType
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeError writes an RFC 6749 §5.2 JSON error.
func writeError(w http.ResponseWriter, status int, code, description string) {
	m := map[string]string{"error": code}
	if description != "" {
		m["error_description"] = description
	}
	body, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// formDecode undoes the form-encoding of client_secret_basic credentials.
func formDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}
