package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers/mcp"
)

// RPCInsufficientScope is the JSON-RPC error code of the step-up answer
// to a JSON-RPC request (in the range JSON-RPC 2.0 §5.1 leaves to
// implementations).
const RPCInsufficientScope = -32003

// stepUp reads an upstream 403 whose Bearer challenge is
// insufficient_scope (RFC 6750 §3.1; the MCP authorization
// specification's scope challenge) and returns the broker's answer: an
// insufficient_scope error naming the scopes the call needs, those the
// connection has and those it lacks, so that the app can send its user
// through authorize again for them (include_granted_scopes=true keeps
// the granted ones). The upstream's challenge itself is not passed on:
// its resource_metadata points at an authorization server the app must
// not use, since the broker holds the grant. nil when resp is not such a
// challenge.
func stepUp(k *call, resp *http.Response) *protocol.Error {
	if resp.StatusCode != http.StatusForbidden {
		return nil
	}
	ch, ok := mcp.ParseChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok || ch.Error != "insufficient_scope" {
		return nil
	}
	granted := strings.Fields(k.granted)
	var missing []string
	for _, s := range ch.Scopes {
		if !slices.Contains(granted, s) && !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
	}
	desc := fmt.Sprintf("the provider %s needs more scope for this call than the connection was granted", k.provider)
	if len(missing) > 0 {
		desc = fmt.Sprintf("the provider %s needs scope %q for this call; the connection lacks %q: "+
			"send the user through authorize with scope=%q and include_granted_scopes=true",
			k.provider, strings.Join(ch.Scopes, " "), strings.Join(missing, " "), strings.Join(missing, " "))
	}
	return protocol.ErrInsufficientScope.WithDescription(desc).
		WithExtra("provider", k.provider).
		WithExtra("required_scope", strings.Join(ch.Scopes, " ")).
		WithExtra("granted_scope", k.granted).
		WithExtra("missing_scope", strings.Join(missing, " "))
}

// rpcID returns the id of a JSON-RPC request body (one request, not a
// batch or a notification), so that an error can be answered in the
// protocol the client speaks.
func rpcID(b *body) (json.RawMessage, bool) {
	if !b.replayable() || len(b.buf) == 0 {
		return nil, false
	}
	var m struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		ID      json.RawMessage `json:"id"`
	}
	if json.Unmarshal(b.buf, &m) != nil || m.JSONRPC != "2.0" || m.Method == "" || len(m.ID) == 0 || string(m.ID) == "null" {
		return nil, false
	}
	return m.ID, true
}

// writeRPCError answers a JSON-RPC request with e as a JSON-RPC error
// response (HTTP status kept): MCP clients surface its message and keep
// their session, where an OAuth-shaped body would read as a broken
// transport. Its data holds the same members as the OAuth-shaped answer.
func writeRPCError(c *gin.Context, id json.RawMessage, e *protocol.Error) {
	c.Header("Cache-Control", "no-store")
	c.JSON(e.Status, gin.H{"jsonrpc": "2.0", "id": id, "error": gin.H{
		"code": RPCInsufficientScope, "message": e.Error(), "data": e.Body(),
	}})
}
