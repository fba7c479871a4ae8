/**
 * Reports through HTTP: after a scripted two days of decisions and beacons, a campaign's report
 * (per day and per hour, JSON and CSV) holds exactly what the script did; the advertiser report
 * has one row per campaign; bad ranges are 400s; opted-out users are not in reach; the event log
 * holds one entry per served decision and per counted event, and no raw user key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import {
  type AdvertiserReport,
  advertiserReport,
  type App,
  campaignReport,
  click302,
  DAY_MS,
  decide,
  type DecisionResponse,
  decisionBody,
  economyPage,
  END_SLOT,
  expectError,
  filtered,
  fire204,
  getReport,
  headerIp,
  houseOnlyPage,
  isoDay,
  metrics,
  type Metrics,
  MID_SLOT,
  NOTHING_FILTERED,
  onlyUnit,
  type TestService,
  unitOf,
  units,
  ZERO,
} from "../helpers/tracking.js";

const WALMART = "walmart-us-manufacturing";
const HOUSE = "newsroom-daily";
const BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const CLIENT_IP = "198.51.100.23";
const CSV_HEADER = "period,served,impressions,viewable,clicks,ctr,reach";

/** Distinctive user keys, so the event log can be searched for them. */
const USERS = { alice: "rk-alice-5b1f0c2e", bob: "rk-bob-9d2e1144", carol: "rk-carol-77aa03d1", dave: "rk-dave-c0ffee42" };

interface Scenario {
  service: TestService;
  app: App;
  decisions: DecisionResponse[];
  /** Decision id → the event types counted for it, in order. */
  counted: Map<string, string[]>;
}

/**
 * Two days of walmart (the only campaign on the economy page's mid slot), all times UTC:
 *   11-26 09:15 alice  served, impression, viewable, click
 *   11-26 09:40 bob    served, impression twice (one duplicate)
 *   11-26 14:05 alice  served, impression
 *   11-26 14:10 carol  served, nothing fired (until 11-27 14:11, when its impression has expired)
 *   11-27 10:00 alice  served, impression, click
 *   11-27 10:30 dave   served, a bot's impression, then impression, viewable, click
 */
async function runScenario(): Promise<Scenario> {
  const clock = fakeClock("2026-11-26T09:15:00Z");
  const service = await buildTestService({ clock: clock.now, clientIp: headerIp });
  const { app } = service;
  const decisions: DecisionResponse[] = [];
  const counted = new Map<string, string[]>();
  const headers = { "x-test-client-ip": CLIENT_IP };
  const serve = async (at: string, user: string): Promise<DecisionResponse> => {
    clock.set(at);
    const d = await decide(app, decisionBody(economyPage(), user), headers);
    onlyUnit(d, WALMART);
    decisions.push(d);
    counted.set(d.decisionId, []);
    return d;
  };
  const note = (d: DecisionResponse, type: string): void => {
    counted.get(d.decisionId)?.push(type);
  };
  /** Fires a beacon; `counts` says whether the script expects it to be counted. */
  const impression = async (d: DecisionResponse, counts: boolean, ua?: string): Promise<void> => {
    await fire204(app, onlyUnit(d).tracking.impression, { ip: CLIENT_IP, ...(ua ? { ua } : {}) });
    if (counts) note(d, "impression");
  };
  const viewable = async (d: DecisionResponse): Promise<void> => {
    await fire204(app, onlyUnit(d).tracking.viewable, { ip: CLIENT_IP });
    note(d, "viewable");
  };
  const click = async (d: DecisionResponse): Promise<void> => {
    await click302(app, onlyUnit(d).cta.url, { ip: CLIENT_IP });
    note(d, "click");
  };

  const d1 = await serve("2026-11-26T09:15:00Z", USERS.alice);
  await impression(d1, true);
  await viewable(d1);
  await click(d1);
  const d2 = await serve("2026-11-26T09:40:00Z", USERS.bob);
  await impression(d2, true);
  await impression(d2, false); // duplicate
  const d3 = await serve("2026-11-26T14:05:00Z", USERS.alice);
  await impression(d3, true);
  const d4 = await serve("2026-11-26T14:10:00Z", USERS.carol);
  const d5 = await serve("2026-11-27T10:00:00Z", USERS.alice);
  await impression(d5, true);
  await click(d5);
  const d6 = await serve("2026-11-27T10:30:00Z", USERS.dave);
  await impression(d6, false, BOT_UA); // bot
  await impression(d6, true);
  await viewable(d6);
  await click(d6);
  clock.set("2026-11-27T14:11:00Z");
  await impression(d4, false); // expired (24 h and a minute after its decision)
  return { service, app, decisions, counted };
}

