-- Rampart rate limit decision: one atomic call for every quota of one key.
-- It mirrors ratelimit.Decide operation for operation (see algorithm.go);
-- times are integers in microseconds, exact in Lua's doubles below 2^53.
--
-- KEYS[i]: the counter of quota i; all share one hash tag (one slot).
-- ARGV[1]: now in Unix microseconds, or "" to use the server's clock.
-- ARGV[2]: n, the units to take.
-- ARGV[3+5(i-1) ..]: quota i: algorithm (g|w), limit, per, burst, interval.
-- Returns 4 integers per quota: allowed (1|0), remaining, reset, retry.

local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local n = tonumber(ARGV[2])

local floor, ceil, fmod = math.floor, math.ceil, math.fmod
local function idiv(a, b) return (a - fmod(a, b)) / b end
local function fmt(x) return string.format('%.0f', x) end

local function gcra(key, interval, burst, n)
  local stored = tonumber(redis.call('GET', key))
  local tat = now
  if stored and stored > now then tat = stored end
  local tau = interval * burst
  local newTat = tat + n * interval
  local allowAt = newTat - tau
  if allowAt > now then
    return 0, math.max(0, idiv(now + tau - tat, interval)), tat - now, allowAt - now, nil
  end
  return 1, idiv(now + tau - newTat, interval), newTat - now, 0, function()
    redis.call('SET', key, fmt(newTat), 'PX', math.max(1, ceil((newTat - now) / 1000)))
  end
end

local function window(key, limit, w, n)
  local v = redis.call('HMGET', key, 's', 'p', 'c')
  local start = now - fmod(now, w)
  local prev, curr = 0, 0
  if v[1] then
    local s = tonumber(v[1])
    if s == start then
      prev, curr = tonumber(v[2]), tonumber(v[3])
    elseif s == start - w then
      prev = tonumber(v[3])
    end
  end
  local elapsed = now - start
  local est = prev * (w - elapsed) / w + curr
  if est + n <= limit then
    local c = curr + n
    return 1, math.max(0, floor(limit - est - n)), start + 2 * w - now, 0, function()
      redis.call('HSET', key, 's', fmt(start), 'p', fmt(prev), 'c', fmt(c))
      redis.call('PEXPIRE', key, math.max(1, ceil((start + 2 * w - now) / 1000)))
    end
  end
  local retry
  if curr + n <= limit then
    local need = w - (limit - curr - n) * w / prev
    retry = math.max(1, ceil(need) - elapsed)
  else
    local need = 0
    if curr > 0 then need = math.max(0, w - (limit - n) * w / curr) end
    retry = start + w - now + ceil(need)
  end
  local reset = 0
  if curr > 0 then reset = start + 2 * w - now elseif prev > 0 then reset = start + w - now end
  return 0, math.max(0, floor(limit - est)), reset, retry, nil
end

local function decide(i, units)
  local b = 2 + (i - 1) * 5
  if ARGV[b + 1] == 'w' then
    return window(KEYS[i], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), units)
  end
  return gcra(KEYS[i], tonumber(ARGV[b + 5]), tonumber(ARGV[b + 4]), units)
end

local out, writes, all = {}, {}, true
for i = 1, #KEYS do
  local ok, rem, reset, retry, write = decide(i, n)
  out[#out + 1] = ok
  out[#out + 1] = rem
  out[#out + 1] = reset
  out[#out + 1] = retry
  writes[i] = write
  if ok == 0 then all = false end
end
if all then
  for i = 1, #KEYS do
    if writes[i] then writes[i]() end
  end
  return out
end
-- All or nothing: the quotas that would have allowed report their
-- untouched state, as a request for zero units sees it.
for i = 1, #KEYS do
  local j = (i - 1) * 4
  if out[j + 1] == 1 then
    local _, rem, reset = decide(i, 0)
    out[j + 1], out[j + 2], out[j + 3], out[j + 4] = 0, rem, reset, 0
  end
end
return out
