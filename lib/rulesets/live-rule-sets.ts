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
 * parsed once per version. The version a signal carries is the content hash of the text it was
 * evaluated under, published or bundled alike. When the store cannot be read, the last resolved set
 * is used if there is one (an outage does not stop evaluation), else the error propagates (the
 * invocation is retried).
 */

/** The bundled rule sets, as the engine has always seen them; may change (`--rules DIR` reload). */
export interface FallbackRuleSets {
  forWorld(worldId: string): RuleSet | undefined;
  all(): RuleSet[];
}

export interface LiveRuleSetsOptions {
  ttlMs: number;
  /** Monotonic enough for a cache: wall-clock ms. */
  clock: () => number;
  onError?: (message: string, error: unknown) => void;
}

interface Entry {
  at: number;
  value: StoredRuleSet | null;
}

/** The store's text in a rule set it can no longer parse: a bug or a schema change; never silently skipped. */
export class StoredRuleSetError extends Error {
  override readonly name = 'StoredRuleSetError';
}

export class LiveRuleSets implements BundledRuleSets {
  private readonly cache = new Map<string, Entry>();
  private readonly parsed = new Map<string, RuleSet>();

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
        entry = { at: now, value: (await this.store.current(worldId)) ?? null };
        this.cache.set(worldId, entry);
      } catch (error) {
        if (!entry) throw error;
        this.options.onError?.(`rule-set store unreadable; using the cached rule set of '${worldId}'`, error);
      }
    }
    return entry.value ? await this.parse(entry.value) : undefined;
  }

  private async parse(stored: StoredRuleSet): Promise<RuleSet> {
    const key = `${stored.world_id}\u0000${stored.revision}\u0000${stored.version}`;
    const hit = this.parsed.get(key);
    if (hit) return hit;
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
    const labelled = { ...set, source: `${stored.source} (published r${stored.revision})` };
    this.parsed.set(key, labelled);
    return labelled;
  }
}
