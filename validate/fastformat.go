package validate

import "net/netip"

// Formats for the fast path. Each one answers whether a string is surely
// valid in its format: true only where the library's own check (or the
// OpenAPI format's) accepts it too, so the fast path stays exact. Most
// accept exactly what the library does; a few are stricter (digits without
// a sign where the library uses strconv.Atoi; no leap seconds; no
// bracketed e-mail domains), and a value only they refuse is handed to the
// library, which decides. None allocates, and none needs the value as a
// string, so a JSON string without escapes is checked in place.
// TestFastFormatsAgree checks them against the library over generated
// values and FuzzFastFormats goes on from there.

// text is a string value, as a string or as the bytes of the document.
type text interface{ ~string | ~[]byte }

// fastFormats are the formats the fast path checks itself, by name.
var fastFormats = map[string]struct {
	str   func(string) bool
	bytes func([]byte) bool
}{
	"uuid":      {isUUID[string], isUUID[[]byte]},
	"ipv4":      {isIPv4[string], isIPv4[[]byte]},
	"ipv6":      {isIPv6, func(b []byte) bool { return isIPv6(string(b)) }},
	"hostname":  {isHostname[string], isHostname[[]byte]},
	"email":     {isEmail[string], isEmail[[]byte]},
	"date":      {isDate[string], isDate[[]byte]},
	"time":      {isTime[string], isTime[[]byte]},
	"date-time": {isDateTime[string], isDateTime[[]byte]},
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isUUID: 8-4-4-4-12 hexadecimal digits.
func isUUID[T text](s T) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

// isIPv4: four decimals 0–255 without leading zeros or signs.
func isIPv4[T text](s T) bool {
	groups, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 {
				return false
			}
			groups++
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || (digits == 1 && n == 0) || digits == 3 {
			return false // a leading zero, or a fourth digit
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return groups == 4
}

// isIPv6: what the library accepts, without boxing the value.
func isIPv6(s string) bool {
	hasColon := false
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			hasColon = true
			break
		}
	}
	if !hasColon {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// isHostname: labels of 1–63 letters, digits and hyphens, not starting or
// ending with a hyphen, 253 characters at most without a final dot.
func isHostname[T text](s T) bool {
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-') {
				return false
			}
			continue
		}
		n := i - start
		if n < 1 || n > 63 || s[start] == '-' || s[i-1] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// emailLocal lists the characters of an unquoted local part.
var emailLocal = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range ".!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()

// isEmail: an unquoted local part of 64 characters at most, without a dot
// at either end or two in a row, '@', and a hostname; 254 characters at
// most. Quoted local parts and bracketed addresses go to the library.
func isEmail[T text](s T) bool {
	if len(s) > 254 {
		return false
	}
	at := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			at = i
			break
		}
	}
	if at < 1 || at > 64 {
		return false
	}
	local := s[:at]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		if !emailLocal[local[i]] || (local[i] == '.' && i > 0 && local[i-1] == '.') {
			return false
		}
	}
	return isHostname(s[at+1:])
}

// num reads the decimal digits s[i:j], or -1 when one is not a digit.
func num[T text](s T, i, j int) int {
	n := 0
	for ; i < j; i++ {
		if !isDigit(s[i]) {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// isDate: YYYY-MM-DD, a day that exists (time.Parse's rules).
func isDate[T text](s T) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, m, d := num(s, 0, 4), num(s, 5, 7), num(s, 8, 10)
	if y < 0 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// isTime: hh:mm:ss, an optional fraction, and Z or an offset ±hh:mm; no
// leap seconds (the library's rule for those depends on the offset).
func isTime[T text](s T) bool {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, m, sec := num(s, 0, 2), num(s, 3, 5), num(s, 6, 8)
	if h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 {
		return false
	}
	rest := s[8:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	if len(rest) == 1 {
		return rest[0] == 'Z' || rest[0] == 'z'
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return false
	}
	zh, zm := num(rest, 1, 3), num(rest, 4, 6)
	return zh >= 0 && zh <= 23 && zm >= 0 && zm <= 59
}

// isDateTime: a date, T (or t), a time.
func isDateTime[T text](s T) bool {
	return len(s) >= 20 && (s[10] == 'T' || s[10] == 't') && isDate(s[:10]) && isTime(s[11:])
}
