package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// providersCmd is `oauth2broker providers [show NAME]`: the built-in
// catalog, read offline.
func providersCmd(a *app, args []string) error {
	fs := a.flags("providers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return listCatalog(a, cat)
	}
	if len(rest) != 2 || rest[0] != "show" {
		return usagef("want: providers, or providers show NAME")
	}
	e, ok := cat.Get(rest[1])
	if !ok {
		return fmt.Errorf("no template %q (oauth2broker providers lists them)", rest[1])
	}
	if a.json {
		return json.NewEncoder(a.stdout).Encode(e)
	}
	showEntry(a, e)
	return nil
}

func listCatalog(a *app, cat *catalog.Catalog) error {
	names := cat.Names()
	if a.json {
		return json.NewEncoder(a.stdout).Encode(names)
	}
	for _, n := range names {
		e, _ := cat.Get(n)
		fmt.Fprintf(a.stdout, "%-16s %s\n", n, e.DisplayName)
	}
	return nil
}

func showEntry(a *app, e *catalog.Entry) {
	w := a.stdout
	fmt.Fprintf(w, "%s (template %q, type %s)\n\nYou fill in:\n  client_id, client_secret (from the provider's developer console)\n", e.DisplayName, e.Name, e.Type)
	for _, v := range e.Vars {
		opt := "required"
		if v.Default != "" {
			opt = "default " + v.Default
		}
		fmt.Fprintf(w, "  vars.%s: %s (e.g. %s; %s)\n", v.Name, v.Description, v.Example, opt)
	}
	fmt.Fprintf(w, "\nRegister this redirect URI at the provider (provider put prints it):\n  {public_url}/{api}/oauth2/provider/callback/{name}\n")
	fmt.Fprintf(w, "\nQuirks handled: %s\nDefault scopes: %s\n", strings.Join(e.Quirks(), ", "), strings.Join(e.DefaultScopes, " "))
	if e.Notes != "" {
		fmt.Fprintf(w, "\nNotes: %s\n", e.Notes)
	}
	fmt.Fprintf(w, "\nDocumentation:\n  %s\n\nExample:\n  oauth2broker provider put --api API %s --template %s --client-id ID --client-secret-stdin", strings.Join(e.Docs, "\n  "), e.Name, e.Name)
	for _, v := range e.Vars {
		if v.Default == "" {
			fmt.Fprintf(w, " --var %s=%s", v.Name, v.Example)
		}
	}
	fmt.Fprintln(w)
}
