/**
 * The decision's one round trip: a Lua port of `walkPlan` (src/domain/selection.ts) that checks
 * every candidate's caps and counts the winners atomically, so parallel page views of one user can
 * never exceed a cap. Loaded once and called by EVALSHA (ioredis `defineCommand` falls back to EVAL
 * on NOSCRIPT). `serveScriptArgs` builds its arguments.
 *
 * The plan is plain text, one argument per slot, read lazily: a slot's candidates are read one at
 * a time until the slot is full, and the rest are counted, not read. (The plan used to be one JSON
 * text: `cjson.decode` of a typical 20-candidate plan cost Redis ~70 µs per call, a quarter of the
 * script's time, while a walk reads ~6 of the 20.) The record is separate arguments too.
 *
 * KEYS: the plan's cap counters, in plan order (KEYS[i] is counter i-1), then, when ARGV[3] is
 * not "", the page view's memory hash (`c:<campaignId>` and `l:<label>` fields -> advertiserId).
 * ARGV[1]: the plan's header (see `encodePlan`), four `|`-separated parts:
 *   `<capacity>:<candidates>` per slot, comma-separated | window seconds per counter, 0 = lifetime |
 *   prior campaigns, space-separated | prior labels, each `<label> <advertiser>;`.
 * ARGV[2]: "1" to count the winners, "0" for a read-only walk (tests compare it with walkPlan).
 * ARGV[3]: the page view memory's TTL in seconds, or "" when the decision has no page view id.
 *   Its campaigns and labels join the plan's prior ones before the walk; the winners' are added
 *   after it (only when writing).
 * ARGV[4]: a deadline in Unix ms, or "": a script that starts after it (Redis stalled while the
 *   caller's command timed out and it served the decision degraded) writes nothing and returns
 *   "LATE", so no serve is counted that the reader never saw.
 * ARGV[5..15] (with ARGV[2] = "1"): the decision's record (see `recordArgs`), or ARGV[5] = "" for none:
 *   [5] counter key prefix, [6] lifetime served hash, [7] hour bucket, [8] day bucket,
 *   [9] user hash or "", [10] / [11] hourly / daily TTL seconds, [12] event stream key,
 *   [13] stream MAXLEN, [14] the slot ids as JSON strings, one per line, [15] the event entry's JSON
 *   without its closing brace (the script appends `"units":[...]}`).
 *   For every winner: HINCRBY the campaign's field of the lifetime `pacing` hash and
 *   `u:<unit>:served` on its hour and day hashes (a campaign's count is the sum of its units',
 *   see report-service `campaignCounts`), PFADD the user hash to its hour and day reach and to the
 *   advertiser's day reach; then one XADD of the decision to the stream.
 *   Keys: `<prefix>{c:<campaignId>}:h:<hour>` etc., the formats of keys.ts `campaignTag`.
 * ARGV[15 + s], s = 1..S (S slots): slot s's candidates in rank order, each
 *   `<campaign> <advertiser> <labels> <caps> <unit>;`, labels `a,b` and caps `<counter>:<limit>,...`
 *   (1-based counters; both may be empty).
 * ARGV[15 + S + n]: the plan's n-th string. Every string is written as itself when it is made of
 *   `[A-Za-z0-9_-]` only (catalog ids always are), else as `#<n>`.
 * Returns one digit per candidate, in plan order: 0 skipped (slot full), 1 won, 2 capped, 3 separated.
 */
import type { PlanCandidate, PlanCap, PlanCounter, SelectionPlan } from "../../domain/selection.js";
import type { Keys } from "../keys.js";
import type { RetentionPolicy, ServeRequest } from "../ports.js";

