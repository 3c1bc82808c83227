import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keptFrom } from '../../bench/run.js';

// `npm run bench -- SUITE` used to overwrite bench/results.json with that one suite's figures.
describe('a single-suite bench run', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const file = (content: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
    dirs.push(dir);
    const path = join(dir, 'results.json');
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  const fig = (name: string, median: number, suite?: string) => ({
    name,
    unit: 'ms',
    median,
    budget: 'none',
    ok: true,
    ...(suite ? { suite } : {}),
  });

  it("replaces that suite's figures and keeps the others' and the notes", () => {
    const out = file({
      notes: 'measured under load',
      figures: [
        fig('soak lost', 3, 'soak'),
        fig('soak throughput', 5, 'soak'),
        fig('risk report vs numpy N=200: ratio (numpy 0.12 ms, ours 0.39 ms)', 0.3),
        fig('engine full evaluation', 1.9, 'engine'),
      ],
    });
    const merged = keptFrom(out, ['soak'], [fig('soak lost', 0, 'soak')]);
    expect(merged.notes).toBe('measured under load');
    expect(merged.figures.map((f) => [f.name, f.median])).toEqual([
      ['risk report vs numpy N=200: ratio (numpy 0.12 ms, ours 0.39 ms)', 0.3],
      ['engine full evaluation', 1.9],
      ['soak lost', 0],
    ]);
  });

  it('replaces an untagged figure whose name differs only in the figures it carries', () => {
    const out = file({
      figures: [fig('risk report vs numpy N=200: ratio (numpy 0.12 ms, ours 0.39 ms)', 0.3)],
    });
    const merged = keptFrom(
      out,
      ['risk'],
      [fig('risk report vs numpy N=200: ratio (numpy 0.1 ms, ours 0.2 ms)', 0.5, 'risk')],
    );
    expect(merged.figures).toHaveLength(1);
    expect(merged.figures[0]!.median).toBe(0.5);
  });

  it('starts afresh from a missing or unreadable file', () => {
    expect(keptFrom('/nonexistent/results.json', ['soak'], [fig('soak lost', 0)]).figures).toHaveLength(1);
    const bad = file('x');
    writeFileSync(bad, '{not json');
    expect(keptFrom(bad, ['soak'], [fig('soak lost', 0)]).figures).toHaveLength(1);
  });
});
