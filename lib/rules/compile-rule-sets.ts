import { isDeepStrictEqual } from 'node:util';
import { COMPILED_RULESETS_FORMAT, type CompiledRuleSets } from './compiled-rule-sets.js';
import { loadRuleSetDirectory, RuleSetError } from './ruleset-loader.js';

/**
 * Bundle time: the rule-set folder as the one JSON document a Lambda reads at cold start
 * (compiled-rule-sets.ts). Every file is parsed and validated as the loader does it, so an invalid rule
 * set fails the bundle (and `cdk synth`) with every problem named, instead of a cold start.
 */
export function compileRuleSetDirectory(dir: string): string {
  const sets = loadRuleSetDirectory(dir).all();
  const doc: CompiledRuleSets = { format: COMPILED_RULESETS_FORMAT, sets };
  const json = JSON.stringify(doc);
  // The runtime trusts this file as validated: refuse to write one that would read back differently.
  const back = JSON.parse(json) as CompiledRuleSets;
  for (const [i, set] of sets.entries())
    if (!isDeepStrictEqual(back.sets[i], set))
      throw new RuleSetError([`${set.source}: does not read back from JSON as validated`]);
  return json;
}
