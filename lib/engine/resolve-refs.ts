import {
  attachCovarianceScan,
  type CovarianceScan,
  covarianceProblemIssues,
} from '#lib/contracts/covariance-map.js';
import { CovarianceMapText, placeCovarianceEntries } from '#lib/contracts/covariance-text.js';
import { formatIssuePath, formatZodIssues } from '#lib/contracts/issues.js';
import { type SnapshotData, SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import {
  attachCompactCovariance,
  type CompactCovariance,
  compactCovarianceIssues,
  isCompactCovariance,
} from '#lib/risk/covariance-compact.js';
import { RefResolutionError } from './errors.js';
import type { RefResolver } from './ports.js';

/** Each `*_ref` field and the inline field its content replaces. */
const REFS = [
  ['covariance_ref', 'covariance'],
  ['realized_returns_ref', 'realized_returns'],
  ['stress_ref', 'stress'],
] as const;

/**
 * Replaces every `*_ref` whose inline field is absent by the referenced content, which must meet the
 * same contract as inline content; failures are RefResolutionErrors naming the field. A
 * `covariance_ref` may also point to a compact document (`{"ids", "upper"}` or `{"ids", "matrix"}`,
 * detected by its shape): it is checked against the weights here and attached to the returned
 * snapshot (see `compactCovarianceOf`) instead of being turned into a half-million-key map. A map a
 * resolver read straight from its text (`CovarianceMapText`) is placed against the weights here, its
 * problems reported in the schema's words, and attached the same way (see `attachedCovariance`).
 */
export async function resolveSnapshotRefs(data: SnapshotData, refs: RefResolver): Promise<SnapshotData> {
  const pending = REFS.filter(([ref, field]) => data[ref] !== undefined && data[field] === undefined);
  if (pending.length === 0) return data;
  const merged: Record<string, unknown> = { ...data };
  const owner = { world_id: data.world_id, version: data.version };
  let compact: CompactCovariance | undefined;
  let scanned: CovarianceScan | undefined;
  for (const [ref, field] of pending) {
    const content = await refs.resolve(String(data[ref]), ref, owner);
    if (field === 'covariance' && content instanceof CovarianceMapText) {
      // Placed against the weights here; a key written twice sends it down the ordinary path.
      const placed = placeCovarianceEntries(content, Object.keys(data.weights));
      if (placed) scanned = placed;
      else merged[field] = content.parse();
    } else if (field === 'covariance' && isCompactCovariance(content)) compact = content;
    else merged[field] = content;
  }
  const parsed = SnapshotDataSchema.safeParse(merged);
  // The scanned map's problems read as the schema's would for the same map inline.
  const mapIssues = scanned ? covarianceProblemIssues(scanned.problems) : [];
  if (!parsed.success || mapIssues.length > 0) {
    const schemaLines = parsed.success ? [] : formatZodIssues(parsed.error);
    // Where the schema's refinement puts them: after the weights' findings.
    let at = 0;
    while (at < schemaLines.length && schemaLines[at]!.startsWith('weights')) at++;
    const lines = schemaLines.slice(0, at);
    for (const issue of mapIssues) lines.push(`${formatIssuePath(issue.path)}: ${issue.message}`);
    for (let k = at; k < schemaLines.length; k++) lines.push(schemaLines[k]!);
    throw new RefResolutionError(
      `referenced content is invalid: ${lines.join('; ')}`,
      pending.map(([ref]) => ref).join(', '),
      false,
    );
  }
  if (scanned) attachCovarianceScan(parsed.data, scanned);
  if (compact) {
    // Structure only (ids, lengths, finite numbers); the hygiene checks run where the matrix is prepared.
    const issues = compactCovarianceIssues(compact, Object.keys(parsed.data.weights));
    if (issues.length > 0)
      throw new RefResolutionError(
        `referenced compact covariance is invalid: ${issues.join('; ')}`,
        'covariance_ref',
        false,
      );
    attachCompactCovariance(parsed.data, compact);
  }
  return parsed.data;
}
