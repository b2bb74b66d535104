package providers

import (
	_ "embed" // the settings' schema
	"encoding/json"
	"fmt"
)

// schemaJSON documents every setting of Config by its JSON name, as
// OpenAPI schema objects; a test checks it against Config.
//
//go:embed schema.json
var schemaJSON []byte

// Schema returns the OpenAPI schema of each setting of Config, by JSON
// name: what the admin API documents for a PUT body and a provider view.
func Schema() (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(schemaJSON, &out); err != nil {
		return nil, fmt.Errorf("providers: schema: %w", err)
	}
	return out, nil
}
