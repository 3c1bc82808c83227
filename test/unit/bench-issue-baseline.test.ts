import { describe, expect, it } from 'vitest';
import { type BaselineRun, baselineFigures } from '../../bench/issue-baseline.bench.js';

/** A run of three rounds with the given samples (ms, or millions of instructions). */
function runOf(
  samples: Record<string, number[]>,
  instructions = false,
  engine?: BaselineRun['engine'],
): BaselineRun {
  return {
    opts: { rounds: 3, node: 'node', instructions },
    issueKib: 951.2,
    samples: new Map(Object.entries(samples)) as BaselineRun['samples'],
    ...(engine ? { engine } : {}),
  };
}

const figure = (run: BaselineRun, start: string) => {
  const found = baselineFigures(run).find((f) => f.name.startsWith(start));
  if (!found) throw new Error(`no figure starting '${start}'`);
  return found;
};

describe('issue 12 baseline figures', () => {
  /** Three rounds of init CPU ms in which today's bundle is about a fifth of the issue's. */
  const FAST = {
    'issue-deployed': [150, 140, 160],
    'issue-no-maps': [100, 120, 110],
    'today-off': [20, 30, 22],
    'today-on': [30, 28, 48],
  };
  const fast = runOf(FAST);

  it("names the issue's bundle and reports its init without a budget", () => {
    const deployed = figure(fast, "module init, issue 12's snapshot bundle (106fd96, 951 KiB), as deployed");
    expect(deployed).toMatchObject({ median: 150, unit: 'ms', budget: 'report', ok: true });
    expect(figure(fast, "module init, issue 12's snapshot bundle (106fd96, 951 KiB), without").median).toBe(
      110,
    );
  });

  it("holds today's init to 60 ms", () => {
    expect(figure(fast, "module init, today's bundle beside it, tracing off")).toMatchObject({
      median: 22,
      budget: '< 60 ms',
      ok: true,
    });
    const slow = runOf({ ...FAST, 'today-off': [61, 70, 65] });
    expect(figure(slow, "module init, today's bundle beside it, tracing off").ok).toBe(false);
  });

  it("gives today's / the issue's paired by round against 60 / 110", () => {
    // Rounds: 20/100, 30/120, 22/110 → 0.2, 0.25, 0.2: median 0.2, lower in all three.
    const off = figure(fast, "module init, today's tracing off / issue's without maps");
    expect(off).toMatchObject({ median: 0.2, unit: '×', budget: '≤ 0.545 (110 → 60 ms)', ok: true });
    expect(off.name).toContain('lower in 3 / 3');
    // 30/150, 28/140, 48/160 → 0.2, 0.2, 0.3.
    expect(figure(fast, "module init, today's tracing on / issue's as deployed").median).toBe(0.2);
    const close = runOf({
      'issue-deployed': [100, 100, 100],
      'issue-no-maps': [100, 100, 100],
      'today-off': [50, 60, 70],
      'today-on': [50, 60, 70],
    });
    expect(figure(close, "module init, today's tracing off / issue's without maps").ok).toBe(false);
  });

  it('counts instructions without a time budget, but keeps the ratio', () => {
    const counted = runOf(
      {
        'issue-deployed': [980, 978, 979],
        'issue-no-maps': [647, 648, 646],
        'today-off': [115, 114, 116],
        'today-on': [134, 133, 135],
      },
      true,
    );
    expect(figure(counted, "module init, today's bundle beside it, tracing off")).toMatchObject({
      unit: 'M instr',
      budget: 'report',
      median: 115,
    });
    expect(figure(counted, "module init, today's tracing off / issue's without maps").ok).toBe(true);
  });

  it("gives the engines' figures against 1.9 → 0.5 ms, and none without an engine run", () => {
    expect(baselineFigures(fast).some((f) => f.name.startsWith('engine'))).toBe(false);
    const engine = {
      issue: [1.9, 2.0],
      today: [0.45, 0.6],
      issueWork: '21 rules of 9 kinds',
      todayWork: '23 rules of 10 kinds',
    };
    const run = runOf(FAST, false, engine);
    expect(figure(run, "engine full evaluation, issue 12's (106fd96: 21 rules of 9 kinds)")).toMatchObject({
      median: 1.9,
      budget: 'report',
    });
    // Nearest-rank median of two: the lower. 0.45 < 0.5, ok.
    expect(figure(run, "engine full evaluation, today's beside it (23 rules of 10 kinds)")).toMatchObject({
      median: 0.45,
      budget: '< 0.5 ms',
      ok: true,
    });
    // Paired: 0.45/1.9 = 0.237, 0.6/2.0 = 0.3 → the lower, 0.237 ≤ 0.263.
    const ratio = figure(run, "engine full evaluation, today's / issue's");
    expect(ratio).toMatchObject({ median: 0.237, unit: '×', budget: '≤ 0.263 (1.9 → 0.5 ms)', ok: true });
    expect(ratio.name).toContain('lower in 2 / 2');
    const slow = runOf(FAST, false, { ...engine, today: [0.55, 0.6] });
    expect(figure(slow, "engine full evaluation, today's beside it").ok).toBe(false);
    expect(figure(slow, "engine full evaluation, today's / issue's").ok).toBe(false);
  });
});
