package pdu

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// benchText needs UCS-2 (Turkish letters and an emoji), the heaviest
// common case.
var benchText = "Merhaba, ESC ısınıyor ve pervane kırıldı 🙁 siparişim nerede? Lütfen bugün arayın, teşekkürler."

// BenchmarkDecode decodes a UCS-2 message with a user data header and
// reports the rate against the baseline of only turning the same hex into
// bytes, in the same run.
func BenchmarkDecode(b *testing.B) {
	parts, err := EncodeSubmit("+905321234567", benchText, SubmitOptions{ConcatRef: 7, Class: -1})
	if err != nil {
		b.Fatal(err)
	}
	h := hex.EncodeToString(parts[0])
	const baseRounds = 20000
	baseStart := time.Now()
	for range baseRounds {
		if _, err := hex.DecodeString(h); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(baseStart) / baseRounds
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := DecodeHex(h); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(time.Second)/float64(per), "pdus/s")
	b.ReportMetric(float64(per)/float64(base), "x-hex-baseline")
}

// BenchmarkEncodeSubmit encodes a two-part UCS-2 text.
func BenchmarkEncodeSubmit(b *testing.B) {
	for range b.N {
		if _, err := EncodeSubmit("+905321234567", benchText+benchText, SubmitOptions{ConcatRef: 7, Class: -1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

// BenchmarkEncodeSubmitNational encodes a Turkish text that fits two GSM
// 7-bit parts with the Turkish locking shift table (five in UCS-2), with all
// three national languages enabled, so every table combination is counted.
func BenchmarkEncodeSubmitNational(b *testing.B) {
	text := strings.Repeat("Şişeler ğüzel, İstanbul'da ışık. ", 8)
	o := SubmitOptions{ConcatRef: 7, Class: -1, NationalLanguages: []Language{Turkish, Spanish, Portuguese}}
	for range b.N {
		if _, err := EncodeSubmit("+905321234567", text, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}
