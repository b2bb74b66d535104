package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// render prints a successful answer: raw with --json, else decoded into T
// and summarised by human.
func render[T any](a *app, raw []byte, human func(w io.Writer, v T)) error {
	if a.json {
		_, err := a.stdout.Write(raw)
		return err
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer from the server: %w", err)
	}
	human(a.stdout, v)
	return nil
}

// done prints the summary of an answer without a body (204), or nothing
// with --json.
func (a *app) done(format string, args ...any) error {
	if !a.json {
		fmt.Fprintf(a.stdout, format+"\n", args...)
	}
	return nil
}

// table prints rows under a header, aligned.
func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ReplaceAll(header, " ", "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = cell(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

// fields prints "name: value" lines, aligned, skipping empty values.
func fields(w io.Writer, kv ...string) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[i], printableOnly(kv[i+1]))
		}
	}
	_ = tw.Flush()
}

// cell makes a table cell: "-" when empty, no tabs or control characters.
func cell(s string) string {
	s = printableOnly(strings.ReplaceAll(s, "\t", " "))
	if s == "" {
		return "-"
	}
	return s
}

func list(s []string) string { return strings.Join(s, ",") }

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format(time.DateTime)
}
