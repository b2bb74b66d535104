package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

var (
	// ErrRefused is returned for a call the policy does not allow: a plain
	// http URL that is not loopback, or a resolved address in the deny
	// list.
	ErrRefused = errors.New("outbound: refused by the outbound policy")
	// ErrRedirect is returned when an answer is a redirect that is not
	// followed.
	ErrRedirect = errors.New("outbound: redirect not followed")
	// ErrTooLarge is returned by a body read past the policy's bound.
	ErrTooLarge = errors.New("outbound: answer body too large")
)

// DefaultMaxBody bounds an answer body when Policy.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// Policy is what outbound calls may do. The zero value allows https to
// any address and bounds bodies to DefaultMaxBody.
type Policy struct {
	// AllowHTTPLoopback permits plain http to a loopback host (localhost,
	// 127.0.0.0/8, ::1); the connection must then also land on a loopback
	// address. Meant for `dev` and tests, off in production.
	AllowHTTPLoopback bool
	// Deny lists address ranges that are never dialled, compared with the
	// resolved address of every connection.
	Deny []netip.Prefix
	// MaxBody bounds every answer body; DefaultMaxBody when zero.
	MaxBody int64
	// TLSConfig verifies https servers; the system's roots when nil.
	TLSConfig *tls.Config
	// IdlePerHost is how many idle keep-alive connections a Transport
	// keeps to one host for the next calls; DefaultIdlePerHost when zero.
	// Past it, a connection is closed after its call, and a later call
	// dials again.
	IdlePerHost int
}

// DefaultIdlePerHost bounds the idle connections kept to one host when
// Policy.IdlePerHost is zero.
const DefaultIdlePerHost = 8

// CheckURL reports whether the policy allows calls to raw: an absolute
// https URL, or http to a loopback host when AllowHTTPLoopback is set.
// The error names neither credentials nor query.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	return p.check(u)
}

func (p Policy) check(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && p.AllowHTTPLoopback && IsLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
		return fmt.Errorf("%w: plain http to loopback is allowed only in dev (https required)", ErrRefused)
	}
	return fmt.Errorf("%w: https required, not %q", ErrRefused, u.Scheme)
}

// IsLoopbackHost reports whether host (without port) is "localhost", a
// name under ".localhost" (RFC 6761 §6.3) or a loopback address.
func IsLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// Denied reports whether a is in the deny list.
func (p Policy) Denied(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.Deny {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns an HTTP client that applies the policy, follows no
// redirect and gives up after timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), CheckRedirect: NoRedirect, Timeout: timeout}
}

// Transport returns a RoundTripper that applies the policy: the URL
// check on every request (a redirect the caller follows included), the
// deny list on every dialled address, and the body bound on every answer.
func (p Policy) Transport() http.RoundTripper {
	t := &transport{policy: p, tls: newTransport(p, false)}
	if p.AllowHTTPLoopback {
		t.plain = newTransport(p, true)
	}
	return LimitBody(t, p.MaxBody)
}

type transport struct {
	policy     Policy
	tls, plain *http.Transport
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.policy.check(req.URL); err != nil {
		closeBody(req)
		return nil, err
	}
	if req.URL.Scheme == "http" {
		return t.plain.RoundTrip(req)
	}
	return t.tls.RoundTrip(req)
}

// closeBody honours the RoundTripper contract: the request body is
// closed even on an error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// newTransport builds the transport of one scheme. The plain one dials
// loopback addresses only.
func newTransport(p Policy, loopbackOnly bool) *http.Transport {
	d := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			return p.dialCheck(address, loopbackOnly)
		},
	}
	idle := p.IdlePerHost
	if idle <= 0 {
		idle = DefaultIdlePerHost
	}
	return &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, idle),
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       p.TLSConfig.Clone(),
	}
}

// dialCheck checks the resolved address about to be dialled.
func (p Policy) dialCheck(address string, loopbackOnly bool) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unexpected address", ErrRefused)
	}
	a := ap.Addr().Unmap()
	if p.Denied(a) {
		return fmt.Errorf("%w: address %s is in the deny list", ErrRefused, a)
	}
	if loopbackOnly && !a.IsLoopback() {
		return fmt.Errorf("%w: plain http resolved to non-loopback %s", ErrRefused, a)
	}
	return nil
}

// NoRedirect is an http.Client CheckRedirect that follows no redirect:
// the call fails with ErrRedirect, so a redirecting token endpoint never
// receives a credential twice, nor sends a foreign answer back.
func NoRedirect(req *http.Request, _ []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return fmt.Errorf("%w (status %d)", ErrRedirect, status)
}

// SameOriginGET is an http.Client CheckRedirect for GETs that carry no
// credential (discovery, JWKS): it follows up to three redirects that
// stay on the scheme and host of the first request, and nothing else.
func SameOriginGET(req *http.Request, via []*http.Request) error {
	first := via[0]
	if len(via) > 3 || req.Method != http.MethodGet || first.Method != http.MethodGet ||
		req.URL.Scheme != first.URL.Scheme || !strings.EqualFold(req.URL.Host, first.URL.Host) {
		return NoRedirect(req, via)
	}
	return nil
}

// LimitBody wraps rt so that every answer body reads at most n bytes
// (DefaultMaxBody when n <= 0); reading past them fails with
// ErrTooLarge instead of truncating silently.
func LimitBody(rt http.RoundTripper, n int64) http.RoundTripper {
	if n <= 0 {
		n = DefaultMaxBody
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return limitTransport{rt: rt, n: n}
}

type limitTransport struct {
	rt http.RoundTripper
	n  int64
}

// maxErrorBody bounds the body of an error answer (status 300 and up),
// which is cut there rather than refused: only its error code is ever
// read, and the status must stay reportable.
const maxErrorBody = 64 << 10

func (l limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		resp.Body = &limitedBody{rc: resp.Body, left: min(l.n, maxErrorBody), cut: true}
		return resp, nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: l.n}
	return resp, nil
}

// limitedBody reads up to left bytes, then fails if there are more, or
// ends there when cut.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	cut  bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 && b.cut {
		return 0, io.EOF
	}
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err // io.EOF at the end
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// Guard returns a copy of c (a new client with timeout when c is nil)
// that follows redirects only as checkRedirect allows (NoRedirect when
// nil) and bounds every answer body to DefaultMaxBody. A provider package
// guards the client it is given, so its own rule holds whoever built it.
func Guard(c *http.Client, timeout time.Duration, checkRedirect func(*http.Request, []*http.Request) error) *http.Client {
	out := &http.Client{Timeout: timeout}
	if c != nil {
		cp := *c
		out = &cp
	}
	if checkRedirect == nil {
		checkRedirect = NoRedirect
	}
	out.CheckRedirect = checkRedirect
	out.Transport = LimitBody(out.Transport, DefaultMaxBody)
	return out
}

// Cause returns the policy's reason when err (from an http.Client call)
// is a refusal, an unfollowed redirect or an oversized answer, without
// the URL, and nil otherwise. A library that formatted the error with %v
// lost the chain; an oversized answer is still recognised by its fixed
// text.
func Cause(err error) error {
	for _, sentinel := range []error{ErrRedirect, ErrRefused, ErrTooLarge} {
		if errors.Is(err, sentinel) {
			var ue *url.Error
			if errors.As(err, &ue) {
				return ue.Err
			}
			return err
		}
	}
	if err != nil && strings.Contains(err.Error(), ErrTooLarge.Error()) {
		return ErrTooLarge
	}
	return nil
}
