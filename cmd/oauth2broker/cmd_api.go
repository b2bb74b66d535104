package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// apiPath is the admin path of an API, or of something it owns.
func apiPath(api string, parts ...string) string {
	p := "/admin/v1/apis/" + url.PathEscape(api)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// apiFlags are the settings "api create" and "api set" share.
type apiFlags struct {
	tenants, paths stringList
	ttl            durationFlag
	alg, audience  string
	format         string
	expose         bool
	refreshLife    durationFlag
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.tenants, "tenant", "a tenant the API accepts (repeatable)")
	fs.Var(&f.ttl, "access-token-ttl", "access-token lifetime, such as 1h (server default 1h)")
	fs.Var(&f.paths, "token-path", "an extra path of the token endpoint, such as /api/token (repeatable)")
	fs.StringVar(&f.alg, "signing-alg", "", "JWT signing algorithm (server default ES256)")
	fs.StringVar(&f.audience, "audience", "", "the tokens' aud claim (default: the issuer)")
	fs.StringVar(&f.format, "token-format", "", "jwt (default: verifiable with the JWKS) or hmac (checked by introspection only)")
	fs.BoolVar(&f.expose, "expose-refresh-token", false, "return upstream refresh tokens to clients")
	fs.Var(&f.refreshLife, "refresh-token-max-lifetime", "absolute lifetime of a password login's refresh tokens, such as 720h (server default 2160h)")
}

// fill adds the flags given on the command line to body.
func (f *apiFlags) fill(fs *flag.FlagSet, body map[string]any) {
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "tenant":
			body["tenants"] = []string(f.tenants)
		case "access-token-ttl":
			body["access_token_ttl"] = string(f.ttl)
		case "token-path":
			body["token_paths"] = []string(f.paths)
		case "signing-alg":
			body["signing_alg"] = f.alg
		case "audience":
			body["audience"] = f.audience
		case "token-format":
			body["token_format"] = f.format
		case "expose-refresh-token":
			body["expose_refresh_token"] = f.expose
		case "refresh-token-max-lifetime":
			body["refresh_token_max_lifetime"] = string(f.refreshLife)
		}
	})
}

func apiCreate(a *app, args []string) error {
	fs := a.flags("api create")
	var f apiFlags
	f.register(fs)
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	body := map[string]any{"name": pos[0]}
	f.fill(fs, body)
	raw, err := a.call(http.MethodPost, "/admin/v1/apis", body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v apiOut) {
		fmt.Fprintf(w, "created api %s\n", v.Name)
		printAPI(w, v)
	})
}

func apiSet(a *app, args []string) error {
	fs := a.flags("api set")
	var f apiFlags
	f.register(fs)
	defaultClient := fs.String("default-client", "", `client of password-grant requests without client credentials ("" unsets it)`)
	clearTenants := fs.Bool("clear-tenants", false, "remove every tenant")
	clearPaths := fs.Bool("clear-token-paths", false, "remove every extra token path")
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	body := map[string]any{}
	f.fill(fs, body)
	if isSet(fs, "default-client") {
		body["default_client"] = *defaultClient
	}
	if *clearTenants {
		body["tenants"] = []string{}
	}
	if *clearPaths {
		body["token_paths"] = []string{}
	}
	if len(body) == 0 {
		return usagef("nothing to change: give at least one setting")
	}
	raw, err := a.call(http.MethodPatch, apiPath(pos[0]), body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v apiOut) {
		fmt.Fprintf(w, "updated api %s\n", v.Name)
		printAPI(w, v)
	})
}

func apiList(a *app, args []string) error {
	if _, err := parseArgs(a.flags("api list"), args); err != nil {
		return err
	}
	raw, err := a.call(http.MethodGet, "/admin/v1/apis", nil)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v apisOut) {
		rows := make([][]string, len(v.APIs))
		for i, x := range v.APIs {
			rows[i] = []string{x.Name, x.SigningAlg, x.AccessTokenTTL, list(x.Tenants), list(x.TokenPaths), x.Issuer}
		}
		table(w, "NAME SIGNING_ALG TTL TENANTS TOKEN_PATHS ISSUER", rows)
	})
}

func apiGet(a *app, args []string) error {
	pos, err := parseArgs(a.flags("api get"), args, "NAME")
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodGet, apiPath(pos[0]), nil)
	if err != nil {
		return err
	}
	return render(a, raw, printAPI)
}

func printAPI(w io.Writer, v apiOut) {
	fields(w,
		"name", v.Name, "issuer", v.Issuer, "tenants", list(v.Tenants),
		"access_token_ttl", v.AccessTokenTTL, "token_paths", list(v.TokenPaths),
		"signing_alg", v.SigningAlg, "audience", v.Audience, "default_client", v.DefaultClient,
		"expose_refresh_token", strconv.FormatBool(v.ExposeRefreshToken),
		"refresh_token_max_lifetime", v.RefreshTokenMaxLifetime, "created_at", when(&v.CreatedAt),
	)
}

// requireAPI checks the --api flag.
func requireAPI(api string) error {
	if strings.TrimSpace(api) == "" {
		return usagef("--api is required")
	}
	return nil
}
