import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';
import { applyRecommendation, newPoints } from '#lib/cli/replay/report-model.js';
import { TIMELINE_COLUMNS } from '#lib/cli/replay/timeline.js';

const DEMO = 'examples/demo-world.jsonl';
const dir = mkdtempSync(join(tmpdir(), 'exit-engine-replay-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI's main with argv, as the bin calls it; stdout and stderr captured. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((l: unknown) => void out.push(`${String(l)}\n`));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((l: unknown) => void err.push(`${String(l)}\n`));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

describe('replay outputs through the CLI', () => {
  it('--timeline writes one row per evaluation and rule, as CSV or JSONL by extension', async () => {
    const csv = join(dir, 't.csv');
    const jsonl = join(dir, 't.jsonl');
    expect((await cli('replay', '--events', DEMO, '--timeline', csv)).code).toBe(0);
    expect((await cli('replay', '--events', DEMO, '--timeline', jsonl)).code).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe(TIMELINE_COLUMNS.join(','));
    const records = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length - 1).toBe(records.length);
    // 34 evaluations of the demo world, two world-scope rules each (examples/README.md).
    expect(records.length).toBe(68);
    const breach = records.find((r) => r.rule_id === 'var_99_limit' && r.verdict === 'fired');
    expect(breach).toMatchObject({
      line: 12,
      as_of: '2025-03-10T21:00:00Z',
      limit: 0.025,
      clear: 0.022,
      action: 'reduce',
    });
    expect(breach?.measure as number).toBeCloseTo(0.0340619, 6);
    expect(records.filter((r) => r.verdict === 'cleared').map((r) => r.action)).toEqual(['hold', 'hold']);
  });

  it('--json prints the summary as one JSON document', async () => {
    const r = await cli('replay', '--events', DEMO, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toMatchObject({ total: 37, invalid: 1 });
    expect(doc.published).toEqual({ events: 4, signals: 20 });
    expect(doc.episodes.map((e: { rule_id: string }) => e.rule_id)).toEqual([
      'var_99_limit',
      'stress_drawdown_limit',
    ]);
  });

  it('exits 1 when more lines are rejected than --max-rejected-share allows (a pretty-printed file fed as JSONL)', async () => {
    const pretty = join(dir, 'pretty.json');
    const first = readFileSync(DEMO, 'utf8').split('\n')[0]!;
    writeFileSync(pretty, JSON.stringify(JSON.parse(first), null, 2));
    const r = await cli('replay', '--events', pretty);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /\d+ of \d+ lines \(100%\) were rejected, more than --max-rejected-share 0\.5; is .*pretty\.json a JSONL stream/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((await cli('replay', '--events', pretty, '--max-rejected-share', '1')).code).toBe(0);
    expect((await cli('replay', '--events', DEMO, '--max-rejected-share', '2')).stderr).toMatch(
      /--max-rejected-share: must be at most 1/,
    );
  });

  it('refuses a --timeline or --report path whose extension does not say the format', async () => {
    expect((await cli('replay', '--events', DEMO, '--timeline', join(dir, 'x.txt'))).stderr).toMatch(
      /--timeline: .*must end in \.csv or \.jsonl/,
    );
    expect((await cli('replay', '--events', DEMO, '--report', join(dir, 'x.pdf'))).stderr).toMatch(
      /--report: .*must end in \.html/,
    );
  });

  it('prints no progress line on a short run that is not on a terminal', async () => {
    expect((await cli('replay', '--events', DEMO)).stderr).toBe('');
  });
});

describe('report model', () => {
  it('counts the new points of a rolling window, and only the newest when windows do not line up', () => {
    expect(newPoints(undefined, [1, 2, 3])).toBe(1);
    expect(newPoints([1, 2, 3], [2, 3, 4])).toBe(1);
    expect(newPoints([1, 2, 3, 4], [3, 4, 5, 6])).toBe(2);
    expect(newPoints([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(newPoints([1, 2, 3], [7, 8, 9])).toBe(1);
  });

  it('compounds successive reduces against current exposure; exit zeroes; hold restores', () => {
    const after = applyRecommendation(applyRecommendation(1, 'reduce', 0.5), 'reduce', 0.2);
    expect(after).toBeCloseTo(0.4, 12);
    expect(applyRecommendation(after, 'exit', 1)).toBe(0);
    expect(applyRecommendation(0, 'hold', 0)).toBe(1);
  });
});
