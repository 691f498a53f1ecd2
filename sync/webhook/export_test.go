package webhook

import "time"

// SetMaxData sets the bound of the attachment bytes inlined in one event.
func SetMaxData(t *Target, n int64) { t.maxData = n }

// SetClock sets the clock of t's signatures and default event times.
func SetClock(t *Target, now func() time.Time) { t.now = now }
