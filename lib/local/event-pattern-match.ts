/**
 * Matching half of the event-pattern engine: walks a compiled pattern (see event-pattern.ts, which
 * validates and compiles) against a parsed event.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON leaf value of an event. */
export type Leaf = string | number | boolean | null;
/** A compiled test of one leaf value. */
export type LeafTest = (value: Leaf) => boolean;

/** One entry of a match array: exists tests look at presence, the rest at each leaf value. */
export type Alternative = { kind: 'exists'; exists: boolean } | { kind: 'value'; test: LeafTest };

/** A field with a match array. */
export interface LeafNode {
  readonly kind: 'leaf';
  readonly alternatives: readonly Alternative[];
}

/** A nested pattern object: its fields (all must match) and `$or` groups (one branch each). */
export interface ObjectNode {
  readonly kind: 'object';
  readonly fields: ReadonlyArray<{ readonly key: string; readonly node: LeafNode | ObjectNode }>;
  readonly ors: ReadonlyArray<readonly ObjectNode[]>;
}

/** Leaf values of an event field: arrays flatten (any element may match); objects are not leaves. */
function leafValues(value: unknown, out: Leaf[]): Leaf[] {
  if (Array.isArray(value)) {
    for (const item of value) leafValues(item, out);
  } else if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    out.push(value);
  }
  return out;
}

function matchLeaf(node: LeafNode, value: unknown): boolean {
  if (value !== undefined && !Array.isArray(value) && typeof value !== 'object') {
    // The common case, one primitive: no list of leaves to build.
    const leaf = value as Leaf;
    for (const alternative of node.alternatives) {
      if (alternative.kind === 'exists' ? alternative.exists : alternative.test(leaf)) return true;
    }
    return false;
  }
  const values = value === undefined ? [] : leafValues(value, []);
  for (const alternative of node.alternatives) {
    if (alternative.kind === 'exists') {
      // Exists only sees leaves: an object (or an empty array) counts as absent.
      if (alternative.exists === values.length > 0) return true;
    } else {
      for (const v of values) if (alternative.test(v)) return true;
    }
  }
  return false;
}

/** Objects reachable at this level; an array of objects matches when one element does. */
function objectCandidates(value: unknown, out: Record<string, unknown>[]): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) objectCandidates(item, out);
  else if (isPlainObject(value)) out.push(value);
  return out;
}

function matchObject(node: ObjectNode, value: unknown): boolean {
  if (Array.isArray(value)) {
    const candidates = objectCandidates(value, []);
    if (candidates.length === 0) return matchFields(node, undefined);
    return candidates.some((candidate) => matchFields(node, candidate));
  }
  return matchFields(node, isPlainObject(value) ? value : undefined);
}

/** True when an event object (undefined: absent) satisfies a compiled pattern object. */
export function matchFields(node: ObjectNode, object: Record<string, unknown> | undefined): boolean {
  for (const { key, node: child } of node.fields) {
    const value = object === undefined || !Object.hasOwn(object, key) ? undefined : object[key];
    if (!(child.kind === 'leaf' ? matchLeaf(child, value) : matchObject(child, value))) return false;
  }
  for (const branches of node.ors) {
    if (!branches.some((branch) => matchFields(branch, object))) return false;
  }
  return true;
}
