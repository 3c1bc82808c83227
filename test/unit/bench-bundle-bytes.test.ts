import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { allBytes, loadedBytes, loadedKb, outputHolding, TRACER_INPUT } from '../../bench/bundle-bytes.js';

type Output = Metafile['outputs'][string];
const output = (
  bytes: number,
  inputs: string[],
  imports: Output['imports'],
  entryPoint?: string,
): Output => ({
  bytes,
  inputs: Object.fromEntries(inputs.map((i) => [i, { bytesInOutput: 1 }])),
  imports,
  exports: [],
  ...(entryPoint ? { entryPoint } : {}),
});

// index.mjs imports shared (static) and reaches the Tracer's chunk and the parser only through import().
const metafile = (tracerInput: string): Metafile => ({
  inputs: {},
  outputs: {
    'out/index.mjs': output(
      1024,
      ['functions/f.ts'],
      [
        { path: 'out/chunks/shared.mjs', kind: 'import-statement' },
        { path: 'out/chunks/tracer.mjs', kind: 'dynamic-import' },
        { path: 'out/chunks/parser.mjs', kind: 'dynamic-import' },
        { path: 'node:fs', kind: 'import-statement', external: true },
      ],
      'functions/f.ts',
    ),
    'out/chunks/shared.mjs': output(2048, ['lib/a.ts'], []),
    'out/chunks/tracer.mjs': output(
      4096,
      [tracerInput],
      [{ path: 'out/chunks/shared.mjs', kind: 'import-statement' }],
    ),
    'out/chunks/parser.mjs': output(8192, ['lib/rules/rule-schema.ts'], []),
    'out/index.mjs.map': output(99_999, [], []),
  },
});

describe('what a cold start loads (bench/bundle-bytes.ts)', () => {
  it('counts the entry and its static imports, not chunks reached through import()', () => {
    expect(loadedBytes(metafile(TRACER_INPUT))).toBe(1024 + 2048);
  });

  it("adds the Tracer's chunk with tracing on, its static imports counted once", () => {
    expect(loadedKb(metafile(TRACER_INPUT))).toEqual({ off: 3, on: 7 });
  });

  it("finds the Tracer's chunk where the tree reached node_modules through a link (--base)", () => {
    const linked = `../../work/checkout/${TRACER_INPUT}`;
    expect(outputHolding(metafile(linked), TRACER_INPUT)).toBe('out/chunks/tracer.mjs');
    expect(loadedKb(metafile(linked)).on).toBe(7);
  });

  it('counts every JavaScript file, source maps aside, in all bytes', () => {
    expect(allBytes(metafile(TRACER_INPUT))).toBe(1024 + 2048 + 4096 + 8192);
  });
});
