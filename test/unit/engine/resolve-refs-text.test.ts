import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UriRefResolver } from '#lib/adapters/refs/ref-resolver.js';
import { CovarianceMapText, scanCovarianceMapText } from '#lib/contracts/covariance-text.js';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import type { RefResolver } from '#lib/engine/ports.js';
import { resolveSnapshotRefs } from '#lib/engine/resolve-refs.js';
import { mulberry32 } from '#lib/prng.js';
import { prepareRiskInput } from '#lib/risk/index.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';

// A covariance_ref map read from its text (the fast path) must resolve, prepare and fail exactly as
// the same text through JSON.parse and the snapshot schema (the straightforward path).

const snapshot = (weights: Record<string, number>) =>
  SnapshotDataSchema.parse({
    world_id: 'w',
    as_of: '2025-03-10T21:00:00Z',
    version: 'v1',
    weights,
    covariance_ref: 's3://bucket/cov.json',
  });

const parsedResolver = (text: string): RefResolver => ({ resolve: async () => JSON.parse(text) });
const scannedResolver = (text: string): RefResolver => ({
  resolve: async () => scanCovarianceMapText(text) ?? JSON.parse(text),
});

type Outcome = { error: string } | { risk: string; bits: string; rules: string };

/** Resolution, prepareRiskInput and prepareSnapshot of one snapshot, as comparable strings. */
async function outcome(weights: Record<string, number>, refs: RefResolver): Promise<Outcome> {
  let resolved: Awaited<ReturnType<typeof resolveSnapshotRefs>>;
  try {
    resolved = await resolveSnapshotRefs(snapshot(weights), refs);
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
  let risk: string;
  let bits = '';
  try {
    const prepared = prepareRiskInput(resolved);
    const cov = prepared.covariance!;
    bits = Array.from(new BigUint64Array(cov.buffer, cov.byteOffset, cov.length)).join(' ');
    risk = JSON.stringify(prepared.warnings);
  } catch (error) {
    risk = `${(error as Error).name}: ${(error as Error).message}`;
  }
  const rules = prepareSnapshot(resolved);
  return { risk, bits, rules: JSON.stringify([Array.from(rules.covariance ?? []), rules.warnings]) };
}

function mapText(ids: readonly string[], rand: () => number): string {
  const entries: string[] = [];
  for (let i = 0; i < ids.length; i++)
    for (let j = i; j < ids.length; j++)
      entries.push(`"${ids[i]},${ids[j]}": ${i === j ? 0.04 + 0.01 * rand() : 0.004 * (rand() - 0.5)}`);
  return `{${entries.join(', ')}}`;
}

describe('resolveSnapshotRefs with a covariance map read from its text', () => {
  const ids = ['alpha', 'beta', 'gamma', 'delta'];
  const weights = { alpha: 0.4, beta: 0.3, gamma: 0.2, delta: 0.1 };
  const good = mapText(ids, mulberry32(3));

  const cases: Array<[string, string, Record<string, number>?]> = [
    ['a whole map', good],
    ['random maps', mapText(ids, mulberry32(11))],
    ['an unknown strategy', good.replace('"alpha,beta"', '"alpha,omega"')],
    [
      'two unknown strategies and a non-finite value',
      good.replace('"alpha,beta"', '"x:y"').replace(/: [^,]+}$/, ': 1e999}'),
    ],
    ['a missing pair', good.replace(/"beta,gamma": [^,]+, /, '')],
    ['an asymmetric pair (a,b and b,a disagree)', good.replace('}', ', "beta,alpha": 0.5}')],
    [
      'an agreeing duplicate pair',
      good.replace(/"alpha,beta": ([^,]+),/, '"alpha,beta": $1, "beta:alpha": $1,'),
    ],
    ['a key written twice', good.replace('}', ', "alpha,alpha": 0.5}')],
    ['a malformed key', good.replace('"alpha,beta"', '"alphabeta"')],
    ['a value that is not a number', good.replace(/"alpha,beta": [^,]+/, '"alpha,beta": "0.1"')],
    ['not PSD', '{"alpha,alpha": 1, "beta,beta": 1, "alpha,beta": 2}', { alpha: 0.5, beta: 0.5 }],
    ['a weight without pairs', good, { ...weights, delta: 0.05, epsilon: 0.05 }],
  ];

  for (const [name, text, w] of cases)
    it(`agrees with JSON.parse + the schema: ${name}`, async () => {
      const want = await outcome(w ?? weights, parsedResolver(text));
      const got = await outcome(w ?? weights, scannedResolver(text));
      expect(got).toEqual(want);
    });

  it('names the key and the problem', async () => {
    const text = good
      .replace('"alpha,beta"', '"alpha,omega"')
      .replace('"gamma,delta": ', '"gamma,delta": 1e999, "x": ');
    await expect(resolveSnapshotRefs(snapshot(weights), scannedResolver(text))).rejects.toThrow(
      'referenced content is invalid: covariance["alpha,omega"]: unknown strategy \'omega\' (not in weights)',
    );
    const nonFinite = good.replace(/"gamma,delta": [^,}]+/, '"gamma,delta": 1e999');
    await expect(resolveSnapshotRefs(snapshot(weights), scannedResolver(nonFinite))).rejects.toThrow(
      'covariance["gamma,delta"]: must be a finite number',
    );
  });

  describe('through UriRefResolver', () => {
    const folder = mkdtempSync(join(tmpdir(), 'covariance-text-'));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it('scans a file:// covariance map and still parses other refs and odd maps', async () => {
      const refs = new UriRefResolver({ allowFiles: true });
      const file = join(folder, 'cov.json');
      writeFileSync(file, good);
      const uri = pathToFileURL(file).href;
      const owner = { world_id: 'w', version: 'v1' };
      expect(await refs.resolve(uri, 'covariance_ref', owner)).toBeInstanceOf(CovarianceMapText);
      expect(await refs.resolve(uri, 'stress_ref', owner)).toEqual(JSON.parse(good));
      writeFileSync(file, good.replace('"alpha,beta"', '"alpha, beta"'));
      expect(await refs.resolve(uri, 'covariance_ref', owner)).toEqual(
        JSON.parse(good.replace('"alpha,beta"', '"alpha, beta"')),
      );
      writeFileSync(file, '{"alpha,alpha": NaN}');
      await expect(refs.resolve(uri, 'covariance_ref', owner)).rejects.toThrow(
        /is not valid JSON: it holds NaN at "alpha,alpha": Python's json.dumps writes NaN/,
      );
      writeFileSync(file, '{"a,a": 0.1, "a,b": -Infinity}');
      await expect(refs.resolve(uri, 'covariance_ref', owner)).rejects.toThrow('it holds -Infinity at "a,b"');
      writeFileSync(file, '[1, Infinity]');
      await expect(refs.resolve(uri, 'realized_returns_ref', owner)).rejects.toThrow(
        'it holds Infinity at character 4',
      );
      // A string that merely reads NaN is not a number: an ordinary parse error.
      writeFileSync(file, '{"NaN,x": "NaN", oops}');
      await expect(refs.resolve(uri, 'covariance_ref', owner)).rejects.toThrow(
        /is not valid JSON: (?!it holds)/,
      );
    });
  });
});
