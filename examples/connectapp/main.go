// Command connectapp is a minimal application using oauth2broker: it sends
// its user to connect an upstream account, receives the return redirect,
// then calls the upstream API with a token it gets from the broker. It
// never sees a refresh token or an authorization code.
//
//	BROKER=http://127.0.0.1:8080/shop CLIENT_ID=… CLIENT_SECRET=… \
//	UPSTREAM_API=https://api.example.com/me go run ./examples/connectapp
//
// The client needs the "connection" grant type and
// http://127.0.0.1:9090/connected among its return_urls.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
)

const (
	listen    = "127.0.0.1:9090"
	returnURL = "http://" + listen + "/connected"
	user      = "demo-user" // your application's own id for its user
)

func main() {
	broker, id, secret := os.Getenv("BROKER"), os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET")
	if broker == "" || id == "" || secret == "" {
		log.Fatal("set BROKER (e.g. http://127.0.0.1:8080/shop), CLIENT_ID and CLIENT_SECRET")
	}
	call := func(path string, form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest(http.MethodPost, broker+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return out, fmt.Errorf("broker: %v: %v", out["error"], out["error_description"])
		}
		return out, nil
	}

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a, err := call("/oauth2/provider/authorize", url.Values{"client_user_identity": {user}, "return_url": {returnURL}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		// Remember which flow this browser started: the broker sends the
		// state back to the return URL.
		http.SetCookie(w, &http.Cookie{Name: "connect_state", Value: a["state"].(string), Path: "/connected",
			HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 600})
		http.Redirect(w, r, a["authorization_url"].(string), http.StatusFound)
	})
	http.HandleFunc("/connected", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if c, err := r.Cookie("connect_state"); err != nil || c.Value != q.Get("state") {
			// Someone else's authorization link was opened in this
			// browser: its account must not stay linked to that user.
			if q.Get("status") == "connected" {
				_, _ = call("/oauth2/revoke", url.Values{"client_user_identity": {user}, "provider": {q.Get("provider")}})
			}
			http.Error(w, "this connection was not started in this browser; it was not kept", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "connect_state", Path: "/connected", MaxAge: -1})
		if s := q.Get("status"); s != "connected" {
			http.Error(w, "connection failed: "+q.Get("error"), http.StatusBadRequest)
			return
		}
		tok, err := call("/oauth2/token", url.Values{"client_user_identity": {user}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		api := os.Getenv("UPSTREAM_API")
		if api == "" {
			fmt.Fprintf(w, "connected; the broker serves a token of type %v expiring at %v\n", tok["token_type"], tok["expires_at"])
			return
		}
		req, _ := http.NewRequest(http.MethodGet, api, nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		fmt.Fprintf(w, "upstream answered %s:\n", resp.Status)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
	})
	log.Printf("open http://%s/ to connect", listen)
	log.Fatal(http.ListenAndServe(listen, nil))
}
