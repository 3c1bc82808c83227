/**
 * EventBridge event-pattern matching (content filtering) for the local bus and the
 * `test-event-pattern` command.
 *
 * Semantics follow the EventBridge user guide ("Event patterns", "Content filtering",
 * "Comparison operators", "Matching null values and empty strings", "Arrays in event patterns")
 * and, where the guide is silent, aws/event-ruler, the open-source engine EventBridge runs
 * (validation messages below mirror its `JsonRuleCompiler`).
 */

import {
  comparableNumber,
  compileNumeric,
  exactNumber,
  exactString,
  fail,
  InvalidEventPatternError,
  scaledOrUndefined,
} from './event-pattern-leaves.js';
import type { Alternative, LeafNode, LeafTest, ObjectNode } from './event-pattern-match.js';
import { matchFields } from './event-pattern-match.js';
import { inCidr, parseCidr } from './ip-address.js';
import {
  MAX_WILDCARD_COMPLEXITY,
  matchWildcard,
  parseWildcard,
  type Wildcard,
  type WildcardSyntaxError,
  wildcardComplexity,
} from './wildcard.js';

/** A value inside a pattern's match array: a literal or a one-key match expression. */
export type PatternMatchValue = string | number | boolean | null | { readonly [operator: string]: unknown };

/** A validated event pattern: fields map to match arrays, nested patterns, or `$or` branches. */
export interface EventPattern {
  readonly [field: string]: readonly PatternMatchValue[] | EventPattern | readonly EventPattern[];
}

export { InvalidEventPatternError };

/** A compiled pattern: call it with an event (a parsed JSON object). */
export type EventPatternMatcher = (event: unknown) => boolean;

const OR = '$or';

/** What compilation carries down the pattern: the field being compiled and its wildcards. */
interface CompileContext {
  /** Dotted path of the field, without `$or` branch indices (branches share a field's matcher). */
  readonly field: string;
  readonly wildcards: Map<string, Array<{ wildcard: Wildcard; path: string }>>;
}

// ---------------------------------------------------------------------------------------------
// Validation + compilation (one pass: a pattern that compiles is valid)
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function compileObject(pattern: Record<string, unknown>, path: string, context: CompileContext): ObjectNode {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, 'Empty objects are not allowed');
  const fields: Array<{ key: string; node: LeafNode | ObjectNode }> = [];
  const ors: ObjectNode[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    const at = fieldPath(path, key);
    if (key === OR) {
      ors.push(compileOr(value, at, context));
    } else {
      const inner = { ...context, field: context.field === '' ? key : `${context.field}.${key}` };
      if (Array.isArray(value)) fields.push({ key, node: compileMatchArray(value, at, inner) });
      else if (isPlainObject(value)) fields.push({ key, node: compileObject(value, at, inner) });
      else fail(at, `"${key}" must be an object or an array`);
    }
  }
  return { kind: 'object', fields, ors };
}
function compileOr(value: unknown, path: string, context: CompileContext): ObjectNode[] {
  if (!Array.isArray(value)) fail(path, `It must be an Array followed with ${OR}.`);
  const branches = value.map((branch, i) => {
    if (!isPlainObject(branch))
      fail(`${path}[${i}]`, `Only JSON object is allowed in array of ${OR} relationship.`);
    return compileObject(branch, `${path}[${i}]`, context);
  });
  if (branches.length < 2) fail(path, `There must have at least 2 Objects in ${OR} relationship.`);
  return branches;
}

function compileMatchArray(values: readonly unknown[], path: string, context: CompileContext): LeafNode {
  if (values.length === 0) fail(path, 'Empty arrays are not allowed');
  const alternatives = values.map((value, i): Alternative => {
    const at = `${path}[${i}]`;
    if (typeof value === 'string') return { kind: 'value', test: exactString(value) };
    if (typeof value === 'number') return { kind: 'value', test: exactNumber(value) };
    if (typeof value === 'boolean' || value === null) return { kind: 'value', test: (v) => v === value };
    if (isPlainObject(value)) return compileMatchExpression(value, at, context);
    return fail(at, 'Match value must be String, number, true, false, or null');
  });
  return { kind: 'leaf', alternatives };
}

