import { formatZodIssues } from '../contracts/issues.js';
import { type SnapshotData, SnapshotDataSchema } from '../contracts/risk-snapshot.js';
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
 * same contract as inline content; failures are RefResolutionErrors naming the field.
 */
export async function resolveSnapshotRefs(data: SnapshotData, refs: RefResolver): Promise<SnapshotData> {
  const pending = REFS.filter(([ref, field]) => data[ref] !== undefined && data[field] === undefined);
  if (pending.length === 0) return data;
  const merged: Record<string, unknown> = { ...data };
  const owner = { world_id: data.world_id, version: data.version };
  for (const [ref, field] of pending) merged[field] = await refs.resolve(String(data[ref]), ref, owner);
  const parsed = SnapshotDataSchema.safeParse(merged);
  if (!parsed.success) {
    throw new RefResolutionError(
      `referenced content is invalid: ${formatZodIssues(parsed.error).join('; ')}`,
      pending.map(([ref]) => ref).join(', '),
      false,
    );
  }
  return parsed.data;
}
