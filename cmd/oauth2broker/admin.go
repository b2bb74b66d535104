package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables of the admin CLI.
const (
	envURL        = "OAUTH2BROKER_URL"
	envAdminToken = "OAUTH2BROKER_ADMIN_TOKEN"
	// envAdminTokenFile names a file holding the admin token.
	envAdminTokenFile = "OAUTH2BROKER_ADMIN_TOKEN_FILE"
	defaultURL        = "http://127.0.0.1:8080"
)

// maxAnswerBytes bounds what the CLI reads from the server.
const maxAnswerBytes = 8 << 20

// app is the admin CLI: where it writes, and how it reaches the server.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	http           *http.Client

	// Set by the common flags.
	url, token string
	tokenFile  string
	json       bool
}

func newApp(stdout, stderr io.Writer, stdin io.Reader) *app {
	return &app{
		stdout: stdout, stderr: stderr, stdin: stdin, getenv: os.Getenv,
		http: &http.Client{Timeout: 30 * time.Second},
	}
}

// flags makes the flag set of command c with the common flags.
func (a *app) flags(c string) *flag.FlagSet {
	synopsis := ""
	for _, cmd := range commands() {
		if cmd.path == c {
			synopsis = cmd.synopsis
		}
	}
	fs := newFlagSet(c, synopsis, a.stderr)
	fs.StringVar(&a.url, "url", "", "broker base URL (env "+envURL+", default "+defaultURL+")")
	fs.StringVar(&a.token, "admin-token", "", "admin token (env "+envAdminToken+"; prefer the environment or --admin-token-file)")
	fs.StringVar(&a.tokenFile, "admin-token-file", "", "file holding the admin token (env "+envAdminTokenFile+")")
	fs.BoolVar(&a.json, "json", false, "print the server's raw JSON answer")
	return fs
}

// serverError is an RFC 6749 §5.2 error answer of the admin API.
type serverError struct {
	Status      int
	Code        string
	Description string
}

func (e *serverError) Error() string {
	msg := fmt.Sprintf("server answered %d", e.Status)
	if e.Code != "" {
		msg += ": " + printableOnly(e.Code)
	}
	if e.Description != "" {
		msg += ": " + printableOnly(e.Description)
	}
	return msg
}

// call sends one admin request. body, when not nil, is sent as JSON. It
// returns the answer body of a 2xx answer and a *serverError otherwise.
func (a *app) call(method, path string, body any) ([]byte, error) {
	req, err := a.newRequest(context.Background(), method, path, body)
	if err != nil {
		return nil, err
	}
	return a.send(req)
}

// newRequest builds an admin request to path with the base URL and admin
// token of the flags or the environment. body, when not nil, is sent as
// JSON.
func (a *app) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	base := cmp.Or(a.url, a.getenv(envURL), defaultURL)
	token := cmp.Or(a.token, a.getenv(envAdminToken))
	if path := cmp.Or(a.tokenFile, a.getenv(envAdminTokenFile)); token == "" && path != "" {
		var err error
		if token, err = readSecretFile(path); err != nil {
			return nil, fmt.Errorf("admin token file: %w", err)
		}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("bad --url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

func (a *app) send(req *http.Request) ([]byte, error) {
	resp, err := a.do(a.http, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return raw, nil
}

// do sends req with hc and returns a 2xx answer, whose body the caller
// closes; any other answer is a *serverError.
func (a *app) do(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL: it is in the message already
		}
		return nil, fmt.Errorf("cannot reach the broker at %s: %w", req.URL.Host, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	e := &serverError{Status: resp.StatusCode}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Code, e.Description = body.Error, body.Description
	}
	return nil, e
}

// printableOnly drops control characters from text that came from the
// server, so it cannot drive the terminal.
func printableOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
