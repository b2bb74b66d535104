package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// stringList is a repeatable string flag: --scope a --scope b.
type stringList []string

func (l *stringList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// keyValues is a repeatable K=V flag: --auth-param prompt=consent.
type keyValues map[string]string

func (m keyValues) String() string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (m keyValues) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want KEY=VALUE")
	}
	m[k] = val
	return nil
}

// durationFlag is a Go duration ("15m") checked when the flag is set and
// sent to the server as written.
type durationFlag string

func (d *durationFlag) String() string {
	if d == nil {
		return ""
	}
	return string(*d)
}

func (d *durationFlag) Set(v string) error {
	if _, err := time.ParseDuration(v); err != nil {
		return fmt.Errorf("want a Go duration such as 15m or 1h")
	}
	*d = durationFlag(v)
	return nil
}

// errReported is a flag parsing error the flag package already printed.
var errReported = &usageError{msg: "invalid arguments"}

// newFlagSet makes a flag set whose usage text starts with synopsis.
func newFlagSet(path, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: oauth2broker %s %s\n", path, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("client get ID --api A"), and checks that there
// are exactly want positional arguments. After "--" everything is
// positional.
func parseArgs(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errReported
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != len(want) {
		if len(want) == 0 {
			return nil, usagef("unexpected argument %q", pos[0])
		}
		return nil, usagef("want %d argument(s): %s", len(want), strings.Join(want, " "))
	}
	return pos, nil
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
