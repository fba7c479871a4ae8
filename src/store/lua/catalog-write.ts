/**
 * A catalog write: entities set or deleted, the version bumped, the version's record (with each
 * entity's stored `before`) saved, older records trimmed, and a change notice published — all in
 * one atomic script, so a version never exists without its record and vice versa.
 *
 * KEYS[1] version string, KEYS[2] versions hash, KEYS[3..6] entity hashes in ENTITY_KINDS order
 * (advertiser, placement, campaign, unit).
 * ARGV[1] expected version or "" (mismatch: nothing written, returns -1), ARGV[2] meta JSON
 * `{ at, actor, action }`, ARGV[3] records to keep, ARGV[4] pub/sub channel,
 * ARGV[5] writes JSON `[[kindIndex 1..4, id, afterJson | false], ...]`.
 * Returns the new version.
 */
export const CATALOG_WRITE_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return -1 end
local names = { 'advertiser', 'placement', 'campaign', 'unit' }
local writes = cjson.decode(ARGV[5])
local v = redis.call('INCR', KEYS[1])
local meta = cjson.decode(ARGV[2])
-- The record is assembled from pieces in one table and joined once: concatenating each change
-- into its own string first creates (and interns) one more string per entity.
local parts = { '{"version":', v, ',"at":', cjson.encode(meta.at), ',"actor":', cjson.encode(meta.actor), ',"action":', cjson.encode(meta.action), ',"changes":[' }
local n = #parts
for i, w in ipairs(writes) do
  local key = KEYS[2 + w[1]]
  local before = redis.call('HGET', key, w[2])
  local after = w[3]
  if after then redis.call('HSET', key, w[2], after) else redis.call('HDEL', key, w[2]) after = nil end
  parts[n + 1] = i == 1 and '{"kind":"' or ',{"kind":"'
  parts[n + 2] = names[w[1]]
  parts[n + 3] = '","id":'
  parts[n + 4] = cjson.encode(w[2])
  parts[n + 5] = ',"before":'
  parts[n + 6] = before or 'null'
  parts[n + 7] = ',"after":'
  parts[n + 8] = after or 'null'
  parts[n + 9] = '}'
  n = n + 9
end
parts[n + 1] = ']}'
redis.call('HSET', KEYS[2], v, table.concat(parts))
local keep = tonumber(ARGV[3])
if v > keep then redis.call('HDEL', KEYS[2], v - keep) end
redis.call('PUBLISH', ARGV[4], v)
return v
`;
