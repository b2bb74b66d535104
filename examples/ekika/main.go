// Command ekika walks the EKIKA-style trio against the broker: JSON bodies
// (sent with GET, as EKIKA's samples do) to /<api>/oauth2/provider/authorize,
// /<api>/oauth2/token and /<api>/oauth2/revoke. Unlike EKIKA, the broker
// always authenticates the client, so client_secret travels too.
//
//	BROKER=http://127.0.0.1:8080/demo CLIENT_ID=… CLIENT_SECRET=… IDENTITY=alice \
//	go run ./examples/ekika authorize|token|revoke
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: ekika authorize|token|revoke")
	}
	path := map[string]string{"authorize": "/oauth2/provider/authorize", "token": "/oauth2/token", "revoke": "/oauth2/revoke"}[os.Args[1]]
	if path == "" {
		log.Fatal("usage: ekika authorize|token|revoke")
	}
	body, _ := json.Marshal(map[string]string{
		"client_id": os.Getenv("CLIENT_ID"), "client_secret": os.Getenv("CLIENT_SECRET"),
		"client_user_identity": os.Getenv("IDENTITY"),
	})
	req, _ := http.NewRequest(http.MethodGet, os.Getenv("BROKER")+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	pretty, _ := json.MarshalIndent(out, "", "  ")
	fmt.Printf("%s\n%s\n", resp.Status, pretty)
}
