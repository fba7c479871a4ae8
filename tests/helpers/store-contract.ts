/**
 * The store contract: one suite every adapter of the store ports (src/store/ports.ts) must pass.
 * `describeStoreContract(factory)` registers the suite inside the caller's `describe`; the factory
 * builds fresh, isolated stores for every test (a new key prefix on Redis, new maps in memory).
 *
 * The cap walk is held to `walkPlan` (src/domain/selection.ts): every serve below is checked both
 * against the outcomes written out by hand and against `walkPlan` run on the counters read before.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSampleCatalog } from "../../src/node-assets.js";
import type { CatalogDocument } from "../../src/domain/catalog-schema.js";
import { PackedUnit } from "../../src/domain/packed-unit.js";
import { asJson } from "./json.js";
import { walkPlan, type CandidateOutcome, type PlanCandidate, type PlanCap, type PlanCounter, type SelectionPlan } from "../../src/domain/selection.js";
import type { AuditEntity, AuditEntry, KeyRecord, ServeRequest, Stores } from "../../src/store/ports.js";

export interface StoreHarness {
  readonly stores: Stores;
  /**
   * Lets `ms` milliseconds pass as the store sees time: the fake clock moves for the in-process
   * store, real time passes for Redis (whose TTLs run on the server's clock).
   */
  elapse(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHarness>;

/** One candidate of a hand-written plan. */
export function candidate(
  slot: number,
  campaignId: string,
  advertiserId: string,
  labels: readonly string[] = [],
  caps: readonly PlanCap[] = [],
): PlanCandidate {
  return { slot, campaignId, unitId: `${campaignId}-unit`, advertiserId, labels, caps };
}

let decisionSeq = 0;

export function serveRequest(plan: SelectionPlan, userHash?: string): ServeRequest {
  decisionSeq++;
  return { plan, userHash, decisionId: `d-contract-${decisionSeq}`, nowMs: Date.UTC(2026, 10, 27, 12) };
}

const EMPTY_DOCUMENT: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };

function byId<T extends { id: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function sortedDocument(doc: CatalogDocument): CatalogDocument {
  return {
    advertisers: byId(doc.advertisers),
    placements: byId(doc.placements),
    campaigns: byId(doc.campaigns),
    units: byId(doc.units),
  };
}

function auditEntry(i: number, entity: AuditEntity = "campaign", id = `c-${i}`): AuditEntry {
  return {
    at: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, i)).toISOString(),
    actor: "key-ops",
    action: i % 2 === 0 ? "create" : "update",
    entity,
    id,
    before: i % 2 === 0 ? null : { n: i - 1 },
    after: { n: i, nested: { list: [i, "x"] } },
  };
}

function keyRecord(id: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return { id, role: "ops", keyHash: `hash-of-${id}`, createdAt: "2026-11-27T12:00:00.000Z", ...extra };
}

