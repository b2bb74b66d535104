package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Routes registers the admin API on g (mounted at /admin/v1), behind the
// admin token.
func (s *API) Routes(g *gin.RouterGroup) {
	g.Use(s.adminAuth)
	g.GET("/whoami", s.whoami)
	g.POST("/admin-keys", s.createAdminKey)
	g.GET("/admin-keys", s.listAdminKeys)
	g.GET("/admin-keys/:id", s.getAdminKey)
	g.DELETE("/admin-keys/:id", s.revokeAdminKey)
	g.GET("/backup", s.backup)
	g.GET("/apis", s.listAPIs)
	g.POST("/apis", s.createAPI)
	g.GET("/apis/:api", s.loadAPI, s.getAPI)
	g.PATCH("/apis/:api", s.loadAPI, s.patchAPI)

	a := g.Group("/apis/:api", s.loadAPI)
	a.GET("/clients", s.listClients)
	a.POST("/clients", s.createClient)
	a.GET("/clients/:id", s.getClient)
	a.DELETE("/clients/:id", s.deleteClient)
	a.POST("/clients/:id/secret", s.rotateClientSecret)
	a.POST("/clients/:id/webhook-secret", s.rotateWebhookSecret)
	a.GET("/clients/:id/webhook-events", s.listDeliveries)
	a.POST("/clients/:id/webhook-events/:event/retry", s.retryDelivery)

	a.GET("/users", s.listUsers)
	a.POST("/users", s.createUser)
	a.GET("/users/:id", s.getUser)
	a.DELETE("/users/:id", s.deleteUser)
	a.PUT("/users/:id/password", s.putUserPassword)
	a.GET("/users/:id/throttle", s.userThrottle)

	a.GET("/providers", s.listProviders)
	a.PUT("/providers/:id", s.putProviderRoute)
	a.GET("/providers/:id", s.getProvider)
	a.DELETE("/providers/:id", s.deleteProvider)

	a.GET("/connections", s.listConnections)
	a.DELETE("/connections/:id", s.deleteConnection)
	a.POST("/connections/import", s.importConnections)
	a.POST("/connections/:id/refresh", s.refreshConnection)

	a.GET("/keys", s.listKeys)
	a.GET("/audit", s.listAudit)
	a.POST("/keys/rotate", s.rotateKeys)
}

// APIKey is the gin context key under which Config.LoadAPI puts the
// storage.API named by the path.
const APIKey = "api"

func currentAPI(c *gin.Context) storage.API {
	return c.MustGet(APIKey).(storage.API)
}

// fail records err for the router's error rendering and stops the chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// logger is the API's logger with the request's id.
func (s *API) logger(c *gin.Context) *slog.Logger {
	return s.log.With("request_id", c.GetString("request_id"))
}

// decodeJSON reads a JSON admin body strictly: unknown fields, trailing
// data and wrong types are a 400.
func decodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return protocol.ErrRequestTooLarge
	}
	if err != nil {
		return protocol.ErrInvalidRequest.WithDescription("cannot read request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return protocol.ErrInvalidRequest.WithDescription("invalid JSON body: " + jsonProblem(err))
	}
	if dec.More() {
		return protocol.ErrInvalidRequest.WithDescription("invalid JSON body: trailing data")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing values.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q has the wrong type", typeErr.Field)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at offset %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return "malformed"
}

// storeError maps storage sentinels to admin answers.
func storeError(err error, what string) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return protocol.ErrNotFound.WithDescription(what + " not found").WithCause(err)
	case errors.Is(err, storage.ErrAlreadyExists):
		return protocol.ErrConflict.WithDescription(what + " already exists").WithCause(err)
	case errors.Is(err, storage.ErrConflict):
		return protocol.ErrConflict.WithDescription(what + " was changed concurrently; retry").WithCause(err)
	}
	return err
}

// maxTTL bounds configured access-token lifetimes.
const maxTTL = 30 * 24 * time.Hour

func checkTTL(d *providers.Duration) error {
	if d != nil && (*d < 0 || time.Duration(*d) > maxTTL || (*d > 0 && time.Duration(*d) < time.Second)) {
		return protocol.ErrInvalidRequest.WithDescription("access_token_ttl must be between 1s and 720h")
	}
	return nil
}

// nonNil returns s, or an empty slice, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
