import type { RuleSet } from './rule-schema.js';

/**
 * The rule sets of a deployment by world, and the error that names each bad rule set: what both the
 * YAML loader (ruleset-loader.ts: the CLI and the local runtime) and the compiled rule sets a Lambda
 * reads (compiled-rule-sets.ts) produce. No parser and no schema here, so a Lambda bundle that imports it
 * carries neither.
 */

/** The world name a rule set declares to apply to every world without a set of its own. */
export const DEFAULT_WORLD = 'default';

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
