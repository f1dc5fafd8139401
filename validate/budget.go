package validate

import (
	"errors"
	"io"
	"sync/atomic"
)

// BodyBudget bounds the bytes of request bodies held in memory for
// validation at one time, across every Validator that shares it: without
// it, many concurrent requests each just under MaxBodyBytes could add up
// to more memory than the machine has. A request whose body would go over
// the budget is answered 503 with Retry-After, and nothing more of its
// body is read. Bytes are counted as they are read (a body declared large
// holds only what has arrived) and given back when the request is done.
//
// A BodyBudget is safe for concurrent use. The zero value has no room;
// use NewBodyBudget.
type BodyBudget struct {
	limit atomic.Int64
	used  atomic.Int64
}

// NewBodyBudget returns a budget of limit bytes. A limit of zero or less
// means no limit.
func NewBodyBudget(limit int64) *BodyBudget {
	b := &BodyBudget{}
	b.SetLimit(limit)
	return b
}

// SetLimit changes the budget's limit, for a configuration reload. Bodies
// already held keep their bytes; new reservations see the new limit.
func (b *BodyBudget) SetLimit(limit int64) {
	if limit <= 0 {
		limit = -1
	}
	b.limit.Store(limit)
}

// InUse returns the bytes held now.
func (b *BodyBudget) InUse() int64 { return b.used.Load() }

// reserve takes n bytes, or reports that they would exceed the limit.
func (b *BodyBudget) reserve(n int64) bool {
	for {
		used := b.used.Load()
		limit := b.limit.Load()
		if limit >= 0 && used+n > limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives n bytes back.
func (b *BodyBudget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// errOverBudget ends reading a body that would exceed the budget.
var errOverBudget = errors.New("validate: body buffer budget exhausted")

// budgetReader counts each chunk's bytes in the budget as it arrives, and
// keeps the count of what it holds. A chunk that does not fit ends the
// read: at most one read's worth of bytes is in memory beyond the budget,
// and is dropped at once.
type budgetReader struct {
	r    io.Reader
	b    *BodyBudget
	held int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if !br.b.reserve(int64(n)) {
			// Fail closed: answer 503 rather than risk the process's
			// memory.
			return 0, errOverBudget
		}
		br.held += int64(n)
	}
	return n, err
}
