/** One benchmark figure: a median (and p99) against its budget. */
export interface BenchFigure {
  name: string;
  unit: string;
  median: number;
  p99?: number;
  budget: string;
  ok: boolean;
}