const DAY_26 = metrics({ served: 4, impressions: 3, viewable: 1, clicks: 1, ctr: 0.3333, reach: 3 });
const DAY_27 = metrics({ served: 2, impressions: 2, viewable: 1, clicks: 2, ctr: 1, reach: 2 });
const TOTALS = metrics({ served: 6, impressions: 5, viewable: 2, clicks: 3, ctr: 0.6, reach: 4 });
const FILTERED = filtered({ duplicate: 1, expired: 1, bot: 1 });
const HOURS: Record<string, Metrics> = {
  "2026-11-26T09:00Z": metrics({ served: 2, impressions: 2, viewable: 1, clicks: 1, ctr: 0.5, reach: 2 }),
  "2026-11-26T14:00Z": metrics({ served: 2, impressions: 1, ctr: 0, reach: 2 }),
  "2026-11-27T10:00Z": metrics({ served: 2, impressions: 2, viewable: 1, clicks: 2, ctr: 1, reach: 2 }),
};

function csvOf(rows: (Metrics & { period: string })[]): string {
  return [CSV_HEADER, ...rows.map((r) => [r.period, r.served, r.impressions, r.viewable, r.clicks, r.ctr, r.reach].join(","))].join("\r\n") + "\r\n";
}

describe("a campaign's report after two days of traffic", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario();
  });
  afterAll(async () => {
    await s.service.close();
  });

  it("has one row per day with exactly the served, impressions, viewable, clicks, ctr and reach of each day", async () => {
    const r = await campaignReport(s.app, WALMART, { from: "2026-11-25", to: "2026-11-28" });
    expect(r).toEqual({
      campaignId: WALMART,
      from: "2026-11-25",
      to: "2026-11-28",
      granularity: "day",
      rows: [
        { period: "2026-11-25", ...ZERO },
        { period: "2026-11-26", ...DAY_26 },
        { period: "2026-11-27", ...DAY_27 },
        { period: "2026-11-28", ...ZERO },
      ],
      totals: TOTALS,
      filtered: FILTERED,
    });
  });

  it("totals a range's days, counting a user seen on both days once in reach", async () => {
    const day26 = await campaignReport(s.app, WALMART, { from: "2026-11-26", to: "2026-11-26" });
    expect(day26.totals).toEqual(DAY_26);
    expect(day26.filtered).toEqual(filtered({ duplicate: 1 }));
    const day27 = await campaignReport(s.app, WALMART, { from: "2026-11-27", to: "2026-11-27" });
    expect(day27.totals).toEqual(DAY_27);
    expect(day27.filtered).toEqual(filtered({ expired: 1, bot: 1 }));
    const both = await campaignReport(s.app, WALMART, { from: "2026-11-26", to: "2026-11-27" });
    expect(both.totals).toEqual(TOTALS);
    // alice was served on both days: 3 + 2 users per day, 4 distinct.
    expect(both.totals.reach).toBe(4);
  });

  it("has one row per hour with granularity=hour, labelled YYYY-MM-DDTHH:00Z, with the same totals", async () => {
    const r = await campaignReport(s.app, WALMART, { from: "2026-11-26", to: "2026-11-27", granularity: "hour" });
    expect(r.granularity).toBe("hour");
    expect(r.rows).toHaveLength(48);
    expect(r.rows[0]?.period).toBe("2026-11-26T00:00Z");
    expect(r.rows[47]?.period).toBe("2026-11-27T23:00Z");
    for (const [i, row] of r.rows.entries()) {
      const hour = new Date(Date.parse("2026-11-26T00:00:00Z") + i * 3_600_000).toISOString().slice(0, 13) + ":00Z";
      expect(row.period).toBe(hour);
      const { period, ...m } = row;
      expect(m, period).toEqual(HOURS[period] ?? ZERO);
    }
    expect(r.totals).toEqual(TOTALS);
    expect(r.filtered).toEqual(FILTERED);
  });

  it("says nothing of a campaign that served nothing", async () => {
    const r = await campaignReport(s.app, "microsoft-quantum", { from: "2026-11-26", to: "2026-11-27" });
    expect(r.rows.map(({ period, ...m }) => [period, m])).toEqual([
      ["2026-11-26", ZERO],
      ["2026-11-27", ZERO],
    ]);
    expect(r.totals).toEqual(ZERO);
    expect(r.filtered).toEqual(NOTHING_FILTERED);
  });

  it("answers CSV with a header line for Accept: text/csv and for ?format=csv, rows equal to the JSON", async () => {
    const query = { from: "2026-11-25", to: "2026-11-28" };
    const json = await campaignReport(s.app, WALMART, query);
    const byAccept = await getReport(s.app, `/v1/reports/campaigns/${WALMART}`, query, OPS_KEY, { accept: "text/csv" });
    const byFormat = await getReport(s.app, `/v1/reports/campaigns/${WALMART}`, { ...query, format: "csv" });
    const expected = csvOf(json.rows);
    expect(expected).toBe(
      [CSV_HEADER, "2026-11-25,0,0,0,0,0,0", "2026-11-26,4,3,1,1,0.3333,3", "2026-11-27,2,2,1,2,1,2", "2026-11-28,0,0,0,0,0,0", ""].join("\r\n"),
    );
    for (const res of [byAccept, byFormat]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${WALMART}_2026-11-25_2026-11-28.csv"`);
      expect(await res.text()).toBe(expected);
    }
    const hourly = await getReport(s.app, `/v1/reports/campaigns/${WALMART}`, { from: "2026-11-26", to: "2026-11-27", granularity: "hour", format: "csv" });
    const hourlyJson = await campaignReport(s.app, WALMART, { from: "2026-11-26", to: "2026-11-27", granularity: "hour" });
    expect(await hourly.text()).toBe(csvOf(hourlyJson.rows));
  });

  it("keeps in the event log one JSON entry per served decision and per counted event, and no raw user key", async () => {
    const log = await s.service.stores.events.recent(1000);
    for (const entry of log) expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
    const served = log.filter((e) => e.type === "served");
    expect(served.map((e) => e.decisionId)).toEqual(s.decisions.map((d) => d.decisionId));
    for (const [i, e] of served.entries()) {
      const d = s.decisions[i] as DecisionResponse;
      expect(e.units).toEqual(units(d).map((u) => ({ slotId: "mid-1", campaignId: u.campaignId, advertiserId: u.advertiserId, unitId: u.unitId })));
    }
    const events = log.filter((e) => e.type !== "served");
    const expectedEvents = [...s.counted.entries()].flatMap(([decisionId, types]) => types.map((type) => ({ decisionId, type })));
    expect(events.map((e) => ({ decisionId: e.decisionId, type: e.type }))).toEqual(expectedEvents);
    expect(events).toHaveLength(10);
    for (const e of events) expect(e).toMatchObject({ campaignId: WALMART, unitId: "walmart-proud-source", slotId: "mid-1" });
    expect(log).toHaveLength(s.decisions.length + 10);
    const text = JSON.stringify(log);
    for (const key of Object.values(USERS)) expect(text).not.toContain(key);
    expect(text).not.toContain(CLIENT_IP);
  });
});

