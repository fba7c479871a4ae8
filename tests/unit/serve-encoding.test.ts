import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SelectionPlan } from "../../src/domain/selection.js";
import { encodePlan, recordArgs, serveScriptArgs, type EncodedPlan } from "../../src/store/lua/serve.js";
import { createKeys } from "../../src/store/keys.js";

/** What the serve script reads of a plan (1-based slots and counters, as Lua indexes). */
function scriptView(plan: SelectionPlan) {
  return {
    s: plan.slotCapacity,
    w: plan.counters.map((c) => c.windowSeconds),
    c: plan.candidates.map((c) => [c.slot + 1, c.campaignId, c.advertiserId, c.labels, c.caps.map((cap) => [cap.counter + 1, cap.limit]), c.unitId]),
    pc: plan.priorCampaigns ?? [],
    pl: plan.priorLabels ?? {},
  };
}

/**
 * The script's reading of the plan, with the same patterns as its Lua (`string.match` and
 * `string.gmatch` translated to regular expressions), every candidate read, so that a round trip
 * checks the grammar.
 */
function decode({ header, slots, strings }: EncodedPlan) {
  const str = (x: string): string => (x.startsWith("#") ? (strings[Number(x.slice(1)) - 1] as string) : x);
  const parts = /^([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)$/.exec(header);
  if (!parts) throw new Error(`not four parts: ${header}`);
  const [, sSlots, sWin, sPc, sPl] = parts as unknown as [string, string, string, string, string];
  const ints = (s: string) => [...s.matchAll(/\d+/g)].map((m) => Number(m[0]));
  const slotHeads = [...sSlots.matchAll(/(\d+):(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  expect(slots).toHaveLength(slotHeads.length);
  const candidates: unknown[] = [];
  slotHeads.forEach(([, count], i) => {
    const seg = slots[i] as string;
    let pos = 0;
    for (let read = 0; read < count; read++) {
      const m = /^([^ ]+) ([^ ]+) ([^ ]*) ([^ ]*) ([^ ;]+);/.exec(seg.slice(pos));
      if (!m) throw new Error(`candidate ${read} of slot ${i}: ${seg.slice(pos)}`);
      pos += m[0].length;
      candidates.push([
        i + 1,
        str(m[1] as string),
        str(m[2] as string),
        [...(m[3] as string).matchAll(/[^,]+/g)].map((l) => str(l[0])),
        [...(m[4] as string).matchAll(/(\d+):(\d+)/g)].map((cap) => [Number(cap[1]), Number(cap[2])]),
        str(m[5] as string),
      ]);
    }
    expect(pos).toBe(seg.length);
  });
  return {
    s: slotHeads.map(([capacity]) => capacity),
    w: ints(sWin),
    c: candidates,
    pc: [...sPc.matchAll(/[^ ]+/g)].map((x) => str(x[0])),
    pl: Object.fromEntries([...sPl.matchAll(/([^ ;]+) ([^ ;]+);/g)].map((m) => [str(m[1] as string), str(m[2] as string)])),
  };
}

/** What the serve script reads of a plan, with a capacity of 0 for slots past `slotCapacity`. */
function scriptViewPadded(plan: SelectionPlan) {
  const view = scriptView(plan);
  const slots = Math.max(plan.slotCapacity.length, ...plan.candidates.map((c) => c.slot + 1));
  return { ...view, s: Array.from({ length: slots }, (_, i) => plan.slotCapacity[i] ?? 0) };
}

const bare = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const text = fc.oneof(bare, fc.string({ unit: "grapheme", maxLength: 12 }), fc.constantFrom("", "#1", "a b", "a;b", "a|b", "a,b", "a:b", "x\ny"));
const labelLists = fc.array(fc.array(text, { maxLength: 3 }), { minLength: 1, maxLength: 4 });

const planArb: fc.Arbitrary<SelectionPlan> = labelLists.chain((lists) =>
  fc.record(
    {
      slotCapacity: fc.array(fc.nat(5), { maxLength: 4 }),
      counters: fc.array(fc.record({ campaignId: text, windowSeconds: fc.nat(40_000_000) }), { maxLength: 6 }),
      candidates: fc.array(
        fc.record({
          slot: fc.nat(3),
          campaignId: text,
          unitId: text,
          advertiserId: text,
          // Shared arrays, as the snapshot's campaigns share their advertiser's labels.
          labels: fc.constantFrom(...lists),
          caps: fc.array(fc.record({ counter: fc.nat(5), limit: fc.integer({ min: 1, max: 1_000_000 }) }), { maxLength: 3 }),
        }),
        { maxLength: 12 },
      ).map((candidates) => candidates.sort((a, b) => a.slot - b.slot)),
      priorCampaigns: fc.array(text, { maxLength: 3 }),
      priorLabels: fc.dictionary(text, text, { maxKeys: 3 }),
    },
    { requiredKeys: ["slotCapacity", "counters", "candidates"] },
  ),
);

describe("encodePlan", () => {
  it("writes a text from which the script's patterns read back exactly the plan, for any plan and any strings", () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const first = encodePlan(plan);
        expect(decode(first)).toEqual(scriptViewPadded(plan));
        // Twice: the second time the labels' text comes from its cache.
        expect(encodePlan(plan)).toEqual(first);
      }),
      { seed: 2024, numRuns: 1000 },
    );
  });

  it("writes catalog ids as they are and passes anything else once as a separate string", () => {
    const odd = 'a "b" c;|,#1\u0001é\ud800';
    const plan: SelectionPlan = {
      slotCapacity: [1, 3],
      counters: [{ campaignId: "c-1", windowSeconds: 3600 }, { campaignId: odd, windowSeconds: 0 }],
      candidates: [
        { slot: 0, campaignId: "c-1", unitId: "u-1", advertiserId: "adv-1", labels: ["retail", "grocery"], caps: [{ counter: 0, limit: 3 }] },
        { slot: 1, campaignId: odd, unitId: "u_2", advertiserId: "adv-1", labels: [odd, "retail"], caps: [{ counter: 1, limit: 1 }, { counter: 0, limit: 3 }] },
      ],
      priorCampaigns: ["c-9", odd],
      priorLabels: { [odd]: "adv-9" },
    };
    expect(encodePlan(plan)).toEqual({
      header: "1:1,3:1|3600,0|c-9 #1|#1 adv-9;",
      slots: ["c-1 adv-1 retail,grocery 1:3 u-1;", "#1 adv-1 #1,retail 2:1,1:3 u_2;"],
      strings: [odd],
    });
  });

  it("refuses a cap limit or window the script could not read back as a whole number", () => {
    const candidate = { slot: 0, campaignId: "c", unitId: "u", advertiserId: "a", labels: [] };
    const plan = (limit: number, windowSeconds: number): SelectionPlan => ({
      slotCapacity: [1],
      counters: [{ campaignId: "c", windowSeconds }],
      candidates: [{ ...candidate, caps: [{ counter: 0, limit }] }],
    });
    expect(() => encodePlan(plan(3, 3600))).not.toThrow();
    for (const [limit, windowSeconds] of [[1e21, 3600], [2.5, 3600], [-1, 3600], [Number.NaN, 3600], [3, 1.5], [3, Infinity]] as const) {
      expect(() => encodePlan(plan(limit, windowSeconds))).toThrow(/whole number/);
    }
  });

  it("refuses a plan whose candidates are not ordered by slot (the script answers slot by slot)", () => {
    const candidate = { campaignId: "c", unitId: "u", advertiserId: "a", labels: [], caps: [] };
    const plan: SelectionPlan = { slotCapacity: [1, 1], counters: [], candidates: [{ ...candidate, slot: 1 }, { ...candidate, slot: 0 }] };
    expect(() => encodePlan(plan)).toThrow(/ordered by slot/);
  });
});

