package ratelimit

import (
	"strconv"
	"sync"
	"time"
)

// policyHeader returns the RateLimit-Policy field values for the enforced
// rules: one Structured Fields list member per rule, the rule's name as a
// string with its quota (q) and window in seconds (w).
func policyHeader(rules []compiledRule) []string {
	var b []byte
	for i := range rules {
		r := &rules[i]
		if r.dryRun {
			continue
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '"')
		b = append(b, r.name...) // names are validated: no quoting needed
		b = append(b, `";q=`...)
		b = strconv.AppendInt(b, r.quota.Limit, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, windowSeconds(time.Duration(r.quota.Per)*time.Microsecond), 10)
	}
	if b == nil {
		return nil
	}
	return []string{string(b)}
}

// headerBuf builds one RateLimit field value.
type headerBuf struct{ b []byte }

var headerBufs = sync.Pool{New: func() any { return &headerBuf{b: make([]byte, 0, 128)} }}

func getHeaderBuf() *headerBuf {
	hb := headerBufs.Get().(*headerBuf)
	hb.b = hb.b[:0]
	return hb
}

func putHeaderBuf(hb *headerBuf) { headerBufs.Put(hb) }

// add appends one rule's service limit: remaining (r) and seconds until
// the budget is whole again (t).
func (hb *headerBuf) add(name string, remaining int64, reset time.Duration) {
	if len(hb.b) > 0 {
		hb.b = append(hb.b, ", "...)
	}
	hb.b = append(hb.b, '"')
	hb.b = append(hb.b, name...)
	hb.b = append(hb.b, `";r=`...)
	hb.b = strconv.AppendInt(hb.b, max(0, remaining), 10)
	hb.b = append(hb.b, ";t="...)
	t := int64(0)
	if reset > 0 {
		t = ceilSeconds(reset)
	}
	hb.b = strconv.AppendInt(hb.b, t, 10)
}