describe("an advertiser's report", () => {
  let service: TestService;
  let app: App;
  beforeAll(async () => {
    const clock = fakeClock("2026-11-27T08:00:00Z");
    service = await buildTestService({ clock: clock.now });
    app = service.app;
    const ops = { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" };
    const create = async (path: string, body: unknown): Promise<void> => {
      const res = await app.request(path, { method: "POST", headers: ops, body: JSON.stringify(body) });
      expect(res.status, await res.text()).toBe(201);
    };
    // A second walmart campaign that takes the end slot (same tier as the first, which may not
    // appear twice in one decision), and a paused one that never serves.
    await create("/v1/admin/campaigns", { id: "walmart-gifts", advertiserId: "walmart", name: "Holiday gifts", tier: "sponsorship", placements: ["article-end"] });
    await create("/v1/admin/units", {
      id: "walmart-gifts-card", campaignId: "walmart-gifts", format: "native-card", headline: "Gifts", body: "Gifts for everyone",
      cta: { text: "Shop", url: "https://walmart.example/gifts" },
    });
    await create("/v1/admin/campaigns", { id: "walmart-archive", advertiserId: "walmart", name: "Paused", status: "paused", tier: "standard", placements: ["article-mid"] });
    for (const [i, user] of ["adv-u1", "adv-u2", "adv-u3"].entries()) {
      clock.set(`2026-11-27T${String(9 + i).padStart(2, "0")}:00:00Z`);
      const d = await decide(app, decisionBody(economyPage(), user, [MID_SLOT, END_SLOT]));
      await fire204(app, unitOf(d, WALMART).tracking.impression);
      if (i < 2) await fire204(app, unitOf(d, "walmart-gifts").tracking.impression);
      if (i === 0) await click302(app, unitOf(d, "walmart-gifts").cta.url);
      if (i === 1) await fire204(app, unitOf(d, WALMART).tracking.impression);
    }
  });
  afterAll(async () => {
    await service.close();
  });

  it("has one row per campaign of the advertiser, each equal to that campaign's totals, and their sums", async () => {
    const r = await advertiserReport(app, "walmart", { from: "2026-11-27", to: "2026-11-27" });
    expect(r.advertiserId).toBe("walmart");
    expect(r.rows.map((x) => x.campaignId)).toEqual(["walmart-archive", "walmart-gifts", WALMART]);
    expect(r.rows.map((x) => x.name)).toEqual(["Paused", "Holiday gifts", "US manufacturing"]);
    const expected: Record<string, Metrics> = {
      "walmart-archive": ZERO,
      "walmart-gifts": metrics({ served: 3, impressions: 2, clicks: 1, ctr: 0.5, reach: 3 }),
      [WALMART]: metrics({ served: 3, impressions: 3, reach: 3 }),
    };
    for (const row of r.rows) {
      const { campaignId, name: _name, ...m } = row;
      expect(m, campaignId).toEqual(expected[campaignId]);
      expect(m).toEqual((await campaignReport(app, campaignId, { from: "2026-11-27", to: "2026-11-27" })).totals);
    }
    const { reach: _reach, ...totals } = r.totals;
    expect(totals).toEqual({ served: 6, impressions: 5, viewable: 0, clicks: 1, ctr: 0.2 });
    expect(r.filtered).toEqual(filtered({ duplicate: 1 }));
  });

  it("counts a user served by two of its campaigns once in the advertiser's total reach", async () => {
    // adv-u1..3 were each served both walmart campaigns: 3 distinct users, not 3 + 3.
    const r = await advertiserReport(app, "walmart", { from: "2026-11-27", to: "2026-11-27" });
    expect(r.rows.map((x) => [x.campaignId, x.reach])).toEqual([["walmart-archive", 0], ["walmart-gifts", 3], [WALMART, 3]]);
    expect(r.totals.reach).toBe(3);
  });

  it("answers CSV with one line per campaign", async () => {
    const res = await getReport(app, "/v1/reports/advertisers/walmart", { from: "2026-11-27", to: "2026-11-27" }, OPS_KEY, { accept: "text/csv" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(
      [
        "campaignId,name,served,impressions,viewable,clicks,ctr,reach",
        "walmart-archive,Paused,0,0,0,0,0,0",
        "walmart-gifts,Holiday gifts,3,2,0,1,0.5,3",
        `${WALMART},US manufacturing,3,3,0,0,0,3`,
        "",
      ].join("\r\n"),
    );
  });

  it("holds none of another advertiser's campaigns", async () => {
    const r: AdvertiserReport = await advertiserReport(app, "microsoft", { from: "2026-11-27", to: "2026-11-27" });
    expect(r.rows.map((x) => x.campaignId)).toEqual(["microsoft-quantum"]);
  });
});

describe("report CSV cells", () => {
  it("quotes commas and quotes, and defuses spreadsheet formulas in campaign names", async () => {
    const service = await buildTestService({ clock: fakeClock().now });
    try {
      const ops = { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" };
      for (const [id, name] of [
        ["walmart-a-formula", '=HYPERLINK("https://evil.example","Gifts, wrapped")'],
        ["walmart-b-quoted", 'Gifts, "Holiday" edition'],
        ["walmart-c-plus", "+1 sale"],
      ]) {
        const res = await service.app.request("/v1/admin/campaigns", {
          method: "POST",
          headers: ops,
          body: JSON.stringify({ id, advertiserId: "walmart", name, status: "paused", tier: "standard", placements: ["article-mid"] }),
        });
        expect(res.status, await res.text()).toBe(201);
      }
      const res = await getReport(service.app, "/v1/reports/advertisers/walmart", { from: "2026-11-27", to: "2026-11-27", format: "csv" });
      expect((await res.text()).split("\r\n")).toEqual([
        "campaignId,name,served,impressions,viewable,clicks,ctr,reach",
        `walmart-a-formula,"'=HYPERLINK(""https://evil.example"",""Gifts, wrapped"")",0,0,0,0,0,0`,
        `walmart-b-quoted,"Gifts, ""Holiday"" edition",0,0,0,0,0,0`,
        "walmart-c-plus,'+1 sale,0,0,0,0,0,0",
        `${WALMART},US manufacturing,0,0,0,0,0,0`,
        "",
      ]);
    } finally {
      await service.close();
    }
  });
});

describe("report ranges", () => {
  let service: TestService;
  beforeAll(async () => {
    service = await buildTestService({ clock: fakeClock().now });
  });
  afterAll(async () => {
    await service.close();
  });

  const to = "2026-11-27";
  const daysBefore = (n: number): string => isoDay(Date.parse(`${to}T00:00:00Z`) - n * DAY_MS);
  const bad: [string, Record<string, string>, string][] = [
    ["from and to missing", {}, "from"],
    ["from missing", { to }, "from"],
    ["to missing", { from: to }, "to"],
    ["a month 13", { from: "2026-13-01", to }, "from"],
    ["February 30th", { from: "2026-02-30", to }, "from"],
    ["an unpadded date", { from: "2026-11-1", to }, "from"],
    ["a compact date", { from: "20261101", to }, "from"],
    ["a timestamp", { from: "2026-11-01T00:00:00Z", to }, "from"],
    ["a word", { from: "yesterday", to }, "from"],
    ["a bad to", { from: "2026-11-01", to: "2026-11-31" }, "to"],
    ["from after to", { from: to, to: "2026-11-26" }, "from"],
    ["401 days", { from: daysBefore(400), to }, "to"],
    ["15 days by the hour", { from: daysBefore(14), to, granularity: "hour" }, "to"],
    ["an unknown granularity", { from: to, to, granularity: "week" }, "granularity"],
  ];

  it.each(bad)("rejects a campaign report range with %s with a 400 envelope", async (_name, query, path) => {
    const res = await getReport(service.app, `/v1/reports/campaigns/${WALMART}`, query);
    const body = await expectError(res, 400, "BAD_REQUEST");
    expect(body.error.details?.map((d) => d.path)).toContain(path);
  });

  it.each(bad)("rejects an advertiser report range with %s with a 400 envelope", async (_name, query) => {
    await expectError(await getReport(service.app, "/v1/reports/advertisers/walmart", query), 400, "BAD_REQUEST");
  });

  it("rejects hour granularity on an advertiser report", async () => {
    await expectError(await getReport(service.app, "/v1/reports/advertisers/walmart", { from: to, to, granularity: "hour" }), 400, "BAD_REQUEST");
  });

  it("accepts exactly 400 days, and exactly 14 days by the hour", async () => {
    const days = await campaignReport(service.app, WALMART, { from: daysBefore(399), to });
    expect(days.rows).toHaveLength(400);
    const hours = await campaignReport(service.app, WALMART, { from: daysBefore(13), to, granularity: "hour" });
    expect(hours.rows).toHaveLength(14 * 24);
    expect((await advertiserReport(service.app, "walmart", { from: daysBefore(399), to })).rows).toHaveLength(1);
  });

  it("answers 404 for an unknown campaign or advertiser", async () => {
    const query = { from: to, to };
    await expectError(await getReport(service.app, "/v1/reports/campaigns/no-such-campaign", query), 404, "NOT_FOUND");
    await expectError(await getReport(service.app, "/v1/reports/advertisers/no-such-advertiser", query), 404, "NOT_FOUND");
  });

  it("answers 401 without a valid key", async () => {
    await expectError(await service.app.request(`/v1/reports/campaigns/${WALMART}?from=${to}&to=${to}`), 401, "UNAUTHENTICATED");
    await expectError(await getReport(service.app, `/v1/reports/campaigns/${WALMART}`, { from: to, to }, "spk_not-a-real-key"), 401, "UNAUTHENTICATED");
  });
});

describe("reach and privacy", () => {
  it("does not count users who send Sec-GPC: 1 or DNT: 1 in reach, though their units are served", async () => {
    const service = await buildTestService({ clock: fakeClock().now });
    try {
      const { app } = service;
      const serve = async (user: string, headers: Record<string, string> = {}) => onlyUnit(await decide(app, decisionBody(houseOnlyPage(), user), headers), HOUSE);
      await serve("gpc-normal-1");
      await serve("gpc-optout-2", { "sec-gpc": "1" });
      await serve("gpc-optout-3", { dnt: "1" });
      await serve("gpc-optout-2", { "sec-gpc": "1" });
      await serve("gpc-normal-1");
      await serve("gpc-normal-4");
      const r = await campaignReport(app, HOUSE, { from: "2026-11-27", to: "2026-11-27" });
      expect(r.totals.served).toBe(6);
      expect(r.totals.reach).toBe(2);
      const hourly = await campaignReport(app, HOUSE, { from: "2026-11-27", to: "2026-11-27", granularity: "hour" });
      expect(hourly.rows.find((x) => x.period === "2026-11-27T12:00Z")?.reach).toBe(2);
      expect(JSON.stringify(await service.stores.events.recent(100))).not.toContain("gpc-");
    } finally {
      await service.close();
    }
  });
});
