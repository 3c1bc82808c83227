/**
 * The leaves of an event pattern that compare one value: exact strings (IP-aware) and numbers, and
 * numeric ranges, in EventBridge's fixed-point arithmetic; and the error every refusal throws.
 * Split from event-pattern.ts, which walks the pattern and compiles its operators.
 */

import type { LeafTest } from './event-pattern-match.js';
import { parseIp } from './ip-address.js';

/** A pattern EventBridge would refuse; `path` is the JSON path of the offending part. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Invalid event pattern at ${path}: ${problem}`);
  }
}

// EventBridge compares numbers as fixed-point values with six decimals in [-5e9, 5e9]
// (event-ruler ComparableNumber); scaled they stay below 2^53, so integer comparison is exact.
const NUMERIC_LIMIT = 5_000_000_000;
const SCALE = 1_000_000;

/** Refuses the pattern part at `path`, as EventBridge would. */
export function fail(path: string, problem: string): never {
  throw new InvalidEventPatternError(path, problem);
}

/** Scales a pattern number to EventBridge's fixed-point form, refusing what EventBridge refuses. */
export function comparableNumber(value: number, path: string): number {
  if (!Number.isFinite(value) || value < -NUMERIC_LIMIT || value > NUMERIC_LIMIT)
    fail(path, `Value must be between ${-NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`);
  const scaled = Math.round(value * SCALE);
  if (Math.abs(scaled / SCALE - value) > Number.EPSILON * Math.max(1, Math.abs(value)))
    fail(path, `Only values upto 6 decimals are supported (got ${value})`);
  return scaled;
}

/** Scales an event number; out-of-range numbers never match numerically (as in EventBridge). */
export function scaledOrUndefined(value: number): number | undefined {
  if (!Number.isFinite(value) || value < -NUMERIC_LIMIT || value > NUMERIC_LIMIT) return undefined;
  return Math.round(value * SCALE);
}

export function exactNumber(expected: number): LeafTest {
  // Numbers match numerically (300 matches 3.0e2); numbers outside the comparable range, such as
  // account ids, still match when equal as JSON numbers.
  const scaled = scaledOrUndefined(expected);
  return (v) =>
    typeof v === 'number' && (v === expected || (scaled !== undefined && scaledOrUndefined(v) === scaled));
}

export function exactString(expected: string): LeafTest {
  // EventBridge compiles a string that is an IP address as an IP range, so equivalent spellings
  // of one IPv6 address match each other.
  const ip = parseIp(expected);
  if (ip === undefined) return (v) => v === expected;
  return (v) => {
    if (typeof v !== 'string') return false;
    if (v === expected) return true;
    const other = parseIp(v);
    return other !== undefined && other.version === ip.version && other.value === ip.value;
  };
}

type NumericOp = '=' | '<' | '<=' | '>' | '>=';

export function compileNumeric(operand: unknown, path: string): LeafTest {
  if (!Array.isArray(operand)) fail(path, 'Value of numeric must be an array.');
  const term = (i: number): unknown => operand[i];
  const operator = term(0);
  if (typeof operator !== 'string')
    fail(`${path}[0]`, `Invalid member in numeric match: ${JSON.stringify(operator)}`);
  const number = (i: number, op: string): number => {
    const value = term(i);
    if (typeof value !== 'number') fail(`${path}[${i}]`, `Value of ${op} must be numeric`);
    return comparableNumber(value, `${path}[${i}]`);
  };
  const tooMany = (max: number) => {
    if (operand.length > max) fail(path, 'Too many elements in numeric expression');
  };
  let lower: { value: number; open: boolean } | undefined;
  let upper: { value: number; open: boolean } | undefined;
  switch (operator as NumericOp) {
    case '=': {
      const equal = number(1, '=');
      tooMany(2);
      return (v) => typeof v === 'number' && scaledOrUndefined(v) === equal;
    }
    case '<':
    case '<=':
      upper = { value: number(1, operator), open: operator === '<' };
      tooMany(2);
      break;
    case '>':
    case '>=': {
      lower = { value: number(1, operator), open: operator === '>' };
      if (operand.length > 2) {
        const second = term(2);
        if (second !== '<' && second !== '<=')
          fail(`${path}[2]`, `Bad numeric range operator: ${JSON.stringify(second)}`);
        upper = { value: number(3, second), open: second === '<' };
        if (operand.length > 4) fail(path, 'Too many terms in numeric range expression');
        if (lower.value >= upper.value) fail(path, 'Bottom must be less than top');
      }
      break;
    }
    default:
      fail(`${path}[0]`, `Unrecognized numeric range operator: ${operator}`);
  }
  const lo = lower;
  const hi = upper;
  return (v) => {
    if (typeof v !== 'number') return false;
    const scaled = scaledOrUndefined(v);
    if (scaled === undefined) return false;
    if (lo && (lo.open ? scaled <= lo.value : scaled < lo.value)) return false;
    if (hi && (hi.open ? scaled >= hi.value : scaled > hi.value)) return false;
    return true;
  };
}
