package proxy

import (
	"net/url"
	"path"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// errBadPath answers a path that could leave the provider's API base.
var errBadPath = protocol.ErrInvalidRequest.WithDescription(
	`proxy path refused: it must stay under the provider's API base (no "..", "//", "\", encoded slash, dot or control character)`)

// target builds the upstream URL of rest, the escaped path after
// /oauth2/proxy/{provider} (empty or starting with "/"), under base, with
// the client's raw query. It refuses any path that could name another
// host or climb out of base's path; the result, and the result as the
// HTTP client parses it again from its string form, are checked against
// base's scheme, host and path. "@" is allowed (Microsoft Graph's
// /users/name@domain): the path is joined after base's host and starts
// with "/", so it can never be read as userinfo.
func target(base *url.URL, rest, rawQuery string) (*url.URL, error) {
	if !safePath(rest) {
		return nil, errBadPath
	}
	decoded, err := url.PathUnescape(rest)
	if err != nil || !safePath(decoded) {
		return nil, errBadPath
	}
	basePath := strings.TrimSuffix(base.Path, "/")
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: basePath + decoded,
		RawPath: strings.TrimSuffix(base.EscapedPath(), "/") + rest, RawQuery: rawQuery}
	if !under(base, u) {
		return nil, errBadPath
	}
	if again, err := url.Parse(u.String()); err != nil || !under(base, again) || again.Path != u.Path {
		return nil, errBadPath
	}
	return u, nil
}

// safePath reports whether p (escaped or decoded) has no part that could
// change the host or climb: no "//", "\", no "." or ".." segment (nor "..;x"),
// no encoded slash, backslash or dot, no control character.
func safePath(p string) bool {
	if p != "" && p[0] != '/' {
		return false
	}
	if strings.Contains(p, "//") || strings.Contains(p, "\\") {
		return false
	}
	lower := strings.ToLower(p)
	for _, enc := range []string{"%2f", "%5c", "%2e", "%00"} {
		if strings.Contains(lower, enc) {
			return false
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if dotSegment(seg) {
			return false
		}
	}
	return true
}

// dotSegment reports whether seg is a dot segment or a form that some
// servers read as one: path parameters cut ("..;x", as Tomcat and
// Spring do), trailing spaces dropped (".. ", as Windows servers do),
// or dots only ("...").
func dotSegment(seg string) bool {
	seg, _, _ = strings.Cut(seg, ";")
	seg = strings.TrimRight(seg, " ")
	return seg != "" && strings.Trim(seg, ".") == ""
}

// under reports whether u is on base: the same scheme and host, and a
// clean path equal to base's or below it.
func under(base, u *url.URL) bool {
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return false
	}
	basePath := strings.TrimSuffix(base.Path, "/")
	p := u.Path
	if p == "" {
		p = "/"
	}
	clean := path.Clean(p)
	if clean != strings.TrimSuffix(p, "/") && clean != p {
		return false
	}
	return basePath == "" || clean == basePath || strings.HasPrefix(clean, basePath+"/")
}

// onAnyBase reports whether u is under one of bases.
func onAnyBase(bases []*url.URL, u *url.URL) bool {
	for _, b := range bases {
		if under(b, u) {
			return true
		}
	}
	return false
}
