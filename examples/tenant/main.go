// Command tenant gets a token configapi-style: POST
// <broker>/configapi/v2/oauth/token form-encoded with grant_type
// client_credentials, client_id, client_secret and a required tenant; the
// answer is {"access_token","token_type":"Bearer","expires_in"} with an
// RS256 JWT whose "tenant" claim it prints.
//
//	TOKEN_URL=http://127.0.0.1:8080/configapi/v2/oauth/token CLIENT_ID=… CLIENT_SECRET=… TENANT=acme \
//	go run ./examples/tenant
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {os.Getenv("CLIENT_ID")},
		"client_secret": {os.Getenv("CLIENT_SECRET")}, "tenant": {os.Getenv("TENANT")},
	}
	resp, err := http.PostForm(os.Getenv("TOKEN_URL"), form)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		log.Fatalf("token: %d %v %v", resp.StatusCode, tok, err)
	}
	at, _ := tok["access_token"].(string)
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		log.Fatal("not a JWT")
	}
	// Reading claims without verifying them is fine for display; a
	// resource server verifies (see examples/resourceserver).
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	fmt.Printf("token for tenant %v, expires in %v s\n", claims["tenant"], tok["expires_in"])
}
