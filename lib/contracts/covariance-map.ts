/**
 * The snapshot's covariance map (`{"a,b": number}`, keys "a,b" or "a:b", either order) read in one
 * pass: every key is parsed, checked and placed in the matrix at once. Both the edge's validation and
 * the risk math's matrix come from this one scan (memoized per map object), because a
 * 1,000-strategy map has 500,500 keys and merely enumerating them is most of the cost.
 * Pure: no I/O; imports nothing from the domain.
 */

/** Splits a covariance key "a,b" or "a:b" into its two ids, or returns null when it has neither form. */
export function parsePairKey(key: string): [string, string] | null {
  let at = key.indexOf(',');
  if (at < 0) at = key.indexOf(':');
  if (at < 0) return null;
  const sep = key.charCodeAt(at);
  // Exactly one separator of the kind found ("a,b:c" splits on the comma, as before).
  if (key.indexOf(String.fromCharCode(sep), at + 1) >= 0) return null;
  const a = key.slice(0, at).trim();
  const b = key.slice(at + 1).trim();
  return a && b ? [a, b] : null;
}

/** A key the scan could not place, with everything a caller needs to word its own message. */
export interface CovarianceKeyProblem {
  key: string;
  value: unknown;
  /** Null when the key is not of the form "a,b" or "a:b". */
  pair: [string, string] | null;
  /** Ids of the pair that are not in the weights. */
  unknown: string[];
  /** Whether the value is a finite number. */
  finite: boolean;
}

/** A second key for a pair already placed, whose value disagrees beyond float noise. */
export interface CovarianceConflict {
  key: string;
  value: number;
  held: number;
}

/** The matrix and findings of one pass over a covariance map. */
export interface CovarianceScan {
  /** The order of the matrix's rows and columns. */
  ids: readonly string[];
  /** Row-major n×n; entries of pairs no valid key named are 0 (see `seen`). */
  matrix: Float64Array;
  /** 1 where some valid key named the pair (both (i, j) and (j, i)). */
  seen: Uint8Array;
  problems: CovarianceKeyProblem[];
  conflicts: CovarianceConflict[];
}

/** Duplicates ("a,b" and "b,a", or "a,b" and "a:b") agree when equal to within float noise. */
export function sameCovarianceValue(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y), 1e-300);
}

/** A printable ASCII character: nothing `trim` would remove. */
function plain(code: number): boolean {
  return code > 32 && code < 127;
}

function scan(map: Record<string, unknown>, ids: readonly string[]): CovarianceScan {
  const n = ids.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(ids[i]!, i);
  const matrix = new Float64Array(n * n);
  const seen = new Uint8Array(n * n);
  const problems: CovarianceKeyProblem[] = [];
  const conflicts: CovarianceConflict[] = [];
  // Maps are usually written row by row ("a,a", "a,b", "a,c", …): the first id's prefix is reused
  // while it matches, so most keys cost one substring and one lookup.
  let prefix = '';
  let prefixIndex = -1;
  // for…in rather than Object.keys(): no array of half a million keys.
  for (const key in map) {
    const value = map[key];
    const finite = typeof value === 'number' && Number.isFinite(value);
    let i: number | undefined;
    let j: number | undefined;
    if (prefixIndex >= 0 && key.startsWith(prefix)) {
      const b = key.slice(prefix.length);
      // The fast path only for plain keys; anything unusual goes through the full parse below.
      const last = b.length - 1;
      if (
        last >= 0 &&
        plain(b.charCodeAt(0)) &&
        plain(b.charCodeAt(last)) &&
        b.indexOf(',') < 0 &&
        b.indexOf(':') < 0
      ) {
        i = prefixIndex;
        j = index.get(b);
      }
    }
    if (i === undefined || j === undefined) {
      const pair = parsePairKey(key);
      i = pair ? index.get(pair[0]) : undefined;
      j = pair ? index.get(pair[1]) : undefined;
      if (!pair || i === undefined || j === undefined || !finite) {
        const unknown = pair ? pair.filter((id) => !index.has(id)) : [];
        problems.push({ key, value, pair, unknown, finite });
        continue;
      }
      const at = key.indexOf(key.includes(',') ? ',' : ':');
      if (key.slice(0, at) === pair[0]) {
        prefix = key.slice(0, at + 1);
        prefixIndex = i;
      }
    } else if (!finite) {
      problems.push({ key, value, pair: [ids[i]!, ids[j]!], unknown: [], finite });
      continue;
    }
    const v = value as number;
    const ij = i * n + j;
    if (seen[ij]) {
      const held = matrix[ij]!;
      if (!sameCovarianceValue(held, v)) conflicts.push({ key, value: v, held });
      // Agreeing duplicates keep the smaller value so the matrix does not depend on key order.
      else if (v < held) matrix[ij] = matrix[j * n + i] = v;
      continue;
    }
    matrix[ij] = v;
    matrix[j * n + i] = v;
    seen[ij] = 1;
    seen[j * n + i] = 1;
  }
  return { ids, matrix, seen, problems, conflicts };
}

