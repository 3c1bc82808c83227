import type { RuleSet } from '#lib/rules/rule-schema.js';
import { DEFAULT_WORLD, RuleSetError } from '#lib/rules/ruleset-registry.js';
import type { BundledRuleSets } from './publish.js';
import type { RuleSetStore, StoredRuleSet } from './store.js';

/**
 * How the functions resolve a world's rule set at runtime: the store's current revision for the
 * world, else its bundled set, else the store's `default`, else the bundled default. So `rulesets/`
 * (bundled with every deploy) stay the initial versions, and a publish overrides them without one.
 *
 * Each world's lookup is cached for `ttlMs` (a publish takes effect within it); a stored text is
 * parsed once per revision. The version a signal carries is the content hash of the text it was
 * evaluated under, published or bundled alike. When the store cannot be read, the last resolved set
 * is used if there is one (an outage does not stop evaluation), else the error propagates (the
 * invocation is retried).
 *
 * A warm function lives for hours and may see every world: the cache keeps the `maxWorlds` most
 * recently used worlds (default RULE_SET_CACHE_WORLDS; the functions take it from `RULESET_CACHE_WORLDS`
 * in their configuration) and, per world, only its current revision's parsed set, so its memory is bounded
 * by the bound, not by the worlds or publishes it has seen. A world dropped from it is read from the store
 * again on its next evaluation (as after its TTL).
 */

/** The bundled rule sets, as the engine has always seen them; may change (`--rules DIR` reload). */
export interface FallbackRuleSets {
  forWorld(worldId: string): RuleSet | undefined;
  all(): RuleSet[];
}

/** How many worlds' rule-set lookups a process keeps by default (LiveRuleSetsOptions.maxWorlds). */
export const RULE_SET_CACHE_WORLDS = 1_000;

export interface LiveRuleSetsOptions {
  ttlMs: number;
  /** The most worlds kept, least recently used dropped first. Default RULE_SET_CACHE_WORLDS. */
  maxWorlds?: number;
  /** Monotonic enough for a cache: wall-clock ms. */
  clock: () => number;
  onError?: (message: string, error: unknown) => void;
}

interface Entry {
  at: number;
  value: StoredRuleSet | null;
  /** `value` parsed, once it has been asked for. */
  parsed?: RuleSet;
}

/** The store's text in a rule set it can no longer parse: a bug or a schema change; never silently skipped. */
export class StoredRuleSetError extends Error {
  override readonly name = 'StoredRuleSetError';
}

export class LiveRuleSets implements BundledRuleSets {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly store: Pick<RuleSetStore, 'current'>,
    private readonly fallback: FallbackRuleSets,
    private readonly options: LiveRuleSetsOptions,
  ) {}

  /** The rule set that governs `worldId` now (see the class comment for the order). */
  async forWorld(worldId: string): Promise<RuleSet | undefined> {
    const own = await this.stored(worldId);
    if (own) return own;
    const bundled = this.exact(worldId);
    if (bundled) return bundled;
    if (worldId !== DEFAULT_WORLD) {
      const storedDefault = await this.stored(DEFAULT_WORLD);
      if (storedDefault) return storedDefault;
    }
    return this.fallback.forWorld(worldId);
  }

  /** The bundled set declared for exactly this world. */
  exact(worldId: string): RuleSet | undefined {
    return this.fallback.all().find((s) => s.world === worldId);
  }

  /** How many worlds' lookups are cached (at most `maxWorlds`). */
  get cachedWorlds(): number {
    return this.cache.size;
  }

  /** How many parsed published rule sets are cached (at most one per cached world). */
  get cachedRuleSets(): number {
    let n = 0;
    for (const entry of this.cache.values()) if (entry.parsed) n++;
    return n;
  }

  /** Forgets cached lookups (a local publish, tests). */
  invalidate(worldId?: string): void {
    if (worldId === undefined) this.cache.clear();
    else this.cache.delete(worldId);
  }

  private async stored(worldId: string): Promise<RuleSet | undefined> {
    const now = this.options.clock();
    let entry = this.cache.get(worldId);
    if (!entry || now - entry.at >= this.options.ttlMs) {
      try {
        const value = (await this.store.current(worldId)) ?? null;
        const kept =
          entry?.parsed && value && sameRevision(entry.value, value) ? { parsed: entry.parsed } : {};
        entry = { at: now, value, ...kept };
      } catch (error) {
        if (!entry) throw error;
        this.options.onError?.(`rule-set store unreadable; using the cached rule set of '${worldId}'`, error);
      }
    }
    // Most recently used last, so the first key is the one to drop.
    this.cache.delete(worldId);
    this.cache.set(worldId, entry);
    const maxWorlds = this.options.maxWorlds ?? RULE_SET_CACHE_WORLDS;
    while (this.cache.size > maxWorlds) this.cache.delete(this.cache.keys().next().value as string);
    if (!entry.value) return undefined;
    entry.parsed ??= await this.parse(entry.value);
    return entry.parsed;
  }

  private async parse(stored: StoredRuleSet): Promise<RuleSet> {
    // The rule-set schema loads with the first published rule set: a Lambda whose worlds run on the
    // bundled (precompiled) sets never builds it. A revision published with its document as JSON (since
    // round 7) is validated from that; only an earlier one loads the YAML parser to read its text.
    let set: RuleSet;
    try {
      const { storedRuleSet } = await import('#lib/rules/rule-document.js');
      set = await storedRuleSet(stored);
    } catch (error) {
      const detail = error instanceof RuleSetError ? error.errors.join('; ') : (error as Error).message;
      throw new StoredRuleSetError(
        `the published rule set of '${stored.world_id}' (revision ${stored.revision}) no longer validates: ${detail}`,
        { cause: error },
      );
    }
    return { ...set, source: `${stored.source} (published r${stored.revision})` };
  }
}

function sameRevision(a: StoredRuleSet | null, b: StoredRuleSet): boolean {
  return a !== null && a.world_id === b.world_id && a.revision === b.revision && a.version === b.version;
}
