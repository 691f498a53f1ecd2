package ticket

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// storeAttachments writes each file under attachments/ by the SHA-256 of
// its content and fsyncs it, so that it is on disk before any transaction
// refers to it. A file already there is not written again.
func (d *Desk) storeAttachments(in []NewAttachment) ([]Attachment, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if reserve := d.opts.Limits.MinFreeBytes; reserve > 0 {
		var size uint64
		for _, a := range in {
			size += uint64(len(a.Data))
		}
		if free, ok := FreeBytes(d.dir); ok && free < reserve+size {
			return nil, fmt.Errorf("store %d attachments (%d bytes): %w: %d bytes free, %d kept for the database", len(in), size, ErrDiskFull, free, reserve)
		}
	}
	out := make([]Attachment, 0, len(in))
	for _, a := range in {
		sum := sha256.Sum256(a.Data)
		id := hex.EncodeToString(sum[:])
		path := d.attachmentPath(id)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if err := writeFileSync(path, a.Data); err != nil {
				return nil, fmt.Errorf("store attachment %q: %w", a.Name, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("store attachment %q: %w", a.Name, err)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		out = append(out, Attachment{ID: id, Name: a.Name, ContentType: ct, Size: int64(len(a.Data))})
	}
	return out, nil
}

func (d *Desk) attachmentPath(id string) string {
	return filepath.Join(d.dir, AttachmentsDir, id[:2], id)
}

// Attachment returns the metadata of attachment id and the path of its file.
func (d *Desk) Attachment(id string) (Attachment, string, error) {
	var a Attachment
	if len(id) != 64 {
		return a, "", fmt.Errorf("attachment %q: %w", id, ErrNotFound)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return a, "", fmt.Errorf("attachment %q: %w", id, ErrNotFound)
	}
	err := d.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bAttachments), []byte(id), &a)
		if err == nil && !ok {
			err = fmt.Errorf("attachment %s: %w", id, ErrNotFound)
		}
		return err
	})
	return a, d.attachmentPath(id), err
}

// writeFileSync writes data to path through a temporary file that is
// fsynced and renamed into place, then fsyncs the folder, so that after a
// power cut the file is either whole or absent.
func writeFileSync(path string, data []byte) error {
	return writeSync(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// orphanAge is how old a file no transaction refers to must be before it
// is removed; younger ones may belong to a transaction still running.
const orphanAge = time.Hour

// sweepAttachments removes attachment files that no committed transaction
// refers to: those written for a change that then failed (a rejected
// status, a full outbox, a crash before the commit). It returns how many it
// removed.
func (d *Desk) sweepAttachments() (int, error) {
	root := filepath.Join(d.dir, AttachmentsDir)
	cutoff := d.opts.Now().Add(-orphanAge)
	removed := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return err
		}
		id := e.Name()
		var known bool
		if err := d.db.View(func(tx *bolt.Tx) error {
			known = tx.Bucket(bAttachments).Get([]byte(id)) != nil
			return nil
		}); err != nil {
			return err
		}
		if known {
			return nil
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		removed++
		return nil
	})
	return removed, err
}

// FreeBytes returns the space free to the appliance on the file system of
// dir, and false where it cannot tell.
func FreeBytes(dir string) (uint64, bool) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, false
	}
	return fs.Bavail * uint64(fs.Bsize), true
}
