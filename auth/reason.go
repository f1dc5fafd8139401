package auth

import (
	"net/url"
	"unicode/utf8"
)

// maxReasonAccount bounds the account name a reason carries.
const maxReasonAccount = 64

// AccountReason appends to reason the account a refused sign-in named, for
// the access log and the security events ("throttled account=alice"), so an
// operator sees which accounts are being guessed at and can unlock them. The
// name is query-escaped, so that it cannot add words or fields of its own
// to the reason, and cut to 64 bytes. An empty account leaves reason as it
// is.
func AccountReason(reason, account string) string {
	if account == "" {
		return reason
	}
	if len(account) > maxReasonAccount {
		account = account[:maxReasonAccount]
		for !utf8.ValidString(account) {
			account = account[:len(account)-1]
		}
	}
	return reason + " account=" + url.QueryEscape(account)
}
