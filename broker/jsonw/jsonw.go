package jsonw

import (
	"encoding/json"
	"strconv"
)

// Appender is a value that appends its own JSON encoding to b, the bytes
// json.Marshal would write for it, or fails where json.Marshal fails.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// Object appends one JSON object to a byte slice. Member names are
// written as given: they must be plain ASCII names without '"', '\\' or
// HTML characters.
type Object struct {
	b    []byte
	more bool
}

// Start begins an object at the end of b.
func Start(b []byte) Object { return Object{b: append(b, '{')} }

// End closes the object and returns the bytes.
func (o *Object) End() []byte { return append(o.b, '}') }

func (o *Object) name(name string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

// String appends a string member.
func (o *Object) String(name, v string) {
	o.name(name)
	o.b = AppendString(o.b, v)
}

// OptString appends a string member unless v is empty (omitempty).
func (o *Object) OptString(name, v string) {
	if v != "" {
		o.String(name, v)
	}
}

// Int appends a number member.
func (o *Object) Int(name string, v int64) {
	o.name(name)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// OptInt appends a number member unless v is 0 (omitempty).
func (o *Object) OptInt(name string, v int64) {
	if v != 0 {
		o.Int(name, v)
	}
}

// Bool appends a boolean member.
func (o *Object) Bool(name string, v bool) {
	o.name(name)
	o.b = strconv.AppendBool(o.b, v)
}

// OptStrings appends an array of strings unless v is empty (omitempty).
func (o *Object) OptStrings(name string, v []string) {
	if len(v) == 0 {
		return
	}
	o.name(name)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = AppendString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// Value appends a member of a map[string]any: key is encoded as
// encoding/json encodes map keys, string and int64 values without
// reflection, anything else as json.Marshal writes it (or its error).
func (o *Object) Value(key string, v any) error {
	var j []byte
	switch v.(type) {
	case string, int64:
	default:
		var err error
		if j, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = AppendString(o.b, key)
	o.b = append(o.b, ':')
	switch v := v.(type) {
	case string:
		o.b = AppendString(o.b, v)
	case int64:
		o.b = strconv.AppendInt(o.b, v, 10)
	default:
		o.b = append(o.b, j...)
	}
	return nil
}

// AppendString appends s as a JSON string, as encoding/json writes it.
func AppendString(b []byte, s string) []byte {
	if !Plain(s) {
		j, _ := json.Marshal(s) // a string always encodes
		return append(b, j...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Plain reports whether encoding/json writes s between quotes as it is:
// printable ASCII without '"', '\\' and the HTML-escaped '<', '>', '&'.
// Eight bytes at a time: access tokens are hundreds of bytes long.
func Plain(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if x&high|below(x, 0x20)|zero(x^each('"'))|zero(x^each('\\'))|zero(x^each('<'))|zero(x^each('>'))|zero(x^each('&')) != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= 0x80, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// each is c in every byte.
func each(c byte) uint64 { return ones * uint64(c) }

// zero is non-zero when a byte of x is zero (exact as a whole: a borrow
// can only mark bytes above a zero byte).
func zero(x uint64) uint64 { return (x - ones) &^ x & high }

// below is non-zero when a byte of x is below n (n <= 128).
func below(x uint64, n byte) uint64 { return (x - each(n)) &^ x & high }