export const SERVE_LUA = `
if ARGV[4] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[4]) then return 'LATE' end
end
local sSlots, sWin, sPc, sPl = string.match(ARGV[1], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
local slots = {}
for cap, count in string.gmatch(sSlots, '(%d+):(%d+)') do slots[#slots + 1] = { tonumber(cap), tonumber(count) } end
local strBase = 15 + #slots
local function str(x)
  if string.byte(x, 1) == 35 then return ARGV[strBase + tonumber(string.sub(x, 2))] end
  return x
end
local write = ARGV[2] == '1'
local windows = {}
for n in string.gmatch(sWin, '%d+') do windows[#windows + 1] = tonumber(n) end
local used, owner, counts = {}, {}, {}
for x in string.gmatch(sPc, '[^ ]+') do used[str(x)] = true end
for l, a in string.gmatch(sPl, '([^ ;]+) ([^ ;]+);') do owner[str(l)] = str(a) end
local pvTtl = tonumber(ARGV[3])
local pvKey = pvTtl and KEYS[#KEYS]
if pvKey then
  local seen = redis.call('HGETALL', pvKey)
  for j = 1, #seen, 2 do
    local kind, name = string.sub(seen[j], 1, 2), string.sub(seen[j], 3)
    if kind == 'c:' then used[name] = true elseif kind == 'l:' then owner[name] = seen[j + 1] end
  end
end
local out, winners = {}, {}
for slot, s in ipairs(slots) do
  local capacity, count, seg = s[1], s[2], ARGV[15 + slot]
  local pos, filled, read = 1, 0, 0
  while filled < capacity and read < count do
    read = read + 1
    local campaign, advertiser, labels, caps, unit, after = string.match(seg, '^([^ ]+) ([^ ]+) ([^ ]*) ([^ ]*) ([^ ;]+);()', pos)
    pos = after
    campaign = str(campaign)
    local code = '1'
    local ls
    if used[campaign] then
      code = '3'
    else
      advertiser = str(advertiser)
      ls = {}
      for l in string.gmatch(labels, '[^,]+') do
        l = str(l)
        ls[#ls + 1] = l
        local o = owner[l]
        if o and o ~= advertiser then code = '3' break end
      end
      if code == '1' then
        for k, limit in string.gmatch(caps, '(%d+):(%d+)') do
          k = tonumber(k)
          local n = counts[k]
          if n == nil then n = tonumber(redis.call('GET', KEYS[k]) or '0') counts[k] = n end
          if n >= tonumber(limit) then code = '2' break end
        end
      end
    end
    if code == '1' then
      filled = filled + 1
      used[campaign] = true
      for _, l in ipairs(ls) do owner[l] = advertiser end
      winners[#winners + 1] = { slot, campaign, advertiser, ls, str(unit) }
      if write then
        for k in string.gmatch(caps, '(%d+):') do
          k = tonumber(k)
          local v = redis.call('INCR', KEYS[k])
          local ttl = windows[k]
          if v == 1 and ttl > 0 then redis.call('EXPIRE', KEYS[k], ttl) end
          counts[k] = v
        end
      end
    end
    out[#out + 1] = code
  end
  if read < count then out[#out + 1] = string.rep('0', count - read) end
end
if write and pvKey and #winners > 0 then
  -- One HSET with every winner's campaign and labels, then one EXPIRE.
  local fields = {}
  for _, w in ipairs(winners) do
    fields[#fields + 1] = 'c:' .. w[2]
    fields[#fields + 1] = w[3]
    for _, l in ipairs(w[4]) do
      fields[#fields + 1] = 'l:' .. l
      fields[#fields + 1] = w[3]
    end
  end
  redis.call('HSET', pvKey, unpack(fields))
  redis.call('EXPIRE', pvKey, pvTtl)
end
if write and ARGV[5] ~= '' and #winners > 0 then
  local p, g, h, d, u, th, td = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
  local slotIds = {}
  for x in string.gmatch(ARGV[14], '[^\\n]+') do slotIds[#slotIds + 1] = x end
  local function json(x)
    if string.find(x, '^[%w_%-]+$') then return '"' .. x .. '"' end
    return cjson.encode(x)
  end
  local served = {}
  for _, w in ipairs(winners) do
    local campaign, advertiser, unit = w[2], w[3], w[5]
    local tag = p .. '{c:' .. campaign .. '}:'
    local unitField = 'u:' .. unit .. ':served'
    local hk, dk = tag .. 'h:' .. h, tag .. 'd:' .. d
    local rh, rd = tag .. 'rh:' .. h, tag .. 'r:' .. d
    local ad = p .. '{a:' .. advertiser .. '}:r:' .. d
    redis.call('HINCRBY', g, campaign, 1)
    -- Keys get their TTL when a unit's first serve of the hour (or day) adds its field: the
    -- campaign's counter hash and reach sketches of that hour (day) with EXPIRE NX, the sketches
    -- created empty (PFADD without elements) if they are new, and so the advertiser's day sketch
    -- (set by whichever of its campaigns serves first that day). Later serves only add.
    if redis.call('HINCRBY', hk, unitField, 1) == 1 then
      redis.call('EXPIRE', hk, th, 'NX')
      redis.call('PFADD', rh)
      redis.call('EXPIRE', rh, th, 'NX')
    end
    if redis.call('HINCRBY', dk, unitField, 1) == 1 then
      redis.call('EXPIRE', dk, td, 'NX')
      redis.call('PFADD', rd)
      redis.call('EXPIRE', rd, td, 'NX')
      redis.call('PFADD', ad)
      redis.call('EXPIRE', ad, td, 'NX')
    end
    if u ~= '' then
      redis.call('PFADD', rh, u)
      redis.call('PFADD', rd, u)
      redis.call('PFADD', ad, u)
    end
    served[#served + 1] = '{"slotId":' .. (slotIds[w[1]] or '"' .. (w[1] - 1) .. '"') .. ',"campaignId":' .. json(campaign) ..
      ',"advertiserId":' .. json(advertiser) .. ',"unitId":' .. json(unit) .. '}'
  end
  redis.call('XADD', ARGV[12], 'MAXLEN', '~', ARGV[13], '*', 'e', ARGV[15] .. '"units":[' .. table.concat(served, ',') .. ']}')
end
return table.concat(out)
`;

