/**
 * Lua for the read-modify-write updates that would race between instances (all single-slot:
 * multi-key scripts use hash-tagged keys, see keys.ts). Registered with `defineCommand`
 * (EVALSHA with EVAL fallback, pipeline-safe). Numbers go back as strings: Redis truncates Lua
 * numbers to integers in replies.
 *
 * Each script mirrors a pure function the embedded store uses (reputation/math.ts,
 * store/memory.ts), and the shared contract suite checks both behave the same.
 */

/**
 * Reputation decayed-sum update. KEYS[1] entry hash.
 * ARGV: now, halfLifeMs, ttlMs, spam, ham, score.
 */
export const REPUTATION_RECORD = `
local now = tonumber(ARGV[1])
local hl = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 's', 'h', 'n', 'c', 't')
local s = tonumber(v[1]) or 0
local h = tonumber(v[2]) or 0
local n = tonumber(v[3]) or 0
local c = tonumber(v[4]) or 0
local t = tonumber(v[5]) or 0
local f = 1
if t > 0 and now > t then f = 2 ^ (-(now - t) / hl) end
s = s * f + tonumber(ARGV[4])
h = h * f + tonumber(ARGV[5])
n = n * f + 1
c = c * f + tonumber(ARGV[6])
if now > t then t = now end
redis.call('HSET', KEYS[1], 's', tostring(s), 'h', tostring(h), 'n', tostring(n), 'c', tostring(c), 't', tostring(t))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Greylist triplet state machine (RFC 6647 §2.2). KEYS[1] triplet hash {f first-seen, p passes,
 * l last}, KEYS[2] auto-allow hash {n passed triplets, l last pass} (same slot: {net} tag).
 * ARGV: now, delayMs, windowMs, passTtlMs, autoAllowAfter (0 = off), autoAllowTtlMs.
 * Returns {state, retryInMs}: state 0 new, 1 early, 2 pass, 3 allowed.
 */
export const GREYLIST_CHECK = `
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local passTtl = tonumber(ARGV[4])
local allowAfter = tonumber(ARGV[5])
local allowTtl = tonumber(ARGV[6])
if allowAfter > 0 then
  local a = redis.call('HMGET', KEYS[2], 'n', 'l')
  local an = tonumber(a[1]) or 0
  local al = tonumber(a[2]) or 0
  if an >= allowAfter and now - al < allowTtl then return {3, 0} end
end
local t = redis.call('HMGET', KEYS[1], 'f', 'p', 'l')
local first = tonumber(t[1])
local passes = tonumber(t[2]) or 0
local last = tonumber(t[3]) or 0
if first and passes > 0 and now - last <= passTtl then
  redis.call('HSET', KEYS[1], 'p', passes + 1, 'l', now)
  redis.call('PEXPIRE', KEYS[1], passTtl)
  return {2, 0}
end
if first and passes == 0 and now - first < delay then
  return {1, first + delay - now}
end
if first and passes == 0 and now - first <= delay + window then
  redis.call('HSET', KEYS[1], 'p', 1, 'l', now)
  redis.call('PEXPIRE', KEYS[1], passTtl)
  if allowAfter > 0 then
    redis.call('HINCRBY', KEYS[2], 'n', 1)
    redis.call('HSET', KEYS[2], 'l', now)
    redis.call('PEXPIRE', KEYS[2], allowTtl)
  end
  return {2, 0}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'f', now, 'p', 0, 'l', now)
redis.call('PEXPIRE', KEYS[1], delay + window)
return {0, delay}
`;

/**
 * Token bucket. KEYS[1] bucket hash {k tokens, t last refill}.
 * ARGV: now, ratePerSec, burst, cost (negative = refund, capped at burst), slackMs. Returns {allowed 0/1, remaining (floored), retryAfterMs}.
 * The TTL is the time to refill completely: an expired bucket is a full one, so nothing is lost.
 */
export const TOKEN_BUCKET = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'k', 't')
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
redis.call('HSET', KEYS[1], 'k', tostring(k), 't', tostring(t))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + tonumber(ARGV[5]))
return {allowed, math.floor(k), retry}
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
