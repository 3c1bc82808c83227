import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type PreparedRiskInput, type RiskReportOptions, riskReportFromInput } from '#lib/risk/index.js';
import { startNumpyPeer } from './numpy-peer.js';
import type { BenchFigure } from './types.js';

// Our risk report raced against bench/numpy/risk_report.py on the same prepared inputs. What made
// the first version of this race swing run to run (0.84 then 0.53 at N=200, 0.42 then 1.52 at
// N=1,000, idle machine):
// - batches of 5-7 ms: one scavenge, one concurrent TurboFan job (its helper thread's CPU counts in
//   process.cpuUsage) or one time slice lost to another process moved a batch by 20-60%;
// - 5 warm-up reports: V8 optimizes the report over its first few hundred calls, so the first rounds
//   timed unoptimized code plus its compilation;
// - the garbage left by earlier batches was collected in whichever later batch it happened to land.
// Now each side runs batches of ~40 ms of CPU, after ~300 ms of warm-up, and the figure is the
// median of the rounds' paired ratios (numpy's batch runs right after ours, so drift in machine load
// hits both terms of a ratio alike). Our heap is not collected between batches: the collections
// our own garbage causes are part of what a report costs in a steady loop (a forced collection
// before each batch made a report that allocated 40 KB look twice as fast as it ran in a loop).

/**
 * A full garbage collection, now. `--expose-gc` set at run time, so the bench needs no node flags.
 * The snapshots the bench builds leave ~80 MB of garbage (a 500,500-key map, half a million boxed
 * returns); left to V8, its marking runs on helper threads during the timed report.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** CPU ms (user + system, all threads of this process) of `count` calls. */
function cpuMs(fn: () => unknown, count: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e3;
}

const round = (x: number) => Number(x.toPrecision(4));
const median = (a: readonly number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const quantile = (a: readonly number[], q: number) =>
  [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))]!;

/** Both sides compute the same report: every figure (per-strategy ones through their sums) to 1e-12. */
function checkAgainst(
  theirs: Record<string, number>,
  prepared: PreparedRiskInput,
  options: RiskReportOptions,
) {
  const ours = riskReportFromInput(prepared, options);
  const { portfolio: p } = ours;
  const strategies = Object.values(ours.strategies);
  const sum = (f: (s: (typeof strategies)[number]) => number | null) =>
    strategies.reduce((acc, s) => acc + (f(s) ?? Number.NaN), 0);
  const pairs: Record<string, number | null> = {
    sigma: p.sigma,
    var_normal: p.var.normal,
    es_normal: p.es.normal,
    var_historical: p.var.historical,
    es_historical: p.es.historical,
    var_student_t: p.var.student_t,
    es_student_t: p.es.student_t,
    var_cornish_fisher: p.var.cornish_fisher,
    es_cornish_fisher: p.es.cornish_fisher,
    drawdown_max: p.drawdown?.max ?? null,
    drawdown_current: p.drawdown?.current ?? null,
    component_var_sum: sum((s) => s.component_var),
    component_es_sum: sum((s) => s.component_es),
    var_share_sum: sum((s) => s.var_share),
  };
  for (const [name, b] of Object.entries(pairs)) {
    const a = theirs[name];
    if (a === undefined || b === null || !(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a))))
      throw new Error(`numpy and our report disagree on ${name}: ${a} vs ${b}`);
  }
}

/**
 * Our report against numpy's: `rounds` alternating batches (ours, then numpy's), each timed per
 * report in CPU time; the figure is the median over rounds of numpy's time / ours, > 1 when we are
 * faster. numpy computes the per-strategy figures as vectors and so do we (report-strategies.ts);
 * the record keyed by strategy id that our report also offers is built on first read, and a third
 * batch per round reads it, for the ratio printed beside the figure.
 */
export async function raceNumpy(
  prepared: PreparedRiskInput,
  options: RiskReportOptions,
  rounds = 21,
  batchCpuMs = 40,
): Promise<BenchFigure> {
  const n = prepared.ids.length;
  const returns = prepared.byStrategy as Float64Array[];
  const t = returns[0]?.length ?? 0;
  const peer = startNumpyPeer({
    n,
    t,
    confidence: options.confidence,
    weights: prepared.weights,
    covariance: prepared.covariance as Float64Array,
    returns,
  });
  try {
    checkAgainst(await peer.check(), prepared, options);
    const report = () => riskReportFromInput(prepared, options);
    // Warm-up until V8 has optimized the report: at least 500 calls and 300 ms.
    let warm = 0;
    let calls = 0;
    while (calls < 500 || warm < 300) {
      warm += cpuMs(report, 50);
      calls += 50;
    }
    // Reports per batch from the fastest of five short samples (a load spike only makes batches longer).
    let perReport = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) perReport = Math.min(perReport, cpuMs(report, 20) / 20);
    const batch = Math.max(20, Math.ceil(batchCpuMs / perReport));
    await peer.run(batch, batch);
    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    const withRecord: number[] = [];
    const read = () => riskReportFromInput(prepared, options).strategies;
    for (let r = 0; r < rounds; r++) {
      const mine = cpuMs(report, batch) / batch;
      const numpy = (await peer.run(batch, 2)) * 1e3;
      const mineRead = cpuMs(read, batch) / batch;
      ours.push(mine);
      theirs.push(numpy);
      ratios.push(numpy / mine);
      withRecord.push(numpy / mineRead);
    }
    const ratio = median(ratios);
    return {
      name: `risk report vs numpy N=${n} T=${t}: numpy time / our time, median of ${rounds} alternating rounds of ${batch} reports (numpy ${round(median(theirs))} ms, ours ${round(median(ours))} ms; rounds' ratios p10-p90 ${round(quantile(ratios, 0.1))}-${round(quantile(ratios, 0.9))}; ${round(median(withRecord))} when the per-strategy record keyed by id is read too)`,
      unit: 'ratio',
      median: round(ratio),
      budget: '≥ 1 (goal 3)',
      ok: ratio >= 1,
    };
  } finally {
    peer.close();
  }
}
