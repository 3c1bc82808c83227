import { REPORT_KERNELS_WASM_BASE64 } from './wasm/report-kernels.wasm.js';

// The report's two hot loops (Σw, and the portfolio series Σᵢ wᵢ·rᵢ,·) in WebAssembly SIMD
// (lib/risk/wasm/report-kernels.wat). Wasm reads only its own memory, and copying an 8 MB Σ into
// it per report would cost as much as the product, so a prepared input's covariance and return
// matrix are placed in a memory of their own once, at prepare time (`placeInKernelMemory`); the
// report then finds that memory from the arrays (`kernelMemoryOf`) and copies only the weights.
// The memory is never grown (growing would detach the arrays). Wherever wasm or SIMD is missing,
// or an input is too small to be worth a memory, the arrays stay plain and the JS loops run.

interface KernelExports {
  series(m: number, w: number, live: number, count: number, t: number, out: number): void;
  symv(c: number, w: number, n: number, out: number): void;
}

/** The slice of the WebAssembly API used here (the global exists in Node; @types/node types no value). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Below this many matrix elements (n² + n·t) the JS loops take a few µs and no memory is made. */
export const KERNEL_MEMORY_MIN_ELEMENTS = 4096;

const PAGE = 65536;
let compiled: object | null | undefined;

/** The compiled kernels, or null where this runtime has no WebAssembly SIMD (compiled once, on first use). */
function kernelModule(): object | null {
  if (compiled === undefined) {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    try {
      compiled = api ? new api.Module(Buffer.from(REPORT_KERNELS_WASM_BASE64, 'base64')) : null;
    } catch {
      compiled = null; // No SIMD (or no wasm) here: the JS loops serve.
    }
  }
  return compiled;
}

/**
 * One prepared input's memory: Σ (n×n, row-major) and/or the return matrix (n×t, row-major), then
 * the weights, Σw, the portfolio series with room for its losses, and the live-row list.
 */
export class KernelMemory {
  readonly covariance: Float64Array | null;
  readonly returns: Float64Array | null;
  private readonly w: Float64Array;
  private readonly sw: Float64Array;
  private readonly series: Float64Array;
  private readonly live: Int32Array;
  private readonly kernels: KernelExports;
  /** Products written to the Σw buffer so far (a report's lazy record checks it; report-strategies.ts). */
  generation = 0;

  constructor(
    api: WasmApi,
    module: object,
    readonly n: number,
    readonly t: number,
    withCovariance: boolean,
    withReturns: boolean,
  ) {
    const doubles = (withCovariance ? n * n : 0) + (withReturns ? n * t : 0) + 2 * n + 2 * t;
    const pages = Math.ceil((doubles * 8 + n * 4) / PAGE) || 1;
    const memory = new api.Memory({ initial: pages, maximum: pages });
    this.kernels = new api.Instance(module, { env: { memory } }).exports as KernelExports;
    let offset = 0;
    const take = (length: number) => {
      const view = new Float64Array(memory.buffer, offset, length);
      offset += length * 8;
      return view;
    };
    this.covariance = withCovariance ? take(n * n) : null;
    this.returns = withReturns ? take(n * t) : null;
    this.w = take(n);
    this.sw = take(n);
    this.series = take(2 * t);
    this.live = new Int32Array(memory.buffer, offset, n);
  }

  /** The first n weights into this memory (without the view `subarray` would allocate). */
  private copyWeights(w: Float64Array): void {
    if (w.length === this.n) this.w.set(w);
    else this.w.set(w.subarray(0, this.n));
  }

  /** Σw for the first n weights, in this memory (valid until the next call). */
  sigmaTimes(w: Float64Array): Float64Array {
    const cov = this.covariance as Float64Array;
    this.copyWeights(w);
    this.generation++;
    this.kernels.symv(cov.byteOffset, this.w.byteOffset, this.n, this.sw.byteOffset);
    return this.sw;
  }

  /**
   * The portfolio series Σᵢ wᵢ·rᵢ,· in elements [0, t) of the returned array, whose elements
   * [t, 2t) are free scratch (valid until the next call). Zero weights are skipped.
   */
  portfolioSeries(w: Float64Array): Float64Array {
    const m = this.returns as Float64Array;
    const { n, t, live } = this;
    this.copyWeights(w);
    let count = 0;
    for (let i = 0; i < n; i++) if (w[i] !== 0) live[count++] = i;
    this.kernels.series(m.byteOffset, this.w.byteOffset, live.byteOffset, count, t, this.series.byteOffset);
    return this.series;
  }
}

const owners = new WeakMap<Float64Array, KernelMemory>();

/** The kernel memory holding `matrix` (as placed by `placeInKernelMemory`), if any. */
export function kernelMemoryOf(matrix: Float64Array | null | undefined): KernelMemory | undefined {
  return matrix ? owners.get(matrix) : undefined;
}

/**
 * Copies Σ (n×n) and the return matrix (n×t) into a kernel memory and returns the copies, or the
 * arrays themselves when they hold fewer than `minElements` numbers together or this runtime cannot
 * run the kernels. Same values either way; only where they live differs.
 */
export function placeInKernelMemory(
  n: number,
  t: number,
  covariance: Float64Array | null,
  returns: Float64Array | null,
  minElements = KERNEL_MEMORY_MIN_ELEMENTS,
): { covariance: Float64Array | null; returns: Float64Array | null } {
  const withCovariance = covariance !== null && covariance.length === n * n && n > 0;
  const withReturns = returns !== null && returns.length === n * t && t > 0 && n > 0;
  const elements = (withCovariance ? n * n : 0) + (withReturns ? n * t : 0);
  const module = elements > 0 && elements >= minElements ? kernelModule() : null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!module || !api) return { covariance, returns };
  let memory: KernelMemory;
  try {
    memory = new KernelMemory(api, module, n, t, withCovariance, withReturns);
  } catch {
    return { covariance, returns }; // No address space for another memory: stay in JS.
  }
  if (memory.covariance && covariance) {
    memory.covariance.set(covariance);
    owners.set(memory.covariance, memory);
  }
  if (memory.returns && returns) {
    memory.returns.set(returns);
    owners.set(memory.returns, memory);
  }
  return {
    covariance: memory.covariance ?? covariance,
    returns: memory.returns ?? returns,
  };
}
