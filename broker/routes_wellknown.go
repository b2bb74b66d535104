package broker

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// metadata is the API's authorization server metadata (RFC 8414), served
// at /{api}/.well-known/oauth-authorization-server and at RFC 8414's
// /.well-known/oauth-authorization-server/{api}. It describes the broker
// as the authorization server of the API's own clients: token,
// introspection, revocation and JWKS. There is no authorization endpoint
// (provider/authorize starts an upstream consent and answers JSON; it is
// not one), so grant_types_supported holds neither authorization_code nor
// implicit, and response_types_supported, which RFC 8414 requires in any
// case, is ["none"]: the registered response type (OAuth 2.0 Multiple
// Response Type Encoding Practices §4) that returns no code and no token,
// the only true answer that validators such as Authlib's, which refuse an
// empty list, accept.
func (s *Server) metadata(c *gin.Context) {
	a := currentAPI(c)
	iss := s.tokens.IssuerURL(a.Name)
	writeJSON(c, http.StatusOK, gin.H{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/oauth2/token",
		"jwks_uri":                              iss + "/oauth2/jwks",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"response_types_supported":              []string{"none"},
		"grant_types_supported":                 s.grants.GrantTypes(),
		"token_endpoint_auth_methods_supported": []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"introspection_endpoint_auth_methods_supported": []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"revocation_endpoint_auth_methods_supported":    []string{protocol.AuthMethodBasic, protocol.AuthMethodPost},
		"access_token_signing_alg_values_supported":     tokens.SupportedAlgs,
	})
}
