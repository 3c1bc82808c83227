import { normalizeStress, type SnapshotData, snapshotExpiresAt } from '#lib/contracts/risk-snapshot.js';
import { covarianceFromMap, repairCovariance, sampleCovariance } from '#lib/risk/covariance.js';
import { attachedCovariance } from '#lib/risk/covariance-compact.js';
import type { PreparedSnapshot } from './types.js';

/** Minimum aligned observations before a sample covariance is trusted over none at all. */
const MIN_SAMPLE_OBSERVATIONS = 20;

/**
 * Turns a validated (refs already resolved) snapshot into dense arrays in sorted id order. Data
 * problems that leave something usable become warnings (recorded in the audit trail); the rules
 * whose inputs are missing then report themselves unavailable rather than passing silently.
 */
export function prepareSnapshot(data: SnapshotData): PreparedSnapshot {
  const ids = Object.keys(data.weights).sort();
  const n = ids.length;
  const weights = new Float64Array(n);
  ids.forEach((id, i) => {
    weights[i] = data.weights[id]!;
  });
  const warnings: string[] = [];

  let returns: Float64Array[] | null = null;
  let portfolioReturns: Float64Array | null = null;
  const realized = data.realized_returns;
  if (Array.isArray(realized)) {
    portfolioReturns = Float64Array.from(realized);
  } else if (realized) {
    const missing = ids.filter((id) => !(id in realized));
    if (missing.length > 0) {
      warnings.push(
        `realized_returns: no series for ${missing.join(', ')}; per-strategy and historical measures unavailable`,
      );
    } else {
      const lengths = ids.map((id) => realized[id]!.length);
      const t = Math.min(...lengths);
      if (lengths.some((len) => len !== t)) {
        warnings.push(
          `realized_returns: series lengths differ (${Math.min(...lengths)}..${Math.max(...lengths)}); aligned on the latest ${t}`,
        );
      }
      returns = ids.map((id) => {
        const series = realized[id]!;
        return Float64Array.from(series.slice(series.length - t));
      });
      portfolioReturns = new Float64Array(t);
      for (let i = 0; i < n; i++) {
        const w = weights[i]!;
        const r = returns[i]!;
        for (let k = 0; k < t; k++) portfolioReturns[k]! += w * r[k]!;
      }
    }
  }

  let covariance: Float64Array | null = null;
  let covarianceSource: PreparedSnapshot['covarianceSource'] = 'none';
  const result = data.covariance ? covarianceFromMap(data.covariance, ids) : attachedCovariance(data, ids);
  if (result) {
    if (result.ok) {
      covariance = result.matrix;
      covarianceSource = 'snapshot';
      if (result.warnings.length > 0) {
        warnings.push(...result.warnings.map((w) => `covariance: ${w}; repaired by eigenvalue clipping`));
        covariance = repairCovariance(covariance, n);
      }
    } else {
      // A loop, not a spread: an incomplete matrix of a large world has ~n²/2 issues.
      for (const issue of result.issues) warnings.push(`covariance: ${issue}`);
    }
  }
  if (!covariance && returns && (returns[0]?.length ?? 0) >= MIN_SAMPLE_OBSERVATIONS) {
    covariance = sampleCovariance(returns);
    covarianceSource = 'sample';
    warnings.push('covariance: none usable in the snapshot; using the sample covariance of realized_returns');
  }

  return {
    world_id: data.world_id,
    as_of: data.as_of,
    asOfMs: Date.parse(data.as_of),
    version: data.version,
    hash: data.hash,
    createdAtMs: Date.parse(data.created_at ?? data.as_of),
    expiresAtMs: snapshotExpiresAt(data),
    stage: typeof data.provenance?.stage === 'string' ? data.provenance.stage : undefined,
    ...(typeof data.provenance?.actor === 'string' ? { actor: data.provenance.actor } : {}),
    ids,
    weights,
    covariance,
    covarianceSource,
    returns,
    portfolioReturns,
    stress: normalizeStress(data.stress, new Set(ids)),
    constraints: data.constraints ?? {},
    warnings,
  };
}
