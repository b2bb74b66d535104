package broker

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// proxyClient authenticates the client of an upstream API proxy call by
// HTTP Basic alone (the body and query belong to the provider's API and
// are never read as OAuth parameters) and checks its "proxy" grant type.
func (s *Server) proxyClient(c *gin.Context) (storage.Client, bool) {
	auth := c.GetHeader("Authorization")
	if scheme, _, _ := strings.Cut(auth, " "); !strings.EqualFold(scheme, "Basic") {
		fail(c, protocol.ErrInvalidClient.WithDescription("the proxy takes HTTP Basic client authentication"))
		return storage.Client{}, false
	}
	only := &http.Request{Header: http.Header{"Authorization": {auth}}, URL: &url.URL{}, Body: http.NoBody, RemoteAddr: c.Request.RemoteAddr}
	p, err := protocol.ParseRequest(only.WithContext(c.Request.Context()))
	if err != nil {
		fail(c, err)
		return storage.Client{}, false
	}
	client, err := s.grants.Authenticate(c, currentAPI(c), p)
	if err != nil {
		fail(c, err)
		return client, false
	}
	if !grants.Allows(client, protocol.GrantProxy) {
		fail(c, protocol.ErrUnauthorizedClient.WithStatus(http.StatusForbidden).WithDescription(`client may not use the proxy (grant type "proxy")`))
		return client, false
	}
	return client, true
}
