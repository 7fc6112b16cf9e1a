/**
 * Lua for the store work: atomic read-modify-write updates that would race between instances,
 * and reads batched into the same command. Registered with `defineCommand` (EVALSHA with EVAL
 * fallback). All single-slot: keys that one call touches together share a hash tag (keys.ts).
 */

/**
 * All per-message store work in one script: every store call of one tick (all checks of an SMTP
 * stage, of every session) is one operation in one EVALSHA (see redis-batch.ts), so a stage costs
 * one command and one round trip. Each operation mirrors a pure function of the embedded store
 * (reputation/math.ts, store/memory.ts); the shared contract suite checks both behave the same.
 *
 * Layout: ARGV[1] holds every argument, one per line (A below): A[1] = number of operations;
 * then per operation its code, its key count, its argument count and its arguments. Arguments are
 * numbers, codes and JSON (which never contains a raw newline), so a newline is a safe separator;
 * one string instead of dozens of arguments saves the client most of its per-argument work and
 * allocation when building the command. The keys follow in KEYS, in operation order. Returns one
 * reply per operation, in order. In a Cluster all keys of one call share a hash tag (one slot).
 *
 * Operations (keys | arguments → reply):
 * - `rg` reputation read | entry hashes | — → one HMGET row {s, h, n, c, t} per key (decay is
 *   applied by the caller);
 * - `rr` reputation decayed-sum update | entry hashes | now, halfLifeMs, ttlMs, spam, ham, score
 *   (one sample added to every key) → key count;
 * - `tb` token buckets, each independent (a refused bucket takes nothing) | bucket hashes
 *   {k tokens, t last refill} | now, cost (negative = refund, capped at the burst), slackMs, then
 *   per bucket ratePerSec, burst → {allowed 0/1, remaining (floored), retryAfterMs} per bucket,
 *   flat. The TTL is the time to refill completely: an expired bucket is a full one;
 * - `gl` greylist triplet state machine (RFC 6647 §2.2) | per triplet its hash {f first-seen,
 *   p passes, l last} then its auto-allow hash {n passed triplets, l last pass} (both {net}
 *   tagged) | now, delayMs, windowMs, passTtlMs, autoAllowTtlMs, then per triplet autoAllowAfter
 *   (0 = off) → {state, retryInMs} per triplet, flat: 0 new, 1 early, 2 pass, 3 allowed.
 *   Triplets run in order, as separate calls would (a pass counts toward the next auto-allow);
 * - `hp` history push | the list | entry JSON, maxEntries, ttlMs → 1 (LPUSH, LTRIM, PEXPIRE).
 *
 * Numbers go back as strings where fractions matter: Redis truncates Lua numbers to integers.
 */
