import { type CovarianceKeyProblem, type CovarianceScan, sameCovarianceValue } from './covariance-map.js';

/**
 * A covariance map read straight from its JSON text (`{"a,b": 0.04, …}`, what upstream's blob store
 * writes for a `covariance_ref`), without JSON.parse: a 1,000-strategy map is 500,500 keys, and
 * building that dictionary object is most of the cost of the ordinary path. One scan checks the JSON
 * grammar and collects each key's two ids and its number; `placeCovarianceEntries` then puts them
 * in a matrix in the weights' order with the same findings `scanCovarianceMap` gives for the parsed
 * object. Anything the scan does not handle exactly (escapes, spaces or other separators in keys,
 * values that are not numbers, a key repeated) makes it answer null: the caller then parses the text
 * with JSON.parse and takes the ordinary path, so both paths always agree.
 * Pure: no I/O; imports nothing from the domain.
 */
export class CovarianceMapText {
  constructor(
    /** The whole text, kept for the JSON.parse fallback. */
    readonly text: string,
    /** Distinct ids in order of first appearance. */
    readonly ids: readonly string[],
    /** Per key: the first and second id (indexes into `ids`) and whether the separator was ':'. */
    readonly first: Int32Array,
    readonly second: Int32Array,
    readonly colon: Uint8Array,
    readonly values: Float64Array,
    /** Number of keys. */
    readonly count: number,
  ) {}

  /** The map as JSON.parse reads it (the fallback when placing finds a key written twice). */
  parse(): unknown {
    return JSON.parse(this.text);
  }

  /** The key of entry `k` as written in the text. */
  key(k: number): string {
    return `${this.ids[this.first[k]!]}${this.colon[k] ? ':' : ','}${this.ids[this.second[k]!]}`;
  }
}

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const BACKSLASH = 92;

/** 10^0 … 10^22: every one exactly a double, the range of Clinger's exact fast path. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * Reads a covariance map's JSON text. Null when the text is not a JSON object of plain pair keys
 * mapping to numbers (then JSON.parse decides what it is): see `CovarianceMapText`.
 */
export function scanCovarianceMapText(text: string): CovarianceMapText | null {
  const end = text.length;
  let p = 0;
  while (p < end && isSpace(text.charCodeAt(p))) p++;
  if (text.charCodeAt(p) !== 123 /* { */) return null;
  p++;
  // Capacity from the text's size: each entry takes at least `"a,b":0` (7 characters) and a comma.
  let capacity = Math.min(1024, Math.ceil(end / 8) + 1);
  let first = new Int32Array(capacity);
  let second = new Int32Array(capacity);
  let colon = new Uint8Array(capacity);
  let values = new Float64Array(capacity);
  const ids: string[] = [];
  const index = new Map<string, number>();
  // Keys written row by row ("a,a", "a,b", …) share their first id, and their second ids follow
  // one another: both are compared in place first, and sliced and looked up only when that fails.
  let prevFirst = '';
  let prevFirstIndex = -1;
  let prevSecondIndex = -1;
  let count = 0;
  while (p < end && isSpace(text.charCodeAt(p))) p++;
  if (text.charCodeAt(p) === 125 /* } */) p++;
  else
    for (;;) {
      // Key: plain printable ASCII, exactly one ',' (any ':' then belongs to an id), or else exactly one ':'.
      if (text.charCodeAt(p) !== QUOTE) return null;
      const keyStart = ++p;
      let commaAt = -1;
      let colonAt = -1;
      let commas = 0;
      let colons = 0;
      for (;;) {
        const c = text.charCodeAt(p);
        if (c === QUOTE) break;
        if (c <= 32 || c >= 127 || c === BACKSLASH || Number.isNaN(c)) return null;
        if (c === COMMA) {
          commas++;
          commaAt = p;
        } else if (c === COLON) {
          colons++;
          colonAt = p;
        }
        p++;
      }
      const keyEnd = p++;
      const sepAt = commas === 1 ? commaAt : commas === 0 && colons === 1 ? colonAt : -1;
      if (sepAt <= keyStart || sepAt >= keyEnd - 1) return null;
      let a: number;
      const firstLength = sepAt - keyStart;
      if (firstLength === prevFirst.length && text.startsWith(prevFirst, keyStart)) a = prevFirstIndex;
      else {
        const id = text.slice(keyStart, sepAt);
        let found = index.get(id);
        if (found === undefined) {
          found = ids.length;
          ids.push(id);
          index.set(id, found);
        }
        a = found;
        prevFirst = id;
        prevFirstIndex = found;
      }
      // Within a row the second ids usually come in the order they first appeared: try the next one.
      let b = prevSecondIndex + 1;
      const guess = b < ids.length ? ids[b]! : '';
      if (!(guess.length === keyEnd - sepAt - 1 && text.startsWith(guess, sepAt + 1))) {
        const secondId = text.slice(sepAt + 1, keyEnd);
        const found = index.get(secondId);
        if (found === undefined) {
          b = ids.length;
          ids.push(secondId);
          index.set(secondId, b);
        } else b = found;
      }
      prevSecondIndex = b;
      while (isSpace(text.charCodeAt(p))) p++;
      if (text.charCodeAt(p) !== COLON) return null;
      p++;
      while (isSpace(text.charCodeAt(p))) p++;

      // Value: a JSON number, checked against the grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
      const numStart = p;
      let negative = false;
      if (text.charCodeAt(p) === MINUS) {
        negative = true;
        p++;
      }
      let mantissa = 0;
      let digits = 0; // significant digits (after leading zeros) in the mantissa
      let scale = 0; // decimal exponent correction from fraction digits
      let c = text.charCodeAt(p);
      if (c === ZERO) {
        p++;
      } else if (c > ZERO && c <= NINE) {
        do {
          mantissa = mantissa * 10 + (c - ZERO);
          digits++;
          c = text.charCodeAt(++p);
        } while (c >= ZERO && c <= NINE);
      } else return null;
      c = text.charCodeAt(p);
      if (c === DOT) {
        c = text.charCodeAt(++p);
        if (!(c >= ZERO && c <= NINE)) return null;
        do {
          if (digits > 0 || c !== ZERO) {
            mantissa = mantissa * 10 + (c - ZERO);
            digits++;
          }
          scale--;
          c = text.charCodeAt(++p);
        } while (c >= ZERO && c <= NINE);
      }
      let exponent = 0;
      let exponentDigits = 0;
      if (c === LOWER_E || c === UPPER_E) {
        c = text.charCodeAt(++p);
        let exponentNegative = false;
        if (c === MINUS || c === PLUS) {
          exponentNegative = c === MINUS;
          c = text.charCodeAt(++p);
        }
        if (!(c >= ZERO && c <= NINE)) return null;
        do {
          if (exponentDigits < 6) exponent = exponent * 10 + (c - ZERO);
          exponentDigits++;
          c = text.charCodeAt(++p);
        } while (c >= ZERO && c <= NINE);
        if (exponentNegative) exponent = -exponent;
      }
      // Clinger's fast path: with at most 15 significant digits the mantissa is an exact integer
      // below 2^53, and 10^k (k ≤ 22) is exact, so one IEEE multiplication or division rounds the
      // exact decimal value once: the double JSON.parse gives. Everything else goes to Number(),
      // the same string-to-double conversion JSON.parse uses.
      const power = exponent + scale;
      let value: number;
      if (digits <= 15 && exponentDigits <= 6 && power >= -22 && power <= 22) {
        value = power < 0 ? mantissa / POW10[-power]! : mantissa * POW10[power]!;
        if (negative) value = -value;
      } else value = Number(text.slice(numStart, p));

      if (count === capacity) {
        capacity *= 2;
        first = grow(first, capacity);
        second = grow(second, capacity);
        colon = grow(colon, capacity);
        values = grow(values, capacity);
      }
      first[count] = a;
      second[count] = b;
      colon[count] = sepAt === colonAt ? 1 : 0;
      values[count] = value;
      count++;

      while (isSpace(c)) c = text.charCodeAt(++p);
      p++;
      if (c === COMMA) {
        while (isSpace(text.charCodeAt(p))) p++;
        continue;
      }
      if (c === 125 /* } */) break;
      return null;
    }
  while (p < end && isSpace(text.charCodeAt(p))) p++;
  if (p !== end) return null;
  return new CovarianceMapText(text, ids, first, second, colon, values, count);
}

