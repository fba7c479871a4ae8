/**
 * Pacing off the request path: delivered counts of campaigns with goals are read from the store
 * every `refreshMs` (one pipelined batch), and serves made by this instance since the last read are
 * added locally, so a decision never needs an extra round trip and overshoot stays small.
 */
import type { CatalogSnapshot, CompiledCampaign, Reason } from "../domain/catalog-snapshot.js";
import { pacingFigures, type PacingFigures } from "../domain/pacing.js";
import type { ReportStore } from "../store/ports.js";
import type { Logger } from "../telemetry/logger.js";
import { runInSlices } from "../domain/slices.js";

export interface PacingService {
  /** `GOAL_REACHED` / `PACING_AHEAD` with the figures, or undefined when the campaign may serve. */
  verdict(campaign: CompiledCampaign, nowMs: number): Reason | undefined;
  figures(campaign: CompiledCampaign, nowMs: number): PacingFigures | undefined;
  /** Counts a serve made by this instance until the next refresh reads it back. */
  noteServed(campaignId: string): void;
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createPacingService(deps: {
  reports: ReportStore;
  catalog: { current(): CatalogSnapshot };
  refreshMs: number;
  toleranceFraction: number;
  logger: Logger;
}): PacingService {
  const delivered = new Map<string, number>();
  const local = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  const figures = (c: CompiledCampaign, nowMs: number): PacingFigures | undefined => {
    const goal = c.source.goal;
    if (!goal) return undefined;
    const count = (delivered.get(c.id) ?? 0) + (local.get(c.id) ?? 0);
    return pacingFigures({ impressions: goal.impressions, pacing: goal.pacing, startMs: c.startMs, endMs: c.endMs }, count, nowMs, deps.toleranceFraction);
  };

  const service: PacingService = {
    figures,
    verdict(c, nowMs) {
      if (!c.source.goal) return undefined;
      const f = figures(c, nowMs) as PacingFigures;
      return f.verdict === "ok" ? undefined : { code: f.verdict, detail: f };
    },
    noteServed(campaignId) {
      local.set(campaignId, (local.get(campaignId) ?? 0) + 1);
    },
    async refresh() {
      const ids = deps.catalog.current().goalCampaignIds;
      // Serves noted before the read are included in it; those noted while it runs are kept.
      const pending = new Map(local);
      const totals = await deps.reports.totals(ids);
      await runInSlices(
        (function* () {
          for (let i = 0; i < ids.length; i++) {
            delivered.set(ids[i] as string, totals[i]?.served ?? 0);
            if (i % 1024 === 1023) yield;
          }
        })(),
      );
      for (const [id, n] of pending) {
        const left = (local.get(id) ?? 0) - n;
        if (left > 0) local.set(id, left);
        else local.delete(id);
      }
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        service.refresh().catch((err: unknown) => deps.logger.warn({ err }, "pacing refresh failed"));
      }, deps.refreshMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return service;
}
