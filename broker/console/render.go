package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// view is what every page template gets.
type view struct {
	Title string
	// CSRF is the token every form posts back.
	CSRF string
	// API is the API the page is about ("" on pages of every API).
	API string
	// Tab names the API's tab the page is ("clients", "users"…).
	Tab string
	// Notice and Error are shown above the page.
	Notice, Error string
	// Secret, when set, is shown once in a dialog.
	Secret *shownSecret
	// Data is the page's own.
	Data any
	// Root and Who: the signed-in credential (session).
	Root bool
	Who  string
}

// shownSecret is a secret just generated, shown once.
type shownSecret struct {
	Title, Label, Value string
	// Curl, when set, is a command line that uses the secret, under
	// CurlLabel ("Get a token with it" when empty).
	Curl, CurlLabel string
}

// apiTabs are the tabs of an API's pages, in order.
var apiTabs = [][2]string{
	{"settings", "Settings"}, {"clients", "Clients"}, {"users", "Users"}, {"providers", "Providers"},
	{"connections", "Connections"}, {"audit", "Audit"}, {"webhooks", "Webhooks"},
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"join":    strings.Join,
		"minutes": ttlMinutes,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"age":  age,
		"tabs": func() [][2]string { return apiTabs },
		"tabURL": func(api, tab string) string {
			if tab == "settings" {
				return Prefix + "apis/" + api
			}
			return Prefix + "apis/" + api + "/" + tab
		},
		"prefix": func() string { return Prefix },
		// seg escapes a value set by an admin or a key (a username may
		// hold "/" and "..") as one path segment of a form's action, so
		// the browser cannot resolve it into another API's route.
		"seg": url.PathEscape,
	}
}

// age is how long ago t was, roughly.
func age(t time.Time, now time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "—"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(templateFuncs()).ParseFS(templateFS, "templates/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page with v, or a plain 500 when the template fails.
func (c *Console) render(w http.ResponseWriter, status int, page string, v view) {
	var b bytes.Buffer
	t, ok := c.pages[page]
	if !ok {
		c.cfg.Logger.Error("console: no such template", "page", page)
		http.Error(w, "console: page unavailable", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.cfg.Logger.Error("console: rendering failed", "page", page, "err", err)
		http.Error(w, "console: page unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// refuse answers a request the console will not serve with a short page.
func (c *Console) refuse(w http.ResponseWriter, status int, why string) {
	c.render(w, status, "refused", view{Title: http.StatusText(status), Error: why})
}

// show renders a page of a signed-in person; a failed admin call (err)
// becomes the page's error, with the admin API's status.
func (c *Console) show(q *request, page string, v view, err error) {
	v.CSRF, v.Root, v.Who = q.sess.ID, q.sess.Root, q.sess.Who
	status := http.StatusOK
	if err != nil {
		v.Error = err.Error()
		status = http.StatusBadGateway
		var ae *adminError
		if errors.As(err, &ae) {
			status = ae.Status
			if status == http.StatusForbidden {
				v.Error = "Not allowed for " + orDefault(v.Who, "this sign-in") + ": " + ae.Error()
			}
		} else {
			c.cfg.Logger.Error("console: admin call failed", "page", page, "err", err)
			v.Error = "The admin API could not be reached; see the broker's log."
		}
	}
	c.render(q.w, status, page, v)
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