function grow<T extends Int32Array | Uint8Array | Float64Array>(array: T, capacity: number): T {
  const out = new (array.constructor as new (n: number) => T)(capacity);
  out.set(array);
  return out;
}

/**
 * The scanned keys placed in a matrix with rows and columns in `ids` order (the weights), with the
 * findings `scanCovarianceMap` gives for the same map parsed by JSON.parse: unknown ids and non-finite
 * values (a number too large for a double) as problems in key order, disagreeing duplicates of a
 * pair ("a,b" and "b,a") as conflicts, agreeing ones keeping the smaller value. Null when some key is
 * written twice: JSON.parse keeps only the last of those, so the caller takes the ordinary path.
 */
export function placeCovarianceEntries(
  found: CovarianceMapText,
  ids: readonly string[],
): CovarianceScan | null {
  const n = ids.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(ids[i]!, i);
  // The weights' index of each of the text's ids (-1 when not in the weights).
  const to = new Int32Array(found.ids.length);
  for (let k = 0; k < found.ids.length; k++) to[k] = index.get(found.ids[k]!) ?? -1;
  const matrix = new Float64Array(n * n);
  const seen = new Uint8Array(n * n);
  // Per unordered pair (upper triangle): which spellings were seen, bit (reversed ? 2 : 0) | (colon ? 1 : 0).
  const spellings = new Uint8Array(n * n);
  const problems: CovarianceKeyProblem[] = [];
  const problemKeys = new Set<string>();
  const conflicts: CovarianceScan['conflicts'] = [];
  const { first, second, colon, values, count } = found;
  for (let k = 0; k < count; k++) {
    const i = to[first[k]!]!;
    const j = to[second[k]!]!;
    const v = values[k]!;
    const finite = Number.isFinite(v);
    if (i < 0 || j < 0 || !finite) {
      const pair: [string, string] = [found.ids[first[k]!]!, found.ids[second[k]!]!];
      const unknown = pair.filter((id) => !index.has(id));
      const key = found.key(k);
      if (problemKeys.has(key)) return null;
      problemKeys.add(key);
      problems.push({ key, value: v, pair, unknown, finite });
      continue;
    }
    const reversed = i > j;
    const at = reversed ? j * n + i : i * n + j;
    const bit = 1 << ((reversed ? 2 : 0) | colon[k]!);
    if (spellings[at]! & bit) return null;
    const ij = i * n + j;
    if (spellings[at]) {
      spellings[at] = spellings[at]! | bit;
      const held = matrix[ij]!;
      if (!sameCovarianceValue(held, v)) conflicts.push({ key: found.key(k), value: v, held });
      else if (v < held) matrix[ij] = matrix[j * n + i] = v;
      continue;
    }
    spellings[at] = bit;
    matrix[ij] = v;
    matrix[j * n + i] = v;
    seen[ij] = 1;
    seen[j * n + i] = 1;
  }
  return { ids, matrix, seen, problems, conflicts };
}
