package main

import (
	"net"
	"net/http"
	"text/template"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/examples/demomcp"
	"github.com/oauth2broker/oauth2broker/providers"
)

// The demo MCP server's part of `oauth2broker dev` has an API of its own,
// so that the first part's commands (one provider, no "provider"
// parameter) stay as they are.
const (
	devMCPAPI      = "mcpdemo"
	devMCPClient   = "mcp-app"
	devMCPProvider = "demo-mcp"
)

// The JSON-RPC bodies the guide prints (and the test sends).
const (
	devRPCInitialize  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	devRPCInitialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	devRPCWhoami      = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`
	devRPCAdd         = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":40}}}`
	devRPCAdminEcho   = `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"admin_echo","arguments":{"message":"hello"}}}`
)

// devMCPInfo is what dev set up for the demo MCP server (the guide's
// values, and the tests').
type devMCPInfo struct {
	// Server is the MCP endpoint, Issuer its authorization server.
	Server, Issuer, User string
	// API, ClientID and ClientSecret are the broker's API and client for
	// it; Provider the broker's provider; ProxyURL the MCP endpoint
	// through the broker's proxy.
	API, ClientID, ClientSecret, Provider, ProxyURL string
	AdminScope                                      string
	Initialize, Initialized, Whoami, Add, AdminEcho string
}

// startDevMCP serves the demo MCP server on ln.
func startDevMCP(brokerURL string, ln net.Listener) (devMCPInfo, *http.Server, error) {
	d, err := demomcp.New(demomcp.Config{BaseURL: "http://" + ln.Addr().String()})
	if err != nil {
		return devMCPInfo{}, nil, err
	}
	info := devMCPInfo{Server: d.Resource, Issuer: d.Issuer, User: demomcp.DefaultUser, API: devMCPAPI,
		ClientID: devMCPClient, Provider: devMCPProvider, AdminScope: demomcp.AdminScope,
		ProxyURL:   brokerURL + "/" + devMCPAPI + "/oauth2/proxy/" + devMCPProvider,
		Initialize: devRPCInitialize, Initialized: devRPCInitialized, Whoami: devRPCWhoami, Add: devRPCAdd, AdminEcho: devRPCAdminEcho}
	if info.ClientSecret, err = secret.NewClientSecret(); err != nil {
		return devMCPInfo{}, nil, err
	}
	srv := &http.Server{Handler: d.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return info, srv, nil
}

// devMCPSpec declares the MCP demo's API: a client allowed connections
// and the proxy, and the demo server as a provider of type mcp, known by
// its URL alone: the broker discovers its authorization server and
// registers itself there (with the client ID metadata document it
// serves), and the proxy reaches the server's URL.
func devMCPSpec(info devMCPInfo) admin.APISpec {
	return admin.APISpec{
		Name: info.API,
		Clients: []admin.DeclaredClient{{Secret: info.ClientSecret, ClientSpec: admin.ClientSpec{
			ID: info.ClientID, Name: "Demo MCP app", GrantTypes: []string{"connection", "proxy"},
		}}},
		Providers: map[string]providers.Config{info.Provider: {
			Type: providers.TypeMCP, ServerURL: info.Server,
			Scopes: []string{demomcp.ToolsScope}, AllowedScopes: []string{demomcp.AdminScope},
		}},
	}
}

var devMCPGuide = template.Must(template.New("dev-mcp").Parse(`
The demo MCP server, through the broker's proxy (the app never sees its token):

  MCP server      {{.Server}}   (authorization server {{.Issuer}}; logs you in as {{.User}} at once)
  provider        {{.Provider}}, type mcp: configured with the server's URL alone; the broker discovered its
                  authorization server and registered with its client ID metadata document,
                  $B/{{.API}}/oauth2/provider/client-metadata/{{.Provider}}

  MID={{.ClientID}}; MSECRET={{.ClientSecret}}
  MCP={{.ProxyURL}}
  H=(-u "$MID:$MSECRET" -H "X-Client-User-Identity: alice" -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -H "MCP-Protocol-Version: 2025-11-25")

1. Connect alice (no login page: following the redirects ends on the broker's "Connected"):
  URL=$(curl -s -u "$MID:$MSECRET" -d client_user_identity=alice $B/{{.API}}/oauth2/provider/authorize | sed -e 's/.*"authorization_url":"\([^"]*\)".*/\1/' -e 's/\\u0026/\&/g')
  curl -sL "$URL"

2. Open an MCP session through the proxy and keep its Mcp-Session-Id:
  S=$(curl -si "${H[@]}" -d '{{.Initialize}}' $MCP | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -d '{{.Initialized}}' $MCP

3. Call tools (answers come as server-sent events):
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -d '{{.Whoami}}' $MCP
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -d '{{.Add}}' $MCP

4. admin_echo needs {{.AdminScope}}: the broker answers 403 insufficient_scope naming it. Step up, keeping the granted scope:
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -d '{{.AdminEcho}}' $MCP
  URL=$(curl -s -u "$MID:$MSECRET" -d client_user_identity=alice -d scope={{.AdminScope}} -d include_granted_scopes=true $B/{{.API}}/oauth2/provider/authorize | sed -e 's/.*"authorization_url":"\([^"]*\)".*/\1/' -e 's/\\u0026/\&/g')
  curl -sL "$URL"
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -d '{{.AdminEcho}}' $MCP

5. End the session:
  curl -s "${H[@]}" -H "Mcp-Session-Id: $S" -X DELETE $MCP
`))
