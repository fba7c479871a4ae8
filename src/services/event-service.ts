/**
 * Beacons: impressions, viewable impressions and clicks from signed, one-time tokens.
 *
 * A token that fails verification is a 400 and counts nothing. A valid token is counted once per
 * event type; a repeat (`duplicate`), an expired token (`expired`), a known bot (`bot`) or a client
 * over its beacon rate (`rate_limited`) answers like a counted one but is counted only under
 * `filtered`. A click redirects to the landing URL stored on the unit, never one from the request.
 */
import { isbot } from "isbot";
import { dayBucket, hourBucket } from "../domain/periods.js";
import type { EventType, TokenSigner } from "../domain/tokens.js";
import { findUnit, type CatalogSnapshot } from "../domain/catalog-snapshot.js";
import { ApiError } from "../errors.js";
import type { EventStore, FilterReason } from "../store/ports.js";
import type { Logger } from "../telemetry/logger.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { BeaconBuffer, BufferedBeacon } from "./beacon-buffer.js";
import type { Telemetry } from "../telemetry/telemetry.js";

export interface BeaconFacts {
  readonly userAgent: string | undefined;
  /** Hashed, truncated client address (see rate-limiter.ts). */
  readonly clientKey: string;
}

export interface BeaconResult {
  readonly counted: boolean;
  readonly reason?: FilterReason;
  /** For clicks: where to redirect. */
  readonly location?: string;
}

export interface EventServiceDeps {
  readonly events: EventStore;
  readonly signer: TokenSigner;
  readonly catalog: { current(): CatalogSnapshot };
  readonly clock: () => number;
  readonly logger: Logger;
  /** Per client and campaign: clicks counted (default 1 a minute). */
  readonly clickLimiter: RateLimiter;
  /** Per client: impressions and viewables counted (beyond: filtered as rate_limited). */
  readonly beaconLimiter: RateLimiter;
  /** Metrics (no-op without an OpenTelemetry SDK). */
  readonly telemetry?: Telemetry;
  /** Where beacons go while the store is unavailable. */
  readonly buffer?: BeaconBuffer;
}

export interface EventService {
  track(type: EventType, token: string | undefined, facts: BeaconFacts): Promise<BeaconResult>;
}

/** Seen-token memory lasts this long past the token's expiry, so a late replay is still a duplicate. */
const SEEN_GRACE_SECONDS = 3600;

export function createEventService(deps: EventServiceDeps): EventService {
  const { events, signer, catalog, clock, logger } = deps;
  return {
    async track(type, token, facts) {
      if (!token) throw new ApiError("BAD_REQUEST", "missing tracking token (?t=)", [{ path: "t", message: "required" }]);
      const nowMs = clock();
      const verified = signer.verify(token, type, nowMs);
      if (!verified.ok) {
        throw new ApiError("BAD_REQUEST", verified.reason === "wrong_type" ? `token is not a ${type} token` : "invalid tracking token", [
          { path: "t", message: verified.reason },
        ]);
      }
      const c = verified.claims;
      let location: string | undefined;
      if (type === "click") {
        const unit = findUnit(catalog.current(), c.campaignId, c.unitId);
        if (!unit) throw new ApiError("NOT_FOUND", "this sponsored unit no longer exists");
        location = unit.cta.url;
      }
      const base = { type, campaignId: c.campaignId, unitId: c.unitId, decisionId: c.decisionId, slotId: c.slotId, hour: hourBucket(nowMs), day: dayBucket(nowMs) };
      let filter: Exclude<FilterReason, "duplicate" | "rate_limited"> | undefined;
      if (verified.expired) filter = "expired";
      else if (facts.userAgent === undefined || facts.userAgent === "" || isbot(facts.userAgent)) filter = "bot";
      // Over its rate, a client's first use of a token is filtered as rate_limited; a repeat is
      // still reported as the duplicate it is (the store decides which, in the same round trip).
      const overRate =
        !filter && !(type === "click" ? deps.clickLimiter.hit(`${facts.clientKey}|${c.campaignId}`).ok : deps.beaconLimiter.hit(facts.clientKey).ok);
      let reason: FilterReason | undefined = filter;
      const beacon: BufferedBeacon = filter
        ? { kind: "filtered", request: base, reason: filter }
        : {
            kind: "track",
            request: {
              ...base,
              dedupeTtlSeconds: Math.max(0, c.expiresAtSeconds - Math.floor(nowMs / 1000)) + SEEN_GRACE_SECONDS,
              entry: { type, at: new Date(nowMs).toISOString(), decisionId: c.decisionId, slotId: c.slotId, campaignId: c.campaignId, unitId: c.unitId },
              ...(overRate ? { filterIfFirst: "rate_limited" as const } : {}),
            },
          };
      try {
        if (beacon.kind === "filtered") await events.filtered(beacon.request, beacon.reason);
        else {
          const outcome = await events.track(beacon.request);
          if (outcome !== "counted") reason = outcome === "duplicate" ? "duplicate" : "rate_limited";
        }
      } catch (err) {
        // Store unavailable: keep the beacon and count it when the store is back (its one-time
        // check applies then). A beacon that cannot be kept is not acknowledged as accepted.
        if (!deps.buffer?.add(beacon)) {
          logger.error({ err, event: type, campaignId: c.campaignId }, "beacon lost: store unavailable and buffer full");
          throw new ApiError("UNAVAILABLE", "the event could not be recorded; retry later");
        }
        logger.info({ event: type, campaignId: c.campaignId, unitId: c.unitId, decisionId: c.decisionId, buffered: true }, "beacon");
        deps.telemetry?.events.add(1, { type, outcome: "buffered" });
        deps.telemetry?.degraded.add(1, { path: "beacon" });
        return location ? { counted: !overRate, location } : { counted: !overRate };
      }
      logger.info({ event: type, campaignId: c.campaignId, unitId: c.unitId, decisionId: c.decisionId, counted: !reason, filtered: reason }, "beacon");
      deps.telemetry?.events.add(1, { type, outcome: reason ? "filtered" : "counted", ...(reason ? { reason } : {}) });
      return reason ? { counted: false, reason, ...(location ? { location } : {}) } : { counted: true, ...(location ? { location } : {}) };
    },
  };
}
