package media

import (
	"bytes"
	"testing"
	"time"
)

// benchSpeech returns one second of speech-like audio at 8000 Hz: a few
// tones at varying levels with noise, so that every segment of the
// companding laws is used.
func benchSpeech() []int16 {
	y := tone(time.Second, 220, -12)
	for i, v := range tone(time.Second, 1330, -24) {
		y[i] = toInt16(float64(y[i]) + float64(v))
	}
	for i, v := range noise(time.Second, 200) {
		y[i] = toInt16(float64(y[i])*float64(i%4000)/4000 + float64(v))
	}
	return y
}

// baselineCopy returns the time to copy one second of 8000 Hz int16
// samples into another slice, the cheapest thing a media path can do with
// the audio: the best of five batches of at least 200 copies each, so that
// one descheduling does not move the ratio.
func baselineCopy(b *testing.B, pcm []int16, n int) time.Duration {
	dst := make([]int16, len(pcm))
	rounds := max(n/5, 200)
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		for range rounds {
			copy(dst, pcm)
		}
		best = min(best, time.Since(start)/time.Duration(rounds))
	}
	if dst[len(dst)/2] != pcm[len(pcm)/2] {
		b.Fatal("copy lost samples")
	}
	return best
}

// reportAudio reports, for an op that processes one second of audio, the
// time per second of audio, the ratio to the copy baseline measured in the
// same run, and the share of the real-time budget (one second) it uses.
func reportAudio(b *testing.B, baseline time.Duration) {
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per, "ns/s-audio")
	b.ReportMetric(float64(baseline.Nanoseconds()), "copy-ns/s-audio")
	b.ReportMetric(per/float64(baseline.Nanoseconds()), "x-copy")
	b.ReportMetric(per/float64(time.Second), "x-realtime")
}

// BenchmarkG711 encodes and decodes one second of 8000 Hz audio (8000
// samples, 50 RTP packets of 20 ms) with each law. Besides ns/op it reports
// the ratio to copying the same int16 samples (x-copy) and to the
// real-time budget of one second (x-realtime).
func BenchmarkG711(b *testing.B) {
	pcm := benchSpeech()
	for _, law := range []struct {
		name      string
		appendEnc func([]byte, []int16) []byte
		appendDec func([]int16, []byte) []int16
	}{
		{"alaw", AppendALaw, AppendPCMFromALaw},
		{"ulaw", AppendULaw, AppendPCMFromULaw},
	} {
		codes := law.appendEnc(nil, pcm)
		b.Run(law.name+"/encode", func(b *testing.B) {
			dst := make([]byte, 0, len(pcm))
			dst = law.appendEnc(dst[:0], pcm) // warm the caches
			baseline := baselineCopy(b, pcm, b.N)
			b.SetBytes(int64(2 * len(pcm)))
			b.ResetTimer()
			for range b.N {
				dst = law.appendEnc(dst[:0], pcm)
			}
			b.StopTimer()
			if !bytes.Equal(dst, codes) {
				b.Fatal("encoding changed")
			}
			reportAudio(b, baseline)
		})
		b.Run(law.name+"/decode", func(b *testing.B) {
			dst := make([]int16, 0, len(codes))
			dst = law.appendDec(dst[:0], codes)
			baseline := baselineCopy(b, pcm, b.N)
			b.SetBytes(int64(len(codes)))
			b.ResetTimer()
			for range b.N {
				dst = law.appendDec(dst[:0], codes)
			}
			b.StopTimer()
			if len(dst) != len(codes) {
				b.Fatal("decoding lost samples")
			}
			reportAudio(b, baseline)
		})
	}
}

// BenchmarkToTelephony converts one second of 44.1 kHz stereo 16-bit audio,
// a greeting as a phone records it, to 8000 Hz mono, and reports the share
// of the real-time budget it uses and the ratio to copying one second of
// 8000 Hz samples.
func BenchmarkToTelephony(b *testing.B) {
	w := encodeWAV(FormatPCM, 16, 44100, sine(44100, 44100, 440, 8000), sine(44100, 44100, 660, 8000))
	baseline := baselineCopy(b, benchSpeech(), b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := ToTelephony(w); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportAudio(b, baseline)
}

// BenchmarkSilenceDetector feeds one second of 8000 Hz audio in 20 ms RTP
// packets, as a voicemail recording does.
func BenchmarkSilenceDetector(b *testing.B) {
	pcm := benchSpeech()
	baseline := baselineCopy(b, pcm, b.N)
	var d SilenceDetector
	b.ResetTimer()
	for range b.N {
		for p := 0; p < len(pcm); p += 160 {
			d.Feed(pcm[p : p+160])
		}
	}
	b.StopTimer()
	reportAudio(b, baseline)
}
