// Package stream carries the audio of one phone call over RTP (RFC 3550):
// G.711 µ-law or A-law in 20 ms packets (RFC 3551), and DTMF key presses
// as RFC 4733 telephone-events.
//
// A Session owns one UDP socket. Its sender sends a 20 ms packet every
// 20 ms, audio queued with Play or encoded silence otherwise, paced against
// the session's start so that it does not drift. Its reader accepts packets
// only from the address the SDP negotiated (or the first one it hears from,
// when the SDP gave none: symmetric RTP latching), puts them in order in a
// small jitter buffer, fills what was lost with silence so that a recording
// keeps real time, and hands 160-sample frames to OnAudio. Everything is
// bounded: the reorder window, the silence inserted for a gap, the size of
// a packet.
//
// RTCP is not used; ListenRange leaves the odd port above the RTP port free
// for it, as RFC 3550 section 11 asks.
package stream
