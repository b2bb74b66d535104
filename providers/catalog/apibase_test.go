package catalog_test

import (
	"slices"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

func TestAPIBaseURLs(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  providers.Config
		want []string
	}{
		{"template default", providers.Config{Template: "github", ClientID: "c"}, []string{"https://api.github.com"}},
		{"template with a var", providers.Config{Template: "gitlab", ClientID: "c", Vars: map[string]string{"host": "gitlab.example.com"}},
			[]string{"https://gitlab.example.com/api/v4"}},
		{"two bases", providers.Config{Template: "dropbox", ClientID: "c"}, []string{"https://api.dropboxapi.com", "https://content.dropboxapi.com"}},
		{"config wins", providers.Config{Template: "github", ClientID: "c", APIBaseURLs: []string{"https://ghe.example.com/api/v3"}},
			[]string{"https://ghe.example.com/api/v3"}},
		{"no template", providers.Config{Type: "oauth2", ClientID: "c", APIBaseURLs: []string{"https://{tenant}.example.com"}, Vars: map[string]string{"tenant": "t1"}},
			[]string{"https://t1.example.com"}},
		{"none", providers.Config{Type: "oauth2", ClientID: "c"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cat.APIBaseURLs(tt.cfg)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
