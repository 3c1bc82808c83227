import { shareCut, varianceShare } from '#lib/risk/sizing.js';
import type { RuleOf } from '../rule-schema.js';
import type { RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { round, unavailable } from './shared.js';

type ShareRule = RuleOf<'risk_contribution'>;

/**
 * A strategy's share of portfolio VaR/ES: its component (Euler) contribution divided by the total,
 * on the snapshot covariance with the zero-mean normal model, where the share is wᵢ(Σw)ᵢ / wᵀΣw for
 * VaR and ES alike. Not the strategy's stand-alone VaR: a small but highly correlated position can
 * carry a large share, and a hedge a negative one. Sized by cutting the breaching strategy alone to
 * the share the rule targets (the exact root of a quadratic, lib/risk/sizing.ts `shareCut`).
 */
export const riskContribution: RuleKindEvaluator<'risk_contribution'> = {
  kind: 'risk_contribution',
  homogeneous: false,
  measure(rule: ShareRule, input) {
    const { snapshot } = input;
    const { ids, weights, covariance } = snapshot;
    const target = rule.target ?? rule.limit;
    return ids.map((id, i): RuleMeasurement => {
      if (!covariance) {
        return unavailable(
          id,
          [id],
          'risk_contribution: no covariance in the snapshot (nor enough returns for a sample one)',
          {
            measure: rule.measure,
          },
        );
      }
      if (weights[i] === 0) {
        return { scopeKey: id, value: 0, strategies: [id], evidence: { measure: rule.measure, share: 0 } };
      }
      const parts = varianceShare(weights, covariance, i);
      if (!Number.isFinite(parts.share)) {
        return unavailable(id, [id], 'risk_contribution: the portfolio has no variance, so no share of it', {
          measure: rule.measure,
        });
      }
      const ratio = parts.share > target ? shareCut(parts, target) : 0;
      const s = 1 - ratio;
      const after =
        ratio >= 1
          ? 0
          : (s * s * parts.own + s * parts.cross) / (s * s * parts.own + 2 * s * parts.cross + parts.rest);
      const sized = { ratios: { [id]: ratio }, after };
      return {
        scopeKey: id,
        value: parts.share,
        strategies: [id],
        uniformSizing: sized,
        contributionSizing: Object.assign({}, sized, { reached: after <= target + 1e-9, order: [id] }),
        evidence: {
          measure: rule.measure,
          method: 'normal',
          share: round(parts.share),
          component_variance: round(parts.own + parts.cross),
          portfolio_variance: round(parts.total),
          covariance_source: snapshot.covarianceSource,
          ...(ratio >= 1 && !(parts.rest > 0)
            ? { sizing_note: 'the rest of the book carries no variance: no partial cut lowers the share' }
            : {}),
        },
      };
    });
  },
};
