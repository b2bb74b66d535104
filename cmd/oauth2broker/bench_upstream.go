package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
)

// upstreamAPIBody is what the instant upstream's API answers.
var upstreamAPIBody = []byte(`{"items":[{"id":1,"name":"one"},{"id":2,"name":"two"}],"next":null}`)

// instantUpstream is the bench's upstream provider: it answers at once.
// Its authorization endpoint sends the browser straight back with a code;
// its token endpoint answers every code or refresh token with a new
// one-hour token; anything under /api/ (the proxy's API base) answers a
// constant JSON body.
type instantUpstream struct {
	n atomic.Int64
}

func (u *instantUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/auth":
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=c&state="+q.Get("state"), http.StatusFound)
	case "/token":
		n := u.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"up-%d","refresh_token":"rt-%d","token_type":"Bearer","expires_in":3600,"scope":"read"}`, n, n)
	default:
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(upstreamAPIBody)
			return
		}
		http.NotFound(w, r)
	}
}
