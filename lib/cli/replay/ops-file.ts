import { readFileSync } from 'node:fs';
import { InputError } from '../load-input.js';

/**
 * The `replay --ops FILE.jsonl` format: one ops action a line, applied at its time (`at`) against
 * the replay's own state, through the same OpsService the runtime uses. Blank lines and `#` comments
 * are skipped. Fields:
 *
 *   {"at": ISO time, "action": "mute",    "world": W, "until": ISO time, "reason": R, ["rule": id], ["strategy": id], ["actor": A]}
 *   {"at": ISO time, "action": "unmute",  "world": W, "reason": R, ["mute_id": id] | ["rule": id] ["strategy": id], ["actor": A]}
 *   {"at": ISO time, "action": "approve", "world": W, ["signal_id": id] | ["rule": id] ["strategy": id], ["reason": R], ["actor": A]}
 *   {"at": ISO time, "action": "reject",  "world": W, ["signal_id": id] | ["rule": id] ["strategy": id], "reason": R, ["actor": A]}
 *
 * `approve`/`reject` without `signal_id` decide every proposal of the world still waiting at that
 * time that matches `rule` / `strategy` (all of them when neither is given). `actor` defaults to
 * `replay:ops`; an approval needing four eyes takes two lines with different actors.
 */
export type OpsAction = 'mute' | 'unmute' | 'approve' | 'reject';
export const OPS_ACTIONS: readonly OpsAction[] = ['mute', 'unmute', 'approve', 'reject'];
export const DEFAULT_OPS_ACTOR = 'replay:ops';

export interface OpsLine {
  line: number;
  atMs: number;
  at: string;
  action: OpsAction;
  world: string;
  actor: string;
  reason?: string;
  rule?: string;
  strategy?: string;
  until?: string;
  mute_id?: string;
  signal_id?: string;
}

/** A bad line of an ops file: the message names the line and the field. */
export class OpsFileError extends InputError {}

const FIELDS: Record<OpsAction, { required: string[]; optional: string[] }> = {
  mute: { required: ['until', 'reason'], optional: ['rule', 'strategy', 'actor'] },
  unmute: { required: ['reason'], optional: ['mute_id', 'rule', 'strategy', 'actor'] },
  approve: { required: [], optional: ['signal_id', 'rule', 'strategy', 'reason', 'actor'] },
  reject: { required: ['reason'], optional: ['signal_id', 'rule', 'strategy', 'actor'] },
};

/** Parses and validates the whole file up front (a typo on line 90 must not surface after 89 actions). */
export function parseOpsText(text: string, path: string): OpsLine[] {
  const out: OpsLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const n = i + 1;
    const fail = (field: string, problem: string): never => {
      throw new OpsFileError(`${path}: line ${n}: ${field}: ${problem}`);
    };
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new OpsFileError(`${path}: line ${n}: not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      fail('line', 'must be a JSON object');
    const v = json as Record<string, unknown>;
    const action = v.action;
    if (typeof action !== 'string' || !OPS_ACTIONS.includes(action as OpsAction))
      fail('action', `must be one of ${OPS_ACTIONS.join(', ')} (got ${JSON.stringify(action)})`);
    const spec = FIELDS[action as OpsAction];
    const known = new Set(['at', 'action', 'world', ...spec.required, ...spec.optional]);
    for (const k of Object.keys(v))
      if (!known.has(k)) fail(k, `is not a field of '${action}' (fields: ${[...known].join(', ')})`);
    const str = (field: string, required: boolean): string | undefined => {
      const x = v[field];
      if (x === undefined) return required ? fail(field, 'is required') : undefined;
      if (typeof x !== 'string' || x.trim() === '') return fail(field, 'must be a non-empty string');
      return x.trim();
    };
    const at = str('at', true)!;
    const atMs = Date.parse(at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || !Number.isFinite(atMs))
      fail('at', `'${at}' is not an ISO 8601 time (e.g. 2025-03-10T21:00:00Z)`);
    const previous = out[out.length - 1];
    if (previous && atMs < previous.atMs)
      fail('at', `${at} is before line ${previous.line}'s ${previous.at}: ops lines must be in time order`);
    const entry: OpsLine = {
      line: n,
      at,
      atMs,
      action: action as OpsAction,
      world: str('world', true)!,
      actor: str('actor', false) ?? DEFAULT_OPS_ACTOR,
    };
    for (const f of ['reason', 'rule', 'strategy', 'until', 'mute_id', 'signal_id'] as const) {
      const value = str(f, spec.required.includes(f));
      if (value !== undefined) entry[f] = value;
    }
    if (entry.until !== undefined && !Number.isFinite(Date.parse(entry.until)))
      fail('until', `'${entry.until}' is not an ISO 8601 time`);
    if ((entry.signal_id || entry.mute_id) && (entry.rule || entry.strategy))
      fail(
        entry.signal_id ? 'signal_id' : 'mute_id',
        'names one target: give it, or rule/strategy, not both',
      );
    out.push(entry);
  }
  return out;
}

export function readOpsFile(path: string): OpsLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new OpsFileError(`--ops ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`, {
      cause: error,
    });
  }
  return parseOpsText(text, path);
}
