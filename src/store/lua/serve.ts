/**
 * The decision's one round trip: a Lua port of `walkPlan` (src/domain/selection.ts) that checks
 * every candidate's caps and counts the winners atomically, so parallel page views of one user can
 * never exceed a cap. Loaded once and called by EVALSHA (ioredis `defineCommand` falls back to EVAL
 * on NOSCRIPT).
 *
 * KEYS: the plan's cap counters, in plan order (KEYS[i] is counter i-1), then, when ARGV[4] is
 * not "", the page view's memory hash (`c:<campaignId>` and `l:<label>` fields -> advertiserId).
 * ARGV[1]: the plan as JSON (see `encodePlan`):
 *   { s: [capacity per slot], w: [window seconds per counter, 0 = lifetime],
 *     c: [[slot (1-based), campaignId, advertiserId, [labels], [[counter (1-based), limit], ...]], ...],
 *     pc: [prior campaignIds], pl: { label: advertiserId } }
 * ARGV[2]: "1" to count the winners, "0" for a read-only walk (tests compare it with walkPlan).
 * ARGV[3] (optional, with ARGV[2] = "1"): the decision's record as JSON (see `encodeRecord`):
 *   { p: counter key prefix, g: lifetime served hash, h: hour bucket, d: day bucket, u: user hash or "", th / td: hourly /
 *     daily TTL seconds, s: event stream key, m: stream MAXLEN, si: [slot ids], e: {entry fields} }
 *   For every winner: HINCRBY the campaign's field of the lifetime `pacing` hash (key `g`), `served` and
 *   `u:<unit>:served` on its hour and day hashes, the user hash into the advertiser's day reach,
 *   PFADD the user hash to its hour and day reach; then one XADD of the decision to the stream.
 *   Keys: `<p>{c:<campaignId>}:h:<hour>` etc., the formats of keys.ts `campaignTag`.
 * ARGV[4]: the page view memory's TTL in seconds, or "" when the decision has no page view id.
 *   Its campaigns and labels join the plan's prior ones before the walk; the winners' are added
 *   after it (only when writing).
 * ARGV[5]: a deadline in Unix ms, or "": a script that starts after it (Redis stalled while the
 *   caller's command timed out and it served the decision degraded) writes nothing and returns
 *   "LATE", so no serve is counted that the reader never saw.
 * Returns one digit per candidate: 0 skipped (slot full), 1 won, 2 capped, 3 separated.
 */
import type { PlanCandidate, PlanCap, PlanCounter, SelectionPlan } from "../../domain/selection.js";
import type { Keys } from "../keys.js";
import type { RetentionPolicy, ServeRequest } from "../ports.js";

