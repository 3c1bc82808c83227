/** One benchmark figure: a median (and p99) against its budget. */
export interface BenchFigure {
  name: string;
  unit: string;
  median: number;
  p99?: number;
  budget: string;
  ok: boolean;
  /** The suite that measured it (set by the runner). */
  suite?: string;
}
