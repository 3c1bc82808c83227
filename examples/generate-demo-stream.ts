/**
 * Generates `examples/demo-world.jsonl`, the stream `npm start` replays: seven weeks of hub snapshots
 * for one live world, told as EventBridge events carrying upstream's `risk_snapshot_updated` CloudEvent.
 *
 * Everything is derived from a fixed seed (mulberry32), with no clock and no Math.random, so the file
 * is reproducible byte for byte (the contract test regenerates it in memory and compares).
 *
 * Run: `npx tsx examples/generate-demo-stream.ts`
 */
import { createHash } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '#lib/prng.js';
import { canonicalJson, isoSeconds, prettyJson, round, sig, uuidV5 } from './demo-stream/json-text.js';
import {
  RETURNS_WINDOW,
  type SimulatedDay,
  SNAPSHOT_DAYS,
  STRATEGIES,
  simulate,
  WARMUP_DAYS,
} from './demo-stream/market-model.js';

const WORLD_ID = 'demo-world';
const SOURCE = 'qmtl.services.worldservice';
const N = STRATEGIES.length;
const Z_99 = 2.326347874040841;

/** Chosen so the simulated path tells the story below within the documented bands (see README). */
const SEED = 20250224;
/** First snapshot day (a Monday): 2025-02-24. */
const FIRST_DAY_UTC = Date.UTC(2025, 1, 24);
// Story calendar, as indices into the snapshot days (0 = Mon 2025-02-24).
/** The hub reruns `liquidity_freeze` with harsher ADV haircuts: Tue–Thu of week 5. */
const STRESS_BREACH_DAYS = new Set([22, 23, 24]);
/** Older producers write `dd_max` instead of `max_drawdown` in these snapshots. */
const DD_MAX_DAYS = new Set([4, 9, 17, 23, 31]);
/** `as_of` written with `+00:00` rather than `Z`. */
const PLUS_OFFSET_DAYS = new Set([3, 12, 19, 29]);
/** Covariance keys written `a:b` rather than `a,b`. */
const COLON_KEY_DAYS = new Set([5, 14, 27]);
/** Some pairs written in swapped order (`b,a`). */
const SWAPPED_PAIR_DAYS = new Set([2, 8, 13, 21, 33]);

/** Base scenario losses per strategy (positive = loss, fraction of the strategy's capital). */
const SCENARIO_SHOCKS: Record<string, readonly number[]> = {
  equity_crash: [0.07, 0.22, 0.31, 0.62, -0.05],
  rates_shock: [0.12, 0.07, 0.06, 0.08, 0.34],
  liquidity_freeze: [0.12, 0.29, 0.22, 0.38, 0.1],
};
/** Scenario 1-day VaR as a multiple of the current parametric VaR (the hub's stressed-vol rerun). */
const SCENARIO_VAR_MULT: Record<string, number> = {
  equity_crash: 2.6,
  rates_shock: 1.6,
  liquidity_freeze: 2.1,
};

/** Where the delivery faults sit in the stream (1-based line numbers of `demo-world.jsonl`). */
export interface DemoStreamFacts {
  /** Line of the malformed snapshot (weights summing to 0.5). */
  malformedLine: number;
  /** The two lines carrying the same event (EventBridge at-least-once redelivery). */
  duplicateLines: [number, number];
  /** Line of the snapshot delivered late, after two newer ones. */
  lateLine: number;
  /** Total number of lines. */
  lineCount: number;
}

/** One row of the story table: what the default rules will measure on each daily snapshot. */
export interface DemoStoryRow {
  date: string;
  version: string;
  var99: number;
  worstStressDd: number;
  worstScenario: string;
  /** The published weights, to show the desk's rotation out of short vol after the shock. */
  weights: Record<string, number>;
}

/** Business day `i` counted from FIRST_DAY_UTC (weekends skipped), as epoch ms at 00:00Z. */
function businessDay(i: number): number {
  const day = 86_400_000;
  let ms = FIRST_DAY_UTC;
  for (let left = i; left > 0; ) {
    ms += day;
    const dow = new Date(ms).getUTCDay();
    if (dow !== 0 && dow !== 6) left--;
  }
  return ms;
}

