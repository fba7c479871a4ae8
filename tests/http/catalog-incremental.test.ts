/**
 * Catalog rebuilds after a change: only the changed campaign is compiled again, on the instance
 * that wrote it and on another instance sharing the store (which reads the version's changes,
 * not the whole catalog).
 */
import { describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import { auth, buildTestService, fakeClock, type TestService } from "../helpers/app.js";
import { generateCatalog } from "../../bench/catalog.js";
import type { Stores } from "../../src/store/ports.js";
import { asJson } from "../helpers/json.js";

/** Records every whole-catalog read of the store ("load") into `calls`, from now on. */
function recordLoads(stores: Stores, calls: string[] = []): string[] {
  const load = stores.catalog.load.bind(stores.catalog);
  (stores.catalog as { load: typeof load }).load = async () => {
    calls.push("load");
    return load();
  };
  return calls;
}

/** Records every read of version records into `calls` ("changes N", or "changes too large"), from now on. */
function recordChangeReads(stores: Stores, calls: string[]): void {
  const changesAfter = stores.catalog.changesAfter.bind(stores.catalog);
  (stores.catalog as { changesAfter: typeof changesAfter }).changesAfter = async (version, options) => {
    const records = await changesAfter(version, options);
    calls.push(records ? `changes ${records.length}` : "changes too large");
    return records;
  };
}

/** Two instances on one in-process store: `a` seeded with the sample catalog, `b` loaded from it. */
async function twoInstances(name: string): Promise<{ stores: Stores; a: TestService; b: TestService }> {
  const clock = fakeClock();
  const stores = createMemoryStores(createKeys(name), clock.now);
  const a = await buildTestService({ stores, clock: clock.now });
  const b = await buildTestService({ stores, clock: clock.now, seed: false });
  await b.catalog.refresh(true);
  return { stores, a, b };
}

describe("incremental catalog rebuilds", () => {
  it("keeps the compiled form of every unchanged campaign and recompiles only the one patched, on both instances", async () => {
    const { stores, a, b } = await twoInstances("incremental");
    try {
      const beforeA = a.catalog.current();
      const beforeB = b.catalog.current();
      const load = stores.catalog.load.bind(stores.catalog);
      const loads = recordLoads(stores);

      const res = await a.app.request("/v1/admin/campaigns/microsoft-quantum", { method: "PATCH", headers: auth(), body: JSON.stringify({ weight: 9 }) });
      expect(res.status).toBe(200);
      expect(await b.catalog.refresh()).toBe(true);

      for (const [before, after] of [
        [beforeA, a.catalog.current()],
        [beforeB, b.catalog.current()],
      ] as const) {
        expect(after.version).toBe(before.version + 1);
        expect(after.campaigns.get("microsoft-quantum")?.weight).toBe(9);
        expect(after.campaigns.get("microsoft-quantum")).not.toBe(before.campaigns.get("microsoft-quantum"));
        expect(after.campaigns.get("walmart-us-manufacturing")).toBe(before.campaigns.get("walmart-us-manufacturing"));
        expect(after.campaigns.get("newsroom-daily")).toBe(before.campaigns.get("newsroom-daily"));
      }
      // Neither instance read the whole catalog for one change.
      expect(loads).toEqual([]);
      // And the documents agree with the store.
      const stored = await load();
      expect(asJson(a.catalog.document())).toEqual(asJson(stored.document));
      expect(asJson(b.catalog.document())).toEqual(asJson(stored.document));
    } finally {
      await a.close();
      await b.close();
    }
  });
  it("does not read the whole catalog again when a change notice races the writer's own rebuild", async () => {
    const clock = fakeClock();
    const stores = createMemoryStores(createKeys("incremental-notice"), clock.now);
    const a = await buildTestService({ stores, clock: clock.now });
    try {
      // Change notices on, as in production: the store announces each version as it is written.
      a.catalog.start(60_000);
      await new Promise((r) => setTimeout(r, 10));
      const loads = recordLoads(stores);
      for (const weight of [7, 8, 9]) {
        const res = await a.app.request("/v1/admin/campaigns/microsoft-quantum", { method: "PATCH", headers: auth(), body: JSON.stringify({ weight }) });
        expect(res.status).toBe(200);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(a.catalog.current().campaigns.get("microsoft-quantum")?.weight).toBe(9);
      expect(loads).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it("catches up on a whole-catalog import elsewhere by reading the catalog, not the import's record, and ends with the same catalog", async () => {
    const { stores, a, b } = await twoInstances("incremental-import");
    try {
      const calls = recordLoads(stores);
      recordChangeReads(stores, calls);
      // 1,500 campaigns: the import's record (every entity, before and after) is over a megabyte.
      const { document } = generateCatalog({ campaigns: 1500, seed: 5 });
      const res = await a.app.request("/v1/admin/catalog", { method: "PUT", headers: auth(), body: JSON.stringify(document) });
      expect(res.status).toBe(200);
      calls.length = 0;
      expect(await b.catalog.refresh()).toBe(true);
      expect(calls).toEqual(["changes too large", "load"]);
      expect(b.catalog.current().version).toBe(a.catalog.current().version);
      expect(asJson(b.catalog.document())).toEqual(asJson(a.catalog.document()));
      expect([...b.catalog.current().campaigns.keys()]).toEqual([...a.catalog.current().campaigns.keys()]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("catches up on a write of more than 256 small entities by reading the catalog too", async () => {
    const { stores, a, b } = await twoInstances("incremental-many");
    try {
      const calls = recordLoads(stores);
      const document = asJson(a.catalog.document());
      for (let i = 0; i < 300; i++) document.advertisers.push({ id: `adv-${String(i).padStart(3, "0")}`, name: `Advertiser ${i}` });
      const res = await a.app.request("/v1/admin/catalog", { method: "PUT", headers: auth(), body: JSON.stringify(document) });
      expect(res.status).toBe(200);
      calls.length = 0;
      expect(await b.catalog.refresh()).toBe(true);
      expect(calls).toEqual(["load"]);
      expect(asJson(b.catalog.document())).toEqual(asJson(a.catalog.document()));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
