package main

import (
	"flag"
	"io"
	"net/http"
)

// apiFlag registers --api on fs.
func apiFlag(fs *flag.FlagSet) *string {
	return fs.String("api", "", "the API (required)")
}

// parseInAPI parses a command that takes --api and the positional
// arguments named by want.
func (a *app) parseInAPI(fs *flag.FlagSet, api *string, args []string, want ...string) ([]string, error) {
	pos, err := parseArgs(fs, args, want...)
	if err != nil {
		return nil, err
	}
	return pos, requireAPI(*api)
}

// apiOnly parses a command whose only argument is --api.
func (a *app) apiOnly(cmd string, args []string) (string, error) {
	fs := a.flags(cmd)
	api := apiFlag(fs)
	_, err := a.parseInAPI(fs, api, args)
	return *api, err
}

// apiAndID parses "--api A ID".
func (a *app) apiAndID(cmd string, args []string, what string) (api, id string, err error) {
	fs := a.flags(cmd)
	apiName := apiFlag(fs)
	pos, err := a.parseInAPI(fs, apiName, args, what)
	if err != nil {
		return "", "", err
	}
	return *apiName, pos[0], nil
}

// getIn runs "<noun> get --api A ID": GET of one record of collection.
func getIn[T any](a *app, cmd, collection, what string, args []string, human func(w io.Writer, v T)) error {
	api, id, err := a.apiAndID(cmd, args, what)
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodGet, apiPath(api, collection, id), nil)
	if err != nil {
		return err
	}
	return render(a, raw, human)
}

// listIn runs "<noun> list --api A": GET of a collection.
func listIn[T any](a *app, cmd, collection string, args []string, human func(w io.Writer, v T)) error {
	api, err := a.apiOnly(cmd, args)
	if err != nil {
		return err
	}
	raw, err := a.call(http.MethodGet, apiPath(api, collection), nil)
	if err != nil {
		return err
	}
	return render(a, raw, human)
}

// deleteIn runs "<noun> delete --api A ID".
func deleteIn(a *app, cmd, collection, noun, what string, args []string) error {
	api, id, err := a.apiAndID(cmd, args, what)
	if err != nil {
		return err
	}
	if _, err := a.call(http.MethodDelete, apiPath(api, collection, id), nil); err != nil {
		return err
	}
	return a.done("deleted %s %s in api %s", noun, id, api)
}
