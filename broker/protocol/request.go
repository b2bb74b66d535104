package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Client authentication methods (RFC 7591 §2 names).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// secretParams must never travel in a URL (RFC 6749 §2.3.1, §3.2): URLs
// end up in logs and browser histories.
var secretParams = []string{"client_secret", "password", "refresh_token", "token", "code", "subject_token"}

// Request is an OAuth 2.0 request parsed once: parameters from the query
// and the body (JSON or form), and the client credentials from HTTP Basic
// or the body. Handlers and grants read only this, never the raw request.
type Request struct {
	// Params holds every parameter with exactly one non-empty value.
	Params url.Values
	// ClientID and ClientSecret are the presented client credentials.
	ClientID     string
	ClientSecret string
	// AuthMethod tells where the credentials came from: AuthMethodBasic,
	// AuthMethodPost, or AuthMethodNone when no secret was presented.
	AuthMethod string
	// RemoteAddr is the client's network address (IP, no port), for
	// throttling: the TCP peer's, or the one WithClientAddr put in the
	// request's context (behind trusted proxies).
	RemoteAddr string
}

// Get returns a parameter, or "" when it is absent.
func (r *Request) Get(name string) string { return r.Params.Get(name) }

// ParseRequest reads r (its body at most MaxBodyBytes) into a Request.
// Errors are *Error values ready to be written: 413 for a large body,
// invalid_request for malformed, duplicated or misplaced parameters,
// invalid_client for a malformed Basic header.
func ParseRequest(r *http.Request) (*Request, error) {
	params, err := queryParams(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		bodyParams, err := parseBody(r.Header.Get("Content-Type"), body)
		if err != nil {
			return nil, err
		}
		for k, v := range bodyParams {
			if params.Has(k) {
				return nil, ErrInvalidRequest.WithDescription(fmt.Sprintf("parameter %q is included more than once", k))
			}
			params[k] = v
		}
	}
	req := &Request{Params: params, AuthMethod: AuthMethodNone, RemoteAddr: clientAddr(r)}
	if err := req.clientCredentials(r.Header.Get("Authorization")); err != nil {
		return nil, err
	}
	return req, nil
}

func queryParams(raw string) (url.Values, error) {
	q, err := parseForm(raw)
	if err != nil {
		return nil, err
	}
	for _, name := range secretParams {
		if q.Has(name) {
			return nil, ErrInvalidRequest.WithDescription(fmt.Sprintf("parameter %q must not be sent in the URL", name))
		}
	}
	return q, nil
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, ErrRequestTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || len(body) > MaxBodyBytes {
		return nil, ErrRequestTooLarge
	}
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("cannot read request body").WithCause(err)
	}
	return body, nil
}

func parseBody(contentType string, body []byte) (url.Values, error) {
	mediaType := ""
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, ErrInvalidRequest.WithDescription("malformed Content-Type header")
		}
		mediaType = mt
	} else if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		mediaType = "application/json"
	} else {
		mediaType = "application/x-www-form-urlencoded"
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return parseJSON(body)
	case mediaType == "application/x-www-form-urlencoded":
		return parseForm(string(body))
	default:
		return nil, ErrInvalidRequest.WithDescription("unsupported Content-Type: send application/x-www-form-urlencoded or application/json")
	}
}

// parseForm parses a form, rejecting repeated parameters and dropping
// empty ones (RFC 6749 §3.1: a parameter without a value is omitted). It
// accepts and refuses what url.ParseQuery does, in one pass and one map,
// unescaping only what needs it.
func parseForm(raw string) (url.Values, error) {
	malformed := ErrInvalidRequest.WithDescription("malformed form encoding")
	if strings.Count(raw, "&") >= manyFormParams {
		// url.ParseQuery also bounds the number of parameters.
		if _, err := url.ParseQuery(raw); err != nil {
			return nil, malformed
		}
	}
	out := url.Values{}
	var repeated []string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(part, ";") {
			return nil, malformed
		}
		k, v, _ := strings.Cut(part, "=")
		k, kerr := formUnescape(k)
		v, verr := formUnescape(v)
		switch {
		case kerr != nil || verr != nil:
			return nil, malformed
		case v == "":
		case out.Has(k):
			repeated = append(repeated, k)
		default:
			out[k] = []string{v}
		}
	}
	if len(repeated) > 0 {
		return nil, ErrInvalidRequest.WithDescription(fmt.Sprintf("parameter %q is included more than once", repeated[0]))
	}
	return out, nil
}

// manyFormParams is where parseForm asks url.ParseQuery whether a form
// has too many parameters (its limit, 10,000 by default).
const manyFormParams = 1000

// formUnescape is url.QueryUnescape, skipped for the usual value that
// has nothing to unescape.
func formUnescape(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// parseJSON parses a flat JSON object. Strings, numbers and booleans
// become their text; null is omitted; an array of strings becomes one
// space-separated value (a scope list); nested objects are refused.
func parseJSON(body []byte) (url.Values, error) {
	bad := ErrInvalidRequest.WithDescription("request body is not a flat JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	out := url.Values{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, ErrInvalidRequest.WithDescription(fmt.Sprintf("parameter %q is included more than once", key))
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bad
		}
		value, ok := jsonScalar(raw)
		if !ok {
			return nil, ErrInvalidRequest.WithDescription(fmt.Sprintf("parameter %q must be a string, number, boolean or list of strings", key))
		}
		if value != "" {
			out.Set(key, value)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad
	}
	return out, nil
}

func jsonScalar(raw json.RawMessage) (string, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), true
	}
	return "", false
}

// clientCredentials fills the credentials from the Authorization header or
// the body, refusing both at once (RFC 6749 §2.3).
func (r *Request) clientCredentials(authorization string) error {
	bodyID, bodySecret := r.Params.Get("client_id"), r.Params.Get("client_secret")
	scheme, _, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		r.ClientID, r.ClientSecret = bodyID, bodySecret
		if bodySecret != "" {
			r.AuthMethod = AuthMethodPost
		}
		return nil
	}
	id, secret, err := parseBasic(authorization)
	if err != nil {
		// The error renderer adds the challenge with the API's realm.
		return ErrInvalidClient.WithDescription("malformed HTTP Basic credentials")
	}
	if bodySecret != "" {
		return ErrInvalidRequest.WithDescription("client credentials sent both in the Authorization header and in the body")
	}
	if bodyID != "" && bodyID != id {
		return ErrInvalidRequest.WithDescription("client_id in the body differs from the Authorization header")
	}
	r.ClientID, r.ClientSecret, r.AuthMethod = id, secret, AuthMethodBasic
	return nil
}

// parseBasic decodes HTTP Basic credentials, each form-urlencoded as
// RFC 6749 §2.3.1 requires.
func parseBasic(authorization string) (id, secret string, err error) {
	req := http.Request{Header: http.Header{"Authorization": {authorization}}}
	rawID, rawSecret, ok := req.BasicAuth()
	if !ok || rawID == "" {
		return "", "", errors.New("protocol: malformed basic credentials")
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", err
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", err
	}
	return id, secret, nil
}

// remoteIP strips the port of a RemoteAddr.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
