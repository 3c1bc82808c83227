import type { EngineStore } from './ports.js';

/** What a mute is checked against: the world's current rule set and the strategies of its latest snapshot. */
export interface WorldCatalog {
  /** The rule set that applies to the world; undefined when none does. */
  ruleSet(
    world: string,
  ):
    | { version: string; rule_ids: readonly string[]; max_mute_sec: number }
    | undefined
    | Promise<{ version: string; rule_ids: readonly string[]; max_mute_sec: number } | undefined>;
  /** Strategy ids of the world's latest snapshot; undefined when the world has had no snapshot. */
  strategies(world: string): Promise<readonly string[] | undefined>;
}

/**
 * The catalog over the deployment's rule sets and the engine store's latest snapshot per world: the rule ids
 * and `max_mute_sec` of the set that applies, and the strategies of the latest weights.
 */
export function catalogFrom(
  ruleSets: {
    forWorld(
      world: string,
    ):
      | { version: string; max_mute_sec: number; rules: { id: string }[] }
      | undefined
      | Promise<{ version: string; max_mute_sec: number; rules: { id: string }[] } | undefined>;
  },
  store: Pick<EngineStore, 'getLatestSnapshot' | 'getSnapshotWeights'>,
): WorldCatalog {
  return {
    async ruleSet(world) {
      const set = await ruleSets.forWorld(world);
      return (
        set && { version: set.version, max_mute_sec: set.max_mute_sec, rule_ids: set.rules.map((r) => r.id) }
      );
    },
    async strategies(world) {
      // The stored body's weights (the whole body, or the weights alone where nothing re-evaluates the
      // snapshot), read for a rare human action, rather than a strategy list on the compact record that
      // every snapshot and every commit would pay for (up to ~15 write units at 1,000 strategies).
      const latest = await store.getLatestSnapshot(world);
      const weights = latest && (await store.getSnapshotWeights(latest));
      return weights ? Object.keys(weights) : undefined;
    },
  };
}
