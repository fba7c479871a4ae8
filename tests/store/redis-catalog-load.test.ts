/**
 * The Redis catalog store's whole-catalog read, which goes page by page (HSCAN): writes that land
 * between its pages. A private redis-server for this file.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createRedisClient } from "../../src/store/redis/client.js";
import { createRedisCatalogStore } from "../../src/store/redis/redis-stores.js";
import type { CatalogDocument } from "../../src/domain/catalog-schema.js";
import type { CatalogStore } from "../../src/store/ports.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

afterAll(async () => {
  await redis?.stop();
});

const EMPTY: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
const advertisers = (n: number): CatalogDocument["advertisers"] =>
  Array.from({ length: n }, (_, i) => ({ id: `adv-${String(i).padStart(4, "0")}`, name: `A${i}` }));

let seq = 0;

/**
 * A catalog store whose client runs `during` once per scan of the advertisers hash, right after
 * its first page came back: a write landing in the middle of the read.
 */
async function storeWithWritesDuringScans(during: (scan: number, writes: CatalogStore) => Promise<void>) {
  if (!redis) throw new Error("redis-server is not running");
  const keys = createKeys(`load-${++seq}`);
  const reader = createRedisClient(redis.url, { commandTimeoutMs: 5000 });
  const writer = createRedisClient(redis.url, { commandTimeoutMs: 5000 });
  await Promise.all([reader.connect(), writer.connect()]);
  const store = createRedisCatalogStore(reader, keys);
  const writes = createRedisCatalogStore(writer, keys);
  let scans = 0;
  const hscan = reader.hscan.bind(reader) as (...args: unknown[]) => Promise<[string, string[]]>;
  (reader as unknown as { hscan: unknown }).hscan = async (...args: unknown[]) => {
    const reply = await hscan(...args);
    if (String(args[0]).endsWith(":advertiser") && String(args[1]) === "0") await during(++scans, writes);
    return reply;
  };
  return { store, writes, scans: () => scans, close: () => Promise.all([reader.quit(), writer.quit()]) };
}

describe.skipIf(!redis)("the Redis catalog store's whole-catalog read", () => {
  it("gives the catalog as at the last version when writes add, change and remove entities between its pages", async () => {
    const t = await storeWithWritesDuringScans(async (scan, writes) => {
      if (scan > 1) return;
      await writes.put("advertiser", { id: "adv-0001", name: "Renamed" });
      await writes.remove("advertiser", "adv-2000");
      await writes.put("advertiser", { id: "adv-9999", name: "Added" });
    });
    try {
      expect(await t.writes.replace({ ...EMPTY, advertisers: advertisers(2_500) })).toBe(1);
      const { version, document } = await t.store.load();
      expect(version).toBe(4);
      expect(t.scans()).toBe(1);
      const ids = document.advertisers.map((a) => a.id);
      expect(ids).toHaveLength(2_500);
      expect(ids).toEqual([...new Set(ids)].sort());
      expect(ids).not.toContain("adv-2000");
      expect(document.advertisers.find((a) => a.id === "adv-0001")?.name).toBe("Renamed");
      expect(document.advertisers.find((a) => a.id === "adv-9999")?.name).toBe("Added");
      expect(document).toEqual((await t.store.load()).document);
    } finally {
      await t.close();
    }
  });

  it("gives the campaigns it reads one shared instance of each part they repeat", async () => {
    const t = await storeWithWritesDuringScans(async () => {});
    const targeting = { all: [{ field: "section" as const, op: "in" as const, values: ["economy"] }, { not: { field: "geo.country" as const, op: "in" as const, values: ["RU"] } }] };
    const campaign = (id: string, limit: number) => ({
      id,
      advertiserId: "adv-0000",
      name: id,
      status: "active" as const,
      tier: "standard" as const,
      weight: 1,
      placements: ["article-mid"],
      targeting,
      frequencyCaps: [{ limit, window: "1d" as const }],
    });
    try {
      await t.writes.replace({ ...EMPTY, advertisers: advertisers(1), placements: [{ id: "article-mid", formats: ["native-card"], maxUnits: 1 }], campaigns: [campaign("a", 3), campaign("b", 3), campaign("c", 4)] });
      const { document } = await t.store.load();
      const [a, b, c] = document.campaigns;
      expect(document.campaigns.map((x) => x.id)).toEqual(["a", "b", "c"]);
      expect(b?.targeting).toBe(a?.targeting);
      expect(c?.targeting).toBe(a?.targeting);
      expect(b?.placements).toBe(a?.placements);
      expect(b?.frequencyCaps).toBe(a?.frequencyCaps);
      expect(c?.frequencyCaps).not.toBe(a?.frequencyCaps);
      expect(c?.frequencyCaps).toEqual([{ limit: 4, window: "1d" }]);
      expect(a?.targeting).toEqual(targeting);
    } finally {
      await t.close();
    }
  });

  it("completes even when a write lands during every one of its reads", async () => {
    const t = await storeWithWritesDuringScans(async (scan, writes) => {
      await writes.put("advertiser", { id: `adv-new-${scan}`, name: `N${scan}` });
    });
    try {
      await t.writes.replace({ ...EMPTY, advertisers: advertisers(2_500) });
      const { version, document } = await t.store.load();
      expect(version).toBe(2);
      expect(document.advertisers).toHaveLength(2_501);
    } finally {
      await t.close();
    }
  });

  it("reads again when the writes that landed meanwhile are too large to apply from their records", async () => {
    // A record over the catch-up limit (1 MB) during the first read: it is read again, whole.
    const big = advertisers(2_500).map((a) => ({ ...a, name: `${a.name} ${"x".repeat(500)}` }));
    const t = await storeWithWritesDuringScans(async (scan, writes) => {
      if (scan === 1) await writes.replace({ ...EMPTY, advertisers: big });
    });
    try {
      await t.writes.replace({ ...EMPTY, advertisers: advertisers(2_500) });
      const { version, document } = await t.store.load();
      expect(t.scans()).toBe(2);
      expect(version).toBe(2);
      expect(document.advertisers).toEqual(big);
    } finally {
      await t.close();
    }
  });
});
