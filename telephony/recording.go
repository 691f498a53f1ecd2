package telephony

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/ticket"
)

// A recording is written to the spool folder while the caller speaks, with
// a small JSON file beside it saying whose call it is. Both are removed
// once the ticket holding the recording is stored; a pair left behind by a
// power cut becomes a ticket at the next start.
type recording struct {
	wavPath, metaPath string
	file              *os.File
	wav               *media.WAVWriter
	meta              recordingMeta
}

// recordingMeta is the JSON file beside a recording.
type recordingMeta struct {
	CallID      string        `json:"call_id"`
	Key         string        `json:"key"`
	Start       time.Time     `json:"start"`
	Answered    time.Time     `json:"answered"`
	Number      string        `json:"number,omitempty"`
	Name        string        `json:"name,omitempty"`
	Open        bool          `json:"open"`
	Codec       string        `json:"codec"`
	Ended       string        `json:"ended,omitempty"`
	RTPReceived uint64        `json:"rtp_received,omitempty"`
	RTPLost     uint64        `json:"rtp_lost,omitempty"`
	Ring        time.Duration `json:"ring"`
}

// newRecording creates the spool files of a call's voicemail.
func (s *Service) newRecording(c *call, answered time.Time) (*recording, error) {
	if reserve := s.Config.MinFreeBytes; reserve > 0 {
		need := reserve + uint64(s.Config.MaxMessage/time.Second)*media.ClockRate*2
		if free, ok := ticket.FreeBytes(s.Config.SpoolDir); ok && free < need {
			return nil, fmt.Errorf("the disk is nearly full (%d MB free)", free>>20)
		}
	}
	base := filepath.Join(s.Config.SpoolDir, fmt.Sprintf("%d-%s", c.start.UnixNano(), strings.TrimPrefix(keyHash(c.id), "sha256:")[:16]))
	codec := "PCMU"
	if c.offer.payloadType == media.PayloadTypePCMA {
		codec = "PCMA"
	}
	r := &recording{
		wavPath: base + ".wav", metaPath: base + ".json",
		meta: recordingMeta{
			CallID: c.id, Key: sourceKey(c.id), Start: c.start, Answered: answered,
			Number: c.from.number, Name: c.from.name, Open: c.open, Codec: codec, Ring: answered.Sub(c.start),
		},
	}
	if err := writeFileSync(r.metaPath, r.metaJSON()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(r.wavPath, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		os.Remove(r.metaPath)
		return nil, err
	}
	limit := int64(s.Config.MaxMessage/time.Second+1) * media.ClockRate * 2
	if s.Config.MaxRecordingBytes > 0 && s.Config.MaxRecordingBytes-44 < limit {
		limit = s.Config.MaxRecordingBytes - 44
	}
	w, err := media.NewWAVWriter(f, media.ClockRate, limit)
	if err != nil {
		f.Close()
		removeFiles(r.wavPath, r.metaPath)
		return nil, err
	}
	r.file, r.wav = f, w
	return r, nil
}

func (r *recording) metaJSON() []byte {
	b, _ := json.Marshal(r.meta)
	return b
}

// discard removes the files of a recording that never started.
func (r *recording) discard() {
	r.file.Close()
	removeFiles(r.wavPath, r.metaPath)
}

// close finishes the WAV file and writes it to disk.
func (r *recording) close() error {
	err := r.wav.Close()
	if serr := r.file.Sync(); err == nil {
		err = serr
	}
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	if merr := writeFileSync(r.metaPath, r.metaJSON()); err == nil {
		err = merr
	}
	return err
}

// finish turns an ended recording into a ticket: a voicemail when the
// caller said something, a missed call otherwise.
func (s *Service) finish(ctx context.Context, r *recording) {
	log := s.log().With("call_id", r.meta.CallID)
	if err := r.close(); err != nil {
		log.Error("voicemail file not finished", "err", err)
	}
	s.store(ctx, r.wavPath, r.metaPath, r.meta, nil, log)
}

// store stores one spooled recording as a ticket and removes its files.
// The files stay when the store refuses, to be tried again at the next
// start.
func (s *Service) store(ctx context.Context, wavPath, metaPath string, m recordingMeta, flags []string, log *slog.Logger) {
	data, err := os.ReadFile(wavPath)
	if err != nil {
		log.Error("voicemail file unreadable", "path", wavPath, "err", err)
		data = nil
	}
	var speech, length time.Duration
	if data != nil {
		w, err := media.ReadWAV(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			length = w.Duration()
			speech = spokenLength(w)
		} else {
			log.Error("voicemail file unreadable", "path", wavPath, "err", err)
		}
	}
	from := caller{number: m.Number, name: m.Name}
	if speech < s.Config.MinMessage || data == nil {
		why := "the caller left no message"
		if m.Ended == "the line shut down" {
			why = "the line shut down before the caller spoke"
		}
		if s.storeMissed(ctx, missedCall{key: m.Key, at: m.Start, from: from, rang: m.Ring, why: why, open: m.Open}, log) {
			removeFiles(wavPath, metaPath)
		}
		return
	}
	in := ticket.Inbound{
		Channel:   ticket.ChannelVoicemail,
		SourceKey: m.Key,
		At:        m.Start,
		From:      ticket.From{Name: m.Name, Phone: m.Number},
		Body:      fmt.Sprintf("Voicemail from %s, %s long; %s.", from.label(), roundSeconds(length), m.Ended),
		Attachments: []ticket.NewAttachment{{
			Name:        "voicemail-" + m.Start.UTC().Format("20060102-150405") + ".wav",
			ContentType: "audio/wav",
			Data:        data,
		}},
		Flags: flags,
		Meta: ticket.Meta{
			"ring_seconds":    strconv.Itoa(int(m.Ring.Seconds())),
			"message_seconds": strconv.Itoa(int(length.Round(time.Second).Seconds())),
			"ended":           m.Ended,
			"codec":           m.Codec,
			"rtp_received":    strconv.FormatUint(m.RTPReceived, 10),
			"rtp_lost":        strconv.FormatUint(m.RTPLost, 10),
		},
	}
	if !m.Open {
		in.Meta["after_hours"] = "true"
	}
	if s.Config.TranscribeCommand != "" {
		text, err := s.transcribe(ctx, wavPath)
		if err != nil {
			log.Warn("voicemail not transcribed", "err", err)
			in.Flags = append(in.Flags, "transcription_failed")
			in.Meta["transcription_error"] = truncate(err.Error(), 512)
			// The note goes in the message's text, so that whoever reads
			// the voicemail sees why it has no transcript.
			in.Body += " It was not transcribed: " + truncate(err.Error(), 200) + "."
		} else {
			in.Transcript = text
		}
	}
	sctx, cancel := storeContext(ctx)
	defer cancel()
	res, err := s.Desk.Ingest(sctx, in)
	if err != nil {
		s.count(func(st *Stats) { st.StoreErrors++ })
		log.Error("voicemail not stored; the recording stays in the spool folder", "path", wavPath, "err", err)
		return
	}
	s.count(func(st *Stats) { st.Voicemails++ })
	log.Info("voicemail stored", "ticket", res.Ticket, "new_ticket", res.Created, "seconds", length.Round(time.Second).Seconds())
	removeFiles(wavPath, metaPath)
}

// spokenLength is the recording's length without the silence at its end.
func spokenLength(w *media.WAV) time.Duration {
	pcm, err := media.ToTelephony(w)
	if err != nil {
		return 0
	}
	var d media.SilenceDetector
	d.Feed(pcm)
	return time.Duration(len(pcm))*time.Second/media.ClockRate - d.SilentFor()
}

// spooled lists the recordings a previous run left behind.
func (s *Service) spooled() []string {
	metas, _ := filepath.Glob(filepath.Join(s.Config.SpoolDir, "*.json"))
	return metas
}

// recoverSpool stores the recordings listed at start.
func (s *Service) recoverSpool(ctx context.Context, metas []string) {
	for _, metaPath := range metas {
		log := s.log().With("path", metaPath)
		b, err := os.ReadFile(metaPath)
		var m recordingMeta
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err == nil && (m.Key == "" || m.Start.IsZero()) {
			err = errors.New("the file names no call")
		}
		if err != nil {
			log.Error("spooled voicemail unreadable; left in place", "err", err)
			continue
		}
		wavPath := strings.TrimSuffix(metaPath, ".json") + ".wav"
		var flags []string
		if m.Ended == "" {
			// The appliance stopped while the caller spoke: the WAV header
			// still has zero sizes.
			m.Ended = "the appliance stopped during the recording"
			flags = append(flags, "interrupted")
			if err := repairWAV(wavPath); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.Error("spooled voicemail not repaired", "err", err)
			}
		}
		log.Info("storing a voicemail left from before the restart", "call_id", m.CallID)
		s.store(ctx, wavPath, metaPath, m, flags, log.With("call_id", m.CallID))
	}
}

