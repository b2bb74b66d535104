package broker

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// metadata is the API's authorization server metadata (RFC 8414), served
// at /{api}/.well-known/oauth-authorization-server and at RFC 8414's
// /.well-known/oauth-authorization-server/{api}.
func (s *Server) metadata(c *gin.Context) {
	a := currentAPI(c)
	iss := s.tokens.IssuerURL(a.Name)
	writeJSON(c, http.StatusOK, gin.H{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/oauth2/token",
		"jwks_uri":                              iss + "/oauth2/jwks",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"response_types_supported":              []string{},
		"grant_types_supported":                 []string{protocol.GrantClientCredentials, protocol.GrantPassword, protocol.GrantRefreshToken, protocol.GrantConnection, protocol.GrantTokenExchange},
		"token_endpoint_auth_methods_supported": []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"introspection_endpoint_auth_methods_supported": []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"revocation_endpoint_auth_methods_supported":    []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"access_token_signing_alg_values_supported":     tokens.SupportedAlgs,
	})
}
