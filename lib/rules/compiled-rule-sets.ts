import { readFileSync } from 'node:fs';
import type { RuleSet } from './rule-schema.js';
import { RuleSetError, RuleSetRegistry } from './ruleset-registry.js';

/**
 * The rule sets a Lambda reads at cold start: one JSON file the bundle step writes beside the code
 * (compile-rule-sets.ts), holding every bundled rule set already parsed, validated, defaults filled and
 * versioned by the hash of its source text. Validation happened at bundle time (a bad rule set fails
 * `cdk synth`), so a cold start reads JSON: no YAML parser and no rule-set schema in the bundle for it.
 */

/** Marks the file's layout; a file written by another layout is refused, never half-read. */
export const COMPILED_RULESETS_FORMAT = 'exit-engine/compiled-rule-sets@1';
/** The file's name beside the function code. */
export const COMPILED_RULESETS_FILE = 'rulesets.json';

/** The document in the file. */
export interface CompiledRuleSets {
  format: typeof COMPILED_RULESETS_FORMAT;
  sets: RuleSet[];
}

/** Reads the compiled rule sets at `path`; throws RuleSetError naming the file and the problem. */
export function readCompiledRuleSets(path: string): RuleSetRegistry {
  let doc: Partial<CompiledRuleSets> | null;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<CompiledRuleSets> | null;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RuleSetError(
      [
        `${path}: cannot read compiled rule sets (${reason}); RULESETS_PATH must name the ${COMPILED_RULESETS_FILE} the bundle step writes`,
      ],
      { cause: error },
    );
  }
  if (doc?.format !== COMPILED_RULESETS_FORMAT || !Array.isArray(doc.sets))
    throw new RuleSetError([
      `${path}: not compiled rule sets of format '${COMPILED_RULESETS_FORMAT}' (rebuild the bundle)`,
    ]);
  return new RuleSetRegistry(doc.sets);
}