// repairWAV writes the sizes of a 16-bit PCM WAV file that was never
// closed into its header, from the file's length.
func repairWAV(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	const header = 44
	if st.Size() < header {
		return fmt.Errorf("%s: %d bytes, shorter than a WAV header", path, st.Size())
	}
	data := (st.Size() - header) &^ 1
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(data+36))
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := f.WriteAt(b[:], 40); err != nil {
		return err
	}
	if err := f.Truncate(header + data); err != nil {
		return err
	}
	return f.Sync()
}

// maxTranscript bounds the text kept from the transcription command.
const maxTranscript = 16 << 10

// transcribe runs the configured command on a recording and returns its
// output as text.
func (s *Service) transcribe(ctx context.Context, wavPath string) (string, error) {
	args := strings.Fields(s.Config.TranscribeCommand)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Config.TranscribeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], wavPath)...)
	// The command runs in a process group of its own, killed whole when
	// it takes too long: a script's children (the speech model) go with
	// it rather than run on, holding the CPU and the output pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var out, errOut limitedBuffer
	out.max, errOut.max = maxTranscript, 512
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("transcription took longer than %s", s.Config.TranscribeTimeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return "", fmt.Errorf("transcription command: %w: %s", err, cleanText(msg))
		}
		return "", fmt.Errorf("transcription command: %w", err)
	}
	text := cleanText(strings.TrimSpace(out.String()))
	if text == "" {
		return "", errors.New("the transcription command printed nothing")
	}
	return text, nil
}

// cleanText keeps valid UTF-8 without control characters other than
// newlines and tabs.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)

// writeFileSync writes a small file and flushes it to disk.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
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
	return os.Rename(tmp, path)
}

func keyHash(s string) string {
	sum := sha256sum(s)
	return "sha256:" + sum
}
