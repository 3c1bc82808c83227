import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { type RuleSet, RuleSetSchema } from './rule-schema.js';

/** The world name a rule set declares to apply to every world without a set of its own. */
export const DEFAULT_WORLD = 'default';
const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** A rule set that failed validation; `errors` are `file: field: problem` lines. */
export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
  constructor(
    readonly errors: string[],
    options?: ErrorOptions,
  ) {
    super(`invalid rule set:\n  ${errors.join('\n  ')}`, options);
  }
}

/** Content hash of a rule-set file: its version, carried in every signal and audit record. */
export function ruleSetVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Parses and validates one rule set from its text; throws RuleSetError naming each bad field. */
export function parseRuleSet(text: string, source: string): RuleSet {
  let raw: unknown;
  try {
    raw = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RuleSetError(
      [`${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`],
      { cause: error },
    );
  }
  const parsed = RuleSetSchema.safeParse(raw);
  if (!parsed.success)
    throw new RuleSetError(formatZodIssues(parsed.error).map((line) => `${source}: ${line}`));
  return { ...parsed.data, version: ruleSetVersion(text), source };
}

/** Reads one rule-set file. */
export function loadRuleSetFile(path: string): RuleSet {
  return parseRuleSet(readFileSync(path, 'utf8'), basename(path));
}

/** The rule sets of a deployment, by world, with the default for worlds not named. */
export class RuleSetRegistry {
  private readonly byWorld: ReadonlyMap<string, RuleSet>;

  constructor(sets: readonly RuleSet[]) {
    const map = new Map<string, RuleSet>();
    const errors: string[] = [];
    for (const set of sets) {
      const other = map.get(set.world);
      if (other) errors.push(`${set.source}: world '${set.world}' already has a rule set (${other.source})`);
      map.set(set.world, set);
    }
    if (errors.length > 0) throw new RuleSetError(errors);
    this.byWorld = map;
  }

  /** The rule set for a world, else the default set, else undefined. */
  forWorld(worldId: string): RuleSet | undefined {
    return this.byWorld.get(worldId) ?? this.byWorld.get(DEFAULT_WORLD);
  }

  /** Every set, for listing and explaining. */
  all(): RuleSet[] {
    return [...this.byWorld.values()];
  }
}

/** Loads every rule set in a folder; throws RuleSetError listing every problem in every file. */
export function loadRuleSetDirectory(dir: string): RuleSetRegistry {
  const files = readdirSync(dir)
    .filter((name) => EXTENSIONS.has(extname(name)))
    .sort();
  const sets: RuleSet[] = [];
  const errors: string[] = [];
  for (const name of files) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    try {
      sets.push(loadRuleSetFile(path));
    } catch (error) {
      if (error instanceof RuleSetError) errors.push(...error.errors);
      else throw error;
    }
  }
  if (errors.length > 0) throw new RuleSetError(errors);
  if (sets.length === 0) throw new RuleSetError([`${dir}: no rule set files (*.yaml, *.yml, *.json)`]);
  return new RuleSetRegistry(sets);
}

/** Validation for `cdk synth` and `rules validate`: every problem, without throwing. */
export function validateRuleSetDirectory(dir: string): { ok: true } | { ok: false; errors: string[] } {
  try {
    loadRuleSetDirectory(dir);
    return { ok: true };
  } catch (error) {
    if (error instanceof RuleSetError) return { ok: false, errors: error.errors };
    return { ok: false, errors: [`${dir}: ${(error as Error).message}`] };
  }
}
