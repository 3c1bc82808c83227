import type { App, StackProps } from 'aws-cdk-lib';
import type { ExitEngineProps } from './config.js';
import { StatefulStack } from './stateful/stateful-stack.js';
import { StatelessStack } from './stateless/stateless-stack.js';

/** The two stacks of one deployment. */
export interface ExitEngineStacks {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Builds the engine as two stacks rather than one with two constructs: tables and bus get their own
 * lifecycle (retained, deletion-protected, rarely changed) and a routine function change can never plan a
 * table replacement. The only references run stateless → stateful (table and bus names/ARNs, the alarm
 * key), so there is no cycle; the bus policy that names the engine roles lives in the stateless stack.
 */
export function buildExitEngine(
  app: App,
  engine: ExitEngineProps,
  options: { prefix?: string; stackProps?: StackProps } = {},
): ExitEngineStacks {
  const prefix = options.prefix ?? 'ExitEngine';
  const stateful = new StatefulStack(app, `${prefix}Stateful`, engine, {
    ...options.stackProps,
    description: 'Exit engine: tables, event bus, schema registry (retained)',
  });
  const stateless = new StatelessStack(app, `${prefix}Stateless`, {
    ...options.stackProps,
    description: 'Exit engine: functions, rules, subscriptions, policies, alarms',
    stateful,
    engine,
  });
  stateless.addStackDependency(stateful);
  return { stateful, stateless };
}
