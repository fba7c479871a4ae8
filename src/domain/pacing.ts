/**
 * Goals and pacing arithmetic. A goal counts served units (decision-time counting, Kevel's
 * default). `asap` serves until the goal is reached; `even` keeps delivery at or below the straight
 * line from the flight's start (0) to its end (the goal), plus a tolerance. An `even` goal without
 * both flight dates has no line to follow and paces like `asap`.
 */

export interface GoalSpec {
  readonly impressions: number;
  readonly pacing: "even" | "asap";
  readonly startMs: number;
  readonly endMs: number;
}

export interface PacingFigures {
  readonly goal: number;
  readonly pacing: "even" | "asap";
  readonly delivered: number;
  /** Where the straight line is now (`even` with a bounded flight), else null. */
  readonly expected: number | null;
  /** How far above the line delivery may go, in units. */
  readonly tolerance: number;
  readonly verdict: "ok" | "GOAL_REACHED" | "PACING_AHEAD";
}

/** Tolerance above the line: `fraction` of the goal, at least one unit. */
export function toleranceUnits(goal: number, fraction: number): number {
  return Math.max(1, Math.ceil(goal * fraction));
}

export function pacingFigures(goal: GoalSpec, delivered: number, nowMs: number, toleranceFraction: number): PacingFigures {
  const tolerance = toleranceUnits(goal.impressions, toleranceFraction);
  const bounded = Number.isFinite(goal.startMs) && Number.isFinite(goal.endMs) && goal.endMs > goal.startMs;
  const expected =
    goal.pacing === "even" && bounded
      ? goal.impressions * Math.min(1, Math.max(0, (nowMs - goal.startMs) / (goal.endMs - goal.startMs)))
      : null;
  const verdict =
    delivered >= goal.impressions ? "GOAL_REACHED" : expected !== null && delivered >= expected + tolerance ? "PACING_AHEAD" : "ok";
  return { goal: goal.impressions, pacing: goal.pacing, delivered, expected: expected === null ? null : Math.round(expected * 100) / 100, tolerance, verdict };
}
