import { describe, expect, it } from 'vitest';
import { marketLoadScopes, marketStorageScopes, marketViewsForWorld } from '#lib/rules/market-views.js';
import { marketView } from './fixtures.js';

describe('market views and data.worlds', () => {
  it('stores data without worlds under its scope, data with worlds once per listed world', () => {
    expect(marketStorageScopes('global', undefined)).toEqual(['global']);
    expect(marketStorageScopes('global', ['w2', 'w1', 'w2'])).toEqual(['global@w2', 'global@w1']);
  });

  it('loads each scope’s shared view and the world’s own', () => {
    expect(marketLoadScopes(['global', 'w1'], 'w1')).toEqual(['global', 'global@w1', 'w1', 'w1@w1']);
  });

  it('a world sees the newer of shared and own, never another world’s', () => {
    const loaded = new Map([
      ['global', marketView('global', '2025-01-01T00:00:00Z', { vix: 20 })],
      ['global@w1', marketView('global@w1', '2025-01-01T00:05:00Z', { vix: 45 })],
      ['global@w2', marketView('global@w2', '2025-01-01T00:09:00Z', { vix: 60 })],
    ]);
    const w1 = marketViewsForWorld(loaded, ['global'], 'w1').get('global');
    expect(w1).toMatchObject({ scope: 'global', indicators: { vix: 45 } });
    const w3 = marketViewsForWorld(loaded, ['global'], 'w3').get('global');
    expect(w3).toMatchObject({ scope: 'global', indicators: { vix: 20 } });
    loaded.set('global', marketView('global', '2025-01-01T00:10:00Z', { vix: 18 }));
    expect(marketViewsForWorld(loaded, ['global'], 'w1').get('global')?.indicators.vix).toBe(18);
    expect(marketViewsForWorld(new Map(), ['global'], 'w1').size).toBe(0);
  });
});
