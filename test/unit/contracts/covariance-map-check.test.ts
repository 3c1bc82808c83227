import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';

// The snapshot schema checks the covariance map's values in its one refinement loop instead of a
// z.record pass. Reference: the schema as it was, with z.record(z.string(), z.number()) for the map.
const base = {
  world_id: 'w',
  as_of: '2026-12-01T00:00:00Z',
  version: 'v1',
  weights: { a: 0.5, b: 0.5 },
};

const valueArb = fc.oneof(
  fc.double({ min: -1, max: 1, noNaN: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, '0.1', null, true, [] as unknown, {}),
);
const keyArb = fc.constantFrom('a,a', 'a,b', 'b:a', 'b,b', 'a', 'a,c', 'c:d', 'a,b,c', ' a , b ');
const mapArb = fc.dictionary(keyArb, valueArb, { maxKeys: 6 });

/** Issue paths the reference reports for a covariance map: z.record's value check, then the key checks. */
function referenceIssues(covariance: Record<string, unknown>): string[] {
  const values = z.record(z.string(), z.number()).safeParse(covariance);
  if (!values.success) return values.error.issues.map((i) => JSON.stringify(['covariance', ...i.path]));
  const result = SnapshotDataSchema.safeParse({ ...base, covariance });
  return result.success ? [] : result.error.issues.map((i) => JSON.stringify(i.path));
}

describe('SnapshotDataSchema covariance map', () => {
  it('refuses exactly the maps the z.record schema refused, at the same keys', () => {
    fc.assert(
      fc.property(mapArb, (covariance) => {
        const result = SnapshotDataSchema.safeParse({ ...base, covariance });
        const ours = result.success ? [] : result.error.issues.map((i) => JSON.stringify(i.path));
        const reference = referenceIssues(covariance);
        expect(result.success).toBe(reference.length === 0);
        // Every key the reference flags for its value is flagged by ours too.
        for (const path of reference) expect(ours).toContain(path);
      }),
      { numRuns: 500 },
    );
  });

  it('names a non-finite value by its key and keeps a valid map as given', () => {
    const bad = SnapshotDataSchema.safeParse({ ...base, covariance: { 'a,a': 0.1, 'a,b': Number.NaN } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues).toEqual([
      expect.objectContaining({ path: ['covariance', 'a,b'], message: 'must be a finite number' }),
    ]);
    const covariance = { 'a,a': 0.1, 'a,b': 0.02, 'b,b': 0.2 };
    expect(SnapshotDataSchema.parse({ ...base, covariance }).covariance).toEqual(covariance);
  });

  it('refuses a covariance that is not an object', () => {
    expect(SnapshotDataSchema.safeParse({ ...base, covariance: [1, 2] }).success).toBe(false);
    expect(SnapshotDataSchema.safeParse({ ...base, covariance: 'x' }).success).toBe(false);
  });
});
