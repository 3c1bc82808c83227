import type { StrategyRisk } from './report.js';
import { sigmaTimesOf } from './report-kernels.js';

// The report's per-strategy figures, the Euler decomposition of the normal VaR and ES, are affine in
// Σw: marginal VaRᵢ = (Σw)ᵢ·kVar − μᵢ. The report keeps Σw and the weights with the multipliers, and
// builds the record keyed by strategy
// id from them when it is first read. Building that record is the dearest step of the report after
// the two matrix sweeps: a V8 object with hundreds of string keys is a hash table, and filling it
// with n small objects cost ~150-500 µs at N=1,000 and ~40 µs at N=200, where Σw costs ~110 µs and
// ~4 µs.
//
// Nor does the report copy Σw: it keeps the buffer the kernel wrote it to and that buffer's
// generation (bumped by every product written there). Read before the next report on the same
// buffer, the record comes from it; read later, Σw is computed again, by the same kernel on the
// same Σ and weights, so the figures are the same to the bit. A copy of 2n doubles per report cost
// ~70 µs at N=1,000 in a steady loop (a Float64Array that big gets a backing store outside V8's
// heap: malloc, zeroing, external-memory accounting that brings collections forward, and fresh
// memory streamed through the caches Σ is read from), and 5n had halved the report's speed.

/** A buffer Σw is written to, with a count of the products written there. */
export interface SwSource {
  readonly generation: number;
}

/** What the per-strategy figures are computed from. */
export interface Decomposition {
  ids: readonly string[];
  /** The prepared input's weights and covariance (row-major n×n), as the report read them. */
  weights: Float64Array;
  covariance: Float64Array;
  /** Σw as the report computed it, valid while `source.generation === generation`. */
  sw: Float64Array;
  source: SwSource;
  generation: number;
  /** z_VaR·√h/σ (0 when σ = 0). */
  kVar: number;
  /** z_ES·√h/σ (0 when σ = 0). */
  kEs: number;
  /** The portfolio's normal VaR less the weighted means: the denominator of the shares (0: no shares). */
  totalVar: number;
  /** μᵢ·h per strategy, or undefined for the zero-mean convention. */
  means: Float64Array | undefined;
}

/** Σw of the report that made `d`: its own buffer while no later product overwrote it, else again. */
function currentSw(d: Decomposition): Float64Array {
  if (d.source.generation === d.generation) return d.sw;
  return sigmaTimesOf(d.covariance, d.weights, d.ids.length, new Float64Array(d.ids.length));
}

/**
 * The record the report shows: marginal VaRᵢ = (Σw)ᵢ·kVar − μᵢ, component VaRᵢ = wᵢ·marginalᵢ,
 * component ESᵢ = wᵢ·((Σw)ᵢ·kEs − μᵢ), shareᵢ = componentᵢ / total VaR.
 */
export function strategyRecord(d: Decomposition): Record<string, StrategyRisk> {
  const { ids, weights: w, kVar, kEs, totalVar, means } = d;
  const sw = currentSw(d);
  const n = ids.length;
  const out: Record<string, StrategyRisk> = {};
  for (let i = 0; i < n; i++) {
    const mu = means ? means[i]! : 0;
    const wi = w[i]!;
    const swi = sw[i]!;
    const marginal = swi * kVar - mu;
    const component = wi * marginal;
    out[ids[i]!] = {
      weight: wi,
      marginal_var: marginal,
      component_var: component,
      component_es: wi * (swi * kEs - mu),
      var_share: totalVar !== 0 ? component / totalVar : null,
    };
  }
  return out;
}

/** Without a covariance: weights only, every decomposed figure null. */
export function undecomposedRecord(ids: readonly string[], w: Float64Array): Record<string, StrategyRisk> {
  const out: Record<string, StrategyRisk> = {};
  for (let i = 0; i < ids.length; i++)
    out[ids[i]!] = {
      weight: w[i]!,
      marginal_var: null,
      component_var: null,
      component_es: null,
      var_share: null,
    };
  return out;
}

/** Where a report keeps what its `strategies` accessor reads: the decomposition, then the record. */
const LAZY = Symbol('strategies');

interface LazyHolder {
  [LAZY]: { decomposition: Decomposition | null; record: Record<string, StrategyRisk> | undefined };
}

// One getter and one setter for every report: V8 keeps accessors in the object's hidden class, so
// an object literal with its own `get strategies()` closure got a hidden class of its own per
// report, and those classes, kept in old space, made each scavenge copy and promote them (a report
// took ~20% longer in a steady loop, most of it in the collector).
function readStrategies(this: LazyHolder): Record<string, StrategyRisk> {
  const state = this[LAZY];
  state.record ??= strategyRecord(state.decomposition as Decomposition);
  return state.record;
}

function writeStrategies(this: LazyHolder, value: Record<string, StrategyRisk>): void {
  this[LAZY].record = value;
}

/**
 * Gives `report` an enumerable `strategies` property (after its existing keys) whose record is built
 * from `decomposition` when first read, or is `record` when given; assignable like a data property.
 */
export function defineStrategies<T extends object>(
  report: T,
  decomposition: Decomposition | null,
  record?: Record<string, StrategyRisk>,
): T & { strategies: Record<string, StrategyRisk> } {
  Object.defineProperty(report, LAZY, { value: { decomposition, record }, enumerable: false });
  Object.defineProperty(report, 'strategies', {
    get: readStrategies,
    set: writeStrategies,
    enumerable: true,
    configurable: true,
  });
  return report as T & { strategies: Record<string, StrategyRisk> };
}
