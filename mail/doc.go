// Package mail is the email channel: the shop's support mailbox read over
// IMAP (IMAPReceiver: each mail becomes a ticket message through the Desk,
// marked seen or moved only after the Desk stored it) and the replies and
// notifications sent over SMTP (SMTPSender: the outbox consumer of
// "deliver.email").
//
// Both sides thread by the same convention: the box's mails carry the
// Message-ID "<counterdesk.TICKETUUID.MESSAGEID@DOMAIN>", a subject ending
// in " [#1042]", and In-Reply-To and References naming the customer's last
// mail; a mail that comes in threads onto a ticket by a box Message-ID in
// In-Reply-To or References, then by any other Message-ID there that the
// box took in, then by "[#NNNN]" in its subject.
package mail