/** The same scan in another id order (same id set): the matrix and `seen` permuted, findings kept. */
function reorder(found: CovarianceScan, ids: readonly string[]): CovarianceScan {
  const n = ids.length;
  const from = new Map<string, number>();
  for (let i = 0; i < n; i++) from.set(found.ids[i]!, i);
  const where = ids.map((id) => from.get(id)!);
  const matrix = new Float64Array(n * n);
  const seen = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = where[i]! * n;
    for (let j = 0; j < n; j++) {
      matrix[i * n + j] = found.matrix[row + where[j]!]!;
      seen[i * n + j] = found.seen[row + where[j]!]!;
    }
  }
  return { ids, matrix, seen, problems: found.problems, conflicts: found.conflicts };
}

function sameIdSet(a: readonly string[], b: readonly string[]): 'same' | 'reordered' | 'different' {
  if (a.length !== b.length) return 'different';
  let ordered = true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) ordered = false;
  if (ordered) return 'same';
  const set = new Set(a);
  return b.every((id) => set.has(id)) ? 'reordered' : 'different';
}

const scans = new WeakMap<object, CovarianceScan>();

/**
 * One pass over `map` with rows and columns in `ids` order. The scan is remembered per map object,
 * so the edge's validation and the preparation of the same parsed snapshot share it (a later call
 * with the same ids in another order permutes the matrix instead of reading the keys again). The
 * returned arrays are shared: callers must copy before changing them.
 */
export function scanCovarianceMap(map: Record<string, unknown>, ids: readonly string[]): CovarianceScan {
  const known = scans.get(map);
  const match = known ? sameIdSet(known.ids, ids) : 'different';
  if (known && match === 'same') return known;
  if (known && match === 'reordered') return reorder(known, ids);
  const found = scan(map, ids);
  scans.set(map, found);
  return found;
}

/** One finding of the edge's covariance check: where (under `covariance`) and what. */
export interface CovarianceIssue {
  path: [string, string];
  message: string;
}

/** The edge's wording of a scan's problems (the snapshot schema's issues, and a scanned ref's). */
export function covarianceProblemIssues(problems: readonly CovarianceKeyProblem[]): CovarianceIssue[] {
  const issues: CovarianceIssue[] = [];
  for (const p of problems) {
    const path: [string, string] = ['covariance', p.key];
    if (!p.finite) issues.push({ path, message: 'must be a finite number' });
    else if (!p.pair) issues.push({ path, message: "key must be '<idA>,<idB>' or '<idA>:<idB>'" });
    else
      for (const id of p.unknown) issues.push({ path, message: `unknown strategy '${id}' (not in weights)` });
  }
  return issues;
}

// A snapshot whose covariance map was read from text (a covariance_ref) keeps the scan beside it,
// not a half-million-key object inside it. Keyed weakly by the snapshot object.
const scanBySnapshot = new WeakMap<object, CovarianceScan>();

/** Records that `snapshot`'s covariance is the map read into `found`. */
export function attachCovarianceScan(snapshot: object, found: CovarianceScan): void {
  scanBySnapshot.set(snapshot, found);
}

/** The scan attached to `snapshot`, with rows and columns in `ids` order (same id set), if any. */
export function attachedCovarianceScan(snapshot: object, ids: readonly string[]): CovarianceScan | undefined {
  const found = scanBySnapshot.get(snapshot);
  if (!found) return undefined;
  const match = sameIdSet(found.ids, ids);
  if (match === 'same') return found;
  if (match === 'reordered') return reorder(found, ids);
  return undefined;
}
