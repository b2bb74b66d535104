package main

import (
	"net/http"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

const (
	ceilingPrefix = `{"access_token":"`
	ceilingSuffix = `","token_type":"Bearer","expires_in":3600}`
)

// ceilingBody is the constant 200-byte JSON answer of the ceiling routes.
var ceilingBody = []byte(ceilingPrefix + strings.Repeat("x", 200-len(ceilingPrefix)-len(ceilingSuffix)) + ceilingSuffix)

// newCeiling returns a bare handler with one POST route, /ceiling, that
// answers ceilingBody: the HTTP ceiling the bench compares the broker's
// workloads with. With sign set, each request also makes one ES256
// signature (the floor of issuing a fresh JWT per request).
func newCeiling(sign bool) (http.Handler, error) {
	var signer *tokens.Signer
	if sign {
		var err error
		if signer, err = tokens.NewSigner("ES256"); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ceiling", func(w http.ResponseWriter, _ *http.Request) {
		if signer != nil {
			if _, err := signer.Sign(ceilingBody); err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ceilingBody)
	})
	return mux, nil
}
