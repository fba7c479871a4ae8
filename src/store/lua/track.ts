/**
 * A beacon's one round trip: count a tracking token once per event type.
 *
 * KEYS[1] the token's seen-key (SET NX with a TTL past the token's expiry), KEYS[2] the campaign's
 * hour counters, KEYS[3] its day counters, KEYS[4] the event stream (absent on a Redis Cluster,
 * where the stream lives in another slot and the caller appends the entry itself).
 * ARGV: [1] event field (`impression` | `viewable` | `click`), [2] unit id, [3] seen TTL seconds,
 * [4] hourly TTL, [5] daily TTL, [6] stream MAXLEN, [7] entry JSON (appended when counted),
 * [8] a filter reason for a first use ("" to count it).
 * Returns 1 when counted, 0 when the token was already seen (counted as `f:duplicate`), 2 when a
 * first use was counted under `f:<ARGV[8]>` (the token stays unspent).
 */
export const TRACK_LUA = `
local field, unit = ARGV[1], ARGV[2]
local counted, f
if ARGV[8] and ARGV[8] ~= '' then
  -- Filtered first use: the token is not spent, so a later use within the rate still counts.
  if redis.call('EXISTS', KEYS[1]) == 1 then counted, f = 0, 'f:duplicate' else counted, f = 2, 'f:' .. ARGV[8] end
elseif redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[3]), 'NX') then
  -- Spent by this use: one SET NX both checks and marks the token.
  counted, f = 1, field
else
  counted, f = 0, 'f:duplicate'
end
-- Counted per unit only (a campaign's count is the sum of its units'). A hash gets its TTL when
-- a write takes one of its fields from nothing to 1 (EXPIRE NX: the first such write sets it).
if redis.call('HINCRBY', KEYS[2], 'u:' .. unit .. ':' .. f, 1) == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]), 'NX') end
if redis.call('HINCRBY', KEYS[3], 'u:' .. unit .. ':' .. f, 1) == 1 then redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]), 'NX') end
if counted == 1 and KEYS[4] then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'e', ARGV[7])
end
return counted
`;

/**
 * Counts a filtered event (bot, expired, rate limited) on the hour and day hashes.
 * KEYS[1] hour counters, KEYS[2] day counters. ARGV: [1] field (`f:<reason>`), [2] unit id,
 * [3] hourly TTL, [4] daily TTL.
 */
export const FILTERED_LUA = `
for i = 1, 2 do
  if redis.call('HINCRBY', KEYS[i], 'u:' .. ARGV[2] .. ':' .. ARGV[1], 1) == 1 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 + i]), 'NX') end
end
return 1
`;
