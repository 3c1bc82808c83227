import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { type RuleSet, RuleSetSchema } from './rule-schema.js';
import { RuleSetError, RuleSetRegistry } from './ruleset-registry.js';

// The registry and its error live apart (no YAML, no schema) for the Lambda bundle; re-exported here
// for everything that reads rule-set files.
export { DEFAULT_WORLD, RuleSetError, RuleSetRegistry } from './ruleset-registry.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

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
