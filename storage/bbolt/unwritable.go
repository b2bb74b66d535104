package bbolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/oauth2broker/oauth2broker/storage"
)

// unwritable are the errors of a file system that cannot take a write now:
// full, over quota, mounted read-only, or failing.
var unwritable = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO}

// classify returns err as storage.ErrUnavailable wrapped with the errno
// when the file system cannot take a write now, and err unchanged
// otherwise. bbolt flattens some causes into text ("file resize error:
// no space left on device"), so the errno's message counts as well. The
// result names no file path: it may be shown on /readyz.
func classify(op string, err error) error {
	for _, errno := range unwritable {
		if errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error()) {
			return fmt.Errorf("bbolt: %s: %w (%w)", op, storage.ErrUnavailable, errno)
		}
	}
	return fmt.Errorf("bbolt: %s: %w", op, err)
}

// minProbe is the least room ProbeWrite asks for.
const minProbe = 64 << 10

// ProbeWrite checks that the file system holding the database has room
// for the file's next growth (bbolt doubles a small file, then grows it by
// AllocSize), by writing and syncing a scratch file of that size beside
// the database and removing it. It returns nil, or an error wrapping
// storage.ErrUnavailable. A small write can still succeed on a full disk
// (bbolt reuses freed pages), so only room to grow says writes will go
// through again.
func (d *DB) ProbeWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.db.Path()
	size := int64(minProbe)
	if fi, err := os.Stat(path); err == nil {
		size = min(max(fi.Size(), size), int64(d.db.AllocSize))
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".probe-*")
	if err != nil {
		return classify("probe", err)
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 64<<10)
	for left := size; left > 0 && err == nil; left -= int64(len(buf)) {
		_, err = f.Write(buf[:min(left, int64(len(buf)))])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return classify("probe", err)
	}
	return nil
}

var _ storage.WriteProber = (*DB)(nil)
