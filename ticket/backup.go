package ticket

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ManifestFile describes a backup folder.
const ManifestFile = "counterdesk-backup.json"

// Manifest is written last into a backup folder; a folder without it is
// not a finished backup.
type Manifest struct {
	CreatedAt   time.Time `json:"created_at"`
	Tickets     uint64    `json:"tickets"`
	DBBytes     int64     `json:"db_bytes"`
	Attachments int       `json:"attachments"`
}

// Backup writes a consistent copy of the database and every attachment into
// dir while the desk keeps serving. The database copy comes from one read
// transaction; attachments are written before any transaction refers to
// them, so every file the copy refers to is already on disk and copied.
func (d *Desk) Backup(dir string) (Manifest, error) {
	var m Manifest
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	_ = os.Remove(filepath.Join(dir, ManifestFile))
	err := d.db.View(func(tx *bolt.Tx) error {
		m.Tickets = tx.Bucket(bTickets).Sequence()
		m.DBBytes = tx.Size()
		return writeSync(filepath.Join(dir, DBFile), func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		})
	})
	if err != nil {
		return m, fmt.Errorf("backup database: %w", err)
	}
	n, err := copyAttachments(filepath.Join(d.dir, AttachmentsDir), filepath.Join(dir, AttachmentsDir))
	if err != nil {
		return m, fmt.Errorf("backup attachments: %w", err)
	}
	m.Attachments = n
	m.CreatedAt = d.opts.Now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := writeFileSync(filepath.Join(dir, ManifestFile), data); err != nil {
		return m, fmt.Errorf("backup manifest: %w", err)
	}
	return m, nil
}

// Restore replaces the database and attachments in dataDir with the backup
// in dir. The appliance must be stopped: Restore fails while another
// process holds the database. The database it replaces is kept beside it
// as counterdesk.db.before-restore.
func Restore(dir, dataDir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("restore: %s is not a finished backup: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("restore: read manifest: %w", err)
	}
	src := filepath.Join(dir, DBFile)
	if err := checkDB(src); err != nil {
		return m, fmt.Errorf("restore: backup database: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	dst := filepath.Join(dataDir, DBFile)
	if _, err := os.Stat(dst); err == nil {
		// Holding the lock while we replace the file keeps an appliance
		// from starting halfway through.
		cur, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			return m, fmt.Errorf("restore: %s is in use (stop the appliance first): %w", dst, err)
		}
		defer cur.Close()
		if err := copyFileSync(dst, dst+".before-restore"); err != nil {
			return m, fmt.Errorf("restore: keep current database: %w", err)
		}
	}
	if _, err := copyAttachments(filepath.Join(dir, AttachmentsDir), filepath.Join(dataDir, AttachmentsDir)); err != nil {
		return m, fmt.Errorf("restore attachments: %w", err)
	}
	if err := copyFileSync(src, dst); err != nil {
		return m, fmt.Errorf("restore database: %w", err)
	}
	return m, nil
}

// checkDB opens the database at path read-only and checks its consistency.
func checkDB(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		if tx.Bucket(bTickets) == nil {
			return errors.New("holds no tickets bucket")
		}
		return nil
	})
}

// copyAttachments copies every file under src that dst lacks. Names are
// content hashes, so a file of the same name has the same bytes.
func copyAttachments(src, dst string) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == src {
			return filepath.SkipDir
		}
		if err != nil || e.IsDir() || e.Name()[0] == '.' {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		n++
		target := filepath.Join(dst, rel)
		if _, err := os.Stat(target); err == nil {
			return nil
		}
		return copyFileSync(path, target)
	})
	return n, err
}

func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeSync(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// writeSync streams into a temporary file beside path, fsyncs it, renames
// it into place and fsyncs the folder.
func writeSync(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}