/** Reads the single operator of a match expression such as `{ "prefix": "us-" }`. */
function singleOperator(expression: Record<string, unknown>, path: string): [string, unknown] {
  const entries = Object.entries(expression);
  const first = entries[0];
  if (first === undefined) fail(path, 'Match expression name not found');
  if (entries.length > 1) fail(path, 'Only one key allowed in match expression');
  return first;
}

function requireString(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string') fail(path, `${what} match pattern must be a string`);
  return value;
}

function compileMatchExpression(
  expression: Record<string, unknown>,
  path: string,
  context: CompileContext,
): Alternative {
  const [operator, operand] = singleOperator(expression, path);
  const at = fieldPath(path, operator);
  switch (operator) {
    case 'prefix': {
      if (isPlainObject(operand)) {
        const needle = requireString(ignoreCaseOperand(operand, at, 'prefix'), at, 'equals-ignore-case');
        const lower = fold(needle);
        return { kind: 'value', test: (v) => typeof v === 'string' && fold(v).startsWith(lower) };
      }
      const needle = requireString(operand, at, 'prefix');
      return { kind: 'value', test: (v) => typeof v === 'string' && v.startsWith(needle) };
    }
    case 'suffix': {
      if (isPlainObject(operand)) {
        const needle = requireString(ignoreCaseOperand(operand, at, 'suffix'), at, 'equals-ignore-case');
        const lower = fold(needle);
        return { kind: 'value', test: (v) => typeof v === 'string' && fold(v).endsWith(lower) };
      }
      const needle = requireString(operand, at, 'suffix');
      return { kind: 'value', test: (v) => typeof v === 'string' && v.endsWith(needle) };
    }
    case 'equals-ignore-case': {
      const lower = fold(requireString(operand, at, 'equals-ignore-case'));
      return { kind: 'value', test: (v) => typeof v === 'string' && fold(v) === lower };
    }
    case 'wildcard': {
      const wildcard = compileWildcard(requireString(operand, at, 'wildcard'), at, context);
      return { kind: 'value', test: (v) => typeof v === 'string' && matchWildcard(wildcard, v) };
    }
    case 'anything-but':
      return { kind: 'value', test: compileAnythingBut(operand, at, context) };
    case 'numeric':
      return { kind: 'value', test: compileNumeric(operand, at) };
    case 'exists':
      if (typeof operand !== 'boolean') fail(at, 'exists match pattern must be either true or false.');
      return { kind: 'exists', exists: operand };
    case 'cidr': {
      const range = parseCidr(requireString(operand, at, 'cidr'));
      if (typeof range === 'string') return fail(at, range);
      return { kind: 'value', test: (v) => typeof v === 'string' && inCidr(range, v) };
    }
    default:
      return fail(path, `Unrecognized match type ${operator}`);
  }
}

/** `{ "equals-ignore-case": "x" }` nested under prefix/suffix; nothing else is allowed there. */
function ignoreCaseOperand(operand: Record<string, unknown>, path: string, parent: string): unknown {
  const [operator, value] = singleOperator(operand, path);
  if (operator !== 'equals-ignore-case') fail(path, `Unsupported ${parent} pattern: ${operator}`);
  return value;
}

function fold(value: string): string {
  return value.toLowerCase();
}

