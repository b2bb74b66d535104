package main

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jsonFields returns the members of a struct answer as fields() takes
// them: its JSON names and values in declaration order, embedded structs
// flattened, timestamps left out. A new member of the answer shows
// without a change here.
func jsonFields(v any) []string {
	var kv []string
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		f, fv := rv.Type().Field(i), rv.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			kv = append(kv, jsonFields(fv.Interface())...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() || f.Type == reflect.TypeFor[time.Time]() {
			continue
		}
		kv = append(kv, name, fieldText(fv))
	}
	return kv
}

// fieldText prints one member: lists comma-separated, maps as sorted
// k=v, zero durations and numbers as nothing.
func fieldText(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		if v.IsZero() {
			return ""
		}
		return s.String()
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return list(x)
	case map[string]string:
		pairs := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			pairs = append(pairs, k+"="+x[k])
		}
		return strings.Join(pairs, " ")
	}
	if v.IsZero() {
		return ""
	}
	return fmt.Sprint(v.Interface())
}
