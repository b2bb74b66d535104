package main

import (
	"fmt"
	"io"
	"net/http"
)

func clientCreate(a *app, args []string) error {
	fs := a.flags("client create")
	api := apiFlag(fs)
	var grants, scopes, returnURLs stringList
	var ttl durationFlag
	id := fs.String("client-id", "", "the client_id (default: generated)")
	name := fs.String("name", "", "a display name")
	fs.Var(&grants, "grant", "an allowed grant type: client_credentials, password, refresh_token, connection, token_exchange, proxy (repeatable; server default client_credentials)")
	fs.Var(&scopes, "scope", "an allowed scope (repeatable)")
	fs.Var(&ttl, "access-token-ttl", "access-token lifetime, overriding the API's")
	fs.Var(&returnURLs, "return-url", "an allowed return_url after upstream consent (repeatable)")
	if _, err := a.parseInAPI(fs, api, args); err != nil {
		return err
	}
	body := map[string]any{"client_id": *id, "name": *name, "grant_types": grants, "scopes": scopes, "return_urls": returnURLs}
	if ttl != "" {
		body["access_token_ttl"] = string(ttl)
	}
	raw, err := a.call(http.MethodPost, apiPath(*api, "clients"), body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v clientOut) {
		fmt.Fprintf(w, "created client %s in api %s\n", v.ClientID, *api)
		printSecret(w, v)
	})
}

func clientRotateSecret(a *app, args []string) error {
	api, id, err := a.apiAndID("client rotate-secret", args, "CLIENT_ID")
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodPost, apiPath(api, "clients", id, "secret"), nil)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v clientOut) {
		fmt.Fprintf(w, "new secret for client %s in api %s; the old secret no longer works\n", v.ClientID, api)
		printSecret(w, v)
	})
}

// printSecret shows a just generated client secret, the one time it can be
// seen.
func printSecret(w io.Writer, v clientOut) {
	fields(w, "client_id", v.ClientID, "client_secret", v.ClientSecret)
	fmt.Fprintln(w, "Store the client secret now: it will not be shown again.")
}

func clientList(a *app, args []string) error {
	return listIn(a, "client list", "clients", args, func(w io.Writer, v clientsOut) {
		rows := make([][]string, len(v.Clients))
		for i, c := range v.Clients {
			rows[i] = []string{c.ClientID, c.Name, list(c.GrantTypes), list(c.Scopes), c.AccessTokenTTL}
		}
		table(w, "CLIENT_ID NAME GRANT_TYPES SCOPES TTL", rows)
	})
}

func clientGet(a *app, args []string) error {
	return getIn(a, "client get", "clients", "CLIENT_ID", args, func(w io.Writer, v clientOut) {
		fields(w,
			"client_id", v.ClientID, "name", v.Name, "grant_types", list(v.GrantTypes), "scopes", list(v.Scopes),
			"access_token_ttl", v.AccessTokenTTL, "return_urls", list(v.ReturnURLs), "created_at", when(&v.CreatedAt),
		)
	})
}

func clientDelete(a *app, args []string) error {
	return deleteIn(a, "client delete", "clients", "client", "CLIENT_ID", args)
}
