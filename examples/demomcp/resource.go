package demomcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Tool names.
const (
	ToolWhoami    = "whoami"
	ToolAdd       = "add"
	ToolAdminEcho = "admin_echo"
)

// WhoamiOutput is what the whoami tool answers: who the token is for.
type WhoamiOutput struct {
	Subject  string   `json:"subject"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
}

// AddInput and AddOutput are the add tool's arguments and answer.
type AddInput struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b" jsonschema:"the second addend"`
}

// AddOutput is the add tool's answer.
type AddOutput struct {
	Sum float64 `json:"sum"`
}

// EchoInput and EchoOutput are the admin_echo tool's argument and answer.
type EchoInput struct {
	Message string `json:"message" jsonschema:"what to echo"`
}

// EchoOutput is the admin_echo tool's answer.
type EchoOutput struct {
	Echo    string `json:"echo"`
	Subject string `json:"subject"`
}

// newMCPServer is the SDK server with the demo's tools.
func (d *Demo) newMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "oauth2broker-demo-mcp", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: ToolWhoami, Description: "Tells whom the access token was issued to."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, WhoamiOutput, error) {
			ti := req.Extra.TokenInfo
			clientID, _ := ti.Extra["client_id"].(string)
			return nil, WhoamiOutput{Subject: ti.UserID, ClientID: clientID, Scopes: ti.Scopes}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolAdd, Description: "Adds two numbers."},
		func(_ context.Context, _ *mcp.CallToolRequest, in AddInput) (*mcp.CallToolResult, AddOutput, error) {
			return nil, AddOutput{Sum: in.A + in.B}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: ToolAdminEcho,
		Description: fmt.Sprintf("Echoes a message; needs the %s scope.", d.cfg.AdminScope)},
		func(_ context.Context, req *mcp.CallToolRequest, in EchoInput) (*mcp.CallToolResult, EchoOutput, error) {
			// The scope gate answered 403 already; this is defence in depth.
			if !slices.Contains(req.Extra.TokenInfo.Scopes, d.cfg.AdminScope) {
				return nil, EchoOutput{}, errors.New("demomcp: insufficient scope")
			}
			return nil, EchoOutput{Echo: in.Message, Subject: req.Extra.TokenInfo.UserID}, nil
		})
	return s
}

// resourceMetadataHandler serves RFC 9728 protected resource metadata.
func (d *Demo) resourceMetadataHandler() http.Handler {
	return auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               d.Resource,
		AuthorizationServers:   []string{d.Issuer},
		ScopesSupported:        d.Scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "oauth2broker demo MCP server",
	})
}

// protect is the SDK's bearer middleware: no or a bad token is a 401
// challenge with resource_metadata and the base scope; a token without
// the base scope is a 403.
func (d *Demo) protect(h http.Handler) http.Handler {
	opts := &auth.RequireBearerTokenOptions{Scopes: []string{d.cfg.BaseScope}}
	if !d.cfg.OmitResourceMetadataHint {
		opts.ResourceMetadataURL = d.ResourceMetadataURL
	}
	return auth.RequireBearerToken(d.verifyToken, opts)(h)
}

// verifyToken checks an access token: known, not expired, and bound to
// this server's resource (RFC 8707 §2: audience restriction).
func (d *Demo) verifyToken(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	t, ok := d.store.accessToken(token)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: unknown token", auth.ErrInvalidToken)
	case !d.cfg.Now().Before(t.expires):
		return nil, fmt.Errorf("%w: expired", auth.ErrInvalidToken)
	case t.resource != d.Resource:
		return nil, fmt.Errorf("%w: token not issued for this resource", auth.ErrInvalidToken)
	}
	return &auth.TokenInfo{Scopes: slices.Clone(t.scopes), Expiration: t.expires, UserID: t.subject,
		Extra: map[string]any{"client_id": t.clientID}}, nil
}

// maxGatedBody is how much of a POST the scope gate reads; the SDK's
// handler refuses larger bodies (mcp.DefaultMaxRequestBodyBytes).
const maxGatedBody = mcp.DefaultMaxRequestBodyBytes

// scopeGate answers a tools/call of a tool that needs a scope the token
// lacks with 403 and an insufficient_scope challenge naming the scopes
// the call needs (MCP authorization, "Scope Challenge Handling"), before
// the call reaches the server.
func (d *Demo) scopeGate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxGatedBody))
		if err != nil {
			http.Error(w, "read failed", http.StatusBadRequest)
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		ti := auth.TokenInfoFromContext(r.Context())
		for _, name := range calledTools(body) {
			if name == ToolAdminEcho && (ti == nil || !slices.Contains(ti.Scopes, d.cfg.AdminScope)) {
				d.challengeScope(w, name, []string{d.cfg.BaseScope, d.cfg.AdminScope})
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// challengeScope writes the 403 insufficient_scope answer (RFC 6750 §3.1).
func (d *Demo) challengeScope(w http.ResponseWriter, tool string, scopes []string) {
	desc := fmt.Sprintf("the %s tool needs scope %s", tool, d.cfg.AdminScope)
	params := []string{`error="insufficient_scope"`, fmt.Sprintf("scope=%q", strings.Join(scopes, " "))}
	if !d.cfg.OmitResourceMetadataHint {
		params = append(params, fmt.Sprintf("resource_metadata=%q", d.ResourceMetadataURL))
	}
	params = append(params, fmt.Sprintf("error_description=%q", desc))
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	writeError(w, http.StatusForbidden, "insufficient_scope", desc)
}

// calledTools returns the names of the tools a JSON-RPC message (or
// batch) calls; a body that is not JSON-RPC calls none (the server will
// say why).
func calledTools(body []byte) []string {
	type message struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var batch []message
	if err := json.Unmarshal(body, &batch); err != nil {
		var one message
		if json.Unmarshal(body, &one) != nil {
			return nil
		}
		batch = []message{one}
	}
	var names []string
	for _, m := range batch {
		if m.Method == "tools/call" {
			names = append(names, m.Params.Name)
		}
	}
	return names
}
