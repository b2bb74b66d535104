package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
)

const backupSynopsis = "[--out FILE] [--force] [--url URL]"

// backupCmd asks the running broker for a consistent copy of its bbolt
// store (GET /admin/v1/backup, one read transaction, bbolt's Tx.WriteTo),
// writes it beside FILE, checks it, and only then gives it its name: FILE
// is either a whole, checked copy or not there.
func backupCmd(ctx context.Context, a *app, args []string) error {
	fset := a.flags("backup")
	fset.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: oauth2broker backup %s\n", backupSynopsis)
		fset.PrintDefaults()
	}
	out := fset.String("out", "", "the copy's file (default oauth2broker-backup-TIME.db in the working directory)")
	force := fset.Bool("force", false, "replace FILE when it exists")
	if _, err := parseArgs(fset, args); err != nil {
		return err
	}
	if *out == "" {
		*out = "oauth2broker-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	}
	if !*force {
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("%s exists; pass --force to replace it", *out)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}

	tmp, err := os.CreateTemp(filepath.Dir(*out), ".oauth2broker-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename this is a no-op
	n, err := a.download(ctx, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	counts, err := boltstore.Verify(tmp.Name())
	if err != nil {
		return fmt.Errorf("the copy does not check out, nothing written to %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(*out)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s (%d bytes, checked): %s\n", *out, n, describeCounts(counts))
	fmt.Fprintln(a.stdout, "secrets in it stay sealed: keep the encryption key with it, apart")
	return nil
}

// download copies the server's backup into f, synced to disk.
func (a *app) download(ctx context.Context, f *os.File) (int64, error) {
	req, err := a.newRequest(ctx, http.MethodGet, "/admin/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	hc := *a.http
	hc.Timeout = 0 // a big store takes as long as it takes; ctx stops it
	resp, err := a.do(&hc, req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.ContentLength < 0 {
		return 0, errors.New("the broker sent no Content-Length: cannot tell a whole copy from a cut one")
	}
	// net/http reports a body shorter than its Content-Length as
	// io.ErrUnexpectedEOF.
	n, err := io.Copy(f, resp.Body)
	if err != nil {
		return n, fmt.Errorf("copy cut short after %d of %d bytes: %w", n, resp.ContentLength, err)
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	return n, nil
}

// describeCounts says how many records of each kind a store holds.
func describeCounts(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
