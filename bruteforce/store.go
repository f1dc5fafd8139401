package bruteforce

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rampartsec/rampart/internal/shardmap"
)

// Keys names the three counters of one login attempt. They are opaque,
// fixed-size strings built by the Protector: hashes of account names, never
// the names themselves.
type Keys struct {
	// IP counts attempts from one client address (IPv6 grouped by prefix).
	IP string
	// Account counts attempts at one account from clients it does not know.
	Account string
	// AccountIP counts attempts at one account from one client address,
	// and remembers that client after a successful login.
	AccountIP string
}

// Store keeps login counters. Implementations must be safe for concurrent
// use and must agree exactly with AttemptIP, AttemptAccount, SucceedIP and
// SucceedAccount, which package storetest checks.
//
// Methods return an error only when the store itself failed; the Protector
// then applies its failure policy. A refusal is a Verdict, not an error.
type Store interface {
	// Attempt applies AttemptIP to the IP counter and, unless that refuses,
	// AttemptAccount to the AccountIP and Account counters. Each step is
	// atomic; together they need not be.
	Attempt(ctx context.Context, now time.Time, k Keys, p *Params) (Verdict, error)
	// Succeed applies SucceedIP and SucceedAccount.
	Succeed(ctx context.Context, now time.Time, k Keys, p *Params) error
	// Cancel applies CancelIP and CancelAccount: it undoes one attempt
	// that Attempt counted but whose password was never checked.
	Cancel(ctx context.Context, now time.Time, k Keys, p *Params) error
	// Unlock lifts every lock of the account whose Account counter key is
	// account: it deletes that counter and clears the failures, delay and
	// lock of every AccountIP counter of the account (PairPrefix), keeping
	// the clients it remembers.
	Unlock(ctx context.Context, account string) error
	// Counters returns the live Account counter of account and the live
	// AccountIP counters of the account, by client (the part of the key
	// after PairPrefix), for listing locks.
	Counters(ctx context.Context, account string, now time.Time) (acct Counter, pairs map[string]Counter, err error)
}

// PairPrefix returns the prefix of the AccountIP counter keys of the
// account whose Account counter key is account.
func PairPrefix(account string) string {
	return "p:" + strings.TrimPrefix(account, "a:") + ":"
}

// DefaultMaxKeys is the default capacity of a MemoryStore.
const DefaultMaxKeys = 1_000_000

// MemoryStore is the embedded Store: exact, sharded and bounded (a flood of
// unique keys evicts the counters closest to expiry). It is safe for
// concurrent use. Counters live in this process only.
type MemoryStore struct {
	m *shardmap.Map[string, Counter]
}

// NewMemoryStore returns an empty MemoryStore holding at most maxKeys
// counters (DefaultMaxKeys when 0).
func NewMemoryStore(maxKeys int) (*MemoryStore, error) {
	if maxKeys < 0 {
		return nil, errors.New("bruteforce: max keys must not be negative")
	}
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	return &MemoryStore{m: shardmap.New[string, Counter](maxKeys, 0)}, nil
}

var _ Store = (*MemoryStore)(nil)

// Attempt implements Store. It never returns an error.
func (s *MemoryStore) Attempt(_ context.Context, now time.Time, k Keys, p *Params) (Verdict, error) {
	t := now.UnixMilli()
	sh := s.m.Lock(s.m.Index(k.IP))
	ip, _ := sh.Get(k.IP, t)
	next, write, v := AttemptIP(Live(ip, t), t, p)
	if write {
		sh.Put(k.IP, next, Expires(next, p), t)
	}
	sh.Unlock()
	if !v.Allowed {
		return v, nil
	}
	ps, as := s.m.LockPair(s.m.Index(k.AccountIP), s.m.Index(k.Account))
	defer shardmap.UnlockPair(ps, as)
	pair, _ := ps.Get(k.AccountIP, t)
	acct, _ := as.Get(k.Account, t)
	pair, acct, writeAcct, v := AttemptAccount(Live(pair, t), Live(acct, t), t, p)
	if v.Allowed {
		ps.Put(k.AccountIP, pair, Expires(pair, p), t)
		if writeAcct {
			as.Put(k.Account, acct, Expires(acct, p), t)
		}
	}
	return v, nil
}

