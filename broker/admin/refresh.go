package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// refreshConnection refreshes a connection's tokens at its provider now
// (POST .../connections/{id}/refresh), as a client's token request with
// force would, sharing a refresh already in flight, and answers the
// connection as stored after it: never a token. A refused refresh is
// answered like the connection token grant's (needs_reauth, upstream
// unavailable).
func (s *API) refreshConnection(c *gin.Context) {
	a := currentAPI(c)
	conn, err := s.store.GetConnection(c, a.Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "connection"))
		return
	}
	res, err := s.conns.Token(c.Request.Context(), a, connections.TokenRequest{
		ClientID: conn.ClientID, Identity: conn.Identity, Provider: conn.Provider, Force: true,
	})
	if err != nil {
		fail(c, err)
		return
	}
	s.adminAudit(c, "connection.refreshed", conn.ID)
	protocol.WriteJSON(c.Writer, http.StatusOK, events.ViewConnection(res.Conn))
}
