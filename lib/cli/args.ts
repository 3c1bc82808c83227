import { type ParseArgsConfig, parseArgs } from 'node:util';
import { editDistance } from '#lib/edit-distance.js';

/** A mistake in how the command was called: printed as a message with usage, never as a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command the CLI can run: parses its own argv and returns the process exit code. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict `parseArgs` whose errors become UsageErrors naming the offending flag. */
export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), { cause: error });
  }
}

/** Reads a numeric flag, failing with the flag's name when it is not a finite number in range. */
export function numberFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: {
    min?: number;
    max?: number;
    exclusiveMin?: boolean;
    exclusiveMax?: boolean;
    integer?: boolean;
  } = {},
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const bad = (why: string) => new UsageError(`--${name}: ${why} (got '${raw}')`);
  if (raw.trim() === '' || !Number.isFinite(value)) throw bad('must be a number');
  if (range.integer && !Number.isInteger(value)) throw bad('must be a whole number');
  if (range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min))
    throw bad(`must be ${range.exclusiveMin ? 'greater than' : 'at least'} ${range.min}`);
  if (range.max !== undefined && (range.exclusiveMax ? value >= range.max : value > range.max))
    throw bad(`must be ${range.exclusiveMax ? 'less than' : 'at most'} ${range.max}`);
  return value;
}

/** Requires a string flag, naming it when absent. */
export function requiredFlag(name: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new UsageError(`--${name} is required`);
  return raw;
}

/** `; did you mean 'x'?` for the closest known value (a typo, or a prefix), else ''. */
export function didYouMean(value: string, known: Iterable<string>): string {
  const v = value.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const kl = k.toLowerCase();
    const score = kl.startsWith(v) || v.startsWith(kl) ? 0.5 : editDistance(v, kl);
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(value.length / 3))
    ? `; did you mean '${best}'?`
    : '';
}

/** Refuses a value outside a closed set, naming the flag, the choices and the nearest one. */
export function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(
    `--${flag}: '${value}' is not one of ${choices.join(', ')}${didYouMean(value, choices)}`,
  );
}
