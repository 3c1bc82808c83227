/** Result shape of `validateRuleSetDirectory` in lib/rules. */
export type RuleSetValidation = { ok: true } | { ok: false; errors: string[] };

/** Thrown by synth when a bundled rule set is invalid: nothing with a broken rule set gets deployed. */
export class InvalidRuleSetsError extends Error {
  override readonly name = 'InvalidRuleSetsError';
}

/**
 * Validates the rule-set folder before any stack is built, and fails synth with every problem listed, so
 * `cdk synth`/`cdk deploy` stops at the first look instead of deploying rules the engine would refuse.
 */
export function assertRuleSetsValid(dir: string, validate: (dir: string) => RuleSetValidation): void {
  const result = validate(dir);
  if (result.ok) return;
  throw new InvalidRuleSetsError(
    [`rule sets in ${dir} are invalid; fix them before synth:`, ...result.errors.map((e) => `  - ${e}`)].join(
      '\n',
    ),
  );
}
