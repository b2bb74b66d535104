// Command clientcredentials gets an access token from oauth2broker with
// golang.org/x/oauth2's clientcredentials package and calls an API with it.
//
//	TOKEN_URL=http://127.0.0.1:8080/shop/oauth2/token CLIENT_ID=… CLIENT_SECRET=… \
//	go run ./examples/clientcredentials
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	cfg := clientcredentials.Config{
		ClientID:     os.Getenv("CLIENT_ID"),
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     os.Getenv("TOKEN_URL"),
	}
	if s := os.Getenv("SCOPES"); s != "" {
		cfg.Scopes = strings.Fields(s)
	}
	if cfg.ClientID == "" || cfg.TokenURL == "" {
		log.Fatal("set TOKEN_URL, CLIENT_ID and CLIENT_SECRET")
	}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("got a %s token expiring at %s (scope %v)\n", tok.TokenType, tok.Expiry.Format("15:04:05"), tok.Extra("scope"))
	// cfg.Client(ctx) returns an *http.Client that adds the token and
	// renews it before it expires.
}
