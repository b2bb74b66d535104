package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// adminError is an admin API answer of 400 or more, shown on the page.
type adminError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *adminError) Error() string {
	if e.Description != "" {
		return e.Description
	}
	if e.Code != "" {
		return e.Code
	}
	return fmt.Sprintf("the admin API answered %d", e.Status)
}

// recorder is the in-memory ResponseWriter the admin API answers into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// call sends one request to the admin API, in-process, with the
// person's credential, and decodes a JSON answer into out (when not
// nil). An answer of 400 or more is an *adminError.
func (c *Console) call(q *request, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(q.r.Context(), method, AdminPrefix+path, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+q.sess.Credential)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.exchange(q, req, out)
}

// exchange serves req by the broker's router in-process and decodes a
// JSON answer into out (when not nil). An answer of 400 or more is an
// *adminError.
func (c *Console) exchange(q *request, req *http.Request, out any) error {
	req.RemoteAddr = q.r.RemoteAddr
	req.Header.Set("User-Agent", "oauth2broker-console")
	if id := q.w.Header().Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id) // the access log ties both requests together
	}
	rec := &recorder{header: http.Header{}}
	c.cfg.Admin.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		e := &adminError{Status: rec.status}
		_ = json.Unmarshal(rec.body.Bytes(), e)
		return e
	}
	if out == nil || rec.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("console: decoding the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// act makes one admin call for a form and shows the page again with
// notice, or with the call's failure.
func (c *Console) act(q *request, method, path string, in any, notice string, show func(q *request, notice string, failed error)) {
	if err := c.call(q, method, path, in, nil); err != nil {
		show(q, "", err)
		return
	}
	show(q, notice, nil)
}

// apiPath is the admin path of api's collection or record: apiPath("x",
// "clients", "id") is /apis/x/clients/id, each part escaped.
func apiPath(api string, parts ...string) string {
	var b strings.Builder
	b.WriteString("/apis/" + url.PathEscape(api))
	for _, p := range parts {
		b.WriteString("/" + url.PathEscape(p))
	}
	return b.String()
}
