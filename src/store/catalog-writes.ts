/**
 * The catalog store's convenience writes (`put`, `remove`, `replace`), defined once over an
 * adapter's atomic `apply`: both adapters share them, so they cannot drift apart.
 */
import { entityChanges } from "../domain/catalog-diff.js";
import type { CatalogStore, CatalogWriteMeta } from "./ports.js";

/** Writes made by the service itself (seeding, store-level convenience calls). */
export function systemMeta(action: CatalogWriteMeta["action"]): CatalogWriteMeta {
  return { at: new Date().toISOString(), actor: "system", action };
}

export function convenienceWrites(store: Pick<CatalogStore, "apply" | "load">): Pick<CatalogStore, "put" | "remove" | "replace"> {
  return {
    async put(kind, entity) {
      return (await store.apply([{ kind, id: entity.id, after: entity }], systemMeta("update"))) as number;
    },
    async remove(kind, id) {
      return (await store.apply([{ kind, id, after: null }], systemMeta("delete"))) as number;
    },
    async replace(document) {
      const { document: current } = await store.load();
      const writes = entityChanges(current, document).map((c) => ({ kind: c.kind, id: c.id, after: c.after }));
      return (await store.apply(writes, systemMeta("import"))) as number;
    },
  };
}
