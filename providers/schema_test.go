package providers

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The schema documents exactly the settings of Config.
func TestSchemaMatchesConfig(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for f := range reflect.TypeFor[Config]().Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "-" {
			fields = append(fields, name)
		}
	}
	var documented []string
	for k := range s {
		documented = append(documented, k)
	}
	slices.Sort(fields)
	slices.Sort(documented)
	if !slices.Equal(fields, documented) {
		t.Errorf("schema.json documents %v, want Config's settings %v", documented, fields)
	}
}

// The schema's quirks object documents exactly the fields of Quirks.
func TestSchemaMatchesQuirks(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(s["quirks"], &q); err != nil {
		t.Fatal(err)
	}
	var fields, documented []string
	for f := range reflect.TypeFor[Quirks]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	for k := range q.Properties {
		documented = append(documented, k)
	}
	slices.Sort(fields)
	slices.Sort(documented)
	if !slices.Equal(fields, documented) {
		t.Errorf("schema.json quirks documents %v, want Quirks' fields %v", documented, fields)
	}
}