export const STORE_OPS = `
local A = {}
do
  local s, i = ARGV[1], 1
  while true do
    local j = string.find(s, '\\n', i, true)
    if not j then
      A[#A + 1] = string.sub(s, i)
      break
    end
    A[#A + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end

local function rg(k0, nk, a0)
  local out = {}
  for i = 1, nk do out[i] = redis.call('HMGET', KEYS[k0 + i], 's', 'h', 'n', 'c', 't') end
  return out
end

local function rr(k0, nk, a0)
  local now = tonumber(A[a0 + 1])
  local hl = tonumber(A[a0 + 2])
  local ttl = A[a0 + 3]
  local xs = tonumber(A[a0 + 4])
  local xh = tonumber(A[a0 + 5])
  local xc = tonumber(A[a0 + 6])
  for i = 1, nk do
    local key = KEYS[k0 + i]
    local v = redis.call('HMGET', key, 's', 'h', 'n', 'c', 't')
    local s = tonumber(v[1]) or 0
    local h = tonumber(v[2]) or 0
    local n = tonumber(v[3]) or 0
    local c = tonumber(v[4]) or 0
    local t = tonumber(v[5]) or 0
    local f = 1
    if t > 0 and now > t then f = 2 ^ (-(now - t) / hl) end
    s = s * f + xs
    h = h * f + xh
    n = n * f + 1
    c = c * f + xc
    if now > t then t = now end
    redis.call('HSET', key, 's', tostring(s), 'h', tostring(h), 'n', tostring(n), 'c', tostring(c), 't', tostring(t))
    redis.call('PEXPIRE', key, ttl)
  end
  return nk
end

local function tb(k0, nk, a0)
  local now = tonumber(A[a0 + 1])
  local cost = tonumber(A[a0 + 2])
  local slack = tonumber(A[a0 + 3])
  local out = {}
  for i = 1, nk do
    local key = KEYS[k0 + i]
    local rate = tonumber(A[a0 + 2 + 2 * i])
    local burst = tonumber(A[a0 + 3 + 2 * i])
    local v = redis.call('HMGET', key, 'k', 't')
    local k = tonumber(v[1])
    local t = tonumber(v[2]) or now
    if not k then k = burst end
    if now > t then
      k = math.min(burst, k + (now - t) / 1000 * rate)
      t = now
    end
    local allowed = 0
    local retry = 0
    if k >= cost then
      k = math.min(burst, k - cost)
      allowed = 1
    else
      retry = math.ceil((cost - k) / rate * 1000)
    end
    redis.call('HSET', key, 'k', tostring(k), 't', tostring(t))
    redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + slack)
    out[3 * i - 2] = allowed
    out[3 * i - 1] = math.floor(k)
    out[3 * i] = retry
  end
  return out
end

local function gl(k0, nk, a0)
  local now = tonumber(A[a0 + 1])
  local delay = tonumber(A[a0 + 2])
  local window = tonumber(A[a0 + 3])
  local passTtl = tonumber(A[a0 + 4])
  local allowTtl = tonumber(A[a0 + 5])
  local function one(tk, ak, allowAfter)
    if allowAfter > 0 then
      local a = redis.call('HMGET', ak, 'n', 'l')
      local an = tonumber(a[1]) or 0
      local al = tonumber(a[2]) or 0
      if an >= allowAfter and now - al < allowTtl then return 3, 0 end
    end
    local t = redis.call('HMGET', tk, 'f', 'p', 'l')
    local first = tonumber(t[1])
    local passes = tonumber(t[2]) or 0
    local last = tonumber(t[3]) or 0
    if first and passes > 0 and now - last <= passTtl then
      redis.call('HSET', tk, 'p', passes + 1, 'l', now)
      redis.call('PEXPIRE', tk, passTtl)
      return 2, 0
    end
    if first and passes == 0 and now - first < delay then
      return 1, first + delay - now
    end
    if first and passes == 0 and now - first <= delay + window then
      redis.call('HSET', tk, 'p', 1, 'l', now)
      redis.call('PEXPIRE', tk, passTtl)
      if allowAfter > 0 then
        redis.call('HINCRBY', ak, 'n', 1)
        redis.call('HSET', ak, 'l', now)
        redis.call('PEXPIRE', ak, allowTtl)
      end
      return 2, 0
    end
    redis.call('DEL', tk)
    redis.call('HSET', tk, 'f', now, 'p', 0, 'l', now)
    redis.call('PEXPIRE', tk, delay + window)
    return 0, delay
  end
  local out = {}
  for i = 1, nk / 2 do
    local st, retry = one(KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i], tonumber(A[a0 + 5 + i]))
    out[2 * i - 1] = st
    out[2 * i] = retry
  end
  return out
end

local function hp(k0, nk, a0)
  local key = KEYS[k0 + 1]
  redis.call('LPUSH', key, A[a0 + 1])
  redis.call('LTRIM', key, 0, tonumber(A[a0 + 2]) - 1)
  redis.call('PEXPIRE', key, A[a0 + 3])
  return 1
end

local OPS = { rg = rg, rr = rr, tb = tb, gl = gl, hp = hp }
local out = {}
local k0 = 0
local a = 2
for op = 1, tonumber(A[1]) do
  local fn = OPS[A[a]]
  local nk = tonumber(A[a + 1])
  local na = tonumber(A[a + 2])
  if not fn then return redis.error_reply('ERR spamgate: unknown store op ' .. tostring(A[a])) end
  out[op] = fn(k0, nk, a + 2)
  k0 = k0 + nk
  a = a + 3 + na
end
return out
`;

/**
 * Bayes token counts, clamped at 0 (unlearn never goes negative). KEYS[1] bucket hash.
 * ARGV: dSpam, dHam, then token ids; fields `<id>:s`, `<id>:h`; a token at 0/0 is removed.
 */
export const BAYES_INCR = `
local ds = tonumber(ARGV[1])
local dh = tonumber(ARGV[2])
for i = 3, #ARGV do
  local fs = ARGV[i] .. ':s'
  local fh = ARGV[i] .. ':h'
  local s = math.max(0, (tonumber(redis.call('HGET', KEYS[1], fs)) or 0) + ds)
  local h = math.max(0, (tonumber(redis.call('HGET', KEYS[1], fh)) or 0) + dh)
  if s == 0 and h == 0 then
    redis.call('HDEL', KEYS[1], fs, fh)
  else
    redis.call('HSET', KEYS[1], fs, s, fh, h)
  end
end
return 1
`;
