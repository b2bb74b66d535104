// Command resourceserver is an API that accepts the broker's RFC 9068
// access tokens, verified offline with the API's JWKS (fetched once and
// refetched when a token names an unknown key), checking issuer,
// audience, expiry and the at+jwt type.
//
//	ISSUER=http://127.0.0.1:8080/shop AUDIENCE=http://127.0.0.1:8080/shop go run ./examples/resourceserver
//	curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:9091/hello
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

type keys struct {
	mu   sync.Mutex
	url  string
	set  jose.JSONWebKeySet
	last time.Time
}

// key returns the key of kid, refetching the JWKS (at most every 10 s)
// when it is unknown: the broker rotates keys.
func (k *keys) key(kid string) (any, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if found := k.set.Key(kid); len(found) == 1 {
		return found[0].Key, true
	}
	if time.Since(k.last) < 10*time.Second {
		return nil, false
	}
	k.last = time.Now()
	resp, err := http.Get(k.url)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&k.set) != nil {
		return nil, false
	}
	if found := k.set.Key(kid); len(found) == 1 {
		return found[0].Key, true
	}
	return nil, false
}

func main() {
	issuer, audience := os.Getenv("ISSUER"), os.Getenv("AUDIENCE")
	if issuer == "" {
		log.Fatal("set ISSUER (http://broker/<api>) and AUDIENCE")
	}
	ks := &keys{url: issuer + "/oauth2/jwks"}
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA})
		if !ok || err != nil || tok.Headers[0].ExtraHeaders[jose.HeaderType] != "at+jwt" {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		key, found := ks.key(tok.Headers[0].KeyID)
		var claims jwt.Claims
		var extra struct {
			Scope  string `json:"scope"`
			Tenant string `json:"tenant"`
		}
		if !found || tok.Claims(key, &claims, &extra) != nil ||
			claims.Validate(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{audience}, Time: time.Now()}) != nil {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if need := os.Getenv("REQUIRED_SCOPE"); need != "" && !slices.Contains(strings.Fields(extra.Scope), need) {
			http.Error(w, "insufficient scope", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s (tenant %q, scope %q)\n", claims.Subject, extra.Tenant, extra.Scope)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:9091", nil))
}
