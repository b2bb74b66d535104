package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/proxy"
	"github.com/oauth2broker/oauth2broker/storage"
)

// limitBody caps every request body at protocol.MaxBodyBytes.
// The upstream API proxy bounds its own (Config.Proxy.MaxBody), and so
// does the token import (admin.ImportRoute), which streams.
func limitBody(c *gin.Context) {
	if proxy.IsProxyRoute(c.FullPath()) || c.FullPath() == admin.ImportRoute {
		c.Next()
		return
	}
	if c.Request.ContentLength > protocol.MaxBodyBytes {
		renderError(c, protocol.ErrRequestTooLarge)
		c.Abort()
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, protocol.MaxBodyBytes)
	}
	c.Next()
}

// requestID gives each request an id, from X-Request-Id when it is sane.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if len(id) == 0 || len(id) > 64 || !printable(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set("request_id", id)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
	c.Header("X-Request-Id", id)
	c.Next()
}

// clientAddress puts the client's address, as the trusted proxies report
// it, in the request's context, where protocol.ParseRequest finds it.
func (s *Server) clientAddress(c *gin.Context) {
	addr := s.proxies.ClientAddr(c.Request)
	c.Request = c.Request.WithContext(protocol.WithClientAddr(c.Request.Context(), addr))
	c.Next()
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// accessLog logs one line per request: method, path without the query
// string, status, duration. Never bodies, queries or headers: they can
// hold codes, tokens and secrets.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	// LogAttrs: typed attributes, none boxed into an interface.
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path), slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.String("request_id", c.GetString("request_id")))
}

// renderErrors writes the last error a handler added with c.Error, as an
// RFC 6749 §5.2 answer. Causes of server errors are logged, not shown;
// a server error without a cause is an answer, not a failure, and is not
// logged here.
func (s *Server) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := c.Errors.Last().Err
	e := protocol.AsError(connerr.Answer(err))
	if e.Status >= 500 && errors.Is(err, storage.ErrUnavailable) {
		// The client may retry once the store has its quorum or its
		// disk space back; until then /readyz says so.
		s.ready.note(err)
		e = errStoreUnavailable.WithCause(err)
		c.Header("Retry-After", "1")
	}
	if e.Status == http.StatusUnauthorized && e.WWWAuthenticate == "" {
		// RFC 7235 §3.1: every 401 carries a challenge, so no route can
		// forget it.
		e = e.WithWWWAuthenticate(grants.BasicChallenge(realm(c)))
	}
	// A 5xx without a cause is a deliberate answer (the hashing gate's
	// 503, a refresh held until the provider's Retry-After): only a
	// failure with a cause (the store's included) is logged.
	if cause := errors.Unwrap(e); e.Status >= 500 && cause != nil {
		s.log.Error("request failed", "path", c.Request.URL.Path, "request_id", c.GetString("request_id"), "err", cause)
	}
	renderError(c, e)
}

// realm is the API of the request (loaded, or named by the path), else
// the broker's name.
func realm(c *gin.Context) string {
	if a, ok := c.Get(apiKey); ok {
		return a.(storage.API).Name
	}
	if name := c.Param("api"); admin.ValidAPIName(name) {
		return name
	}
	return "oauth2broker"
}

// recoverPanic turns a panic into a 500 server_error and logs it.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "path", c.Request.URL.Path, "request_id", c.GetString("request_id"), "panic", fmt.Sprint(r))
			if !c.Writer.Written() {
				renderError(c, protocol.ErrServerError)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// errStoreUnavailable answers a request the store could not serve now.
var errStoreUnavailable = protocol.ErrTemporarilyUnavailable.WithDescription(
	"the broker's store is unavailable (no quorum, out of reach, or cannot write); retry shortly")

func renderError(c *gin.Context, err error) {
	protocol.WriteError(c.Writer, err)
}

// fail records err for renderErrors and stops the chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// writeJSON answers v with status and Cache-Control: no-store.
func writeJSON(c *gin.Context, status int, v any) {
	protocol.WriteJSON(c.Writer, status, v)
}

// logger is the server's logger with the request's id, for log lines
// written while handling a request.
func (s *Server) logger(c *gin.Context) *slog.Logger {
	return s.log.With("request_id", c.GetString("request_id"))
}

// requestIDKey carries the request id in request contexts (handlers pass
// c.Request.Context() below the HTTP layer, never the pooled gin.Context,
// which a background refresh could outlive).
type requestIDKey struct{}

// requestIDHandler adds the request id found in a log call's context to
// the record, so that lines written below the HTTP layer (connections,
// refreshes) carry it too; a line that already names the request id (as
// an attribute of the call, or of the logger) keeps just that one.
type requestIDHandler struct {
	slog.Handler
	hasID bool // the logger's own attributes name the request id
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" && !h.hasID && !recordHasID(r) {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func recordHasID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.hasID
	for _, a := range attrs {
		has = has || a.Key == "request_id"
	}
	return requestIDHandler{h.Handler.WithAttrs(attrs), has}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name), h.hasID}
}
