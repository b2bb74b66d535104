package proxy

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/outbound"
)

// forward sends the call upstream with a fresh token (once more with a
// forced refresh after a 401, when the body can be replayed) and streams
// the answer back. It returns the status written, or an error when
// nothing was written.
func (p *Proxy) forward(c *gin.Context, k *call) (int, error) {
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	deadline := time.AfterFunc(p.cfg.Timeout, cancel)
	defer deadline.Stop()
	resp, err := p.exchange(ctx, c, k, nil)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusUnauthorized && k.body.replayable() {
		drain(resp)
		if resp, err = p.exchange(ctx, c, k, k.sent); err != nil {
			return 0, err
		}
	}
	if e := stepUp(k, resp); e != nil {
		drain(resp)
		if id, ok := rpcID(k.body); ok {
			writeRPCError(c, id, e)
			return e.Status, nil
		}
		return e.Status, e
	}
	defer resp.Body.Close()
	if err := checkRedirect(k, resp); err != nil {
		return 0, err
	}
	if streaming(resp) {
		deadline.Reset(p.cfg.StreamTimeout)
	}
	p.answer(c, k, resp)
	return resp.StatusCode, nil
}

// checkRedirect refuses a redirect off the provider's API bases, and
// makes an allowed one absolute.
func checkRedirect(k *call, resp *http.Response) error {
	loc := resp.Header.Get("Location")
	if loc == "" || resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return nil
	}
	to, err := k.target.Parse(loc)
	if err != nil || !onAnyBase(k.bases, to) {
		return protocol.ErrUpstreamError.WithDescription("the provider redirected outside its API base; not followed")
	}
	// Pass back what was checked: the raw value, if relative, would be
	// resolved against the broker's URL by the client, and a browser
	// reads "/\host" as "//host".
	resp.Header.Set("Location", to.String())
	return nil
}

// exchange gets the connection's token (refreshed when about to expire,
// or when refused, the hash of the token the upstream refused, is still
// the stored one) and sends one upstream request.
func (p *Proxy) exchange(ctx context.Context, c *gin.Context, k *call, refused []byte) (*http.Response, error) {
	res, err := p.cfg.Connections.Token(ctx, k.api, connections.TokenRequest{
		ClientID: k.client.ID, Identity: k.identity, Provider: k.provider, Force: refused != nil, Refused: refused,
	})
	if err != nil {
		return nil, err
	}
	k.granted, k.sent = res.Conn.Scope, connections.TokenHash(res.Tokens.AccessToken)
	req, err := http.NewRequestWithContext(ctx, c.Request.Method, k.target.String(), k.body.reader())
	if err != nil {
		return nil, protocol.ErrServerError.WithCause(err)
	}
	req.ContentLength = k.body.size
	if k.body.size == 0 {
		req.Body = http.NoBody
	}
	copyHeader(req.Header, c.Request.Header, notForwarded)
	req.Header.Set("Authorization", "Bearer "+res.Tokens.AccessToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.upstreamError(ctx, c, k, err)
	}
	return resp, nil
}

// upstreamError maps a failed upstream call; the log names the host,
// never the URL's query or a header.
func (p *Proxy) upstreamError(ctx context.Context, c *gin.Context, k *call, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errTooLarge(tooLarge.Limit)
	}
	cause := outbound.Cause(err)
	p.cfg.Logger.WarnContext(c.Request.Context(), "proxy: upstream call failed", "provider", k.provider, "host", k.target.Host,
		"policy", cause, "timeout", ctx.Err() != nil)
	if ctx.Err() != nil && c.Request.Context().Err() == nil {
		return protocol.ErrUpstreamError.WithStatus(http.StatusGatewayTimeout).WithDescription("the provider did not answer in time")
	}
	if cause != nil {
		return protocol.ErrUpstreamError.WithDescription("the outbound policy refused the provider's address")
	}
	return protocol.ErrUpstreamError.WithDescription("the provider could not be reached")
}

// streaming reports whether the answer is an event stream, which may
// last longer than an ordinary answer.
func streaming(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/event-stream"
}

// drain reads a little of an answer that is dropped, so the connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

// answer writes the upstream's status, headers and body, flushing each
// chunk of an answer without a length (chunked, event streams) so that
// nothing is held back.
func (p *Proxy) answer(c *gin.Context, k *call, resp *http.Response) {
	h := c.Writer.Header()
	copyHeader(h, resp.Header, notReturned)
	// The upstream's Vary names its own Authorization, which here is
	// the same for every user of a client: a cache must key on the
	// identity (and base) instead, or serve one user's answer to another.
	h.Add("Vary", HeaderIdentity+", "+HeaderBase)
	if resp.ContentLength >= 0 {
		h.Set("Content-Length", itoa(resp.ContentLength))
	}
	c.Status(resp.StatusCode)
	c.Writer.WriteHeaderNow()
	rc := http.NewResponseController(c.Writer)
	flush := resp.ContentLength < 0 || streaming(resp)
	if streaming(resp) {
		// The server's own read and write timeouts (cmd serve: 30s, 60s)
		// would end an event stream early, its read timeout by
		// cancelling the request: a stream gets StreamTimeout instead.
		until := p.cfg.Now().Add(p.cfg.StreamTimeout)
		_ = rc.SetReadDeadline(until)
		_ = rc.SetWriteDeadline(until)
	}
	if flush {
		_ = rc.Flush()
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := c.Writer.Write(buf[:n]); werr != nil {
				return // the client left
			}
			if flush {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			p.cfg.Logger.WarnContext(c.Request.Context(), "proxy: answer cut short", "provider", k.provider, "host", k.target.Host,
				"policy", outbound.Cause(err))
			return
		}
	}
}