export function describeStoreContract(factory: StoreFactory): void {
  let h: StoreHarness;
  let stores: Stores;

  beforeEach(async () => {
    h = await factory();
    stores = h.stores;
  });

  afterEach(async () => {
    await h.cleanup();
  });

  /** Serves `request`, and checks the outcomes against `expected` and against `walkPlan` on the counters read first. */
  async function expectServe(request: ServeRequest, expected: readonly CandidateOutcome[]): Promise<void> {
    const before = await stores.caps.counts(request);
    const reference = walkPlan(request.plan, (i) => before[i] ?? 0);
    const outcomes = await stores.caps.serve(request);
    expect(outcomes).toEqual(expected);
    expect(outcomes).toEqual(reference.outcomes);
    const after = await stores.caps.counts(request);
    const expectedAfter = before.map((v, i) => v + reference.increments.filter((k) => k === i).length);
    expect(after).toEqual(expectedAfter);
  }

  describe("CatalogStore", () => {
    const sample = loadSampleCatalog();

    it("starts empty at version 0", async () => {
      expect(await stores.catalog.version()).toBe(0);
      expect(await stores.catalog.load()).toEqual({ version: 0, document: EMPTY_DOCUMENT });
    });

    it("put stores an entity and every write returns the next version", async () => {
      const [walmart] = sample.advertisers;
      const [mid] = sample.placements;
      if (!walmart || !mid) throw new Error("sample catalog changed");
      expect(await stores.catalog.put("advertiser", walmart)).toBe(1);
      expect(await stores.catalog.put("placement", mid)).toBe(2);
      expect(await stores.catalog.version()).toBe(2);
      const state = await stores.catalog.load();
      expect(state.version).toBe(2);
      expect(state.document).toEqual({ ...EMPTY_DOCUMENT, advertisers: [walmart], placements: [mid] });
    });

    it("put with an existing id replaces that entity rather than adding a second one", async () => {
      const walmart = sample.advertisers.find((a) => a.id === "walmart");
      if (!walmart) throw new Error("sample catalog changed");
      await stores.catalog.put("advertiser", walmart);
      expect(await stores.catalog.put("advertiser", { ...walmart, name: "Walmart Inc." })).toBe(2);
      const { document } = await stores.catalog.load();
      expect(document.advertisers).toEqual([{ ...walmart, name: "Walmart Inc." }]);
    });

    it("load lists every kind sorted by id whatever the write order", async () => {
      for (const a of [...sample.advertisers].reverse()) await stores.catalog.put("advertiser", a);
      for (const u of [...sample.units].reverse()) await stores.catalog.put("unit", u);
      for (const c of [...sample.campaigns].reverse()) await stores.catalog.put("campaign", c);
      const { document } = await stores.catalog.load();
      expect(document.advertisers.map((a) => a.id)).toEqual(byId(sample.advertisers).map((a) => a.id));
      expect(document.units.map((u) => u.id)).toEqual(byId(sample.units).map((u) => u.id));
      expect(document.campaigns).toEqual(byId(sample.campaigns));
    });

    it("entities round-trip unchanged, nested targeting, caps and optional fields included", async () => {
      const campaign = sample.campaigns.find((c) => c.frequencyCaps && c.targeting && c.exclusions);
      if (!campaign) throw new Error("sample catalog has no fully specified campaign");
      await stores.catalog.put("campaign", campaign);
      const { document } = await stores.catalog.load();
      expect(document.campaigns).toEqual([campaign]);
    });

    it("remove deletes one entity and returns the next version", async () => {
      for (const a of sample.advertisers) await stores.catalog.put("advertiser", a);
      const v = await stores.catalog.version();
      expect(await stores.catalog.remove("advertiser", "walmart")).toBe(v + 1);
      expect(await stores.catalog.version()).toBe(v + 1);
      const { document, version } = await stores.catalog.load();
      expect(version).toBe(v + 1);
      expect(document.advertisers.map((a) => a.id)).toEqual(byId(sample.advertisers.filter((a) => a.id !== "walmart")).map((a) => a.id));
    });

    it("replace swaps the whole catalog in one version step and drops entities not in the new document", async () => {
      await stores.catalog.put("advertiser", { id: "zeta", name: "Zeta" });
      await stores.catalog.put("placement", { id: "sidebar", formats: ["native-inline"], maxUnits: 2 });
      expect(await stores.catalog.replace(sample)).toBe(3);
      expect(asJson(await stores.catalog.load())).toEqual({ version: 3, document: sortedDocument(sample) });
      expect(await stores.catalog.replace(EMPTY_DOCUMENT)).toBe(4);
      expect(await stores.catalog.load()).toEqual({ version: 4, document: EMPTY_DOCUMENT });
    });

    it("loads units packed, each with its whole creative", async () => {
      for (const u of sample.units) await stores.catalog.put("unit", u);
      const { document } = await stores.catalog.load();
      expect(document.units.length).toBe(sample.units.length);
      expect(document.units.every((u) => u instanceof PackedUnit)).toBe(true);
      expect(asJson(document.units)).toEqual(byId(sample.units));
      for (const u of document.units) {
        const source = sample.units.find((s) => s.id === u.id);
        expect([u.headline, u.body, u.cta, u.image, u.disclosureLabel]).toEqual([source?.headline, source?.body, source?.cta, source?.image, source?.disclosureLabel]);
      }
    });

    it("loaded documents are copies, and later changes to a written object do not reach the store", async () => {
      const walmart = structuredClone(sample.advertisers.find((a) => a.id === "walmart"));
      if (!walmart) throw new Error("sample catalog changed");
      await stores.catalog.put("advertiser", walmart);
      walmart.name = "changed after put";
      const first = await stores.catalog.load();
      const loaded = first.document.advertisers[0];
      if (!loaded) throw new Error("advertiser missing");
      loaded.name = "changed after load";
      const second = await stores.catalog.load();
      expect(second.document.advertisers[0]?.name).toBe("Walmart");
    });

    it("changesAfter gives the records of the later versions, oldest first, with each entity before and after", async () => {
      await stores.catalog.put("advertiser", { id: "zeta", name: "Zeta" });
      await stores.catalog.put("advertiser", { id: "zeta", name: "Zeta 2" });
      await stores.catalog.remove("advertiser", "zeta");
      const records = await stores.catalog.changesAfter(1);
      expect(records?.map((r) => r.version)).toEqual([2, 3]);
      expect(records?.[0]?.changes).toEqual([{ kind: "advertiser", id: "zeta", before: { id: "zeta", name: "Zeta" }, after: { id: "zeta", name: "Zeta 2" } }]);
      expect(records?.[1]?.changes).toEqual([{ kind: "advertiser", id: "zeta", before: { id: "zeta", name: "Zeta 2" }, after: null }]);
      expect(await stores.catalog.changesAfter(3)).toEqual([]);
    });

    it("changesAfter with maxBytes gives the records while they are small, and nothing once they add up to more", async () => {
      await stores.catalog.put("advertiser", { id: "zeta", name: "Zeta" });
      expect(await stores.catalog.changesAfter(0, { maxBytes: 1_000 })).toHaveLength(1);
      // A whole-catalog write leaves a record as large as the catalog: a reader catches up by loading instead.
      await stores.catalog.replace(sample);
      expect(JSON.stringify(sample).length).toBeGreaterThan(1_000);
      expect(await stores.catalog.changesAfter(0, { maxBytes: 1_000 })).toBeUndefined();
      expect(await stores.catalog.changesAfter(1, { maxBytes: 1_000 })).toBeUndefined();
      expect(await stores.catalog.changesAfter(1, { maxBytes: 10_000_000 })).toHaveLength(1);
      expect(await stores.catalog.changesAfter(2, { maxBytes: 10 })).toEqual([]);
    });

    it("a load during concurrent writes gives the catalog exactly as it was at the version it reports", async () => {
      // Each write adds one advertiser: at version v the catalog holds exactly v of them.
      const writes = Array.from({ length: 40 }, (_, i) => stores.catalog.put("advertiser", { id: `adv-${String(i).padStart(2, "0")}`, name: `A${i}` }));
      const loads = Array.from({ length: 8 }, () => stores.catalog.load());
      await Promise.all(writes);
      for (const { version, document } of await Promise.all(loads)) expect(document.advertisers).toHaveLength(version);
    });

    it("a catalog larger than one read page loads whole, each entity once and sorted, also while writes land", async () => {
      const many = Array.from({ length: 2_500 }, (_, i) => ({ id: `adv-${String((i * 7919) % 2_500).padStart(4, "0")}`, name: `A${i}` }));
      expect(await stores.catalog.replace({ ...EMPTY_DOCUMENT, advertisers: many })).toBe(1);
      // Each later write adds one advertiser: at version v the catalog holds 2,499 + v of them.
      const writes = Array.from({ length: 20 }, (_, i) => stores.catalog.put("advertiser", { id: `adv-new-${String(i).padStart(2, "0")}`, name: `N${i}` }));
      const loads = Array.from({ length: 4 }, () => stores.catalog.load());
      await Promise.all(writes);
      for (const { version, document } of [...(await Promise.all(loads)), await stores.catalog.load()]) {
        const ids = document.advertisers.map((a) => a.id);
        expect(ids).toHaveLength(2_499 + version);
        expect(ids).toEqual([...new Set(ids)].sort());
      }
    });

    it("concurrent writes each get a distinct version and none is lost", async () => {
      const versions = await Promise.all(
        Array.from({ length: 12 }, (_, i) => stores.catalog.put("advertiser", { id: `adv-${String(i).padStart(2, "0")}`, name: `A${i}` })),
      );
      expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const { document, version } = await stores.catalog.load();
      expect(version).toBe(12);
      expect(document.advertisers).toHaveLength(12);
    });
  });

  describe("CapStore", () => {
    it("a plan without candidates serves nothing", async () => {
      expect(await stores.caps.serve(serveRequest({ slotCapacity: [1], counters: [], candidates: [] }))).toEqual([]);
    });

    it("fills each slot up to its capacity and skips the candidates after that", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [2, 0, 1],
        counters: [],
        candidates: [
          candidate(0, "a", "adv-a"),
          candidate(0, "b", "adv-b"),
          candidate(0, "c", "adv-c"),
          candidate(1, "d", "adv-d"),
          candidate(2, "e", "adv-e"),
          candidate(2, "f", "adv-f"),
        ],
      };
      await expectServe(serveRequest(plan), ["won", "won", "skipped", "skipped", "won", "skipped"]);
    });

    it("separates a campaign that already won an earlier slot", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1, 2],
        counters: [],
        candidates: [candidate(0, "a", "adv-a"), candidate(1, "a", "adv-a"), candidate(1, "b", "adv-b")],
      };
      await expectServe(serveRequest(plan), ["won", "separated", "won"]);
    });

    it("separates competitors of a label won in an earlier slot but not other campaigns of the label's holder", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1, 2, 1],
        counters: [],
        candidates: [
          candidate(0, "walmart-1", "walmart", ["retail"]),
          candidate(1, "target-1", "target", ["retail"]),
          candidate(1, "walmart-2", "walmart", ["retail", "grocery"]),
          candidate(1, "msft-1", "microsoft", ["cloud"]),
          candidate(2, "aws-1", "amazon", ["cloud"]),
          candidate(2, "kroger-1", "kroger", ["grocery"]),
          candidate(2, "house", "newsroom"),
        ],
      };
      await expectServe(serveRequest(plan), ["won", "separated", "won", "won", "separated", "separated", "won"]);
    });

    it("only winners claim labels: a skipped or separated candidate does not block its competitors", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1, 2],
        counters: [],
        candidates: [
          candidate(0, "house", "newsroom"),
          candidate(0, "walmart-1", "walmart", ["retail"]),
          candidate(1, "house", "newsroom", ["cloud"]),
          candidate(1, "target-1", "target", ["retail"]),
          candidate(1, "msft-1", "microsoft", ["cloud"]),
        ],
      };
      await expectServe(serveRequest(plan), ["won", "skipped", "separated", "won", "won"]);
    });

    it("honours campaigns and labels served earlier in the page view", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [4],
        counters: [],
        candidates: [
          candidate(0, "walmart-1", "walmart", ["retail"]),
          candidate(0, "target-1", "target", ["retail"]),
          candidate(0, "walmart-2", "walmart", ["retail"]),
          candidate(0, "msft-1", "microsoft", ["cloud"]),
          candidate(0, "house", "newsroom"),
        ],
        priorCampaigns: ["walmart-1", "not-in-this-plan"],
        priorLabels: { retail: "walmart", cloud: "amazon" },
      };
      await expectServe(serveRequest(plan), ["separated", "separated", "won", "separated", "won"]);
    });

    it("stops serving a campaign once its cap is reached and counts only the winners", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [
          { campaignId: "a", windowSeconds: 86400 },
          { campaignId: "b", windowSeconds: 86400 },
        ],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 2 }]), candidate(0, "b", "adv-b", [], [{ counter: 1, limit: 5 }])],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won", "skipped"]);
      await expectServe(serveRequest(plan, "user-1"), ["won", "skipped"]);
      await expectServe(serveRequest(plan, "user-1"), ["capped", "won"]);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([2, 1]);
    });

    it("checks every cap of a candidate and counts all of them when it wins", async () => {
      const counters: PlanCounter[] = [
        { campaignId: "a", windowSeconds: 86400 },
        { campaignId: "a", windowSeconds: 604800 },
      ];
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters,
        candidates: [
          candidate(0, "a", "adv-a", [], [
            { counter: 0, limit: 3 },
            { counter: 1, limit: 2 },
          ]),
        ],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await expectServe(serveRequest(plan, "user-1"), ["capped"]);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([2, 2]);
    });

    it("a capped candidate in an earlier slot lets the same campaign be considered again in a later slot", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1, 1],
        counters: [{ campaignId: "a", windowSeconds: 3600 }],
        candidates: [
          candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 1 }]),
          candidate(0, "b", "adv-b"),
          candidate(1, "a", "adv-a", [], [{ counter: 0, limit: 1 }]),
          candidate(1, "c", "adv-c"),
        ],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won", "skipped", "separated", "won"]);
      await expectServe(serveRequest(plan, "user-1"), ["capped", "won", "capped", "won"]);
    });

    it("keeps cap counters per user, per campaign and per window", async () => {
      const counters: PlanCounter[] = [
        { campaignId: "a", windowSeconds: 3600 },
        { campaignId: "b", windowSeconds: 3600 },
        { campaignId: "a", windowSeconds: 86400 },
      ];
      const onlyA: SelectionPlan = { slotCapacity: [1], counters, candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 1 }])] };
      await expectServe(serveRequest(onlyA, "user-1"), ["won"]);
      await expectServe(serveRequest(onlyA, "user-1"), ["capped"]);
      await expectServe(serveRequest(onlyA, "user-2"), ["won"]);
      expect(await stores.caps.counts(serveRequest(onlyA, "user-1"))).toEqual([1, 0, 0]);
      expect(await stores.caps.counts(serveRequest(onlyA, "user-3"))).toEqual([0, 0, 0]);
    });

    it("parallel serves for one user never exceed a cap", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [{ campaignId: "a", windowSeconds: 86400 }],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 3 }]), candidate(0, "house", "newsroom")],
      };
      const results = await Promise.all(Array.from({ length: 25 }, () => stores.caps.serve(serveRequest(plan, "user-1"))));
      expect(results.filter((r) => r[0] === "won")).toHaveLength(3);
      expect(results.filter((r) => r[1] === "won")).toHaveLength(22);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([3]);
    });

    it("rejects a plan with cap counters but no user hash", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [{ campaignId: "a", windowSeconds: 3600 }],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 1 }])],
      };
      await expect(stores.caps.serve(serveRequest(plan))).rejects.toThrow(/user hash/);
    });

    it("counts reads the current values, 0 when absent, without counting anything", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [
          { campaignId: "a", windowSeconds: 3600 },
          { campaignId: "b", windowSeconds: 0 },
        ],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 2 }]), candidate(0, "b", "adv-b", [], [{ counter: 1, limit: 1 }])],
      };
      const request = serveRequest(plan, "user-1");
      expect(await stores.caps.counts(request)).toEqual([0, 0]);
      expect(await stores.caps.counts(request)).toEqual([0, 0]);
      await stores.caps.serve(request);
      for (let i = 0; i < 5; i++) expect(await stores.caps.counts(request)).toEqual([1, 0]);
      await expectServe(serveRequest(plan, "user-1"), ["won", "skipped"]);
      await expectServe(serveRequest(plan, "user-1"), ["capped", "won"]);
      expect(await stores.caps.counts(request)).toEqual([2, 1]);
    });

    it("a windowed counter expires after its window and the campaign serves again", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [{ campaignId: "a", windowSeconds: 1 }],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 1 }])],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await expectServe(serveRequest(plan, "user-1"), ["capped"]);
      await h.elapse(1200);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([0]);
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([1]);
    });

    it("a window runs from the first count and later counts do not extend it", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [{ campaignId: "a", windowSeconds: 1 }],
        candidates: [candidate(0, "a", "adv-a", [], [{ counter: 0, limit: 5 }])],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await h.elapse(500);
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([2]);
      // 1.25 s after the first count, 0.75 s after the second: a fixed window has ended.
      await h.elapse(750);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([0]);
    });

    it("lifetime counters (window 0) never expire", async () => {
      const plan: SelectionPlan = {
        slotCapacity: [1],
        counters: [
          { campaignId: "a", windowSeconds: 0 },
          { campaignId: "a", windowSeconds: 1 },
        ],
        candidates: [
          candidate(0, "a", "adv-a", [], [
            { counter: 0, limit: 2 },
            { counter: 1, limit: 1 },
          ]),
        ],
      };
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await h.elapse(1200);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([1, 0]);
      await expectServe(serveRequest(plan, "user-1"), ["won"]);
      await h.elapse(1200);
      expect(await stores.caps.counts(serveRequest(plan, "user-1"))).toEqual([2, 0]);
      await expectServe(serveRequest(plan, "user-1"), ["capped"]);
    });
  });

  describe("KeyStore", () => {
    it("create stores a record that get and findByHash return", async () => {
      const ops = keyRecord("key-ops");
      const adv = keyRecord("key-adv", { role: "advertiser", advertiserId: "walmart" });
      await stores.keys.create(ops);
      await stores.keys.create(adv);
      expect(await stores.keys.get("key-ops")).toEqual(ops);
      expect(await stores.keys.get("key-adv")).toEqual(adv);
      expect(await stores.keys.findByHash("hash-of-key-adv")).toEqual(adv);
    });

    it("get and findByHash return undefined for unknown keys", async () => {
      await stores.keys.create(keyRecord("key-1"));
      expect(await stores.keys.get("key-2")).toBeUndefined();
      expect(await stores.keys.findByHash("hash-of-key-2")).toBeUndefined();
    });

    it("list returns every record", async () => {
      const records = ["key-c", "key-a", "key-b"].map((id) => keyRecord(id));
      for (const r of records) await stores.keys.create(r);
      expect(byId(await stores.keys.list())).toEqual(byId(records));
    });

    it("list is empty for a fresh store", async () => {
      expect(await stores.keys.list()).toEqual([]);
    });

    it("revoke marks a key revoked, keeps the first revokedAt and says false for an unknown key", async () => {
      await stores.keys.create(keyRecord("key-1"));
      expect(await stores.keys.revoke("key-1", "2026-11-27T13:00:00.000Z")).toBe(true);
      expect(await stores.keys.revoke("key-1", "2026-11-27T14:00:00.000Z")).toBe(true);
      const expected = keyRecord("key-1", { revokedAt: "2026-11-27T13:00:00.000Z" });
      expect(await stores.keys.get("key-1")).toEqual(expected);
      expect(await stores.keys.findByHash("hash-of-key-1")).toEqual(expected);
      expect(await stores.keys.list()).toEqual([expected]);
      expect(await stores.keys.revoke("key-unknown", "2026-11-27T13:00:00.000Z")).toBe(false);
      expect(await stores.keys.get("key-unknown")).toBeUndefined();
    });

    it("concurrent revokes of one key settle on the revokedAt of the revoke issued first", async () => {
      await stores.keys.create(keyRecord("key-1"));
      const results = await Promise.all([
        stores.keys.revoke("key-1", "2026-11-27T13:00:00.000Z"),
        stores.keys.revoke("key-1", "2026-11-27T14:00:00.000Z"),
      ]);
      expect(results).toEqual([true, true]);
      expect((await stores.keys.get("key-1"))?.revokedAt).toBe("2026-11-27T13:00:00.000Z");
    });
  });

  describe("MetaStore", () => {
    it("getOrCreateSecret stores the first candidate and returns it ever after", async () => {
      expect(await stores.meta.getOrCreateSecret("user-key-secret", "first")).toBe("first");
      expect(await stores.meta.getOrCreateSecret("user-key-secret", "second")).toBe("first");
      expect(await stores.meta.getOrCreateSecret("other-secret", "third")).toBe("third");
      expect(await stores.meta.getOrCreateSecret("user-key-secret", "fourth")).toBe("first");
    });

    it("concurrent getOrCreateSecret calls all agree on one stored value", async () => {
      const values = await Promise.all(Array.from({ length: 10 }, (_, i) => stores.meta.getOrCreateSecret("race", `candidate-${i}`)));
      expect(new Set(values).size).toBe(1);
      expect(await stores.meta.getOrCreateSecret("race", "late")).toBe(values[0]);
    });

    it("ping resolves when the store answers", async () => {
      await expect(stores.meta.ping()).resolves.toBeUndefined();
    });
  });

  describe("AuditStore", () => {
    /** Follows `nextCursor` until it is null; returns every page. */
    async function allPages(query: { limit: number; entity?: string; id?: string }): Promise<AuditEntry[][]> {
      const pages: AuditEntry[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = await stores.audit.list({ ...query, cursor });
        pages.push(page.items);
        if (page.nextCursor === null) return pages;
        cursor = page.nextCursor;
      }
      throw new Error("audit paging did not end within 100 pages");
    }

    it("list is empty with no next cursor for a fresh store", async () => {
      expect(await stores.audit.list({ limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it("list returns appended entries newest first, unchanged", async () => {
      const entries = Array.from({ length: 5 }, (_, i) => auditEntry(i));
      for (const e of entries) await stores.audit.append(e);
      expect(await stores.audit.list({ limit: 10 })).toEqual({ items: [...entries].reverse(), nextCursor: null });
    });

    it("list filters by entity and by id", async () => {
      const entries = [
        auditEntry(0, "campaign", "c-1"),
        auditEntry(1, "unit", "u-1"),
        auditEntry(2, "campaign", "c-2"),
        auditEntry(3, "campaign", "c-1"),
        auditEntry(4, "advertiser", "c-1"),
      ];
      for (const e of entries) await stores.audit.append(e);
      const campaigns = await stores.audit.list({ limit: 10, entity: "campaign" });
      expect(campaigns.items).toEqual([entries[3], entries[2], entries[0]]);
      const c1 = await stores.audit.list({ limit: 10, id: "c-1" });
      expect(c1.items).toEqual([entries[4], entries[3], entries[0]]);
      const both = await stores.audit.list({ limit: 10, entity: "campaign", id: "c-1" });
      expect(both.items).toEqual([entries[3], entries[0]]);
      expect((await stores.audit.list({ limit: 10, entity: "key" })).items).toEqual([]);
    });

    it("cursor paging walks every entry once, newest first, across several pages", async () => {
      const entries = Array.from({ length: 25 }, (_, i) => auditEntry(i, i % 3 === 0 ? "unit" : "campaign", `id-${i % 4}`));
      for (const e of entries) await stores.audit.append(e);
      const pages = await allPages({ limit: 10 });
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual([...entries].reverse());
    });

    it("cursor paging with a filter returns only matching entries, each once, newest first", async () => {
      const entries = Array.from({ length: 25 }, (_, i) => auditEntry(i, i % 3 === 0 ? "unit" : "campaign", `id-${i % 4}`));
      for (const e of entries) await stores.audit.append(e);
      const units = entries.filter((e) => e.entity === "unit").reverse();
      const pages = await allPages({ limit: 3, entity: "unit" });
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.flat()).toEqual(units);
      for (const p of pages.slice(0, -1)) expect(p).toHaveLength(3);
      const id1 = await allPages({ limit: 2, entity: "campaign", id: "id-1" });
      expect(id1.flat()).toEqual(entries.filter((e) => e.entity === "campaign" && e.id === "id-1").reverse());
    });

    it("the page that returns the oldest entry has no next cursor, even when it is exactly full", async () => {
      const entries = Array.from({ length: 20 }, (_, i) => auditEntry(i));
      for (const e of entries) await stores.audit.append(e);
      const first = await stores.audit.list({ limit: 10 });
      expect(first.items).toEqual(entries.slice(10).reverse());
      expect(first.nextCursor).not.toBeNull();
      const second = await stores.audit.list({ limit: 10, cursor: first.nextCursor ?? undefined });
      expect(second.items).toEqual(entries.slice(0, 10).reverse());
      expect(second.nextCursor).toBeNull();
    });

    it("entries appended after a page was read do not shift the pages that follow its cursor", async () => {
      const entries = Array.from({ length: 6 }, (_, i) => auditEntry(i));
      for (const e of entries) await stores.audit.append(e);
      const first = await stores.audit.list({ limit: 3 });
      await stores.audit.append(auditEntry(6));
      await stores.audit.append(auditEntry(7));
      const second = await stores.audit.list({ limit: 3, cursor: first.nextCursor ?? undefined });
      expect(second.items).toEqual(entries.slice(0, 3).reverse());
    });
  });
}
