// Command passwordgrant logs in MachPanel-style: POST <broker>/api/token
// with grant_type=password and the API login the admin set, no client
// credentials (the API's default_client takes the request), then calls a
// resource with the Bearer token.
//
//	TOKEN_URL=http://127.0.0.1:8080/api/token USERNAME=… PASSWORD=… \
//	RESOURCE=https://panel.example.com/api/customers go run ./examples/passwordgrant
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
)

func main() {
	tokenURL, user, pass := os.Getenv("TOKEN_URL"), os.Getenv("USERNAME"), os.Getenv("PASSWORD")
	if tokenURL == "" || user == "" {
		log.Fatal("set TOKEN_URL, USERNAME and PASSWORD")
	}
	resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Error != "" {
		log.Fatalf("login failed: %v %s %s", err, tok.Error, tok.Description)
	}
	fmt.Printf("logged in; the token expires in %d s (refresh token: %v)\n", tok.ExpiresIn, tok.RefreshToken != "")
	if r := os.Getenv("RESOURCE"); r != "" {
		req, _ := http.NewRequest(http.MethodGet, r, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		fmt.Println(res.Status)
		_, _ = io.Copy(os.Stdout, io.LimitReader(res.Body, 1<<20))
	}
}
