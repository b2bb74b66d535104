package broker

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/mcp"
	"github.com/oauth2broker/oauth2broker/storage"
)

// clientMetadataPath is where an API serves the client ID metadata
// document of each of its MCP providers, below the API's URL.
const clientMetadataPath = "/oauth2/provider/client-metadata/"

// clientMetadataURL is the URL of a provider's client ID metadata
// document: the broker's client_id at an MCP server's authorization
// server that supports them.
func (s *Server) clientMetadataURL(api, provider string) string {
	return s.tokens.IssuerURL(api) + clientMetadataPath + url.PathEscape(provider)
}

// clientMetadata serves an MCP provider's client ID metadata document
// (draft-ietf-oauth-client-id-metadata-document): the authorization
// server fetches it to learn the broker's redirect URI. It is public and
// holds no secret; other providers have none (404).
func (s *Server) clientMetadata(c *gin.Context) {
	a := currentAPI(c)
	p, err := s.store.GetProvider(c, a.Name, c.Param("provider"))
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, protocol.ErrNotFound)
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if cfg, err := providers.Decode(p.Name, p.Config); err != nil || cfg.Type != providers.TypeMCP {
		fail(c, protocol.ErrNotFound)
		return
	}
	doc := mcp.NewClientMetadata(s.clientMetadataURL(a.Name, p.Name), s.conns.RedirectURI(p))
	writeJSON(c, http.StatusOK, doc)
}
