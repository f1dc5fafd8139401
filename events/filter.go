package events

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter selects events. A zero field matches every event.
type Filter struct {
	Policy   string
	ClientIP string
	Route    string
	User     string
	// Since drops events older than this instant.
	Since time.Time
	// Limit caps the events a query returns; 0 means DefaultLimit.
	Limit int
}

// ParseFilter reads a Filter from the query parameters policy, client_ip,
// route, user, since (RFC 3339, or a duration before now such as "15m")
// and limit (default 100, at most 1000). An unknown parameter is an error,
// so that a misspelt filter never silently matches everything.
func ParseFilter(q url.Values, now time.Time) (Filter, error) {
	var f Filter
	for k, vs := range q {
		if len(vs) != 1 {
			return Filter{}, fmt.Errorf("events: %s: give it once", k)
		}
		v := vs[0]
		if len(v) > 256 {
			return Filter{}, fmt.Errorf("events: %s: too long", k)
		}
		switch k {
		case "policy":
			f.Policy = v
		case "client_ip":
			f.ClientIP = v
		case "route":
			f.Route = v
		case "user":
			f.User = v
		case "since":
			t, err := parseSince(v, now)
			if err != nil {
				return Filter{}, err
			}
			f.Since = t
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return Filter{}, errors.New("events: limit: a positive whole number")
			}
			f.Limit = min(n, MaxLimit)
		default:
			return Filter{}, fmt.Errorf("events: unknown parameter %q (filters: policy, client_ip, route, user, since, limit)", k)
		}
	}
	return f, nil
}

func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || strings.HasPrefix(v, "-") {
		return time.Time{}, errors.New(`events: since: an RFC 3339 time or a duration such as "15m"`)
	}
	return now.Add(-d), nil
}

// limit returns the number of events a query may return.
func (f *Filter) limit() int {
	if f.Limit <= 0 {
		return DefaultLimit
	}
	return min(f.Limit, MaxLimit)
}

// Match reports whether e passes f (Limit aside).
func (f *Filter) Match(e *Event) bool {
	return (f.Policy == "" || f.Policy == e.Policy) &&
		(f.ClientIP == "" || f.ClientIP == e.ClientIP || f.ClientIP == e.Network) &&
		(f.Route == "" || f.Route == e.Route) &&
		(f.User == "" || f.User == e.User) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}
