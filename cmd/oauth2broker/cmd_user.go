package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxSecretInput bounds a password or secret read from standard input.
const maxSecretInput = 4096

func userCreate(a *app, args []string) error {
	fs := a.flags("user create")
	api := apiFlag(fs)
	var scopes stringList
	username := fs.String("username", "", "the user name (required)")
	password := fs.String("password", "", "the password (visible to other local users: prefer --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	fs.Var(&scopes, "scope", "a scope the user may be granted (repeatable)")
	if _, err := a.parseInAPI(fs, api, args); err != nil {
		return err
	}
	if *username == "" {
		return usagef("--username is required")
	}
	pw, err := a.secretInput(*password, *fromStdin, "--password")
	if err != nil {
		return err
	}
	body := map[string]any{"username": *username, "password": pw, "scopes": scopes}
	raw, err := a.call(http.MethodPost, apiPath(*api, "users"), body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v userOut) {
		fmt.Fprintf(w, "created user %s in api %s (scopes: %s)\n", v.Username, *api, cell(list(v.Scopes)))
	})
}

// userPassword sets a user's password with PUT .../users/{username}/password.
func userPassword(a *app, args []string) error {
	fs := a.flags("user password")
	api := apiFlag(fs)
	password := fs.String("password", "", "the new password (visible to other local users: prefer --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := a.parseInAPI(fs, api, args, "USERNAME")
	if err != nil {
		return err
	}
	pw, err := a.secretInput(*password, *fromStdin, "--password")
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodPut, apiPath(*api, "users", pos[0], "password"), map[string]any{"password": pw})
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v userOut) {
		fmt.Fprintf(w, "changed the password of user %s in api %s; its earlier logins' refresh tokens no longer work\n", v.Username, *api)
	})
}

// secretInput returns the value of a secret given by a flag, or read from
// standard input when fromStdin. Exactly one of the two is required.
func (a *app) secretInput(value string, fromStdin bool, flagName string) (string, error) {
	switch {
	case value != "" && fromStdin:
		return "", usagef("give %s or %s-stdin, not both", flagName, flagName)
	case value != "":
		return value, nil
	case !fromStdin:
		return "", usagef("%s or %s-stdin is required", flagName, flagName)
	}
	return readSecretLine(a.stdin)
}

// readSecretLine reads the first line of r, without its line ending.
func readSecretLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxSecretInput)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input is empty")
	}
	return line, nil
}

func userList(a *app, args []string) error {
	return listIn(a, "user list", "users", args, func(w io.Writer, v usersOut) {
		rows := make([][]string, len(v.Users))
		for i, u := range v.Users {
			rows[i] = []string{u.Username, list(u.Scopes), when(&u.CreatedAt)}
		}
		table(w, "USERNAME SCOPES CREATED", rows)
	})
}

func userGet(a *app, args []string) error {
	return getIn(a, "user get", "users", "USERNAME", args, func(w io.Writer, v userOut) {
		fields(w, "username", v.Username, "scopes", list(v.Scopes), "created_at", when(&v.CreatedAt))
	})
}

func userDelete(a *app, args []string) error {
	return deleteIn(a, "user delete", "users", "user", "USERNAME", args)
}
