import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import type { MarketScopeView, PreparedSnapshot } from '#lib/rules/types.js';

/**
 * Seeded random worlds for property tests of the engine: hub snapshots that go calm → stressed →
 * calm (so episodes open, escalate and clear), with covariance present or not, zero and negative
 * weights, world and per-strategy stress, constraints, and a `global` market scope that is fresh,
 * stale or missing. Everything comes from the `rand` given (lib/prng.ts), so a seed is a world.
 */

export interface RandomWorld {
  ids: string[];
  /** Loadings on the common factor, fixed for the world. */
  betas: number[];
  idio: number[];
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** A world of 1 to 8 strategies (sometimes one named carry_fx, which the example rule set overrides). */
export function randomWorld(rand: () => number): RandomWorld {
  const n = 1 + Math.floor(rand() * 8);
  const ids = Array.from({ length: n }, (_, i) => (i === 0 && rand() < 0.3 ? 'carry_fx' : `s${i}`));
  return {
    ids,
    betas: ids.map(() => 0.2 + 1.2 * rand()),
    idio: ids.map(() => 0.003 + 0.012 * rand()),
  };
}

/** One hub snapshot of the world at `asOfMs`, with returns scaled by `vol` (1 is calm, 4 a crisis). */
export function randomSnapshot(
  rand: () => number,
  world: RandomWorld,
  opts: { asOfMs: number; version: string; vol: number },
): PreparedSnapshot {
  const { ids } = world;
  const n = ids.length;
  const t = pick(rand, [40, 130, 260, 300]);
  const factor = Array.from(
    { length: t },
    (_, k) =>
      // The stress sits at the end, where the short windows and drawdowns look.
      (k > t - 30 ? opts.vol : 1) * 0.008 * normal(rand),
  );
  const returns = ids.map((_, i) =>
    factor.map((f) => world.betas[i]! * f + world.idio[i]! * normal(rand) * (rand() < 0.02 ? 6 : 1)),
  );
  const raw = ids.map(() => {
    const u = rand();
    return u < 0.1 ? 0 : u < 0.2 ? -0.3 * rand() : 0.2 + rand() * (rand() < 0.2 ? 4 : 1);
  });
  let sum = raw.reduce((a, b) => a + b, 0);
  if (!(Math.abs(sum) > 1e-6)) {
    raw[0] = 1;
    sum = raw.reduce((a, b) => a + b, 0);
  }
  const weights = Object.fromEntries(ids.map((id, i) => [id, raw[i]! / sum]));
  const covariance: Record<string, number> = {};
  if (rand() < 0.6) {
    const means = returns.map((r) => r.reduce((a, b) => a + b, 0) / t);
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let k = 0; k < t; k++) s += (returns[i]![k]! - means[i]!) * (returns[j]![k]! - means[j]!);
        covariance[`${ids[i]},${ids[j]}`] = s / (t - 1);
      }
  }
  const stressScale = opts.vol * (0.5 + rand());
  const asOf = new Date(opts.asOfMs).toISOString();
  const constraints: Record<string, unknown> = {};
  if (rand() < 0.7) constraints.max_leverage = 0.8 + rand();
  if (rand() < 0.3) constraints.adv_util_p95 = 0.3 * rand();
  const data = SnapshotDataSchema.parse({
    world_id: 'example-world',
    as_of: asOf,
    created_at: asOf,
    version: opts.version,
    ttl_sec: 900,
    weights,
    ...(Object.keys(covariance).length > 0 ? { covariance } : {}),
    ...(rand() < 0.9 ? { realized_returns: Object.fromEntries(ids.map((id, i) => [id, returns[i]!])) } : {}),
    stress: {
      crash: { max_drawdown: 0.15 * stressScale, var_99: 0.05 * stressScale, es_99: 0.07 * stressScale },
      rates_shock: { dd_max: 0.1 * stressScale, var_99: 0.03, es_99: 0.04 },
      ...Object.fromEntries(
        ids.map((id) => [
          id,
          { crash: { max_drawdown: 0.2 * rand(), var_99: 0.1 * rand(), es_99: 0.3 * rand() } },
        ]),
      ),
    },
    constraints,
    ...(rand() < 0.5 ? { provenance: { stage: pick(rand, ['live', 'paper']), actor: 'hub' } } : {}),
  });
  return prepareSnapshot(data);
}

/** The `global` market scope at `asOfMs`: VIX levels and per-strategy spread, volume, returns and ADV use. */
export function randomMarket(
  rand: () => number,
  world: RandomWorld,
  opts: { asOfMs: number; vol: number },
): MarketScopeView[] {
  if (rand() < 0.1) return [];
  const len = pick(rand, [30, 80, 250]);
  const series: MarketScopeView['series'] = {};
  for (const id of world.ids) {
    if (rand() < 0.1) continue;
    const widen = (k: number) => (k > len - 6 ? opts.vol : 1);
    series[id] = {
      spread: Array.from({ length: len }, (_, k) => widen(k) * (0.0005 + 0.0005 * rand())),
      dollar_volume: Array.from({ length: len }, () => (rand() < 0.02 ? 0 : 1e7 * (0.5 + rand()))),
      returns: Array.from({ length: len }, (_, k) => widen(k) * 0.02 * (rand() - 0.5)),
      adv_util: Array.from({ length: len }, () => 0.3 * rand()),
    };
  }
  const asOfMs = opts.asOfMs - (rand() < 0.15 ? 7_200_000 : Math.floor(rand() * 60_000));
  const asOf = new Date(asOfMs).toISOString();
  return [
    {
      scope: 'global',
      as_of: asOf,
      asOfMs,
      indicators: { vix: 15 + 10 * opts.vol * rand(), vix3m: 18 + 8 * rand() },
      series,
    },
  ];
}