/** Weights rounded to 4 decimals, the residual put on the largest so they sum to 1. */
function publishedWeights(weights: readonly number[]): Record<string, number> {
  const rounded = weights.map((w) => round(w, 4));
  const largest = rounded.indexOf(Math.max(...rounded));
  rounded[largest] = round((rounded[largest] ?? 0) + 1 - rounded.reduce((a, b) => a + b, 0), 4);
  return Object.fromEntries(STRATEGIES.map((s, i) => [s, rounded[i] ?? 0]));
}

function publishedCovariance(ewma: readonly (readonly number[])[], d: number): Record<string, number> {
  const sep = COLON_KEY_DAYS.has(d) ? ':' : ',';
  const out: Record<string, number> = {};
  for (let i = 0; i < N; i++) {
    for (let j = i; j < N; j++) {
      const a = STRATEGIES[i] ?? '';
      const b = STRATEGIES[j] ?? '';
      // Which pairs come swapped rotates with the day, so readers cannot rely on one fixed order.
      const swap = SWAPPED_PAIR_DAYS.has(d) && i !== j && (i + j + d) % 3 === 0;
      out[swap ? `${b}${sep}${a}` : `${a}${sep}${b}`] = sig(ewma[i]?.[j] ?? 0, 6);
    }
  }
  return out;
}

/** Parametric 99% VaR from a published snapshot, parsing keys the way the engine must (either separator/order). */
function parametricVar99(weights: Record<string, number>, covariance: Record<string, number>): number {
  let variance = 0;
  for (const [key, c] of Object.entries(covariance)) {
    const [a = '', b = ''] = key.split(/[,:]/);
    const wa = weights[a] ?? 0;
    const wb = weights[b] ?? 0;
    variance += a === b ? wa * wa * c : 2 * wa * wb * c;
  }
  return Z_99 * Math.sqrt(variance);
}

interface BuiltSnapshot {
  day: number;
  snapshot: Record<string, unknown>;
  row: DemoStoryRow;
  createdAtMs: number;
}

function buildSnapshot(days: readonly SimulatedDay[], d: number, seed: number): BuiltSnapshot {
  const sim = days[WARMUP_DAYS + d];
  if (!sim) throw new Error(`no simulated day ${d}`);
  const dayMs = businessDay(d);
  const date = isoSeconds(dayMs).slice(0, 10);
  const asOfMs = dayMs + 21 * 3_600_000;
  const asOf = PLUS_OFFSET_DAYS.has(d) ? isoSeconds(asOfMs).replace('Z', '+00:00') : isoSeconds(asOfMs);
  const createdAtMs = asOfMs + 30_000;
  const weights = publishedWeights(sim.weights);
  const covariance = publishedCovariance(sim.ewma, d);
  const var99 = parametricVar99(weights, covariance);

  const window = days.slice(WARMUP_DAYS + d + 1 - RETURNS_WINDOW, WARMUP_DAYS + d + 1);
  const realized = Object.fromEntries(
    STRATEGIES.map((s, i) => [s, window.map((day) => round(day.returns[i] ?? 0, 6))]),
  );

  // The hub's stress engine scales scenario losses mildly with the current vol regime (capped), plus noise.
  const jitter = mulberry32(seed ^ (d * 0x9e3779b1));
  const regime = Math.min(1.2, 1 + 0.15 * (var99 / 0.015 - 1));
  const ddKey = DD_MAX_DAYS.has(d) ? 'dd_max' : 'max_drawdown';
  const stress: Record<string, Record<string, number>> = {};
  let worst = { scenario: '', dd: -1 };
  for (const [scenario, shocks] of Object.entries(SCENARIO_SHOCKS)) {
    let dd = STRATEGIES.reduce((acc, s, i) => acc + (weights[s] ?? 0) * (shocks[i] ?? 0), 0);
    // Rerun with the exchange's liquidity haircuts: forced selling at 2.15x the usual impact.
    const rerun = scenario === 'liquidity_freeze' && STRESS_BREACH_DAYS.has(d);
    dd *= (rerun ? 2.15 : regime) * (0.97 + 0.06 * jitter());
    dd = round(dd, 4);
    const v = round(var99 * (SCENARIO_VAR_MULT[scenario] ?? 2), 4);
    stress[scenario] = { [ddKey]: dd, var_99: v, es_99: round(v * 1.1456, 4) };
    if (dd > worst.dd) worst = { scenario, dd };
  }
  const advUtil = round(STRESS_BREACH_DAYS.has(d) ? 0.38 + 0.04 * jitter() : 0.09 + 0.05 * jitter(), 3);

  const version = `v${date}`;
  const content: Record<string, unknown> = {
    world_id: WORLD_ID,
    as_of: asOf,
    version,
    weights,
    covariance,
    realized_returns: realized,
    stress,
    constraints: { max_leverage: 2.0, adv_util_p95: advUtil },
    provenance: { actor: 'risk-hub', stage: 'live' },
  };
  const snapshot = {
    ...content,
    hash: `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`,
    ttl_sec: 86_400,
    created_at: isoSeconds(createdAtMs),
  };
  return {
    day: d,
    snapshot,
    createdAtMs,
    row: { date, version, var99, worstStressDd: worst.dd, worstScenario: worst.scenario, weights },
  };
}

