package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// backupPrefix begins the name of each nightly backup folder.
const backupPrefix = "counterdesk-"

// runNightlyBackup writes a backup every day at cfg.At (shop time) into a
// new folder under cfg.Dir and keeps the newest cfg.Keep, until ctx ends.
func runNightlyBackup(ctx context.Context, cfg config.Backup, loc *time.Location, desk *ticket.Desk, reg *health.Registry, log *slog.Logger) {
	if cfg.Dir == "" {
		reg.Set("backup", health.Disabled, "no nightly backup: set dir in [backup]")
		return
	}
	at, err := time.Parse("15:04", cfg.At)
	if err != nil {
		reg.Fail("backup", health.Down, err)
		return
	}
	reg.Set("backup", health.OK, fmt.Sprintf("next backup into %s at %s", cfg.Dir, cfg.At))
	for {
		next := nextAt(time.Now(), at, loc)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		folder, m, err := nightlyBackup(desk, cfg.Dir, cfg.Keep, time.Now().In(loc))
		if err != nil {
			// Most often the USB stick is not plugged in.
			log.Error("nightly backup failed", "dir", cfg.Dir, "err", err)
			reg.Fail("backup", health.Degraded, fmt.Errorf("the backup of %s failed: %w", time.Now().In(loc).Format("2 Jan 15:04"), err))
			continue
		}
		log.Info("nightly backup written", "folder", folder, "tickets", m.Tickets, "attachments", m.Attachments)
		reg.Set("backup", health.OK, fmt.Sprintf("last backup %s into %s: %d tickets, %d attachments; %d kept",
			m.CreatedAt.In(loc).Format("2 Jan 15:04"), folder, m.Tickets, m.Attachments, cfg.Keep))
	}
}

// nextAt returns the first instant after now at the time of day at, in loc.
func nextAt(now time.Time, at time.Time, loc *time.Location) time.Time {
	n := now.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), at.Hour(), at.Minute(), 0, 0, loc)
	if !t.After(n) {
		t = time.Date(n.Year(), n.Month(), n.Day()+1, at.Hour(), at.Minute(), 0, 0, loc)
	}
	return t
}

// nightlyBackup writes one backup into a new folder under dir, named by
// now, after hard-linking the attachments of the newest finished backup
// into it (attachments are named by their content, so an unchanged one
// need not be copied again), then removes the oldest backups beyond keep.
func nightlyBackup(desk *ticket.Desk, dir string, keep int, now time.Time) (string, ticket.Manifest, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", ticket.Manifest{}, fmt.Errorf("the backup folder %s is not there (is the USB stick plugged in?): %w", dir, errOr(err, fs.ErrNotExist))
	}
	folder := filepath.Join(dir, backupPrefix+now.Format("20060102-1504"))
	backups := finishedBackups(dir)
	if len(backups) > 0 {
		linkAttachments(filepath.Join(backups[len(backups)-1], ticket.AttachmentsDir), filepath.Join(folder, ticket.AttachmentsDir))
	}
	m, err := desk.Backup(folder)
	if err != nil {
		return folder, m, err
	}
	backups = finishedBackups(dir)
	for len(backups) > keep {
		if err := os.RemoveAll(backups[0]); err != nil {
			return folder, m, fmt.Errorf("remove the old backup %s: %w", backups[0], err)
		}
		backups = backups[1:]
	}
	return folder, m, nil
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// finishedBackups lists the nightly backup folders under dir that have a
// manifest, oldest first (their names sort by time).
func finishedBackups(dir string) []string {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), backupPrefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, ticket.ManifestFile)); err == nil {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// linkAttachments hard-links every file under src to the same place under
// dst. Where linking fails (another file system), the backup copies.
func linkAttachments(src, dst string) {
	filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return nil
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
			return filepath.SkipAll
		}
		if err := os.Link(path, target); err != nil && !errors.Is(err, fs.ErrExist) {
			return filepath.SkipAll
		}
		return nil
	})
}
