package broker

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/providers"
)

// openAPI is the OpenAPI 3 document of every route; a test checks it
// against the router, so it cannot drift. The provider settings are not
// in it: openAPIDocument fills them in from providers.Schema.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves the document, completed once.
func serveOpenAPI() gin.HandlerFunc {
	doc, err := openAPIDocument()
	return func(c *gin.Context) {
		if err != nil {
			fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/json", doc)
	}
}

// openAPIDocument returns openAPI with the provider settings filled in:
// every one in ProviderInput (a PUT body), every one but the client
// secret beside the view's own members in Provider (an answer).
func openAPIDocument() ([]byte, error) {
	settings, err := providers.Schema()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, err
	}
	input, err := object(doc, "components", "schemas", "ProviderInput", "properties")
	if err != nil {
		return nil, err
	}
	view, err := object(doc, "components", "schemas", "Provider", "properties")
	if err != nil {
		return nil, err
	}
	for name, schema := range settings {
		input[name] = schema
		if name != "client_secret" {
			view[name] = schema
		}
	}
	return json.Marshal(doc)
}

// object returns the JSON object at path in v.
func object(v any, path ...string) (map[string]any, error) {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("broker: openapi.json: no object at %q", key)
		}
		v = m[key]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("broker: openapi.json: no object at %v", path)
	}
	return m, nil
}
