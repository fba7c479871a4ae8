import { describe, expect, it } from "vitest";
import { Interner } from "../../src/domain/intern.js";
import { compileTargeting } from "../../src/domain/targeting.js";
import { compileCatalog } from "../../src/domain/catalog-snapshot.js";
import { aCampaign, aCatalog, anAdvertiser, aUnit, leaf, pageContext } from "../helpers/builders.js";

describe("Interner", () => {
  it("gives back the first value made for a key and makes a new one past its limit", () => {
    const interner = new Interner<{ n: number }>(2);
    const a = interner.get("a", () => ({ n: 1 }));
    expect(interner.get("a", () => ({ n: 2 }))).toBe(a);
    interner.get("b", () => ({ n: 3 }));
    const c1 = interner.get("c", () => ({ n: 4 }));
    const c2 = interner.get("c", () => ({ n: 5 }));
    expect(c1).not.toBe(c2);
    expect(c2.n).toBe(5);
  });
});

describe("shared compiled values", () => {
  it("compiles equal targeting leaves once, and keeps leaves whose values only look alike apart", () => {
    const page = pageContext({ topics: ["a"] });
    const joined = compileTargeting(leaf("topics", "in", ["a\u0001b"]));
    const split = compileTargeting(leaf("topics", "in", ["a", "b"]));
    expect(joined.matches(page)).toBe(false);
    expect(split.matches(page)).toBe(true);
    expect(compileTargeting(leaf("topics", "in", ["A", "b"])).matches(page)).toBe(true);
    expect(compileTargeting(leaf("topics", "notIn", ["a", "b"])).matches(page)).toBe(false);
  });

  it("shares placement sets, caps and index keys between campaigns that have the same ones", () => {
    const campaigns = ["c1", "c2"].map((id) =>
      aCampaign({ id, placements: ["article-mid"], targeting: leaf("section", "in", ["economy"]), frequencyCaps: [{ limit: 3, window: "1d" }] }),
    );
    const snapshot = compileCatalog(aCatalog({ advertisers: [anAdvertiser({ competitiveLabels: ["retail"] })], campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) }), 1);
    const [a, b] = [snapshot.campaigns.get("c1"), snapshot.campaigns.get("c2")];
    expect(a?.placements).toBe(b?.placements);
    expect(a?.caps).toBe(b?.caps);
    expect(a?.indexKeys).toBe(b?.indexKeys);
    expect(a?.labels).toBe(b?.labels);
    expect(a?.labels).toEqual(["retail"]);
  });
});
