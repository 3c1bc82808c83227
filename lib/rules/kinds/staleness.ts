import type { RuleKindEvaluator } from '../types.js';
import { fanOut, round } from './shared.js';

/**
 * Age reported for market data that never arrived: missing data is infinitely stale, but
 * `Infinity` is not JSON, so this is the largest exact integer (≈ 285,000 years) — above any limit.
 */
export const MISSING_DATA_AGE_SEC = Number.MAX_SAFE_INTEGER;

/**
 * `staleness`: age in seconds, `nowMs − as_of`, of the snapshot or of the market scope's latest
 * data. Missing market data measures `MISSING_DATA_AGE_SEC` (evidence `missing: true`), so the rule
 * fails closed. Not homogeneous: no cut makes data fresher.
 */
export const staleness: RuleKindEvaluator<'staleness'> = {
  kind: 'staleness',
  homogeneous: false,
  measure: (rule, { snapshot, market, nowMs }) => {
    if (rule.source === 'snapshot') {
      const age = (nowMs - snapshot.asOfMs) / 1000;
      const evidence = {
        source: 'snapshot',
        as_of: snapshot.as_of,
        age_sec: round(age),
        expires_at: new Date(snapshot.expiresAtMs).toISOString(),
        expired: nowMs > snapshot.expiresAtMs,
      };
      return fanOut(rule.scope, snapshot, (scopeKey, strategies) => ({
        scopeKey,
        value: age,
        strategies,
        evidence,
      }));
    }
    const view = market.get(rule.market_scope);
    if (!view || !Number.isFinite(view.asOfMs)) {
      const evidence = {
        source: 'market',
        market_scope: rule.market_scope,
        missing: true,
        age_sec: MISSING_DATA_AGE_SEC,
        note: `no market data for scope '${rule.market_scope}': age is a sentinel (Number.MAX_SAFE_INTEGER s) standing for infinitely stale`,
      };
      return fanOut(rule.scope, snapshot, (scopeKey, strategies) => ({
        scopeKey,
        value: MISSING_DATA_AGE_SEC,
        strategies,
        evidence,
      }));
    }
    const age = (nowMs - view.asOfMs) / 1000;
    const evidence = {
      source: 'market',
      market_scope: rule.market_scope,
      market_as_of: view.as_of,
      missing: false,
      age_sec: round(age),
    };
    return fanOut(rule.scope, snapshot, (scopeKey, strategies) => ({
      scopeKey,
      value: age,
      strategies,
      evidence,
    }));
  },
};