// Succeed implements Store. It never returns an error.
func (s *MemoryStore) Succeed(_ context.Context, now time.Time, k Keys, p *Params) error {
	t := now.UnixMilli()
	sh := s.m.Lock(s.m.Index(k.IP))
	if ip, found := sh.Get(k.IP, t); found {
		ip = SucceedIP(Live(ip, t), p)
		sh.Put(k.IP, ip, Expires(ip, p), t)
	}
	sh.Unlock()
	ps, as := s.m.LockPair(s.m.Index(k.AccountIP), s.m.Index(k.Account))
	defer shardmap.UnlockPair(ps, as)
	pair, _ := ps.Get(k.AccountIP, t)
	acct, _ := as.Get(k.Account, t)
	pair, acct, writeAcct := SucceedAccount(Live(pair, t), Live(acct, t), t, p)
	ps.Put(k.AccountIP, pair, Expires(pair, p), t)
	if !writeAcct {
		return nil
	}
	if exp := Expires(acct, p); exp > t {
		as.Put(k.Account, acct, exp, t)
	} else {
		as.Delete(k.Account)
	}
	return nil
}

// Cancel implements Store. It never returns an error.
func (s *MemoryStore) Cancel(_ context.Context, now time.Time, k Keys, p *Params) error {
	t := now.UnixMilli()
	sh := s.m.Lock(s.m.Index(k.IP))
	if ip, found := sh.Get(k.IP, t); found {
		ip = CancelIP(Live(ip, t), p)
		sh.Put(k.IP, ip, Expires(ip, p), t)
	}
	sh.Unlock()
	ps, as := s.m.LockPair(s.m.Index(k.AccountIP), s.m.Index(k.Account))
	defer shardmap.UnlockPair(ps, as)
	if pair, found := ps.Get(k.AccountIP, t); found {
		acct, _ := as.Get(k.Account, t)
		pair, acct, writeAcct := CancelAccount(Live(pair, t), Live(acct, t), t, p)
		ps.Put(k.AccountIP, pair, Expires(pair, p), t)
		if writeAcct {
			if exp := Expires(acct, p); exp > t {
				as.Put(k.Account, acct, exp, t)
			} else {
				as.Delete(k.Account)
			}
		}
	}
	return nil
}

// Unlock implements Store. It visits every shard: an administrator's
// action, not a request's.
func (s *MemoryStore) Unlock(_ context.Context, account string) error {
	sh := s.m.Lock(s.m.Index(account))
	sh.Delete(account)
	sh.Unlock()
	prefix := PairPrefix(account)
	for i := range s.m.Shards() {
		sh := s.m.Lock(i)
		sh.Range(func(k string, e *shardmap.Entry[Counter]) bool {
			if strings.HasPrefix(k, prefix) {
				e.V = Counter{LastSuccess: e.V.LastSuccess}
			}
			return true
		})
		sh.Unlock()
	}
	return nil
}

// Counters implements Store.
func (s *MemoryStore) Counters(_ context.Context, account string, now time.Time) (Counter, map[string]Counter, error) {
	t := now.UnixMilli()
	sh := s.m.Lock(s.m.Index(account))
	acct, _ := sh.Get(account, t)
	sh.Unlock()
	prefix := PairPrefix(account)
	pairs := map[string]Counter{}
	for i := range s.m.Shards() {
		sh := s.m.Lock(i)
		sh.Range(func(k string, e *shardmap.Entry[Counter]) bool {
			if e.Exp > t && strings.HasPrefix(k, prefix) {
				pairs[k[len(prefix):]] = Live(e.V, t)
			}
			return true
		})
		sh.Unlock()
	}
	return Live(acct, t), pairs, nil
}

// Len returns the number of counters held.
func (s *MemoryStore) Len() int { return s.m.Len() }