/** Wraps a snapshot as upstream's CloudEvent inside an EventBridge event, with ids derived from the version. */
function toEventBridge(snapshot: Record<string, unknown>, createdAtMs: number): Record<string, unknown> {
  const worldId = String(snapshot.world_id);
  const hash = String(snapshot.hash);
  const version = String(snapshot.version);
  const eventVersion = 1;
  const cloudEvent = {
    specversion: '1.0',
    id: uuidV5(`cloudevent/${worldId}/${version}`),
    source: SOURCE,
    type: 'risk_snapshot_updated',
    time: isoSeconds(createdAtMs),
    datacontenttype: 'application/json',
    correlation_id: `risk_snapshot:${worldId}:${hash}`,
    data: {
      ...snapshot,
      event_version: eventVersion,
      idempotency_key: `risk_snapshot_updated:${worldId}:${hash}:${eventVersion}`,
    },
  };
  return {
    version: '0',
    id: uuidV5(`eventbridge/${worldId}/${version}`),
    'detail-type': 'risk_snapshot_updated',
    source: SOURCE,
    account: '000000000000',
    time: isoSeconds(createdAtMs + 1_000),
    region: 'us-east-1',
    resources: [],
    detail: cloudEvent,
  };
}

interface Generated {
  lines: string[];
  rows: DemoStoryRow[];
  facts: DemoStreamFacts;
  /** The daily snapshots' events in as_of order (one per day), for `sample-eventbridge-event.json`. */
  events: Record<string, unknown>[];
}

