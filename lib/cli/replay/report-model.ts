import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { RuleOutcome } from '#lib/engine/evaluate.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import type { ReplaySink } from './runner.js';
import { evaluatedAsOf } from './summary.js';

/** One rule on one scope unit, over the world's evaluations (null where it was not evaluated). */
export interface RuleSeries {
  rule_id: string;
  scope_key: string;
  kind: string;
  mode: string;
  measure: (number | null)[];
  limit: (number | null)[];
  clear: (number | null)[];
  /** Index into the world's `times` and the verdict there, for every verdict that changed something. */
  marks: { i: number; verdict: string; action: string | null }[];
  /** Episodes as index ranges into `times` (`end` null: still open at the end). */
  episodes: { start: number; end: number | null }[];
}

/** What the report draws for one world; times are epoch seconds. */
export interface WorldReport {
  world_id: string;
  /** The as_of of the data each evaluation evaluated. */
  times: number[];
  rules: RuleSeries[];
  /** Recommended exposure per strategy after each evaluation (1 = untouched, 0 = exited). */
  exposure: Record<string, number[]>;
  portfolio: {
    times: number[];
    without: number[];
    with: number[];
    drawdown_without: number[];
    drawdown_with: number[];
    /** Snapshots whose returns could not be used, and why. */
    skipped: string[];
  };
}

/** Status of a decision the gateway would have received and applied. */
const APPLIED = new Set(['published', 'pending_publish']);

/** The exposure a strategy is left with after one recommendation; see README "Gateway semantics". */
export function applyRecommendation(exposure: number, action: string, ratio: number): number {
  if (action === 'exit') return 0;
  if (action === 'reduce') return exposure * (1 - ratio);
  return 1; // hold: the engine's episode is over; the strategy's own sizing applies again
}

/**
 * How many points at the end of `cur` are new since `prev`, for a rolling window of returns:
 * the smallest shift that lines the two windows up; when none does, only the newest point.
 */
export function newPoints(prev: readonly number[] | undefined, cur: readonly number[]): number {
  if (!prev || prev.length === 0) return Math.min(1, cur.length);
  for (let shift = 0; shift < cur.length; shift++) {
    const n = Math.min(prev.length - shift, cur.length - shift);
    if (n <= 0) break;
    let same = true;
    for (let k = 0; k < n && same; k++) same = prev[shift + k] === cur[k];
    if (same) return Math.min(cur.length, cur.length - n);
  }
  return Math.min(1, cur.length);
}

interface WorldState {
  report: WorldReport;
  rules: Map<string, RuleSeries>;
  exposure: Map<string, number>;
  lastAsOfMs: number;
  lastReturns: Map<string, number[]>;
  lastWeights?: Record<string, number>;
  equity: { without: number; with: number; peakWithout: number; peakWith: number };
}

/**
 * Builds the report's series as the replay runs: per evaluation the rule numbers, the exposure the
 * published recommendations leave each strategy with, and per snapshot the portfolio with and
 * without them. Keeps a few numbers per evaluation, never the events.
 */
export class ReportModel implements ReplaySink {
  private readonly worlds = new Map<string, WorldState>();

  private world(id: string): WorldState {
    let w = this.worlds.get(id);
    if (!w) {
      w = {
        report: {
          world_id: id,
          times: [],
          rules: [],
          exposure: {},
          portfolio: {
            times: [],
            without: [],
            with: [],
            drawdown_without: [],
            drawdown_with: [],
            skipped: [],
          },
        },
        rules: new Map(),
        exposure: new Map(),
        lastAsOfMs: Number.NEGATIVE_INFINITY,
        lastReturns: new Map(),
        equity: { without: 1, with: 1, peakWithout: 1, peakWith: 1 },
      };
      this.worlds.set(id, w);
    }
    return w;
  }

