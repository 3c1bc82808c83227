import type { MarketSnapshotData } from './market-snapshot.js';

/**
 * What the engine reads from a validated `market_snapshot_updated` (market-snapshot.ts): no schema
 * here, so the snapshot function, which reaches these through the market trigger but never receives a
 * market event, does not build the market schemas at its cold start (issue 12 item 5).
 */

/** Whether market data for `worlds` (absent: every world) concerns the given world. */
export function concernsWorld(data: Pick<MarketSnapshotData, 'worlds'>, worldId: string): boolean {
  return data.worlds === undefined || data.worlds.includes(worldId);
}

/** Latest market indicators for one scope (e.g. `global`, a world id, a venue). */
export interface MarketScopeView {
  scope: string;
  as_of: string;
  asOfMs: number;
  indicators: Record<string, number>;
  /** Per-strategy or per-instrument time series (oldest first): spreads, volumes, returns… */
  series: Record<string, Record<string, number[]>>;
}

/** The view the rules read: indicators and series as plain numbers, `as_of` as epoch milliseconds. */
export function toMarketScopeView(data: MarketSnapshotData): MarketScopeView {
  const indicators: Record<string, number> = {};
  for (const [name, value] of Object.entries(data.indicators)) {
    if (typeof value === 'number' && Number.isFinite(value)) indicators[name] = value;
  }
  const series: Record<string, Record<string, number[]>> = {};
  for (const [key, entry] of Object.entries(data.series ?? {})) {
    const out: Record<string, number[]> = {};
    for (const [name, values] of Object.entries(entry)) if (Array.isArray(values)) out[name] = [...values];
    series[key] = out;
  }
  return { scope: data.scope, as_of: data.as_of, asOfMs: Date.parse(data.as_of), indicators, series };
}
