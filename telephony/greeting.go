package telephony

import (
	"bytes"
	"embed"
	"fmt"
	"math"
	"os"

	"github.com/counterdesk/counterdesk/telephony/media"
)

//go:embed greeting/open.wav greeting/closed.wav
var builtinGreetings embed.FS

// maxGreetingBytes bounds a greeting file: ten minutes of 48 kHz stereo
// 16-bit audio.
const maxGreetingBytes = 10 * 60 * 48000 * 4

// Greetings are the prompts a caller hears before the beep, as 8 kHz
// samples.
type Greetings struct {
	Open, Closed []int16
}

// LoadGreetings reads the greeting files, any rate or channel count the
// media package reads; an empty path takes the built-in greeting.
func LoadGreetings(open, closed string) (Greetings, error) {
	var g Greetings
	var err error
	if g.Open, err = loadGreeting(open, "greeting/open.wav"); err != nil {
		return g, err
	}
	if g.Closed, err = loadGreeting(closed, "greeting/closed.wav"); err != nil {
		return g, err
	}
	return g, nil
}

func loadGreeting(path, builtin string) ([]int16, error) {
	var data []byte
	var err error
	if path == "" {
		data, err = builtinGreetings.ReadFile(builtin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	w, err := media.ReadWAV(bytes.NewReader(data), maxGreetingBytes)
	if err != nil {
		return nil, fmt.Errorf("greeting %s: %w", nameOr(path, builtin), err)
	}
	pcm, err := media.ToTelephony(w)
	if err != nil {
		return nil, fmt.Errorf("greeting %s: %w", nameOr(path, builtin), err)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("greeting %s: the file holds no audio", nameOr(path, builtin))
	}
	return pcm, nil
}

func nameOr(path, builtin string) string {
	if path == "" {
		return "built-in " + builtin
	}
	return path
}

// beep returns the tone after the greeting: 200 ms of quiet, then 400 ms
// of 1 kHz at -12 dBFS with 10 ms ramps so it does not click.
func beep() []int16 {
	const (
		rate  = media.ClockRate
		quiet = rate / 5
		tone  = rate * 2 / 5
		ramp  = rate / 100
	)
	out := make([]int16, quiet+tone)
	amp := 32767 * math.Pow(10, -12.0/20)
	for i := range tone {
		g := 1.0
		if i < ramp {
			g = float64(i) / ramp
		} else if tone-i < ramp {
			g = float64(tone-i) / ramp
		}
		out[quiet+i] = int16(amp * g * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	return out
}
