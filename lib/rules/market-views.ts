import type { MarketScopeView } from './types.js';

/**
 * One meaning of a market event's `data.worlds`, for both the immediate re-evaluation and the stored
 * views later evaluations read: **the worlds the data is for** (absent: every world).
 *
 * - Without `worlds`, the data is the scope's shared view: stored under the scope itself, and every
 *   world that has had a snapshot is re-evaluated.
 * - With `worlds`, the data is stored once per listed world, under `<scope>@<world>`, and only those
 *   worlds are re-evaluated. A world not listed never sees it: neither now nor on its next snapshot.
 *
 * A world's evaluation reads, for each scope its rules use, the newer of the shared view and its own
 * per-world view (a per-world update never hides a newer shared one, and vice versa).
 */

/** The store key of a scope's view for one world. */
export function worldScopeKey(scope: string, worldId: string): string {
  return `${scope}@${worldId}`;
}

/** Where a market event's view is stored: the scope itself, or one key per listed world. */
export function marketStorageScopes(scope: string, worlds: readonly string[] | undefined): string[] {
  return worlds === undefined ? [scope] : [...new Set(worlds)].map((w) => worldScopeKey(scope, w));
}

/** The store keys to load for a world's evaluation: each scope's shared view and its own. */
export function marketLoadScopes(scopes: readonly string[], worldId: string): string[] {
  return scopes.flatMap((s) => [s, worldScopeKey(s, worldId)]);
}

/** The view of each scope a world sees: the newer of the shared and its per-world view, named by the scope. */
export function marketViewsForWorld(
  loaded: ReadonlyMap<string, MarketScopeView>,
  scopes: readonly string[],
  worldId: string,
): Map<string, MarketScopeView> {
  const out = new Map<string, MarketScopeView>();
  for (const scope of scopes) {
    const shared = loaded.get(scope);
    const own = loaded.get(worldScopeKey(scope, worldId));
    const pick = !own ? shared : !shared || own.asOfMs > shared.asOfMs ? own : shared;
    if (pick) out.set(scope, { ...pick, scope });
  }
  return out;
}
