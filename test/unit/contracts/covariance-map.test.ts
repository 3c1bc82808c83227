import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePairKey, scanCovarianceMap } from '#lib/contracts/covariance-map.js';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { covarianceFromMap } from '#lib/risk/index.js';

// The one-pass scan (shared by the edge and the matrix) against the straightforward two-pass code it
// replaced: the edge's per-key check and covarianceFromMap's own loop.

function referencePairKey(key: string): [string, string] | null {
  const sep = key.includes(',') ? ',' : key.includes(':') ? ':' : null;
  if (sep === null) return null;
  const parts = key.split(sep);
  if (parts.length !== 2) return null;
  const a = parts[0]!.trim();
  const b = parts[1]!.trim();
  return a && b ? [a, b] : null;
}

/** The matrix (or the sorted issues) as covarianceFromMap computed it before the scan. */
function referenceMatrix(map: Record<string, unknown>, ids: readonly string[]) {
  const n = ids.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  const matrix = new Float64Array(n * n);
  const seen = new Uint8Array(n * n);
  const issues: string[] = [];
  for (const key of Object.keys(map)) {
    const value = map[key];
    const pair = referencePairKey(key);
    if (!pair) {
      issues.push(`covariance key "${key}" is not of the form "a,b" or "a:b"`);
      continue;
    }
    const i = index.get(pair[0]);
    const j = index.get(pair[1]);
    if (i === undefined || j === undefined) {
      const unknown = pair.filter((id) => !index.has(id));
      issues.push(
        `covariance key "${key}" names ${unknown.map((u) => `"${u}"`).join(' and ')}, not in the weights`,
      );
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push(`covariance key "${key}" has a non-finite value (${String(value)})`);
      continue;
    }
    if (seen[i * n + j]) {
      const held = matrix[i * n + j]!;
      if (Math.abs(held - value) > 1e-12 * Math.max(Math.abs(held), Math.abs(value), 1e-300))
        issues.push(
          `covariance key "${key}" conflicts with another key for the same pair (${value} vs ${held})`,
        );
      else if (value < held) matrix[i * n + j] = matrix[j * n + i] = value;
      continue;
    }
    matrix[i * n + j] = matrix[j * n + i] = value;
    seen[i * n + j] = seen[j * n + i] = 1;
  }
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++)
      if (!seen[i * n + j]) issues.push(`covariance is missing "${ids[i]},${ids[j]}"`);
  return issues.length > 0 ? { ok: false, issues: issues.sort() } : { ok: true, matrix: Array.from(matrix) };
}

/** The edge's issues as its per-key refinement worded them before the scan. */
function referenceEdgeIssues(map: Record<string, unknown>, weights: Record<string, number>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      out.push(`${key}: must be a finite number`);
      continue;
    }
    const pair = referencePairKey(key);
    if (!pair) {
      out.push(`${key}: key must be '<idA>,<idB>' or '<idA>:<idB>'`);
      continue;
    }
    for (const id of pair)
      if (!(id in weights)) out.push(`${key}: unknown strategy '${id}' (not in weights)`);
  }
  return out;
}

const idArb = fc.constantFrom('a', 'b', 'c', 'dd', 'x');
const keyArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(idArb, fc.constantFrom(',', ':', ' , ', ', '), idArb).map((p) => p.join('')),
  },
  { weight: 1, arbitrary: fc.constantFrom('a', 'a,b,c', 'a:b:c', 'a,b:c', ',a', 'a, ', ' a,b', 'a,\u00a0b') },
);
const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(0.01, 0.02, 0.04, -0.005, 0.01 + 1e-15) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(Number.NaN, 'x', null, Number.POSITIVE_INFINITY) },
);
const mapArb = fc.dictionary(keyArb, valueArb, { maxKeys: 20 });
const idsArb = fc.shuffledSubarray(['a', 'b', 'c', 'dd'], { minLength: 1 });

describe('scanCovarianceMap', () => {
  it('parses keys exactly as the split-based parser did', () => {
    fc.assert(
      fc.property(fc.oneof(keyArb, fc.string({ maxLength: 8 })), (key) => {
        expect(parsePairKey(key)).toEqual(referencePairKey(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives covarianceFromMap the same matrix and issues as the two-pass code, in any id order', () => {
    fc.assert(
      fc.property(mapArb, idsArb, idsArb, (map, ids, other) => {
        // A second order of the same map first when the sets match, so the memoized permutation runs too.
        if (other.length === ids.length && other.every((id) => ids.includes(id)))
          covarianceFromMap(map as Record<string, number>, other);
        const fast = covarianceFromMap(map as Record<string, number>, ids, { psdCheckMaxN: 0 });
        const ref = referenceMatrix(map, ids);
        if (fast.ok) expect({ ok: true, matrix: Array.from(fast.matrix) }).toEqual(ref);
        else expect({ ok: false, issues: [...fast.issues].sort() }).toEqual(ref);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the edge the same per-key issues as its old refinement', () => {
    fc.assert(
      fc.property(mapArb, idsArb, (covariance, ids) => {
        const weights = Object.fromEntries(ids.map((id) => [id, 1 / ids.length]));
        const parsed = SnapshotDataSchema.safeParse({
          world_id: 'w',
          as_of: '2025-03-10T21:00:00Z',
          version: 'v1',
          weights,
          covariance,
        });
        const got = parsed.success
          ? []
          : parsed.error.issues
              .filter((i) => i.path[0] === 'covariance')
              .map((i) => `${String(i.path[1])}: ${i.message}`);
        expect(got).toEqual(referenceEdgeIssues(covariance, weights));
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a map once: the edge and the matrix share the scan', () => {
    const map = { 'a,a': 1, 'a,b': 0.5, 'b,b': 2 };
    const first = scanCovarianceMap(map, ['a', 'b']);
    expect(scanCovarianceMap(map, ['a', 'b'])).toBe(first);
    const swapped = scanCovarianceMap(map, ['b', 'a']);
    expect(Array.from(swapped.matrix)).toEqual([2, 0.5, 0.5, 1]);
    // A different id set is a different question: scanned again.
    expect(scanCovarianceMap(map, ['a', 'b', 'c']).problems).toEqual([]);
  });
});
