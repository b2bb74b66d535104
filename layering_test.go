package oauth2broker_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// The import rules of the repository: cmd → broker → broker/* →
// {providers, storage}, with each heavy module behind one package.
//
// A rule forbids packages matching From, except those matching Except, to
// import packages matching To. Patterns are space-separated; a local
// package is named by its path in the module ("broker/tokens"), any
// other by its import path. "x/..." is x and everything below it, "x/*"
// only what is below it, "..." every local package and "*" every package
// outside the standard library. A package may always import its own
// subpackages, and the standard library matches no pattern but is never
// forbidden.
//
// Only non-test imports are checked: _test.go files may reach any package
// (tests drive backends, fakes and the in-process etcd of every layer).
// The test helpers themselves (providertest, storagetest, etcdtest) are
// for _test.go files only, which the last rule checks.
var layering = []struct{ From, Except, To, Why string }{
	{"...", "cmd/...", "broker", "only cmd wires the broker"},
	{"broker/*", "", "cmd/...", "broker packages never reach up to cmd"},
	{"providers/... storage/...", "", "broker/... cmd/...", "providers and storage sit below broker"},
	{"providers/...", "", "storage/...", "providers know nothing of storage"},
	{"storage/...", "", "providers/...", "storage holds provider settings as opaque bytes"},
	{"storage/bbolt/... storage/etcd/... storage/lastknown/... storage/cached/...", "", "storage/* outbound/... examples/...",
		"a backend (or decorator) imports only storage"},
	{"broker/connections", "", "broker/protocol", "connections returns domain errors; broker/connerr maps them"},
	{"...", "cmd/oauth2broker providers/providertest", "examples/...",
		"examples are programs; the demo OP and the demo MCP server serve cmd's dev command and (through providertest) the tests; " +
			"tests of broker packages import them directly"},
	{"examples/demoop examples/demomcp", "", "...", "the demo servers are programs: they import none of the module's packages"},
	{"outbound/...", "", "*", "outbound is standard library only"},
	{"...", "broker broker/*", "github.com/gin-gonic/gin/...", "gin stays in the HTTP layer"},
	{"...", "broker", "github.com/prometheus/...", "metrics are served by broker"},
	{"...", "storage/bbolt", "go.etcd.io/bbolt/...", "one importer per heavy module"},
	{"...", "storage/etcd/...", "go.etcd.io/etcd/...", "one importer per heavy module"},
	{"...", "providers/oidc", "github.com/coreos/go-oidc/...", "one importer per heavy module"},
	{"...", "broker/tokens providers/catalog examples/...", "github.com/go-jose/go-jose/...",
		"access tokens, and the catalog's Apple client secret (and the resource-server example)"},
	{"...", "", "providers/providertest storage/storagetest storage/etcd/etcdtest", "test helpers are for _test.go files"},
}

const module = "github.com/oauth2broker/oauth2broker"

// listedPackage is what `go list -json` tells of a package.
type listedPackage struct {
	ImportPath string
	Imports    []string
}

func TestLayering(t *testing.T) {
	pkgs := goList(t)
	for _, p := range pkgs {
		from := local(p.ImportPath)
		for _, imp := range p.Imports {
			if isStandard(imp) || strings.HasPrefix(imp, p.ImportPath+"/") {
				continue
			}
			to := local(imp)
			for _, r := range layering {
				if matchAny(r.From, from) && !matchAny(r.Except, from) && matchAny(r.To, to) {
					t.Errorf("%s imports %s: %s", from, to, r.Why)
				}
			}
		}
	}
}

// goList lists the module's packages with their non-test imports.
func goList(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	return pkgs
}

// local names a package of the module by its path in the module.
func local(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

// isStandard reports whether an import path is in the standard library:
// its first element has no dot.
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func matchAny(patterns, name string) bool {
	for _, p := range strings.Fields(patterns) {
		if match(p, name) {
			return true
		}
	}
	return false
}

func match(pattern, name string) bool {
	isLocal := !strings.Contains(strings.SplitN(name, "/", 2)[0], ".")
	switch {
	case pattern == "*":
		return true
	case pattern == "...":
		return isLocal
	case strings.HasSuffix(pattern, "/..."):
		base := strings.TrimSuffix(pattern, "/...")
		return name == base || strings.HasPrefix(name, base+"/")
	case strings.HasSuffix(pattern, "/*"):
		return strings.HasPrefix(name, strings.TrimSuffix(pattern, "*"))
	}
	return name == pattern
}
