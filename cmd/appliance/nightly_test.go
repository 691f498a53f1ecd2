package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
)

func TestNextAt(t *testing.T) {
	loc := time.FixedZone("TRT", 3*3600)
	at, _ := time.Parse("15:04", "03:00")
	tests := []struct{ now, want time.Time }{
		{time.Date(2026, 11, 22, 2, 59, 0, 0, loc), time.Date(2026, 11, 22, 3, 0, 0, 0, loc)},
		{time.Date(2026, 11, 22, 3, 0, 0, 0, loc), time.Date(2026, 11, 23, 3, 0, 0, 0, loc)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, loc), time.Date(2027, 1, 1, 3, 0, 0, 0, loc)},
		{time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 3, 0, 0, 0, loc)}, // 04:00 in the shop
	}
	for _, tt := range tests {
		if got := nextAt(tt.now, at, loc); !got.Equal(tt.want) {
			t.Errorf("nextAt(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

// Three nights with keep = 2 leave the two newest backups; the second
// night's attachments are hard links to the first's, not copies; a backup
// folder that is not there (the USB stick is out) is a clear error.
func TestNightlyBackup(t *testing.T) {
	desk, err := openDesk(t.TempDir(), config.Default(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	_, err = desk.Ingest(context.Background(), ticket.Inbound{
		Channel: ticket.ChannelVoicemail, SourceKey: "sip|1", From: ticket.From{Phone: "+447700900123"}, Body: "Voicemail",
		Attachments: []ticket.NewAttachment{{Name: "voicemail.wav", ContentType: "audio/wav", Data: []byte("RIFF fake wav bytes")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	night := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	var folders []string
	for i := range 3 {
		folder, m, err := nightlyBackup(desk, dir, 2, night.AddDate(0, 0, i))
		if err != nil {
			t.Fatal(err)
		}
		if m.Tickets != 1 || m.Attachments != 1 {
			t.Errorf("night %d: manifest %+v", i, m)
		}
		folders = append(folders, folder)
	}
	left := finishedBackups(dir)
	if len(left) != 2 || left[0] != folders[1] || left[1] != folders[2] {
		t.Fatalf("kept %v, want the last two of %v", left, folders)
	}
	if !strings.HasSuffix(folders[2], "counterdesk-20261122-0300") {
		t.Errorf("folder name %s", folders[2])
	}
	find := func(root string) string {
		var found string
		filepath.WalkDir(filepath.Join(root, ticket.AttachmentsDir), func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				found = p
			}
			return nil
		})
		return found
	}
	a, b := find(folders[1]), find(folders[2])
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil || !os.SameFile(sa, sb) {
		t.Errorf("the attachment was copied again, not linked: %s %s (%v %v)", a, b, err1, err2)
	}
	if _, _, err := nightlyBackup(desk, filepath.Join(dir, "stick-not-mounted"), 2, night); err == nil || !strings.Contains(err.Error(), "USB stick") {
		t.Errorf("a missing folder: %v", err)
	}
}
