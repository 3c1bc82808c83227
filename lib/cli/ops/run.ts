import { OpsError } from '#lib/engine/ops.js';
import { didYouMean, UsageError } from '../args.js';
import type { CommonValues } from './flags.js';
import { OpsCliError } from './signed-client.js';
import { type OpsTarget, openTarget } from './targets.js';

/** Runs a command body against its target and maps every failure to a message and an exit code. */
export async function withTarget(
  name: string,
  values: CommonValues,
  body: (target: OpsTarget, print: (text: string) => void) => Promise<number>,
): Promise<number> {
  let target: OpsTarget | undefined;
  try {
    target = await openTarget(values);
    return await body(target, (text) => console.log(text));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // The service's own errors (validation, not found, conflict) are printed as the service words them.
    if (error instanceof OpsError || error instanceof OpsCliError) {
      console.error(`exit-engine ${name}: ${error.message}`);
      return 1;
    }
    const e = error as Error & { code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    // aws-json's AwsTransportError (no answer from the stores' DynamoDB) carries the socket error as its cause.
    if (
      code === 'ECONNREFUSED' ||
      e.name === 'TimeoutError' ||
      e.name === 'AbortError' ||
      e.name === 'AwsTransportError'
    ) {
      console.error(
        `exit-engine ${name}: ${target?.description ?? 'the target'} is not answering (${code ?? e.name}); is it running?`,
      );
      return 1;
    }
    console.error(`exit-engine ${name}: ${e.name}: ${e.message}`);
    return 1;
  } finally {
    target?.close();
  }
}

/** Prints JSON with --json, else the text. */
export function out(
  values: CommonValues,
  print: (t: string) => void,
  json: unknown,
  text: () => string,
): void {
  print(values.json ? JSON.stringify(json, null, 2) : text());
}

/**
 * A world nobody has heard of is most likely a typo: refuse it, with the nearest known world,
 * rather than print an empty table.
 */
export async function assertKnownWorld(target: OpsTarget, world: string): Promise<void> {
  const [signals, audit] = await Promise.all([
    target.ops.listSignals({ world_id: world, limit: 1 }),
    target.ops.listAudit(world, undefined, 1),
  ]);
  if (signals.length > 0 || audit.length > 0) return;
  const known = [...new Set((await target.ops.listSignals({ limit: 1000 })).map((s) => s.world_id))].sort();
  throw new OpsCliError(
    `unknown world '${world}': it has no signals and no audit records${
      didYouMean(world, known) ||
      (known.length > 0 ? `; worlds with signals: ${known.slice(0, 10).join(', ')}` : '')
    }`,
  );
}

export function positionalIds(positionals: string[], what: string): string[] {
  if (positionals.length === 0) throw new UsageError(`${what} id is required`);
  return positionals;
}

export function positionalId(positionals: string[], what: string): string {
  const [id, ...extra] = positionalIds(positionals, what);
  if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
  return id!;
}
