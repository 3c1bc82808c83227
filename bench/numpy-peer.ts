import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// A numpy process to race against: the same report (bench/numpy/risk_report.py) on the same
// inputs, timed in batches that alternate with ours so machine drift hits both alike.

const FOLDER = join(dirname(fileURLToPath(import.meta.url)), 'numpy');
const SCRIPT = join(FOLDER, 'risk_report.py');

/** Single-threaded BLAS, and none of the OpenBLAS core overrides some machines set for old builds. */
function peerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    VECLIB_MAXIMUM_THREADS: '1',
    NUMEXPR_NUM_THREADS: '1',
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** Why numpy cannot run here, or undefined when it can. */
export function numpyUnavailable(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import numpy, scipy; print(numpy.__version__)'], {
    env: peerEnv(),
    encoding: 'utf8',
  });
  if (probe.error) return `python3 not found (${probe.error.message})`;
  if (probe.status !== 0) return 'python3 has no numpy + scipy';
  return undefined;
}

/** A running numpy peer holding one report's inputs. */
export interface NumpyPeer {
  /** numpy's headline numbers, to check both sides compute the same report. */
  check(): Promise<Record<string, number>>;
  /** CPU seconds per report over a batch, after `warm` untimed reports. */
  run(batch: number, warm?: number): Promise<number>;
  close(): void;
  /** The python process's id (to read which core it ran on). */
  readonly pid: number | undefined;
}

/** The inputs of one report, as the numpy side reads them. */
export interface PeerInputs {
  n: number;
  t: number;
  confidence: number;
  weights: Float64Array;
  /** Row-major n×n. */
  covariance: Float64Array;
  /** One series per strategy, each of length t. */
  returns: readonly Float64Array[];
}

/** Starts python3 on the inputs; call `close` when done. */
export function startNumpyPeer(inputs: PeerInputs): NumpyPeer {
  const folder = mkdtempSync(join(tmpdir(), 'exit-engine-numpy-'));
  const { n, t, confidence } = inputs;
  writeFileSync(join(folder, 'meta.json'), JSON.stringify({ n, t, confidence }));
  writeFileSync(join(folder, 'w.bin'), inputs.weights);
  writeFileSync(join(folder, 'cov.bin'), inputs.covariance);
  const returns = new Float64Array(n * t);
  for (const [i, series] of inputs.returns.entries()) returns.set(series.subarray(series.length - t), i * t);
  writeFileSync(join(folder, 'returns.bin'), returns);
  return talkTo(SCRIPT, folder);
}

/** Starts python3 on covariance_map.py with an event's snapshot text and its covariance map's text: `run B` times B parses. */
export function startCovarianceMapPeer(eventText: string, mapText: string): Pick<NumpyPeer, 'run' | 'close'> {
  const folder = mkdtempSync(join(tmpdir(), 'exit-engine-numpy-'));
  writeFileSync(join(folder, 'event.json'), eventText);
  writeFileSync(join(folder, 'covariance.json'), mapText);
  return talkTo(join(FOLDER, 'covariance_map.py'), folder, folder);
}

function talkTo(script: string, arg: string, folder = arg): NumpyPeer {
  const child = spawn('python3', [script, arg], { env: peerEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`numpy peer exited (${code})`));
  });
  const ask = (command: string) =>
    new Promise<string>((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin.write(`${command}\n`);
    });
  return {
    check: async () => JSON.parse(await ask('check')) as Record<string, number>,
    run: async (batch, warm = 0) => Number(await ask(`run ${batch} ${warm}`)),
    pid: child.pid,
    close() {
      child.stdin.end('quit\n');
      child.kill();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
