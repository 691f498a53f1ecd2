// Package media holds the audio the telephony side of counterdesk needs
// besides SIP itself: the G.711 codecs that RTP carries (ITU-T G.711, with
// the payload types and clock rates of RFC 3551), RIFF/WAVE files for
// greetings and voicemail, a converter from the WAV files a shop owner
// records to 8000 Hz mono, and a silence detector that ends a voicemail when
// the caller stops talking.
//
// Everything here works on byte and sample slices; reading from the network
// or the disk is the caller's business, except for WAVWriter, which patches
// the RIFF header of an io.WriteSeeker when it is closed.
package media

// RFC 3551 section 6, table 4, assigns the static RTP payload types and
// clock rates of the two G.711 companding laws.
const (
	// PayloadTypePCMU is the static RTP payload type of G.711 µ-law (PCMU).
	PayloadTypePCMU = 0
	// PayloadTypePCMA is the static RTP payload type of G.711 A-law (PCMA).
	PayloadTypePCMA = 8
	// ClockRate is the RTP clock rate of PCMU and PCMA, in Hz, which is
	// also their sampling rate (RFC 3551 section 4.5.14).
	ClockRate = 8000
)