function generate(seed: number): Generated {
  const days = simulate(seed);
  const built = Array.from({ length: SNAPSHOT_DAYS }, (_, d) => buildSnapshot(days, d, seed));
  const events = built.map((b) => toEventBridge(b.snapshot, b.createdAtMs));
  const rows = built.map((b) => b.row);

  // Malformed: an intraday snapshot from a hub bug that halved every weight (sum 0.5), Wed of week 2.
  const malformedDay = 7;
  const base = built[malformedDay];
  if (!base) throw new Error('malformed day out of range');
  const intradayMs = businessDay(malformedDay) + 15 * 3_600_000;
  const { hash: _h, ttl_sec: _t, created_at: _c, ...baseContent } = base.snapshot;
  const badContent: Record<string, unknown> = {
    ...baseContent,
    as_of: isoSeconds(intradayMs),
    version: `${String(base.snapshot.version)}-intraday`,
    weights: Object.fromEntries(
      Object.entries(base.snapshot.weights as Record<string, number>).map(([k, w]) => [k, round(w / 2, 5)]),
    ),
  };
  const bad = toEventBridge(
    {
      ...badContent,
      hash: `sha256:${createHash('sha256').update(canonicalJson(badContent)).digest('hex')}`,
      ttl_sec: 86_400,
      created_at: isoSeconds(intradayMs + 30_000),
    },
    intradayMs + 30_000,
  );

  const firstVarBreach = rows.findIndex((r) => r.var99 > 0.025);
  const lateDay = Math.max(...STRESS_BREACH_DAYS);
  const order: Record<string, unknown>[] = [];
  const facts: DemoStreamFacts = { malformedLine: 0, duplicateLines: [0, 0], lateLine: 0, lineCount: 0 };
  for (let d = 0; d < SNAPSHOT_DAYS; d++) {
    const event = events[d];
    if (!event) continue;
    if (d === malformedDay) {
      order.push(bad);
      facts.malformedLine = order.length;
    }
    // The last stress-breach snapshot is held up and arrives after the next two (calm) ones.
    if (d === lateDay) continue;
    order.push(event);
    if (d === firstVarBreach) {
      order.push(event);
      facts.duplicateLines = [order.length - 1, order.length];
    }
    if (d === lateDay + 2) {
      const late = events[lateDay];
      if (late) order.push(late);
      facts.lateLine = order.length;
    }
  }
  facts.lineCount = order.length;
  return { lines: order.map((e) => JSON.stringify(e)), rows, facts, events };
}

/** The whole JSONL stream as written to `examples/demo-world.jsonl` (one event per line, trailing newline). */
export function generateDemoStream(): string {
  return `${generate(SEED).lines.join('\n')}\n`;
}

/** Positions of the malformed, duplicated and late events in the stream. */
export function demoStreamFacts(): DemoStreamFacts {
  return generate(SEED).facts;
}

/** Per-day VaR and worst stress drawdown, as the default rules will measure them. */
export function demoStory(): DemoStoryRow[] {
  return generate(SEED).rows;
}

function formatTable(generated: Generated): string {
  const { rows, facts, lines } = generated;
  const out = [
    '| day | line(s) | date | VaR 99% 1d | worst stress dd (scenario) | w vol_sell_spx | w macro_rates |',
    '|---|---|---|---|---|---|---|',
  ];
  rows.forEach((r, d) => {
    const at = lines.flatMap((l, i) => (l.includes(`"version":"${r.version}"`) ? [i + 1] : []));
    const varFlag = r.var99 > 0.025 ? ' **breach**' : '';
    const ddFlag = r.worstStressDd > 0.3 ? ' **breach**' : '';
    out.push(
      `| ${d} | ${at.join(', ')} | ${r.date} | ${(r.var99 * 100).toFixed(2)}%${varFlag} | ` +
        `${r.worstStressDd.toFixed(3)} (${r.worstScenario})${ddFlag} | ${r.weights.vol_sell_spx} | ${r.weights.macro_rates} |`,
    );
  });
  out.push(
    '',
    `malformed line ${facts.malformedLine}; duplicate lines ${facts.duplicateLines.join(' & ')}; ` +
      `late line ${facts.lateLine}; ${facts.lineCount} lines`,
  );
  return out.join('\n');
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const seed = process.env.DEMO_SEED ? Number(process.env.DEMO_SEED) : SEED;
  const generated = generate(seed);
  const text = `${generated.lines.join('\n')}\n`;
  if (seed === SEED) {
    writeFileSync(new URL('./demo-world.jsonl', import.meta.url), text);
    // The first VaR-breach day: putting it on a bus makes the engine emit a signal.
    const sample = generated.events[generated.rows.findIndex((r) => r.var99 > 0.025)];
    writeFileSync(new URL('./sample-eventbridge-event.json', import.meta.url), `${prettyJson(sample)}\n`);
  }
  console.log(formatTable(generated));
  console.log(
    `\n${(text.length / 1024).toFixed(0)} KB${seed === SEED ? ' written' : ' (seed override: not written)'}`,
  );
}
