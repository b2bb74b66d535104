package bbolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		errno syscall.Errno // 0: not a file system that cannot write
	}{
		{"full disk on write", &fs.PathError{Op: "write", Path: "/data/broker.db", Err: syscall.ENOSPC}, syscall.ENOSPC},
		{"grow, flattened by bbolt", errors.New("file resize error: no space left on device"), syscall.ENOSPC},
		{"quota", &fs.PathError{Op: "write", Path: "/data/broker.db", Err: syscall.EDQUOT}, syscall.EDQUOT},
		{"read-only file system", &fs.PathError{Op: "sync", Path: "/data/broker.db", Err: syscall.EROFS}, syscall.EROFS},
		{"i/o error on fdatasync", &fs.PathError{Op: "sync", Path: "/data/broker.db", Err: syscall.EIO}, syscall.EIO},
		{"anything else", errors.New("database not open"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("write", tc.err)
			if unavailable := errors.Is(got, storage.ErrUnavailable); unavailable != (tc.errno != 0) {
				t.Fatalf("classify(%v) = %v: errors.Is ErrUnavailable %v, want %v", tc.err, got, unavailable, tc.errno != 0)
			}
			if tc.errno != 0 && (!errors.Is(got, tc.errno) || strings.Contains(got.Error(), "/data")) {
				t.Errorf("classify(%v) = %q, want it to wrap %v and name no path", tc.err, got, tc.errno)
			}
		})
	}
}

// smallFS mounts a tmpfs of 2 MiB on a temporary directory. It skips when
// mounting is not permitted (not root, no CAP_SYS_ADMIN).
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a small file system (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the file system: got %v, want ENOSPC in the end", err)
			}
			return path
		}
	}
}

// On a full disk a write fails with storage.ErrUnavailable, leaves nothing
// of itself behind, reads go on, ProbeWrite says so too; once space is
// freed, writes go through again without reopening, and the file is whole.
func TestFullDisk(t *testing.T) {
	dir := smallFS(t)
	path := filepath.Join(dir, "broker.db")
	db := mustOpen(t, path)
	ctx := context.Background()
	if err := db.CreateAPI(ctx, storage.API{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	filler := fill(t, dir)

	var kept []string
	var failed storage.Client
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		c := storage.Client{API: "a", ID: fmt.Sprintf("c%04d", i), Name: strings.Repeat("x", 500)}
		if err = db.CreateClient(ctx, c); err == nil {
			kept = append(kept, c.ID)
		} else {
			failed = c
		}
	}
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writes on a full disk: got %v, want an error wrapping storage.ErrUnavailable and ENOSPC", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Errorf("error %q names the file's path", err)
	}
	if _, err := db.GetClient(ctx, "a", failed.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("client of the failed write: got %v, want storage.ErrNotFound (rolled back)", err)
	}
	if got, err := db.ListClients(ctx, "a"); err != nil || len(got) != len(kept) {
		t.Errorf("reads on a full disk: got %d clients, %v; want the %d written", len(got), err, len(kept))
	}
	if err := db.ProbeWrite(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("ProbeWrite on a full disk: got %v, want storage.ErrUnavailable", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := db.ProbeWrite(ctx); err != nil {
		t.Errorf("ProbeWrite with room: got %v, want nil", err)
	}
	if err := db.CreateClient(ctx, failed); err != nil {
		t.Fatalf("write after freeing space: got %v, want nil (no restart needed)", err)
	}
	mustClose(t, db)
	counts, err := Verify(path)
	if err != nil || counts[bucketClients] != len(kept)+1 {
		t.Fatalf("Verify: got %v, %v; want a whole file with %d clients", counts, err, len(kept)+1)
	}
	if left, _ := filepath.Glob(path + ".probe-*"); len(left) != 0 {
		t.Errorf("probe files left behind: %v", left)
	}
}
