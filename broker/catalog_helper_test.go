package broker

import (
	"testing"

	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// BuiltinCatalog is the catalog that cmd passes in Config.Catalog, for
// the tests (here and in broker_test) that build a broker.
func BuiltinCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
