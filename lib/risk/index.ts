// Public API of the risk library: pure functions over Float64Array, no I/O, no clock, no randomness.
export * from './backtest.js';
export * from './components.js';
export * from './cornish-fisher.js';
export * from './covariance.js';
export * from './distributions.js';
export * from './drawdown.js';
export * from './eigen.js';
export * from './ewma.js';
export * from './historical.js';
export * from './liquidity.js';
export * from './market-structure.js';
export * from './parametric.js';
export * from './portfolio.js';
export * from './report.js';
export * from './sizing.js';
export * from './stats.js';
export * from './student-t.js';