export const SERVE_LUA = `
if ARGV[5] and ARGV[5] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[5]) then return 'LATE' end
end
local plan = cjson.decode(ARGV[1])
local write = ARGV[2] == '1'
local capacity, windows = plan.s, plan.w
local filled, used, owner, counts = {}, {}, {}, {}
for _, id in ipairs(plan.pc or {}) do used[id] = true end
if type(plan.pl) == 'table' then for l, a in pairs(plan.pl) do owner[l] = a end end
local pvTtl = tonumber(ARGV[4] or '')
local pvKey = pvTtl and KEYS[#KEYS]
if pvKey then
  local seen = redis.call('HGETALL', pvKey)
  for j = 1, #seen, 2 do
    local kind, name = string.sub(seen[j], 1, 2), string.sub(seen[j], 3)
    if kind == 'c:' then used[name] = true elseif kind == 'l:' then owner[name] = seen[j + 1] end
  end
end
local out = {}
for i, c in ipairs(plan.c) do
  local slot, campaign, advertiser, labels, caps = c[1], c[2], c[3], c[4], c[5]
  local code = '1'
  if (filled[slot] or 0) >= (capacity[slot] or 0) then
    code = '0'
  elseif used[campaign] then
    code = '3'
  else
    for _, l in ipairs(labels) do
      local o = owner[l]
      if o and o ~= advertiser then code = '3' break end
    end
    if code == '1' then
      for _, cap in ipairs(caps) do
        local k = cap[1]
        local n = counts[k]
        if n == nil then n = tonumber(redis.call('GET', KEYS[k]) or '0') counts[k] = n end
        if n >= cap[2] then code = '2' break end
      end
    end
  end
  if code == '1' then
    filled[slot] = (filled[slot] or 0) + 1
    used[campaign] = true
    for _, l in ipairs(labels) do owner[l] = advertiser end
    if write then
      for _, cap in ipairs(caps) do
        local k = cap[1]
        local v = redis.call('INCR', KEYS[k])
        local ttl = windows[k]
        if v == 1 and ttl > 0 then redis.call('EXPIRE', KEYS[k], ttl) end
        counts[k] = v
      end
    end
  end
  out[i] = code
end
if write and pvKey then
  -- One HSET with every winner's campaign and labels, then one EXPIRE.
  local fields = {}
  for i, c in ipairs(plan.c) do
    if out[i] == '1' then
      fields[#fields + 1] = 'c:' .. c[2]
      fields[#fields + 1] = c[3]
      for _, l in ipairs(c[4]) do
        fields[#fields + 1] = 'l:' .. l
        fields[#fields + 1] = c[3]
      end
    end
  end
  if #fields > 0 then
    redis.call('HSET', pvKey, unpack(fields))
    redis.call('EXPIRE', pvKey, pvTtl)
  end
end
if write and ARGV[3] and ARGV[3] ~= '' then
  local r = cjson.decode(ARGV[3])
  local served = {}
  for i, c in ipairs(plan.c) do
    if out[i] == '1' then
      local tag = r.p .. '{c:' .. c[2] .. '}:'
      local unitField = 'u:' .. c[6] .. ':served'
      local hk, dk = tag .. 'h:' .. r.h, tag .. 'd:' .. r.d
      local rh, rd = tag .. 'rh:' .. r.h, tag .. 'r:' .. r.d
      local ad = r.p .. '{a:' .. c[3] .. '}:r:' .. r.d
      redis.call('HINCRBY', r.g, c[2], 1)
      -- Keys get their TTL once, when the campaign's first serve of the hour (or day) creates its
      -- counter hash: the reach sketches of that hour (day) are created empty at the same moment
      -- (PFADD without elements) and given the same TTL, and so is the advertiser's day sketch
      -- (EXPIRE NX: set by whichever of its campaigns serves first that day). Later serves only add.
      redis.call('HINCRBY', hk, unitField, 1)
      if redis.call('HINCRBY', hk, 'served', 1) == 1 then
        redis.call('EXPIRE', hk, r.th, 'NX')
        redis.call('PFADD', rh)
        redis.call('EXPIRE', rh, r.th, 'NX')
      end
      redis.call('HINCRBY', dk, unitField, 1)
      if redis.call('HINCRBY', dk, 'served', 1) == 1 then
        redis.call('EXPIRE', dk, r.td, 'NX')
        redis.call('PFADD', rd)
        redis.call('EXPIRE', rd, r.td, 'NX')
        redis.call('PFADD', ad)
        redis.call('EXPIRE', ad, r.td, 'NX')
      end
      if r.u ~= '' then
        redis.call('PFADD', rh, r.u)
        redis.call('PFADD', rd, r.u)
        redis.call('PFADD', ad, r.u)
      end
      served[#served + 1] = { slotId = r.si[c[1]], campaignId = c[2], advertiserId = c[3], unitId = c[6] }
    end
  end
  if #served > 0 then
    local e = r.e
    e.units = served
    redis.call('XADD', r.s, 'MAXLEN', '~', r.m, '*', 'e', cjson.encode(e))
  end
end
return table.concat(out)
`;

/** JSON of a number as `JSON.stringify` writes it (non-finite numbers become null). */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : "null");