/** True when `s` can be written into the plan as itself: `[A-Za-z0-9_-]+` (every catalog id). */
function isBare(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || (c >= 0x41 && c <= 0x5a))) return false;
  }
  return true;
}

/** A number the script's `%d+` reads back as itself. */
const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** The plan as the script reads it: its header, one text per slot, and the strings they refer to as `#<n>`. */
export interface EncodedPlan {
  readonly header: string;
  readonly slots: readonly string[];
  readonly strings: readonly string[];
}

/** Each labels list's text when every label is bare (campaigns of one advertiser share one array). */
const bareLabels = new WeakMap<readonly string[], string | null>();

/**
 * The plan in the text form the script walks (see SERVE_LUA): a header (`<capacity>:<candidates>`
 * per slot | windows | prior campaigns | prior labels) and each slot's candidates, 1-based counters.
 * Strings other than `[A-Za-z0-9_-]+` go to `strings` and are written as `#<n>`, so a label (free
 * text) never needs escaping. Candidates must come ordered by slot, as `planDecision` builds them:
 * the script returns its outcomes slot by slot.
 */
export function encodePlan(plan: SelectionPlan): EncodedPlan {
  const strings: string[] = [];
  let refs: Map<string, string> | undefined;
  const ref = (s: string): string => {
    if (isBare(s)) return s;
    refs ??= new Map();
    let r = refs.get(s);
    if (r === undefined) {
      strings.push(s);
      r = `#${strings.length}`;
      refs.set(s, r);
    }
    return r;
  };
  const last = plan.candidates.length > 0 ? (plan.candidates[plan.candidates.length - 1] as PlanCandidate).slot : -1;
  const slotCount = Math.max(plan.slotCapacity.length, last + 1);
  const slots = new Array<string>(slotCount).fill("");
  const counts = new Array<number>(slotCount).fill(0);
  let previous = 0;
  for (let i = 0; i < plan.candidates.length; i++) {
    const c = plan.candidates[i] as PlanCandidate;
    if (c.slot < previous || !Number.isInteger(c.slot)) throw new Error("the plan's candidates must be ordered by slot");
    previous = c.slot;
    let labels = bareLabels.get(c.labels);
    if (labels === undefined) {
      labels = c.labels.every(isBare) ? c.labels.join(",") : null;
      bareLabels.set(c.labels, labels);
    }
    if (labels === null) labels = c.labels.map(ref).join(",");
    let caps = "";
    for (let j = 0; j < c.caps.length; j++) {
      const cap = c.caps[j] as PlanCap;
      // The script reads digits only: anything else would drop the cap without a word.
      if (!isCount(cap.limit) || !isCount(cap.counter)) throw new Error(`a cap's limit and counter must be whole numbers (got ${cap.limit}, ${cap.counter})`);
      caps += `${j > 0 ? "," : ""}${cap.counter + 1}:${cap.limit}`;
    }
    slots[c.slot] += `${ref(c.campaignId)} ${ref(c.advertiserId)} ${labels} ${caps} ${ref(c.unitId)};`;
    counts[c.slot] = (counts[c.slot] as number) + 1;
  }
  let header = "";
  for (let i = 0; i < slotCount; i++) header += `${i > 0 ? "," : ""}${plan.slotCapacity[i] ?? 0}:${counts[i]}`;
  header += "|";
  for (let i = 0; i < plan.counters.length; i++) {
    const window = (plan.counters[i] as PlanCounter).windowSeconds;
    if (!isCount(window)) throw new Error(`a counter's window must be a whole number of seconds (got ${window})`);
    header += (i > 0 ? "," : "") + String(window);
  }
  header += "|";
  const prior = plan.priorCampaigns ?? [];
  for (let i = 0; i < prior.length; i++) header += (i > 0 ? " " : "") + ref(prior[i] as string);
  header += "|";
  const priorLabels = plan.priorLabels;
  if (priorLabels) for (const label of Object.keys(priorLabels)) header += `${ref(label)} ${ref(priorLabels[label] as string)};`;
  return { header, slots, strings };
}

