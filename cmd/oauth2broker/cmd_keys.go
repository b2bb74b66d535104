package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

func keysRotate(a *app, args []string) error {
	api, err := a.apiOnly("keys rotate", args)
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodPost, apiPath(api, "keys", "rotate"), nil)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v keyOut) {
		fmt.Fprintf(w, "new %s signing key %s for api %s; older keys stay in the JWKS until their tokens expire\n", v.Alg, v.ID, api)
	})
}

func keysList(a *app, args []string) error {
	return listIn(a, "keys list", "keys", args, func(w io.Writer, v keysOut) {
		rows := make([][]string, len(v.Keys))
		for i, k := range v.Keys {
			rows[i] = []string{k.ID, k.Alg, when(&k.CreatedAt), when(k.RetiredAt), when(k.RemoveAt)}
		}
		table(w, "KID ALG CREATED RETIRED REMOVE_AT", rows)
	})
}

func connectionList(a *app, args []string) error {
	fs := a.flags("connection list")
	api := apiFlag(fs)
	identity := fs.String("client-user-identity", "", "only this end user's connections")
	clientID := fs.String("client-id", "", "only this client's connections")
	provider := fs.String("provider", "", "only this provider's connections")
	if _, err := a.parseInAPI(fs, api, args); err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"client_user_identity": *identity, "client_id": *clientID, "provider": *provider} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := apiPath(*api, "connections")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	raw, err := a.call(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return render(a, raw, printConnections)
}

func printConnections(w io.Writer, v connectionsOut) {
	rows := make([][]string, len(v.Connections))
	for i, c := range v.Connections {
		rows[i] = []string{c.ID, c.ClientID, c.Identity, c.Provider, c.Status, c.Scope, when(c.RefreshedAt), c.LastError}
	}
	table(w, "ID CLIENT_ID IDENTITY PROVIDER STATUS SCOPE REFRESHED LAST_ERROR", rows)
}

func connectionDelete(a *app, args []string) error {
	return deleteIn(a, "connection delete", "connections", "connection", "ID", args)
}

// connectionRefresh refreshes a connection's tokens at its provider now
// (POST …/connections/{id}/refresh) and prints the connection as stored
// after it.
func connectionRefresh(a *app, args []string) error {
	api, id, err := a.apiAndID("connection refresh", args, "ID")
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodPost, apiPath(api, "connections", id, "refresh"), nil)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v connectionOut) {
		printConnections(w, connectionsOut{Connections: []connectionOut{v}})
	})
}
