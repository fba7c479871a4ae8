/**
 * The catalog service's admin writes run one after another on a promise chain; the chain must not
 * keep a write's answer alive. An import's answer lists every entity it added, so holding it until
 * the next admin write kept a second copy of a 100k-campaign catalog (~185 MB) on the importing
 * instance.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { createCatalogService } from "../../src/services/catalog-service.js";
import { createMemoryCatalogStore } from "../../src/store/memory/memory-stores.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { fixtureCatalog } from "../helpers/builders.js";

/** A full, blocking garbage collection (exposed at run time, as the benchmark does). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Lets the current job end: a WeakRef's target is kept at least until then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("catalog service memory", () => {
  it("lets an import's answer be collected once the caller drops it, before any other admin write", async () => {
    const service = createCatalogService({ store: createMemoryCatalogStore(), logger: createLogger("silent") });
    // The answer is only referenced inside this function: afterwards only the service could hold it.
    const added = await (async () => {
      const answer = await service.importDocument(structuredClone(fixtureCatalog()), { dryRun: false, actor: "test" });
      expect(answer.diff.added.length).toBeGreaterThan(0);
      return new WeakRef(answer.diff.added);
    })();
    await nextTurn();
    collectGarbage();
    await nextTurn();
    expect(added.deref()).toBeUndefined();
  });

  it("lets a failed write's error be collected too, and later writes still run", async () => {
    const service = createCatalogService({ store: createMemoryCatalogStore(), logger: createLogger("silent") });
    let error: unknown;
    await service.importDocument(structuredClone(fixtureCatalog()), { dryRun: false, actor: "test", ifVersion: 99 }).catch((err: unknown) => (error = err));
    expect(error).toBeDefined();
    const ref = new WeakRef(error as object);
    error = undefined;
    await nextTurn();
    collectGarbage();
    await nextTurn();
    expect(ref.deref()).toBeUndefined();
    const ok = await service.importDocument(structuredClone(fixtureCatalog()), { dryRun: false, actor: "test" });
    expect(ok.version).toBeGreaterThan(0);
  });
});
