import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { documentFromText, ruleSetFromDocument } from './rule-document.js';
import type { RuleSet } from './rule-schema.js';
import { RuleSetError, RuleSetRegistry } from './ruleset-registry.js';

// The registry and its error live apart (no YAML, no schema) for the Lambda bundle; re-exported here
// for everything that reads rule-set files.
export { ruleSetVersion } from './rule-document.js';
export { DEFAULT_WORLD, RuleSetError, RuleSetRegistry } from './ruleset-registry.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The document a rule set's text holds (JSON or YAML); throws RuleSetError naming the file. */
export function readRuleSetDocument(text: string, source: string): unknown {
  return documentFromText(text, source, parseYaml);
}

/** Parses and validates one rule set from its text; throws RuleSetError naming each bad field. */
export function parseRuleSet(text: string, source: string): RuleSet {
  return ruleSetFromDocument(readRuleSetDocument(text, source), text, source);
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