/**
 * A string as JSON: quoted as it is when no character needs escaping (catalog ids never do), else
 * by `JSON.stringify` (quotes, backslashes, control characters, surrogates).
 */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** Each labels list's JSON: campaigns of one advertiser share one labels array (see the snapshot). */
const labelsJson = new WeakMap<readonly string[], string>();

/**
 * The plan in the compact JSON form the script reads (1-based indexes for Lua):
 * `{"s":[capacity...],"w":[windowSeconds...],"c":[[slot,campaignId,advertiserId,[labels],[[counter,limit]...],unitId]...],"pc":[...],"pl":{...}}`.
 * Written piece by piece (the text `JSON.stringify` gives for that structure, which a test checks):
 * stringifying the nested structure was ~3 % of the server's time in a decisions profile.
 */
export function encodePlan(plan: SelectionPlan): string {
  let out = `{"s":[`;
  for (let i = 0; i < plan.slotCapacity.length; i++) out += (i > 0 ? "," : "") + num(plan.slotCapacity[i] as number);
  out += `],"w":[`;
  for (let i = 0; i < plan.counters.length; i++) out += (i > 0 ? "," : "") + num((plan.counters[i] as PlanCounter).windowSeconds);
  out += `],"c":[`;
  for (let i = 0; i < plan.candidates.length; i++) {
    const c = plan.candidates[i] as PlanCandidate;
    let labels = labelsJson.get(c.labels);
    if (labels === undefined) {
      labels = JSON.stringify(c.labels);
      labelsJson.set(c.labels, labels);
    }
    let caps = "";
    for (let j = 0; j < c.caps.length; j++) {
      const cap = c.caps[j] as PlanCap;
      caps += `${j > 0 ? "," : ""}[${num(cap.counter + 1)},${num(cap.limit)}]`;
    }
    out += `${i > 0 ? "," : ""}[${num(c.slot + 1)},${quote(c.campaignId)},${quote(c.advertiserId)},${labels},[${caps}],${quote(c.unitId)}]`;
  }
  return `${out}],"pc":${JSON.stringify(plan.priorCampaigns ?? [])},"pl":${JSON.stringify(plan.priorLabels ?? {})}}`;
}

/** The decision's record in the form the script reads (ARGV[3]). */
export function encodeRecord(request: ServeRequest, keys: Keys, retention: RetentionPolicy): string {
  const r = request.record;
  if (!r) return "";
  return JSON.stringify({
    p: keys.counterPrefix,
    g: keys.servedTotals,
    h: r.hour,
    d: r.day,
    u: request.userHash ?? "",
    th: retention.hourlyDays * 86400,
    td: retention.dailyDays * 86400,
    s: keys.events,
    m: retention.streamMaxLen,
    si: request.slotIds ?? [],
    e: r.entry,
  });
}

/**
 * Cluster mode only: one campaign's share of a decision's record, written after the serve script
 * (whose keys must all sit in the reader's slot). Same writes as the record section above.
 * KEYS: [1] hour counters, [2] day counters, [3] hour reach, [4] day reach (one campaign's slot).
 * ARGV: [1] unit id, [2] user hash or "", [3] hourly TTL, [4] daily TTL.
 * (The lifetime served count is a separate HINCRBY on the `{pacing}` hash.)
 */
export const SERVED_LUA = `
local unitField = 'u:' .. ARGV[1] .. ':served'
redis.call('HINCRBY', KEYS[1], unitField, 1)
if redis.call('HINCRBY', KEYS[1], 'served', 1) == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]), 'NX')
  redis.call('PFADD', KEYS[3])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[3]), 'NX')
end
redis.call('HINCRBY', KEYS[2], unitField, 1)
if redis.call('HINCRBY', KEYS[2], 'served', 1) == 1 then
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]), 'NX')
  redis.call('PFADD', KEYS[4])
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4]), 'NX')
end
if ARGV[2] ~= '' then
  redis.call('PFADD', KEYS[3], ARGV[2])
  redis.call('PFADD', KEYS[4], ARGV[2])
end
return 1
`;
