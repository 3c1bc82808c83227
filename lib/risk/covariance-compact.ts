import { attachedCovarianceScan } from '#lib/contracts/covariance-map.js';
import {
  type CheckOptions,
  type CovarianceResult,
  checkCovariance,
  covarianceFromScan,
} from './covariance.js';

/**
 * The compact covariance document for large `covariance_ref`s: the ids once, then the numbers in
 * id order, either as full rows or as the packed upper triangle (row-major, diagonal included:
 * Σ₀₀ Σ₀₁ … Σ₀ₙ₋₁ Σ₁₁ … Σₙ₋₁ₙ₋₁, n(n+1)/2 numbers). A 1,000-strategy map repeats two ids in each of
 * its 500,500 keys; this names each id once and parses as plain number arrays. Fastest of all, the
 * packed upper triangle as IEEE-754 binary64 numbers, little-endian, base64-encoded (`upper_f64le`):
 * no decimal text to convert, and the doubles arrive bit for bit.
 *
 *   { "ids": ["a", "b"], "matrix": [[0.04, 0.01], [0.01, 0.09]] }
 *   { "ids": ["a", "b"], "upper": [0.04, 0.01, 0.09] }
 *   { "ids": ["a", "b"], "upper_f64le": "exSuR+F6pD97FK5H4XqEPwrXo3A9Crc/" }
 */
export type CompactCovariance =
  | { readonly ids: readonly string[]; readonly matrix: readonly (readonly number[])[] }
  | { readonly ids: readonly string[]; readonly upper: readonly number[] }
  | { readonly ids: readonly string[]; readonly upper_f64le: string };

/** True when a parsed ref document looks like the compact form (`ids` and `matrix`, `upper` or `upper_f64le`). */
export function isCompactCovariance(doc: unknown): doc is CompactCovariance {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    Array.isArray((doc as { ids?: unknown }).ids) &&
    (Array.isArray((doc as { matrix?: unknown }).matrix) ||
      Array.isArray((doc as { upper?: unknown }).upper) ||
      typeof (doc as { upper_f64le?: unknown }).upper_f64le === 'string')
  );
}

