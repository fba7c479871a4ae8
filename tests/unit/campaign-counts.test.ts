import { describe, expect, it } from "vitest";
import { campaignCounts } from "../../src/services/report-service.js";

describe("campaignCounts", () => {
  it("adds up each field over the campaign's units", () => {
    expect(
      campaignCounts({
        "u:u-1:served": 3,
        "u:u-2:served": 4,
        "u:u-1:impression": 2,
        "u:u-2:click": 1,
        "u:u-1:f:bot": 5,
        "u:u-2:f:bot": 1,
        "u:u-2:f:rate_limited": 2,
      }),
    ).toEqual({ served: 7, impression: 2, click: 1, "f:bot": 6, "f:rate_limited": 2 });
  });

  it("reads hashes that also hold the campaign-wide fields of earlier versions without counting twice", () => {
    // Earlier versions wrote each count twice, per unit and campaign-wide: the two agree.
    expect(campaignCounts({ served: 7, "u:u-1:served": 3, "u:u-2:served": 4, "f:duplicate": 2, "u:u-1:f:duplicate": 2 })).toEqual({
      served: 7,
      "f:duplicate": 2,
    });
  });

  it("takes the larger count where a rolling deploy left the campaign-wide field behind the units", () => {
    // An old instance wrote both (served 2), a new one only the units' fields (3 more).
    expect(campaignCounts({ served: 2, "u:u-1:served": 4, "u:u-2:served": 1 })).toEqual({ served: 5 });
    // A hash from before per-unit counts existed keeps its campaign-wide count.
    expect(campaignCounts({ impression: 9 })).toEqual({ impression: 9 });
  });

  it("gives nothing for an empty hash", () => {
    expect(campaignCounts({})).toEqual({});
  });
});