  audit(record: AuditRecord): void {
    if (record.kind !== 'evaluation') return;
    const w = this.world(record.world_id);
    const t = Date.parse(evaluatedAsOf(record)) / 1000;
    if (!Number.isFinite(t)) return;
    const i = w.report.times.length;
    w.report.times.push(t);
    const decisions = (record.decisions ?? []) as {
      strategy_id: string;
      action: string;
      reduction_ratio: number;
      status: string;
      rule_ids: string[];
    }[];
    for (const o of (record.rules ?? []) as RuleOutcome[]) {
      const k = `${o.rule_id}\u0000${o.scope_key}`;
      let series = w.rules.get(k);
      if (!series) {
        const pad = () => new Array<number | null>(i).fill(null);
        series = {
          rule_id: o.rule_id,
          scope_key: o.scope_key,
          kind: o.kind,
          mode: o.mode,
          measure: pad(),
          limit: pad(),
          clear: pad(),
          marks: [],
          episodes: [],
        };
        w.rules.set(k, series);
        w.report.rules.push(series);
      }
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      series.measure.push(num(o.measure));
      series.limit.push(num(o.limit));
      series.clear.push(num(o.clear));
      const mine = decisions.find((d) => d.rule_ids.includes(o.rule_id));
      if (
        o.verdict === 'fired' ||
        o.verdict === 'escalated' ||
        o.verdict === 'cleared' ||
        o.verdict === 'repeated'
      )
        series.marks.push({ i, verdict: o.verdict, action: mine?.action ?? o.proposed?.action ?? null });
      const open = series.episodes.at(-1);
      if (o.verdict === 'fired') series.episodes.push({ start: i, end: null });
      else if (o.verdict === 'cleared' && open && open.end === null) open.end = i;
    }
    for (const s of w.rules.values()) {
      if (s.measure.length > i) continue;
      s.measure.push(null);
      s.limit.push(null);
      s.clear.push(null);
    }
    for (const d of decisions) {
      if (!APPLIED.has(d.status)) continue;
      const before = w.exposure.get(d.strategy_id) ?? 1;
      w.exposure.set(d.strategy_id, applyRecommendation(before, d.action, d.reduction_ratio));
    }
    for (const [strategy, e] of w.exposure) {
      const series = w.report.exposure[strategy] ?? new Array<number>(i).fill(1);
      series.push(e);
      w.report.exposure[strategy] = series;
    }
  }

  snapshot(data: SnapshotData): void {
    const w = this.world(data.world_id);
    for (const s of Object.keys(data.weights))
      if (!w.exposure.has(s)) {
        w.exposure.set(s, 1);
        w.report.exposure[s] ??= new Array<number>(w.report.times.length).fill(1);
      }
    const asOfMs = Date.parse(data.as_of);
    // A redelivered or late snapshot adds no period; the overlay's effect is measured forward only.
    if (!(asOfMs > w.lastAsOfMs)) return;
    const p = w.report.portfolio;
    const returns = data.realized_returns;
    if (returns === undefined || Array.isArray(returns)) {
      p.skipped.push(
        `${data.version} (as_of ${data.as_of}): ${
          returns === undefined
            ? data.realized_returns_ref
              ? 'realized returns by reference (not read for the report)'
              : 'no realized returns'
            : 'portfolio-level returns only (per-strategy returns needed)'
        }`,
      );
      return;
    }
    const weights = w.lastWeights ?? data.weights;
    const counts = Object.entries(returns).map(([s, r]) => newPoints(w.lastReturns.get(s), r));
    const n = Math.max(0, ...counts);
    const prevMs = Number.isFinite(w.lastAsOfMs) ? w.lastAsOfMs : asOfMs - n * 86_400_000;
    for (let j = 0; j < n; j++) {
      let without = 0;
      let withOverlay = 0;
      for (const [s, series] of Object.entries(returns)) {
        const r = series[series.length - n + j];
        const weight = weights[s] ?? 0;
        if (r === undefined || !Number.isFinite(r)) continue;
        without += weight * r;
        withOverlay += weight * (w.exposure.get(s) ?? 1) * r;
      }
      const e = w.equity;
      e.without *= 1 + without;
      e.with *= 1 + withOverlay;
      e.peakWithout = Math.max(e.peakWithout, e.without);
      e.peakWith = Math.max(e.peakWith, e.with);
      p.times.push((prevMs + ((asOfMs - prevMs) * (j + 1)) / n) / 1000);
      p.without.push(e.without);
      p.with.push(e.with);
      p.drawdown_without.push(e.without / e.peakWithout - 1);
      p.drawdown_with.push(e.with / e.peakWith - 1);
    }
    w.lastAsOfMs = asOfMs;
    w.lastWeights = data.weights;
    for (const [s, r] of Object.entries(returns)) w.lastReturns.set(s, [...r]);
  }

  /** The finished series, one entry per world, sorted by world id. */
  reports(): WorldReport[] {
    return [...this.worlds.values()]
      .map((w) => w.report)
      .filter((r) => r.times.length > 0 || r.portfolio.times.length > 0)
      .sort((a, b) => (a.world_id < b.world_id ? -1 : 1));
  }
}