/** ARGV[5..15] when the script writes no record. */
const NO_RECORD: readonly string[] = ["", "", "", "", "", "", "", "", "", "", ""];

/** The decision's record as the script's ARGV[5..15] (see SERVE_LUA), or "no record". */
export function recordArgs(request: ServeRequest, keys: Keys, retention: RetentionPolicy): readonly string[] {
  const r = request.record;
  if (!r) return NO_RECORD;
  let slots = "";
  const slotIds = request.slotIds ?? [];
  for (let i = 0; i < request.plan.slotCapacity.length; i++) slots += (i > 0 ? "\n" : "") + JSON.stringify(slotIds[i] ?? String(i));
  const entry = JSON.stringify("units" in r.entry ? { ...r.entry, units: undefined } : r.entry);
  return [
    keys.counterPrefix,
    keys.servedTotals,
    r.hour,
    r.day,
    request.userHash ?? "",
    String(retention.hourlyDays * 86400),
    String(retention.dailyDays * 86400),
    keys.events,
    String(retention.streamMaxLen),
    slots,
    entry.length > 2 ? `${entry.slice(0, -1)},` : "{",
  ];
}

/** What a serve call sends besides its keys. */
export interface ServeCallOptions {
  /** Count the winners (`false`: a read-only walk). */
  readonly write: boolean;
  /** The page view memory's TTL in seconds, when the call's last key is the page view's hash. */
  readonly pageViewTtlSeconds?: number | undefined;
  /** Unix ms after which the script must not run. */
  readonly deadlineMs?: number | undefined;
  /** `recordArgs`'s result (default: no record). */
  readonly record?: readonly string[] | undefined;
}

/** The serve script's ARGV (see SERVE_LUA) for a plan. */
export function serveScriptArgs(plan: SelectionPlan, options: ServeCallOptions): string[] {
  const encoded = encodePlan(plan);
  return [
    encoded.header,
    options.write ? "1" : "0",
    options.pageViewTtlSeconds === undefined ? "" : String(options.pageViewTtlSeconds),
    options.deadlineMs === undefined ? "" : String(options.deadlineMs),
    ...(options.record ?? NO_RECORD),
    ...encoded.slots,
    ...encoded.strings,
  ];
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
if redis.call('HINCRBY', KEYS[1], unitField, 1) == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]), 'NX')
  redis.call('PFADD', KEYS[3])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[3]), 'NX')
end
if redis.call('HINCRBY', KEYS[2], unitField, 1) == 1 then
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
