-- Rampart login protection: one atomic step on one or two counters. It
-- mirrors bruteforce's Live, count, uncount, AttemptIP, AttemptAccount,
-- SucceedIP, SucceedAccount, CancelIP and CancelAccount (counter.go) operation for operation. Times are Unix
-- milliseconds.
--
-- ARGV: op, now, max per account, max per IP, max per account+IP, window,
-- lockout, delay, remember.
-- op "ip":      KEYS[1] = IP counter.                 Returns {allowed, by, retry}.
-- op "account": KEYS[1] = account+IP, KEYS[2] = account (one hash tag).
-- op "ok-ip":   KEYS[1] = IP counter.
-- op "ok-account": KEYS as for "account".
-- op "cancel-ip": KEYS[1] = IP counter.
-- op "cancel-account": KEYS as for "account".
-- op "unlock":  KEYS[1] = account counter.
-- op "reset":   KEYS[1] = an account+IP counter.

local op = ARGV[1]
local now = tonumber(ARGV[2])
local maxAcct, maxIP, maxPair = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local window, lockout, delay, remember = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])

local function fmt(x) return string.format('%.0f', x) end

local function load(key)
  local v = redis.call('HMGET', key, 'f', 'l', 'n', 'e', 's')
  local c = {f = tonumber(v[1]) or 0, l = tonumber(v[2]) or 0, n = tonumber(v[3]) or 0,
             e = tonumber(v[4]) or 0, s = tonumber(v[5]) or 0}
  if c.e <= now then c.f, c.l, c.n, c.e = 0, 0, 0, 0 end
  return c
end

local function save(key, c)
  local exp = c.e
  if c.s > 0 then exp = math.max(exp, c.s + remember) end
  if exp <= now then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'f', fmt(c.f), 'l', fmt(c.l), 'n', fmt(c.n), 'e', fmt(c.e), 's', fmt(c.s))
  -- Relative: the server's clock need not match the caller's.
  redis.call('PEXPIRE', key, fmt(exp - now))
end

local function count(c, limit, delayed)
  c.f = c.f + 1
  if delayed and delay > 0 then
    c.n = now + math.min(delay * 2 ^ math.min(c.f - 1, 30), lockout)
  end
  if c.f >= limit then c.l = now + lockout end
  c.e = math.max(now, c.l, c.n) + window
end

local function uncount(c, limit, delayed)
  if c.f > 0 then c.f = c.f - 1 end
  if c.f < limit then c.l = 0 end
  if delayed then
    if c.f == 0 or delay <= 0 then
      c.n = 0
    else
      c.n = math.min(c.n, now + math.min(delay * 2 ^ math.min(c.f - 1, 30), lockout))
    end
  end
end

local function blocked(c, delays)
  local u = c.l
  if delays then u = math.max(u, c.n) end
  if u > now then return u end
  return 0
end

if op == 'ip' then
  local c = load(KEYS[1])
  local u = blocked(c, false)
  if u > 0 then return {0, 1, u - now} end
  count(c, maxIP, false)
  save(KEYS[1], c)
  return {1, 0, 0}
elseif op == 'account' then
  local pair, acct = load(KEYS[1]), load(KEYS[2])
  local known = pair.s > 0 and now - pair.s < remember
  local u = blocked(pair, true)
  if u > 0 then return {0, 2, u - now} end
  if not known then
    u = blocked(acct, true)
    if u > 0 then return {0, 3, u - now} end
  end
  count(pair, maxPair, not known)
  save(KEYS[1], pair)
  if not known then
    count(acct, maxAcct, false)
    save(KEYS[2], acct)
  end
  return {1, 0, 0}
elseif op == 'ok-ip' then
  local c = load(KEYS[1])
  if c.f > 0 then c.f = c.f - 1 end
  if c.f < maxIP then c.l = 0 end
  save(KEYS[1], c)
  return {1, 0, 0}
elseif op == 'ok-account' then
  local pair, acct = load(KEYS[1]), load(KEYS[2])
  local known = pair.s > 0 and now - pair.s < remember
  save(KEYS[1], {f = 0, l = 0, n = 0, e = 0, s = now})
  if not known then
    if acct.l <= now or acct.f <= maxAcct then acct = {f = 0, l = 0, n = 0, e = 0, s = 0} end
    save(KEYS[2], acct)
  end
  return {1, 0, 0}
elseif op == 'cancel-ip' then
  local c = load(KEYS[1])
  if redis.call('EXISTS', KEYS[1]) == 1 then
    uncount(c, maxIP, false)
    save(KEYS[1], c)
  end
  return {1, 0, 0}
elseif op == 'cancel-account' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {1, 0, 0} end
  local pair, acct = load(KEYS[1]), load(KEYS[2])
  local known = pair.s > 0 and now - pair.s < remember
  uncount(pair, maxPair, true)
  save(KEYS[1], pair)
  if not known then
    uncount(acct, maxAcct, false)
    save(KEYS[2], acct)
  end
  return {1, 0, 0}
elseif op == 'unlock' then
  redis.call('DEL', KEYS[1])
  return {1, 0, 0}
elseif op == 'reset' then
  -- An account-from-IP counter at unlock: failures, delay and lock go, the
  -- remembered success stays.
  -- The key keeps its TTL, which covers the remembered success.
  local s = tonumber(redis.call('HGET', KEYS[1], 's')) or 0
  if s > 0 then
    redis.call('HSET', KEYS[1], 'f', '0', 'l', '0', 'n', '0', 'e', '0')
  else
    redis.call('DEL', KEYS[1])
  end
  return {1, 0, 0}
end
return redis.error_reply('unknown op')
