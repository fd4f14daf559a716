/**
 * A stage of the real serverless.yml as `sls package` resolves it, for unit
 * tests of the package-time checks: the file's params (default, then the
 * stage's, then overrides as --param would give them) filled into
 * `${param:x}`, `${param:x, 'default'}`, `${sls:stage}`, `${opt:...}` and
 * `${self:custom...}`, CloudFormation tags kept as their intrinsic objects.
 * Other variables (`${file(...)}`) stay as text: no check reads them. The real
 * `sls package` path is tested once in test/integration/stack.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { resolveStageParams, type PackagedStage } from '../../../lib/config/stage-params';

export const SERVERLESS_YML = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'serverless.yml'), 'utf8');

const TAGS: Array<[string, 'scalar' | 'sequence' | 'mapping', string]> = [];
for (const fn of ['Sub', 'Select', 'Split', 'Join', 'If', 'Not', 'Equals', 'And', 'Or', 'FindInMap', 'GetAZs', 'Base64', 'Cidr', 'ImportValue']) {
  for (const kind of ['scalar', 'sequence', 'mapping'] as const) TAGS.push([`!${fn}`, kind, `Fn::${fn}`]);
}
for (const kind of ['scalar', 'sequence', 'mapping'] as const) TAGS.push(['!Ref', kind, 'Ref'], ['!Condition', kind, 'Condition'], ['!GetAtt', kind, 'Fn::GetAtt']);
const CFN_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  TAGS.map(([tag, kind, key]) => new yaml.Type(tag, { kind, construct: (data: unknown) => ({ [key]: key === 'Fn::GetAtt' && typeof data === 'string' ? data.split('.') : data }) })),
);

type Doc = {
  params?: Record<string, Record<string, unknown>>;
  custom?: Record<string, unknown>;
  functions?: Record<string, { environment?: Record<string, unknown>; condition?: unknown }>;
  resources?: { Parameters?: Record<string, { Default?: unknown }>; Conditions?: Record<string, unknown>; Resources?: Record<string, { Type?: unknown; Properties?: Record<string, unknown> }> };
};

/** The stage `stage` with `overrides` given as --param (strings, or lists for opsSubscriptions). */
export function packagedStage(overrides: Readonly<Record<string, unknown>> = {}, stage = 'dev', region = 'eu-west-1'): PackagedStage {
  const doc = yaml.load(SERVERLESS_YML, { schema: CFN_SCHEMA }) as Doc;
  const params = { ...resolveStageParams(stage, doc.params), ...overrides };
  const lookup = (source: string, rest: string): unknown => {
    const [name = '', fallback] = rest.split(/,\s*/);
    const unquote = (s: string | undefined) => s?.replace(/^'(.*)'$/, '$1');
    if (source === 'param') {
      if (params[name] !== undefined) return params[name];
      if (fallback !== undefined) return unquote(fallback);
      throw new Error(`\${param:${name}} is not set for stage ${stage}`);
    }
    if (source === 'sls' && name === 'stage') return stage;
    if (source === 'opt') return name === 'stage' ? stage : name === 'region' ? region : unquote(fallback);
    if (source === 'self') return name.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], doc as unknown);
    return undefined;
  };
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      // Innermost variables first, as osls resolves ${param:a, self:custom.b.${param:c}}.
      let text = value;
      for (;;) {
        const whole = /^\$\{(param|sls|opt|self):([^${}]+)\}$/.exec(text);
        if (whole) return fill(lookup(whole[1] ?? '', whole[2] ?? ''));
        const next = text.replace(/\$\{(param|sls|opt|self):([^${}]+)\}/g, (match, source: string, rest: string) => {
          const found = lookup(source, rest);
          return found === undefined ? match : String(fill(found));
        });
        if (next === text) return text;
        text = next;
      }
    }
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  const resources = fill(doc.resources ?? {}) as NonNullable<Doc['resources']>;
  return {
    stage,
    params,
    functions: fill(doc.functions ?? {}) as PackagedStage['functions'],
    template: { region, parameters: resources.Parameters ?? {}, conditions: resources.Conditions ?? {}, resources: resources.Resources ?? {} },
    serverlessYml: SERVERLESS_YML,
  };
}

/** Every stage parameter serverless.yml reads (`${param:name}`), sorted. */
export function paramsUsed(): string[] {
  return [...new Set([...SERVERLESS_YML.matchAll(/\$\{param:(\w+)/g)].map((m) => m[1] ?? ''))].sort();
}
