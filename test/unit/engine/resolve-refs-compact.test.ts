import { describe, expect, it } from 'vitest';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { RefResolutionError } from '#lib/engine/errors.js';
import type { RefResolver } from '#lib/engine/ports.js';
import { resolveSnapshotRefs } from '#lib/engine/resolve-refs.js';
import { compactCovarianceOf, prepareRiskInput } from '#lib/risk/index.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';

// A covariance_ref that points to a compact document ({ids, upper} or {ids, matrix}) resolves to the
// same matrix as the "a,b" map, without ever building the map.

const weights = { beta: 0.5, alpha: 0.3, gamma: 0.2 };
/** Σ in the order alpha, beta, gamma. */
const full = [
  [0.04, 0.006, 0.002],
  [0.006, 0.09, -0.003],
  [0.002, -0.003, 0.0225],
];
const ids = ['alpha', 'beta', 'gamma'];
const asMap = (): Record<string, number> => {
  const map: Record<string, number> = {};
  for (let i = 0; i < 3; i++) for (let j = i; j < 3; j++) map[`${ids[i]},${ids[j]}`] = full[i]![j]!;
  return map;
};

const snapshot = (extra: Record<string, unknown>) =>
  SnapshotDataSchema.parse({
    world_id: 'w',
    as_of: '2025-03-10T21:00:00Z',
    version: 'v1',
    weights,
    realized_returns: { alpha: [0.01, -0.02, 0.005], beta: [0.0, 0.01, -0.01], gamma: [0.02, -0.01, 0.0] },
    ...extra,
  });

/** A resolver answering one document for covariance_ref, and remembering what it was asked. */
function resolverOf(doc: unknown): RefResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolve(uri, field) {
      asked.push(`${field} ${uri}`);
      return doc;
    },
  };
}

describe('resolveSnapshotRefs with a compact covariance document', () => {
  const upperDoc = { ids: ['gamma', 'alpha', 'beta'], upper: [0.0225, 0.002, -0.003, 0.04, 0.006, 0.09] };
  const matrixDoc = { ids, matrix: full };
  const binaryDoc = {
    ids: upperDoc.ids,
    upper_f64le: Buffer.from(Float64Array.from(upperDoc.upper).buffer).toString('base64'),
  };

  for (const [name, doc] of [
    ['packed upper triangle, ids in another order', upperDoc],
    ['full rows', matrixDoc],
    ['packed upper triangle as base64 binary64', binaryDoc],
  ] as const) {
    it(`gives the same prepared matrix as the inline map (${name})`, async () => {
      const refs = resolverOf(doc);
      const resolved = await resolveSnapshotRefs(snapshot({ covariance_ref: 's3://bucket/cov.json' }), refs);
      expect(refs.asked).toEqual(['covariance_ref s3://bucket/cov.json']);
      expect(resolved.covariance).toBeUndefined();
      expect(compactCovarianceOf(resolved)).toBe(doc);

      const inline = snapshot({ covariance: asMap() });
      const fromRef = prepareSnapshot(resolved);
      const fromMap = prepareSnapshot(inline);
      expect(fromRef.covarianceSource).toBe('snapshot');
      expect(Array.from(fromRef.covariance!)).toEqual(Array.from(fromMap.covariance!));
      expect(fromRef.warnings).toEqual(fromMap.warnings);
      // The risk report's parse step reads it too.
      expect(Array.from(prepareRiskInput(resolved).covariance!)).toEqual(
        Array.from(prepareRiskInput(inline).covariance!),
      );
    });
  }

  it('refuses a compact document that does not fit the weights, naming the field', async () => {
    const bad = { ids: ['alpha', 'beta', 'delta'], upper: [1, 0, 1, 0, 0, 1] };
    const error = await resolveSnapshotRefs(
      snapshot({ covariance_ref: 's3://bucket/cov.json' }),
      resolverOf(bad),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefResolutionError);
    expect((error as RefResolutionError).field).toBe('covariance_ref');
    expect((error as Error).message).toMatch(
      /compact covariance is invalid: .*"gamma".*"delta", not in the weights/,
    );
  });

  it('refuses a compact document with a non-finite number', async () => {
    const bad = { ids, upper: [0.04, 0.006, 0.002, 'x', -0.003, 0.0225] };
    await expect(
      resolveSnapshotRefs(snapshot({ covariance_ref: 'file:///cov.json' }), resolverOf(bad)),
    ).rejects.toThrow(/upper\[3\] \(beta, beta\) is not a finite number/);
  });

  it('still treats a map-shaped document as the map', async () => {
    const resolved = await resolveSnapshotRefs(
      snapshot({ covariance_ref: 's3://bucket/cov.json' }),
      resolverOf(asMap()),
    );
    expect(resolved.covariance).toEqual(asMap());
    expect(compactCovarianceOf(resolved)).toBeUndefined();
  });
});
