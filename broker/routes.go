package broker

import (
	"errors"
	"net/http"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/console"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// apiKey is the gin context key of the loaded storage.API.
const apiKey = admin.APIKey

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// Gin believes X-Forwarded-For and X-Real-IP from any peer by default;
	// its ClientIP is the TCP peer here, and the client address the
	// broker uses comes from clientAddress alone.
	e.ForwardedByClientIP = false
	_ = e.SetTrustedProxies(nil)
	e.Use(requestID, s.accessLog, s.metrics.observe, s.recoverPanic, s.renderErrors, limitBody)
	if !s.proxies.Empty() {
		e.Use(s.clientAddress)
	}
	e.NoRoute(s.noRoute)
	e.NoMethod(func(c *gin.Context) { fail(c, protocol.ErrMethodNotAllowed) })

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler())
	e.GET("/openapi.json", serveOpenAPI())
	e.GET("/.well-known/oauth-authorization-server/:api", s.loadAPI, s.metadata)

	api := e.Group("/:api", s.loadAPI)
	api.GET("/.well-known/oauth-authorization-server", s.metadata)
	api.POST("/oauth2/token", s.token)
	api.GET("/oauth2/token", s.token)
	api.POST("/oauth2/introspect", s.introspect)
	api.POST("/oauth2/revoke", s.revoke)
	api.GET("/oauth2/revoke", s.revoke)
	api.GET("/oauth2/jwks", s.jwks)
	api.GET("/oauth2/provider/authorize", s.authorize)
	api.POST("/oauth2/provider/authorize", s.authorize)
	api.GET("/oauth2/provider/callback", s.callback)
	api.POST("/oauth2/provider/callback", s.callback) // response_mode=form_post (Apple)
	api.GET("/oauth2/provider/callback/:provider", s.callback)
	api.POST("/oauth2/provider/callback/:provider", s.callback)
	api.POST("/oauth2/provider/confirm", s.confirmConnection)
	api.GET(clientMetadataPath+":provider", s.clientMetadata)
	api.GET("/oauth2/connections", s.clientConnections)
	s.connect.Routes(api)
	s.proxy.Routes(api)

	s.admin.Routes(e.Group("/admin/v1"))
	if s.console != nil {
		e.GET(console.Prefix+"*path", gin.WrapH(s.console))
		e.POST(console.Prefix+"*path", gin.WrapH(s.console))
	}
	return e
}

// loadAPI loads the API named by the path. With no such API, the path may
// still be an extra token path shaped like a route (/plt/oauth2/token);
// otherwise it answers 404.
func (s *Server) loadAPI(c *gin.Context) {
	a, err := s.store.GetAPI(c, c.Param("api"))
	if errors.Is(err, storage.ErrNotFound) {
		s.noRoute(c)
		c.Abort()
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(apiKey, a)
	c.Next()
}

func currentAPI(c *gin.Context) storage.API {
	return c.MustGet(apiKey).(storage.API)
}

// noRoute serves the APIs' extra token paths, and 404 for anything else.
func (s *Server) noRoute(c *gin.Context) {
	a, ok, err := s.paths.lookup(c, c.Request.URL.Path)
	if err != nil {
		fail(c, err)
		return
	}
	if !ok {
		desc := "no such endpoint"
		if c.Param("api") != "" {
			desc = "unknown api"
		}
		fail(c, protocol.ErrNotFound.WithDescription(desc))
		return
	}
	if c.Request.Method != http.MethodPost && c.Request.Method != http.MethodGet {
		fail(c, protocol.ErrMethodNotAllowed)
		return
	}
	c.Set(apiKey, a)
	s.token(c)
}

func (s *Server) healthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when the store answers reads and takes writes. While
// it cannot (a full disk, a read-only file system, etcd without quorum; see
// readiness) it answers 503 temporarily_unavailable with Retry-After and
// the reason, so a load balancer sends the writes elsewhere; /healthz
// stays 200.
func (s *Server) readyz(c *gin.Context) {
	// The store itself, past the caches: an API named readyz must not
	// answer from memory for a store that is down.
	_, err := s.shared.GetAPI(c, "readyz")
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.ready.note(err)
		s.logger(c).Error("readiness check failed", "err", err)
		renderError(c, errNotReady(err, time.Second))
		return
	}
	if retry, err := s.ready.check(c); err != nil {
		renderError(c, errNotReady(err, retry))
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"status": "ready"})
}

// errNotReady is the answer of /readyz while the store fails with err.
// /readyz is unauthenticated: the reason is a class, never the error's
// text, which may name records (the log has the whole error).
func errNotReady(err error, retry time.Duration) *protocol.Error {
	desc := "store unavailable"
	if errors.Is(err, storage.ErrUnavailable) {
		desc = "store unavailable (no quorum, or out of reach)"
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO} {
		if errors.Is(err, errno) {
			desc = "store cannot write: " + errno.Error()
		}
	}
	return protocol.ErrTemporarilyUnavailable.WithDescription(desc).WithRetryAfter(retry)
}
