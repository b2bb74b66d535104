package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// adminKeysPath is the admin API's collection of admin keys.
const adminKeysPath = "/admin/v1/admin-keys"

// adminKeyOut is an admin key as the admin API answers it; Key only when
// it was just created.
type adminKeyOut struct {
	ID        string     `json:"id"`
	Key       string     `json:"key"`
	Name      string     `json:"name"`
	APIs      []string   `json:"apis"`
	Access    string     `json:"access"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

type adminKeysOut struct {
	AdminKeys []adminKeyOut `json:"admin_keys"`
}

func adminKeyCreate(a *app, args []string) error {
	fs := a.flags("admin-key create")
	var apis stringList
	var ttl durationFlag
	fs.Var(&apis, "api", "an API the key may manage (repeatable; at least one)")
	name := fs.String("name", "", "a label, such as the customer's name")
	rw := fs.Bool("read-write", false, "let the key change its APIs (default: read-only)")
	fs.Var(&ttl, "expires-in", "the key stops working after this long (default: never)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if len(apis) == 0 {
		return usagef("--api is required")
	}
	body := map[string]any{"name": *name, "apis": apis, "access": "read-only"}
	if *rw {
		body["access"] = "read-write"
	}
	if ttl != "" {
		d, _ := time.ParseDuration(string(ttl))
		body["expires_at"] = time.Now().Add(d).UTC().Format(time.RFC3339)
	}
	raw, err := a.call(http.MethodPost, adminKeysPath, body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v adminKeyOut) {
		fmt.Fprintf(w, "created %s admin key %s for %s\n", v.Access, v.ID, list(v.APIs))
		fields(w, "id", v.ID, "key", v.Key, "expires_at", when(v.ExpiresAt))
		fmt.Fprintln(w, "Store the key now: it will not be shown again. Use it as OAUTH2BROKER_ADMIN_TOKEN.")
	})
}

func adminKeyList(a *app, args []string) error {
	if _, err := parseArgs(a.flags("admin-key list"), args); err != nil {
		return err
	}
	raw, err := a.call(http.MethodGet, adminKeysPath, nil)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v adminKeysOut) {
		rows := make([][]string, len(v.AdminKeys))
		for i, k := range v.AdminKeys {
			rows[i] = []string{k.ID, k.Name, list(k.APIs), k.Access, k.Status, when(&k.CreatedAt), when(k.ExpiresAt)}
		}
		table(w, "ID NAME APIS ACCESS STATUS CREATED EXPIRES", rows)
	})
}

func adminKeyRevoke(a *app, args []string) error {
	pos, err := parseArgs(a.flags("admin-key revoke"), args, "ID")
	if err != nil {
		return err
	}
	if _, err := a.call(http.MethodDelete, adminKeysPath+"/"+url.PathEscape(pos[0]), nil); err != nil {
		return err
	}
	return a.done("revoked admin key %s", pos[0])
}