function compileAnythingBut(operand: unknown, path: string, context: CompileContext): LeafTest {
  if (isPlainObject(operand)) {
    const [operator, value] = singleOperator(operand, path);
    const at = fieldPath(path, operator);
    const list = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && value.length === 0) fail(at, 'Empty arrays are not allowed');
    // Only strings can have a prefix/suffix/case/wildcard; any other leaf value is "anything but" it.
    const strings = list.map((item, i) => {
      const itemPath = Array.isArray(value) ? `${at}[${i}]` : at;
      if (typeof item !== 'string') {
        if (operator === 'equals-ignore-case')
          fail(
            itemPath,
            'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
          );
        if (operator === 'wildcard') fail(itemPath, 'wildcard match pattern must be a string');
        if (operator === 'prefix' || operator === 'suffix')
          fail(itemPath, 'prefix/suffix match pattern must be a string');
      }
      if ((operator === 'prefix' || operator === 'suffix') && item === '')
        fail(itemPath, 'Null prefix/suffix not allowed');
      return item as string;
    });
    switch (operator) {
      case 'prefix':
        return (v) => typeof v !== 'string' || !strings.some((s) => v.startsWith(s));
      case 'suffix':
        return (v) => typeof v !== 'string' || !strings.some((s) => v.endsWith(s));
      case 'equals-ignore-case': {
        const folded = new Set(strings.map(fold));
        return (v) => typeof v !== 'string' || !folded.has(fold(v));
      }
      case 'wildcard': {
        const wildcards = strings.map((s, i) =>
          compileWildcard(s, Array.isArray(value) ? `${at}[${i}]` : at, context),
        );
        return (v) => typeof v !== 'string' || !wildcards.some((w) => matchWildcard(w, v));
      }
      default:
        return fail(path, `Unsupported anything-but pattern: ${operator}`);
    }
  }
  if (typeof operand === 'string') return (v) => v !== operand;
  if (typeof operand === 'number') {
    const scaled = comparableNumber(operand, path);
    return (v) => typeof v !== 'number' || scaledOrUndefined(v) !== scaled;
  }
  if (!Array.isArray(operand))
    fail(path, 'Value of anything-but must be an array or single string/number value.');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  operand.forEach((item, i) => {
    if (typeof item === 'string') strings.add(item);
    else if (typeof item === 'number') numbers.add(comparableNumber(item, `${path}[${i}]`));
    else fail(`${path}[${i}]`, 'Inside anything but list, start|null|boolean is not supported.');
  });
  if (strings.size > 0 === numbers.size > 0)
    fail(
      path,
      'Inside anything but list, either all values are number or string, mixed type is not supported',
    );
  if (strings.size > 0) return (v) => typeof v !== 'string' || !strings.has(v);
  return (v) => {
    if (typeof v !== 'number') return true;
    const scaled = scaledOrUndefined(v);
    return scaled === undefined || !numbers.has(scaled);
  };
}

/** Parses a wildcard operand, noting it for the rule's complexity check. */
function compileWildcard(pattern: string, path: string, context: CompileContext): Wildcard {
  let wildcard: Wildcard;
  try {
    wildcard = parseWildcard(pattern);
  } catch (error) {
    return fail(path, (error as WildcardSyntaxError).problem);
  }
  const list = context.wildcards.get(context.field) ?? [];
  list.push({ wildcard, path });
  context.wildcards.set(context.field, list);
  return wildcard;
}

function parsePatternInput(pattern: unknown): unknown {
  if (typeof pattern !== 'string') return pattern;
  try {
    return JSON.parse(pattern);
  } catch (error) {
    return fail('$', `not valid JSON (${(error as Error).message})`);
  }
}

function compileRoot(pattern: unknown): ObjectNode {
  const parsed = parsePatternInput(pattern);
  if (!isPlainObject(parsed)) fail('$', 'Filter is not an object');
  const context: CompileContext = { field: '', wildcards: new Map() };
  const root = compileObject(parsed, '$', context);
  for (const list of context.wildcards.values()) {
    if (wildcardComplexity(list.map((entry) => entry.wildcard)) > MAX_WILDCARD_COMPLEXITY)
      fail(
        (list[0] as { path: string }).path,
        `Rule is too complex: its wildcard patterns on this field exceed complexity ${MAX_WILDCARD_COMPLEXITY}`,
      );
  }
  return root;
}

/** Checks a pattern (object or JSON text) as EventBridge does, returning it typed or throwing InvalidEventPatternError. */
export function validateEventPattern(pattern: unknown): EventPattern {
  compileRoot(pattern);
  return parsePatternInput(pattern) as EventPattern;
}

/** Validates and compiles a pattern once; the returned function matches events without re-parsing. */
export function compileEventPattern(pattern: unknown): EventPatternMatcher {
  const root = compileRoot(pattern);
  return (event) => matchFields(root, isPlainObject(event) ? event : undefined);
}

const compiledCache = new WeakMap<object, EventPatternMatcher>();

/** True when the event matches the pattern; compiled matchers are cached per pattern object. */
export function matchesEventPattern(pattern: EventPattern | unknown, event: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null) return compileEventPattern(pattern)(event);
  let matcher = compiledCache.get(pattern);
  if (matcher === undefined) {
    matcher = compileEventPattern(pattern);
    compiledCache.set(pattern, matcher);
  }
  return matcher(event);
}
