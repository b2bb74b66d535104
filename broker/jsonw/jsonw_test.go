package jsonw

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type sample struct {
	S    string   `json:"s"`
	OS   string   `json:"os,omitempty"`
	I    int64    `json:"i"`
	OI   int64    `json:"oi,omitempty"`
	B    bool     `json:"b"`
	L    []string `json:"l,omitempty"`
	V    any      `json:"v"`
	Tail string   `json:"tail"`
}

func (s sample) appendJSON() []byte {
	o := Start(make([]byte, 0, 256))
	o.String("s", s.S)
	o.OptString("os", s.OS)
	o.Int("i", s.I)
	o.OptInt("oi", s.OI)
	o.Bool("b", s.B)
	o.OptStrings("l", s.L)
	if err := o.Value("v", s.V); err != nil {
		panic(err)
	}
	o.String("tail", s.Tail)
	return o.End()
}

func check(t *testing.T, s sample) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.appendJSON(); !bytes.Equal(got, want) {
		t.Fatalf("%+v:\n got %s\nwant %s", s, got, want)
	}
}

func TestObject(t *testing.T) {
	for _, str := range []string{"", "plain", "a<b>&c", `q"b\s`, "nl\n\t\x00\x1f\x7f", "é ü", "\u2028\u2029", "\xff\xfe", "a\xc3"} {
		check(t, sample{S: str, OS: str, Tail: str, L: []string{str, "x"}, V: str})
	}
	for _, v := range []any{int64(-5), 1.5, 1e21, true, nil, []any{"a", 1.0}, map[string]any{"b": 1.0, "a": "<"}} {
		check(t, sample{I: -1, OI: 7, B: true, V: v})
	}
}

// Value writes map members: keys escaped as encoding/json escapes them,
// and a value json.Marshal refuses is an error.
func TestValue(t *testing.T) {
	m := map[string]any{"<k\u2028": "v&", "n": int64(3), "f": 2.5}
	want, _ := json.Marshal(m)
	o := Start(nil)
	for _, k := range []string{"<k\u2028", "f", "n"} {
		if err := o.Value(k, m[k]); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.End(); !bytes.Equal(got, want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if err := o.Value("c", make(chan int)); err == nil {
		t.Error("a channel encoded")
	}
}

// plainByBytes is Plain a byte at a time.
func plainByBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || strings.IndexByte(`"\\<>&`, c) >= 0 {
			return false
		}
	}
	return true
}

func TestPlain(t *testing.T) {
	base := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjIn0-_~ %$#@!(){}[]=+"
	for i := 0; i <= len(base); i++ {
		for c := range 256 {
			s := base[:i] + string([]byte{byte(c)}) + base[i:]
			if Plain(s) != plainByBytes(s) {
				t.Fatalf("Plain(%q) = %v", s, Plain(s))
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "<&>", "\u2028", "\xff", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Plain(s) != plainByBytes(s) {
			t.Fatalf("Plain(%q) = %v", s, Plain(s))
		}
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func BenchmarkObject(b *testing.B) {
	s := sample{S: "https://broker.example/a", OS: "read write", I: 1767323045, B: true, L: []string{"https://api.example"}, V: "client", Tail: "Bearer"}
	b.Run("jsonw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = s.appendJSON()
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
}

func BenchmarkPlain(b *testing.B) {
	token := strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 16)
	for b.Loop() {
		if !Plain(token) {
			b.Fatal("not plain")
		}
	}
}
