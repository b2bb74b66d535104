package broker

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// token is the token endpoint (RFC 6749 §3.2), also served at the API's
// extra token paths. GET with a body is accepted for EKIKA clients.
func (s *Server) token(c *gin.Context) {
	p, err := protocol.ParseRequest(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	resp, err := s.grants.Token(c.Request.Context(), currentAPI(c), p)
	if err != nil {
		fail(c, err)
		return
	}
	s.metrics.issued.WithLabelValues(currentAPI(c).Name, grantLabel(p.Get("grant_type"))).Inc()
	writeJSON(c, http.StatusOK, resp)
}

// introspect is RFC 7662 for the API's own tokens; any authenticated
// client of the API may call it.
func (s *Server) introspect(c *gin.Context) {
	a := currentAPI(c)
	p, err := protocol.ParseRequest(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := s.grants.Authenticate(c, a, p); err != nil {
		fail(c, err)
		return
	}
	token := p.Get("token")
	if token == "" {
		fail(c, protocol.ErrInvalidRequest.WithDescription("missing token"))
		return
	}
	in, err := s.tokens.Introspect(c, a, token, p.Get("token_type_hint"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, in)
}

// revoke is RFC 7009 for the API's own tokens with "token", and revokes a
// connection with "client_user_identity".
func (s *Server) revoke(c *gin.Context) {
	a := currentAPI(c)
	p, err := protocol.ParseRequest(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	client, err := s.grants.Authenticate(c, a, p)
	if err != nil {
		fail(c, err)
		return
	}
	if p.Get("client_user_identity") != "" && p.Get("token") == "" {
		s.revokeConnection(c, p, client)
		return
	}
	token := p.Get("token")
	if token == "" {
		fail(c, protocol.ErrInvalidRequest.WithDescription("missing token (or client_user_identity)"))
		return
	}
	// The hint only orders the lookups; an unknown one is ignored
	// (RFC 7009 §2.1: the server extends its search to all types).
	err = s.tokens.Revoke(c, a, client.ID, token, p.Get("token_type_hint"))
	if errors.Is(err, tokens.ErrWrongClient) {
		err = protocol.ErrUnauthorizedClient.WithDescription("the token was not issued to this client")
	}
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"revoked": true})
}

// jwks publishes the API's public signing keys (RFC 7517).
func (s *Server) jwks(c *gin.Context) {
	set, err := s.tokens.JWKS(c, currentAPI(c))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, set)
}

// grantLabel bounds the grant_type label to the grants the broker serves.
func grantLabel(g string) string {
	switch g {
	case "":
		return protocol.GrantConnectionShort
	case protocol.GrantConnection:
		return protocol.GrantConnectionShort
	case protocol.GrantTokenExchange:
		return "token_exchange"
	}
	return g
}