// The value of each base64 character ("A–Z a–z 0–9 + /"), -1 for anything else.
const BASE64 = new Int8Array(128).fill(-1);
for (const [k, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries())
  BASE64[c.charCodeAt(0)] = k;

function base64Value(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return c < 128 ? BASE64[c]! : -1;
}

/**
 * Little-endian binary64 numbers from standard base64 (RFC 4648, `=` padding); null when the text is
 * not base64 or not a whole number of 8-byte doubles. Pure TypeScript, no Buffer: the risk library
 * runs anywhere.
 */
export function decodeFloat64Base64(text: string): Float64Array | null {
  const length = text.length;
  if (length % 4 !== 0) return null;
  const pad =
    length === 0 ? 0 : text.charCodeAt(length - 1) !== 61 ? 0 : text.charCodeAt(length - 2) === 61 ? 2 : 1;
  const size = (length / 4) * 3 - pad;
  if (size % 8 !== 0) return null;
  const bytes = new Uint8Array((length / 4) * 3);
  let o = 0;
  for (let p = 0; p < length; p += 4) {
    const last = p + 4 === length;
    const a = base64Value(text, p);
    const b = base64Value(text, p + 1);
    const c = last && pad === 2 ? 0 : base64Value(text, p + 2);
    const d = last && pad >= 1 ? 0 : base64Value(text, p + 3);
    if ((a | b | c | d) < 0) return null;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[o++] = bits >>> 16;
    bytes[o++] = (bits >>> 8) & 255;
    bytes[o++] = bits & 255;
  }
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(size / 8);
  for (let k = 0; k < out.length; k++) out[k] = view.getFloat64(k * 8, true);
  return out;
}

/**
 * Row-major n×n covariance in `ids` order (the snapshot's weights) from a compact document, with
 * the same outcome shape as `covarianceFromMap`: structural problems (bad ids, wrong lengths,
 * non-finite numbers, an asymmetric full matrix, ids missing or extra) are issues naming the place;
 * hygiene findings are warnings. The document's ids may come in any order.
 */
export function covarianceFromCompact(
  doc: unknown,
  ids: readonly string[],
  options: CheckOptions = {},
): CovarianceResult {
  const built = compactMatrix(doc, ids);
  if (!built.ok) return built;
  const { matrix, symmetric } = built;
  return { ok: true, matrix, warnings: checkCovariance(matrix, ids.length, ids, { ...options, symmetric }) };
}

/**
 * The structural problems of a compact document against the weights' ids (empty when it is usable),
 * without the hygiene checks: what the edge checks when it resolves the ref. The matrix built for
 * the check is kept for the preparation of the same snapshot.
 */
export function compactCovarianceIssues(doc: unknown, ids: readonly string[]): string[] {
  const built = compactMatrix(doc, ids);
  return built.ok ? [] : built.issues;
}

type CompactMatrix = { ok: true; matrix: Float64Array; symmetric: boolean } | { ok: false; issues: string[] };

// The edge checks a compact ref's structure when it resolves it, and the preparation of the same
// snapshot builds the matrix again: the second build for the same ids is a copy of the first.
const builtByDoc = new WeakMap<
  object,
  { ids: readonly string[]; matrix: Float64Array; symmetric: boolean }
>();

function compactMatrix(doc: unknown, ids: readonly string[]): CompactMatrix {
  const known = typeof doc === 'object' && doc !== null ? builtByDoc.get(doc) : undefined;
  if (known && known.ids.length === ids.length && known.ids.every((id, i) => id === ids[i]))
    return { ok: true, matrix: known.matrix.slice(), symmetric: known.symmetric };
  const built = buildCompactMatrix(doc, ids);
  if (built.ok)
    builtByDoc.set(doc as object, {
      ids: [...ids],
      matrix: built.matrix.slice(),
      symmetric: built.symmetric,
    });
  return built;
}

/**
 * Row-major n×n covariance in `ids` order (the snapshot's weights) from a compact document:
 * structural problems (bad ids, wrong lengths, non-finite numbers, ids missing or extra) are issues
 * naming the place. The document's ids may come in any order.
 */
function buildCompactMatrix(doc: unknown, ids: readonly string[]): CompactMatrix {
  if (!isCompactCovariance(doc))
    return {
      ok: false,
      issues: [
        'compact covariance needs "ids" and one of "matrix", "upper" (arrays) or "upper_f64le" (base64)',
      ],
    };
  const issues: string[] = [];
  const docIds = doc.ids;
  const m = docIds.length;
  const position = new Map<string, number>();
  for (let k = 0; k < m; k++) {
    const id = docIds[k];
    if (typeof id !== 'string' || id === '') issues.push(`ids[${k}] is not a non-empty string`);
    else if (position.has(id)) issues.push(`ids[${k}] repeats "${id}"`);
    else position.set(id, k);
  }
  const n = ids.length;
  // where[i] = the document's index of the snapshot's i-th id.
  const where = new Int32Array(n);
  let found = 0;
  for (let i = 0; i < n; i++) {
    const k = position.get(ids[i]!);
    if (k === undefined) issues.push(`covariance has no entry for "${ids[i]}"`);
    else {
      where[i] = k;
      found++;
    }
  }
  if (position.size > found) {
    const known = new Set(ids);
    const extra = [...position.keys()].filter((id) => !known.has(id));
    if (extra.length > 0)
      issues.push(
        `covariance names ${extra
          .slice(0, 5)
          .map((id) => `"${id}"`)
          .join(', ')}, not in the weights`,
      );
  }
  if (issues.length > 0) return { ok: false, issues };

  // Read the document into its own order first (one pass, checking every number), then permute.
  const source = new Float64Array(m * m);
  if (!('matrix' in doc)) {
    const upper = 'upper' in doc ? doc.upper : decodeFloat64Base64(doc.upper_f64le);
    if (upper === null)
      return { ok: false, issues: ['upper_f64le is not base64 of little-endian binary64 numbers'] };
    const label = 'upper' in doc ? 'upper' : 'upper_f64le';
    const expected = (m * (m + 1)) / 2;
    if (upper.length !== expected)
      return {
        ok: false,
        issues: [`${label} has ${upper.length} numbers, expected ${expected} for ${m} ids`],
      };
    let k = 0;
    for (let a = 0; a < m; a++)
      for (let b = a; b < m; b++, k++) {
        const v = upper[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          issues.push(`${label}[${k}] (${docIds[a]}, ${docIds[b]}) is not a finite number`);
          if (issues.length >= 10) return { ok: false, issues };
          continue;
        }
        source[a * m + b] = v;
      }
    mirrorUpper(source, m);
  } else {
    const rows = doc.matrix;
    if (rows.length !== m) return { ok: false, issues: [`matrix has ${rows.length} rows, expected ${m}`] };
    for (let a = 0; a < m; a++) {
      const row = rows[a];
      if (!Array.isArray(row) || row.length !== m) {
        issues.push(`matrix[${a}] is not a row of ${m} numbers`);
        continue;
      }
      for (let b = 0; b < m; b++) {
        const v = row[b];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          issues.push(`matrix[${a}][${b}] is not a finite number`);
          if (issues.length >= 10) return { ok: false, issues };
          continue;
        }
        source[a * m + b] = v;
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  let matrix = source;
  const identity = m === n && ids.every((_, i) => where[i] === i);
  if (!identity) {
    matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const from = where[i]! * m;
      for (let j = 0; j < n; j++) matrix[i * n + j] = source[from + where[j]!]!;
    }
  }
  return { ok: true, matrix, symmetric: !('matrix' in doc) };
}

/** Copies the upper triangle onto the lower, in square tiles so the column-wise reads stay in cache. */
function mirrorUpper(matrix: Float64Array, m: number): void {
  const TILE = 64;
  for (let bi = 0; bi < m; bi += TILE)
    for (let bj = 0; bj <= bi; bj += TILE) {
      const iEnd = Math.min(bi + TILE, m);
      const jEnd = Math.min(bj + TILE, m);
      for (let i = bi; i < iEnd; i++)
        for (let j = bj; j < jEnd && j < i; j++) matrix[i * m + j] = matrix[j * m + i]!;
    }
}

// A snapshot whose covariance_ref points to a compact document keeps that document beside it, not
// inside it: the contract's `covariance` is the "a,b" map, and the snapshot object is what gets
// stored and hashed. Keyed weakly by the snapshot object, so nothing outlives the snapshot.
const compactBySnapshot = new WeakMap<object, CompactCovariance>();

/** Records that `snapshot`'s covariance is the compact document `doc` (read from its covariance_ref). */
export function attachCompactCovariance(snapshot: object, doc: CompactCovariance): void {
  compactBySnapshot.set(snapshot, doc);
}

/** The compact covariance document attached to `snapshot`, if its covariance came as one. */
export function compactCovarianceOf(snapshot: object): CompactCovariance | undefined {
  return compactBySnapshot.get(snapshot);
}

/**
 * The covariance a snapshot without an inline map carries beside it (a compact document, or a map
 * read from its covariance_ref's text), as a checked matrix in `ids` order; undefined when it has none.
 */
export function attachedCovariance(
  snapshot: object,
  ids: readonly string[],
  options: CheckOptions = {},
): CovarianceResult | undefined {
  const compact = compactBySnapshot.get(snapshot);
  if (compact) return covarianceFromCompact(compact, ids, options);
  const scanned = attachedCovarianceScan(snapshot, ids);
  return scanned ? covarianceFromScan(scanned, options) : undefined;
}
