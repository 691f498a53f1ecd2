package config

// Hours are the shop's opening hours, in the shop's time zone. Requests that
// arrive outside them are marked after hours, and SLA clocks may count only
// the time the shop is open (see [SLA]).
type Hours struct {
	// Holidays are dates, written YYYY-MM-DD, on which the shop is closed all
	// day.
	Holidays []string `toml:"holidays"`
	// AfterHoursReply is the text sent to a customer whose request arrives
	// while the shop is closed. {shop} stands for the shop's name and {hours}
	// for the opening hours. Empty: no reply.
	AfterHoursReply string `toml:"after_hours_reply"`
	// Open lists the periods the shop is open.
	Open []OpenHours `toml:"open"`
}

// OpenHours is one opening period that repeats every week on the given days.
type OpenHours struct {
	// Days are the days of the week: "mon", "tue", "wed", "thu", "fri",
	// "sat" and "sun".
	Days []string `toml:"days"`
	// From is the opening time as HH:MM, such as "09:00".
	From string `toml:"from"`
	// To is the closing time as HH:MM, after From; "24:00" is midnight at
	// the end of the day.
	To string `toml:"to"`
}