describe("serveScriptArgs", () => {
  it("puts the plan's header, the flags, the record's eleven values, each slot's candidates and then the plan's strings where the script reads them", () => {
    const plan: SelectionPlan = {
      slotCapacity: [1],
      counters: [],
      candidates: [{ slot: 0, campaignId: "c-1", unitId: "u-1", advertiserId: "a-1", labels: ["two words"], caps: [] }],
    };
    const keys = createKeys("t");
    const record = recordArgs(
      { plan, userHash: "h", decisionId: "d", nowMs: 0, slotIds: ["mid:1"], record: { hour: "2026112707", day: "20261127", entry: { type: "served", n: 1 } } },
      keys,
      { hourlyDays: 2, dailyDays: 30, streamMaxLen: 1000 },
    );
    expect(record).toEqual([keys.counterPrefix, keys.servedTotals, "2026112707", "20261127", "h", "172800", "2592000", keys.events, "1000", '"mid:1"', '{"type":"served","n":1,']);
    const args = serveScriptArgs(plan, { write: true, pageViewTtlSeconds: 1800, deadlineMs: 5, record });
    expect(args).toEqual(["1:1|||", "1", "1800", "5", ...record, "c-1 a-1 #1  u-1;", "two words"]);
    expect(args[15]).toBe("c-1 a-1 #1  u-1;");
    expect(serveScriptArgs(plan, { write: false })).toEqual(["1:1|||", "0", "", "", ...new Array<string>(11).fill(""), "c-1 a-1 #1  u-1;", "two words"]);
  });

  it("gives the record every slot's id as a JSON string, one per line, and the slot's index where the request has none", () => {
    const plan: SelectionPlan = { slotCapacity: [1, 1, 1], counters: [], candidates: [] };
    const args = recordArgs(
      { plan, userHash: undefined, decisionId: "d", nowMs: 0, slotIds: ["a"], record: { hour: "h", day: "d", entry: {} } },
      createKeys("t"),
      { hourlyDays: 1, dailyDays: 1, streamMaxLen: 1 },
    );
    expect(args[4]).toBe("");
    expect(args[9]).toBe('"a"\n"1"\n"2"');
    expect(args[10]).toBe("{");
  });
});
