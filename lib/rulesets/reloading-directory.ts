import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { loadRuleSetDirectory, RuleSetError, type RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import type { FallbackRuleSets } from './live-rule-sets.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** What a reload did: the versions now in force, or the problems that kept the previous ones. */
export type ReloadResult =
  | { ok: true; versions: { world: string; version: string; source: string }[] }
  | { ok: false; errors: string[] };

/**
 * The local runtime's `--rules DIR`, reloaded when a file in it changes (an mtime/size poll, at most
 * every `minIntervalMs`, done when a rule set is asked for and by `check()`; `fs.watch` is not
 * reliable across editors and file systems). A folder that no longer validates keeps the last good
 * sets in force and says why; nothing half-loaded is ever used.
 */
export class ReloadingRuleSetDirectory implements FallbackRuleSets {
  private registry: RuleSetRegistry;
  private signature: string;
  private lastCheck: number;
  private failedSignature: string | undefined;
  private readonly listeners = new Set<(result: ReloadResult) => void>();

  constructor(
    readonly dir: string,
    private readonly options: { minIntervalMs?: number; clock?: () => number } = {},
  ) {
    this.signature = this.currentSignature();
    this.registry = loadRuleSetDirectory(dir);
    this.lastCheck = this.now();
  }

  forWorld(worldId: string): RuleSet | undefined {
    this.checkSoon();
    return this.registry.forWorld(worldId);
  }

  all(): RuleSet[] {
    this.checkSoon();
    return this.registry.all();
  }

  /** Calls `listener` after every reload attempt that found a change. */
  onReload(listener: (result: ReloadResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads now if any file changed; undefined when nothing did. */
  check(): ReloadResult | undefined {
    this.lastCheck = this.now();
    const signature = this.currentSignature();
    if (signature === this.signature || signature === this.failedSignature) return undefined;
    let result: ReloadResult;
    try {
      this.registry = loadRuleSetDirectory(this.dir);
      this.signature = signature;
      this.failedSignature = undefined;
      result = {
        ok: true,
        versions: this.registry.all().map((s) => ({ world: s.world, version: s.version, source: s.source })),
      };
    } catch (error) {
      // Reported once per broken state; the last good sets stay in force.
      this.failedSignature = signature;
      result = {
        ok: false,
        errors: error instanceof RuleSetError ? error.errors : [`${this.dir}: ${(error as Error).message}`],
      };
    }
    for (const listener of this.listeners) listener(result);
    return result;
  }

  private checkSoon(): void {
    if (this.now() - this.lastCheck >= (this.options.minIntervalMs ?? 500)) this.check();
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Names, sizes and modification times of the folder's rule-set files. */
  private currentSignature(): string {
    let names: string[];
    try {
      names = readdirSync(this.dir)
        .filter((n) => EXTENSIONS.has(extname(n)))
        .sort();
    } catch (error) {
      return `unreadable:${(error as NodeJS.ErrnoException).code}`;
    }
    return names
      .map((n) => {
        try {
          const s = statSync(join(this.dir, n));
          return `${n}:${s.size}:${s.mtimeMs}`;
        } catch {
          return `${n}:gone`;
        }
      })
      .join('|');
  }
}
