package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"text/template"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/examples/demoop"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// devInfo is what `oauth2broker dev` set up, for the guide it prints (and
// for tests).
type devInfo struct {
	Broker, Issuer, AdminToken  string
	ClientID, ClientSecret, API string
	Username, Password          string
	UserLogin, UserPassword     string
	// MCP is the demo MCP server's part.
	MCP devMCPInfo
}

// devCmd is `oauth2broker dev`: the broker on a throw-away data directory
// with a demo API and client, connected to a demo OpenID provider running
// in the same process, plus the curl commands of the whole round trip.
// ready, when not nil, is called once everything serves.
func devCmd(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(devInfo)) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the broker's listen address")
	opAddr := fs.String("op-addr", "127.0.0.1:8081", "the demo OpenID provider's listen address")
	mcpAddr := fs.String("mcp-addr", "127.0.0.1:8082", "the demo MCP server's listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "oauth2broker-dev-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	opLn, err := net.Listen("tcp", *opAddr)
	if err != nil {
		return fmt.Errorf("listen (demo provider): %w", err)
	}
	defer opLn.Close()
	mcpLn, err := net.Listen("tcp", *mcpAddr)
	if err != nil {
		return fmt.Errorf("listen (demo MCP server): %w", err)
	}
	defer mcpLn.Close()
	info, srv, closeAll, err := devSetup(ctx, dir, "http://"+ln.Addr().String(), "http://"+opLn.Addr().String(), opLn, mcpLn, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := devGuide.Execute(stdout, info); err != nil {
		return err
	}
	if err := devMCPGuide.Execute(stdout, info.MCP); err != nil {
		return err
	}
	if ready != nil {
		ready(info)
	}
	return runHTTP(ctx, ln, srv, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// devSetup opens a store in dir, starts the demo provider on opLn, the
// demo MCP server on mcpLn and the broker's handler, and declares the
// demo APIs, clients, user and providers.
func devSetup(ctx context.Context, dir, brokerURL, issuer string, opLn, mcpLn net.Listener, stderr io.Writer) (devInfo, *broker.Server, func(), error) {
	info := devInfo{Broker: brokerURL, Issuer: issuer, API: "demo", ClientID: "demo-app", Username: "demo", Password: "demo-password-1"}
	var err error
	if info.AdminToken, err = secret.RandomString(32); err != nil {
		return info, nil, nil, err
	}
	if info.ClientSecret, err = secret.NewClientSecret(); err != nil {
		return info, nil, nil, err
	}
	op, err := demoop.New(demoop.Config{Issuer: issuer, ClientID: "broker", ClientSecret: "demo-provider-secret",
		RedirectURIs: []string{brokerURL + "/demo/oauth2/provider/callback/demo", brokerURL + "/demo/oauth2/provider/callback"}})
	if err != nil {
		return info, nil, nil, err
	}
	info.UserLogin, info.UserPassword = op.Username, op.Password
	opSrv := &http.Server{Handler: op.Handler}
	go func() { _ = opSrv.Serve(opLn) }()
	var mcpSrv *http.Server
	info.MCP, mcpSrv, err = startDevMCP(brokerURL, mcpLn)
	if err != nil {
		_ = opSrv.Close()
		return info, nil, nil, err
	}
	servers := func() { _ = opSrv.Close(); _ = mcpSrv.Close() }
	cat, err := catalog.Load()
	if err != nil {
		servers()
		return info, nil, nil, err
	}
	store, err := boltstore.Open(boltstore.Config{Path: filepath.Join(dir, dbFileName)})
	if err != nil {
		servers()
		return info, nil, nil, err
	}
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := broker.New(ctx, broker.Config{Store: store, Keyring: ring, PublicURL: brokerURL, AdminToken: info.AdminToken, Logger: log,
		Catalog: cat, Outbound: broker.DevOutbound()}) // the demo provider listens on loopback http
	closeAll := func() {
		if srv != nil {
			srv.Close()
		}
		_ = store.Close()
		servers()
	}
	if err == nil {
		decl := devDeclaration(info, op)
		decl.APIs = append(decl.APIs, devMCPSpec(info.MCP))
		err = srv.Apply(ctx, decl)
	}
	if err != nil {
		closeAll()
		return info, nil, nil, err
	}
	return info, srv, closeAll, nil
}

func devDeclaration(info devInfo, op *demoop.OP) admin.Declaration {
	return admin.Declaration{APIs: []admin.APISpec{{
		Name: info.API, TokenPaths: []string{"/api/token"}, DefaultClient: info.ClientID,
		Clients: []admin.DeclaredClient{{Secret: info.ClientSecret, ClientSpec: admin.ClientSpec{
			ID: info.ClientID, Name: "Demo app", Scopes: []string{"api"},
			GrantTypes: []string{"connection", "client_credentials", "password", "refresh_token", "token_exchange"},
		}}},
		Users: []admin.UserSpec{{Username: info.Username, Password: info.Password, Scopes: []string{"api"}}},
		Providers: map[string]providers.Config{"demo": {
			Type: "oidc", Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			Scopes: []string{"openid", "offline_access", "email", "profile"},
		}},
	}}}
}

var devGuide = template.Must(template.New("dev").Parse(`oauth2broker dev: a broker with a demo API, a demo client and a demo OpenID
provider, all in memory (gone when you stop it with Ctrl-C).

  broker          {{.Broker}}
  demo provider   {{.Issuer}}   (log in as {{.UserLogin}} / {{.UserPassword}})
  admin token     {{.AdminToken}}

Copy and paste:

  B={{.Broker}}; ID={{.ClientID}}; SECRET={{.ClientSecret}}
  export OAUTH2BROKER_ADMIN_TOKEN={{.AdminToken}}

1. Ask for an authorization URL for your user "alice":
  curl -s -u "$ID:$SECRET" -d client_user_identity=alice $B/{{.API}}/oauth2/provider/authorize

2. Open the "authorization_url" in a browser and log in as {{.UserLogin}} / {{.UserPassword}}.
   The broker's page then says "Connected".

3. Get a usable upstream token for alice (refreshed when it is about to expire):
  curl -s -u "$ID:$SECRET" -d client_user_identity=alice $B/{{.API}}/oauth2/token

4. Force a refresh:
  curl -s -u "$ID:$SECRET" -d client_user_identity=alice -d force_refresh=true $B/{{.API}}/oauth2/token

5. List alice's connections (never their tokens):
  curl -s -u "$ID:$SECRET" "$B/{{.API}}/oauth2/connections?client_user_identity=alice"

6. Revoke at the provider and forget the connection:
  curl -s -u "$ID:$SECRET" -d client_user_identity=alice $B/{{.API}}/oauth2/revoke

The broker as an authorization server of its own:
  curl -s -u "$ID:$SECRET" -d grant_type=client_credentials $B/{{.API}}/oauth2/token
  curl -s -d grant_type=password -d username={{.Username}} -d password={{.Password}} $B/api/token
  curl -s $B/{{.API}}/oauth2/jwks

Admin API: curl -s -H "Authorization: Bearer $OAUTH2BROKER_ADMIN_TOKEN" $B/admin/v1/apis
`))
