import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { ExitEngineProps } from '#infra/config.js';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildExitEngine, type ExitEngineStacks } from '#infra/exit-engine-app.js';

/** The feature flags cdk.json gives the real app, so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
).context;

/** A synthesized engine: the app, both stacks and their templates. */
export interface SynthesizedEngine extends ExitEngineStacks {
  readonly app: App;
  readonly stateful: ExitEngineStacks['stateful'];
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
}

/** Builds the engine with the given props; asset bundling is skipped so a synth takes about a second. */
export function synthEngine(engine: ExitEngineProps = {}): SynthesizedEngine {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildExitEngine(app, engine);
  return {
    app,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    statelessTemplate: Template.fromStack(stacks.stateless),
  };
}

/** An IAM policy statement as it appears in a template. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** Actions of a statement, always as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every identity-policy statement in a template, with the logical id of the policy holding it. */
export function identityStatements(template: Template): { policy: string; statement: Statement }[] {
  const out: { policy: string; statement: Statement }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [policy, resource] of Object.entries(template.findResources(type))) {
      for (const statement of resource.Properties.PolicyDocument.Statement as Statement[]) {
        out.push({ policy, statement });
      }
    }
  }
  return out;
}

/** Statements of the inline policy attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** A stable text form of a CloudFormation value (tokens included) for substring checks. */
export function text(value: unknown): string {
  return JSON.stringify(value);
}
