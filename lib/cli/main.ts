import { type CliCommand, didYouMean, UsageError } from './args.js';

/** Every subcommand, loaded on demand so `exit-engine risk` does not pay for the local runtime. */
const commands: Record<string, () => Promise<{ command: CliCommand }>> = {
  local: () => import('./commands/local.js'),
  'dead-letters': () => import('./commands/dead-letters.js'),
  risk: () => import('./commands/risk.js'),
  'test-event-pattern': () => import('./commands/test-event-pattern.js'),
  bench: () => import('./commands/bench.js'),
  replay: () => import('./commands/replay.js'),
  evaluate: () => import('./commands/evaluate.js'),
  rules: () => import('./commands/rules.js'),
  signals: () => import('./commands/ops.js').then((m) => ({ command: m.signalsCommand })),
  approve: () => import('./commands/ops-decide.js').then((m) => ({ command: m.approveCommand })),
  reject: () => import('./commands/ops-decide.js').then((m) => ({ command: m.rejectCommand })),
  pending: () => import('./commands/ops.js').then((m) => ({ command: m.pendingCommand })),
  mute: () => import('./commands/ops-decide.js').then((m) => ({ command: m.muteCommand })),
  unmute: () => import('./commands/ops-decide.js').then((m) => ({ command: m.unmuteCommand })),
  'mute-approve': () => import('./commands/ops-decide.js').then((m) => ({ command: m.muteApproveCommand })),
  mutes: () => import('./commands/ops.js').then((m) => ({ command: m.mutesCommand })),
  audit: () => import('./commands/ops.js').then((m) => ({ command: m.auditCommand })),
};

function help(): string {
  return [
    'usage: exit-engine <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((name) => `  ${name}`),
    '',
    "Run 'exit-engine <command> --help' for a command's options.",
  ].join('\n');
}

/** CLI entry point: returns the exit code; user mistakes print a message, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(
      `exit-engine: unknown command '${name}'${didYouMean(name, Object.keys(commands))}\n\n${help()}`,
    );
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`exit-engine ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (error instanceof Error && (error.name === 'InputError' || error.name === 'RuleSetError')) {
      console.error(`exit-engine ${name}: ${error.message}`);
      return 1;
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`exit-engine ${name}: ${error.message}`);
      return 1;
    }
    const aws = awsServiceFailure(error);
    if (aws) {
      console.error(`exit-engine ${name}: ${aws}`);
      return 1;
    }
    throw error;
  }
}

/**
 * An AWS service's refusal (a missing table, access denied, a throttle after the SDK's retries), in
 * one line for the person at the terminal: the service's error name, its message, the HTTP status and
 * the request id AWS support asks for. Anything else is a bug and keeps its stack trace.
 */
function awsServiceFailure(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // An SDK client's error carries `$metadata`; aws-json's AwsServiceError (the stores' DynamoDB client)
  // its status and request id (told by shape: main does not load the AWS modules of every command).
  const aws = error as { $fault?: unknown; status?: unknown; requestId?: string };
  const meta =
    aws.$fault !== undefined && typeof aws.status === 'number'
      ? { httpStatusCode: aws.status, requestId: aws.requestId }
      : (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  if (meta?.httpStatusCode === undefined) return undefined;
  const request = meta.requestId ? `, request id ${meta.requestId}` : '';
  return `AWS refused the request: ${error.name}: ${error.message} (HTTP ${meta.httpStatusCode}${request})`;
}
