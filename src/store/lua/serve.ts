/**
 * The decision's one round trip: a Lua port of `walkPlan` (src/domain/selection.ts) that checks
 * every candidate's caps and counts the winners atomically, so parallel page views of one user can
 * never exceed a cap. Loaded once and called by EVALSHA (ioredis `defineCommand` falls back to EVAL
 * on NOSCRIPT).
 *
 * KEYS: the plan's cap counters, in plan order (KEYS[i] is counter i-1).
 * ARGV[1]: the plan as JSON (see `encodePlan`):
 *   { s: [capacity per slot], w: [window seconds per counter, 0 = lifetime],
 *     c: [[slot (1-based), campaignId, advertiserId, [labels], [[counter (1-based), limit], ...]], ...],
 *     pc: [prior campaignIds], pl: { label: advertiserId } }
 * ARGV[2]: "1" to count the winners, "0" for a read-only walk (tests compare it with walkPlan).
 * Returns one digit per candidate: 0 skipped (slot full), 1 won, 2 capped, 3 separated.
 */
import type { SelectionPlan } from "../../domain/selection.js";

export const SERVE_LUA = `
local plan = cjson.decode(ARGV[1])
local write = ARGV[2] == '1'
local capacity, windows = plan.s, plan.w
local filled, used, owner, counts = {}, {}, {}, {}
for _, id in ipairs(plan.pc or {}) do used[id] = true end
if type(plan.pl) == 'table' then for l, a in pairs(plan.pl) do owner[l] = a end end
local out = {}
for i, c in ipairs(plan.c) do
  local slot, campaign, advertiser, labels, caps = c[1], c[2], c[3], c[4], c[5]
  local code = '1'
  if (filled[slot] or 0) >= capacity[slot] then
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
return table.concat(out)
`;

/** The plan in the compact JSON form the script reads (1-based indexes for Lua). */
export function encodePlan(plan: SelectionPlan): string {
  return JSON.stringify({
    s: plan.slotCapacity,
    w: plan.counters.map((c) => c.windowSeconds),
    c: plan.candidates.map((c) => [c.slot + 1, c.campaignId, c.advertiserId, c.labels, c.caps.map((cap) => [cap.counter + 1, cap.limit])]),
    pc: plan.priorCampaigns ?? [],
    pl: plan.priorLabels ?? {},
  });
}
