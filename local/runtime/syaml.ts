/**
 * Reads a Serverless Devs s.yaml (edition 3.0.0, component fc3) the way `s` resolves it, for the
 * parts the local runtime needs: `${vars.x}` and `${env('NAME', 'default')}` interpolation, each
 * resource's function props and its triggers. Trigger configs are checked here because fc3's
 * schema accepts any triggerConfig object (see reference §3.2), so a typo would otherwise only
 * show up as a trigger that never fires.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface TimerTriggerSpec {
  type: 'timer';
  name: string;
  cronExpression: string;
  enable: boolean;
  payload?: string;
}

export type NotifyContentFormat = 'JSON' | 'STREAM';
export type NotifyStrategy = 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';

export interface MnsTopicTriggerSpec {
  type: 'mns_topic';
  name: string;
  sourceArn: string;
  /** Topic name taken from sourceArn `acs:mns:<region>:<account>:/topics/<topic>`. */
  topic: string;
  notifyContentFormat: NotifyContentFormat;
  notifyStrategy: NotifyStrategy;
  filterTag?: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'PATCH';

export interface HttpTriggerSpec {
  type: 'http';
  name: string;
  authType: 'anonymous' | 'function' | 'jwt';
  methods: HttpMethod[];
}

export type TriggerSpec = TimerTriggerSpec | MnsTopicTriggerSpec | HttpTriggerSpec;

export interface FunctionSpec {
  /** Resource id in s.yaml (`s <id> deploy`). */
  resourceId: string;
  /** Short name: the source folder functions/<name> and bundle folder dist/<name>. */
  name: string;
  /** FC function name (props.functionName), what InvokeFunction and GENERATE_VOD_FUNCTION use. */
  functionName: string;
  region: string;
  runtime: string;
  /** `index.handler` → file index.js, export handler. */
  handler: string;
  memorySize: number;
  /** Seconds. */
  timeout: number;
  role?: string;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig: { maxAsyncRetryAttempts: number; maxAsyncEventAgeInSeconds: number };
  triggers: TriggerSpec[];
}

export interface SYaml {
  name: string;
  vars: Record<string, unknown>;
  functions: FunctionSpec[];
  /** The parsed, interpolated document, for checks beyond what the runtime uses. */
  document: SYamlDocument;
}

export interface SYamlDocument {
  edition?: unknown;
  name?: unknown;
  vars?: Record<string, unknown>;
  actions?: Record<string, unknown>;
  resources?: Record<string, { component?: unknown; props?: Record<string, unknown> }>;
}

export class SYamlError extends Error {
  constructor(file: string, where: string, message: string) {
    super(`${file}: ${where}: ${message}`);
    this.name = 'SYamlError';
  }
}

/** FC's documented async defaults (reference §1.7) when asyncInvokeConfig leaves them out. */
const ASYNC_DEFAULTS = { maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86400 };

const INTERPOLATION = /\$\{([^}]*)\}/g;
const ENV_CALL = /^env\(\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)$/;
const VARS_REF = /^vars\.([A-Za-z_][\w]*)$/;

/** Parses and resolves an s.yaml file; `env` stands in for the shell environment `s` reads. */
export function loadSYaml(file: string, env: Record<string, string | undefined> = process.env): SYaml {
  const path = resolve(file);
  const raw = parse(readFileSync(path, 'utf8'), { merge: true }) as unknown;
  if (!isRecord(raw)) throw new SYamlError(path, 'document', 'expected a YAML mapping');
  const rawVars = isRecord(raw.vars) ? raw.vars : {};
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawVars)) vars[k] = interpolate(v, { env, vars: {} }, path, `vars.${k}`);
  const document = interpolate(raw, { env, vars }, path, '') as SYamlDocument;
  if (document.edition !== '3.0.0')
    throw new SYamlError(path, 'edition', `expected "3.0.0", got ${JSON.stringify(document.edition)}`);
  const functions = Object.entries(document.resources ?? {}).map(([id, res]) => functionSpec(path, id, res));
  const names = new Set<string>();
  for (const fn of functions) {
    if (names.has(fn.name))
      throw new SYamlError(path, `resources.${fn.resourceId}`, `two resources build dist/${fn.name}`);
    names.add(fn.name);
  }
  return { name: String(document.name ?? basename(dirname(path))), vars, functions, document };
}

interface Scope {
  env: Record<string, string | undefined>;
  vars: Record<string, unknown>;
}

function interpolate(value: unknown, scope: Scope, file: string, where: string): unknown {
  if (typeof value === 'string') return interpolateString(value, scope, file, where);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, scope, file, `${where}[${i}]`));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, scope, file, where ? `${where}.${k}` : k);
    return out;
  }
  return value;
}

function interpolateString(text: string, scope: Scope, file: string, where: string): unknown {
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  // A value that is exactly one `${vars.x}` keeps the variable's type (s does the same).
  if (whole) return evaluate(whole[1]!.trim(), scope, file, where);
  return text.replace(INTERPOLATION, (_, expr: string) => String(evaluate(expr.trim(), scope, file, where)));
}

function evaluate(expr: string, scope: Scope, file: string, where: string): unknown {
  const env = ENV_CALL.exec(expr);
  if (env) {
    const value = scope.env[env[1]!] ?? env[2];
    if (value === undefined)
      throw new SYamlError(file, where, `environment variable ${env[1]} is not set and \${${expr}} has no default`);
    return value;
  }
  const ref = VARS_REF.exec(expr);
  if (ref) {
    if (!(ref[1]! in scope.vars)) throw new SYamlError(file, where, `\${${expr}}: no such entry under vars`);
    return scope.vars[ref[1]!];
  }
  throw new SYamlError(
    file,
    where,
    `\${${expr}} is not supported locally (only \${vars.x} and \${env('NAME', 'default')})`,
  );
}

function functionSpec(file: string, id: string, res: unknown): FunctionSpec {
  const at = `resources.${id}`;
  if (!isRecord(res) || !isRecord(res.props)) throw new SYamlError(file, at, 'expected { component, props }');
  if (res.component !== 'fc3')
    throw new SYamlError(file, `${at}.component`, `expected fc3, got ${JSON.stringify(res.component)}`);
  const p = res.props;
  const code = requireString(file, `${at}.props.code`, p.code);
  if (!code.startsWith('./dist/'))
    throw new SYamlError(file, `${at}.props.code`, `must be ./dist/<function>, got "${code}"`);
  const env = isRecord(p.environmentVariables) ? p.environmentVariables : {};
  const environmentVariables: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string')
      throw new SYamlError(
        file,
        `${at}.props.environmentVariables.${k}`,
        `must be a string (quote it), got ${typeof v}`,
      );
    environmentVariables[k] = v;
  }
  const asyncCfg = isRecord(p.asyncInvokeConfig) ? p.asyncInvokeConfig : {};
  const triggers = Array.isArray(p.triggers) ? p.triggers : [];
  return {
    resourceId: id,
    name: basename(code),
    functionName: requireString(file, `${at}.props.functionName`, p.functionName),
    region: requireString(file, `${at}.props.region`, p.region),
    runtime: requireString(file, `${at}.props.runtime`, p.runtime),
    handler: requireString(file, `${at}.props.handler`, p.handler),
    memorySize: requireInteger(file, `${at}.props.memorySize`, p.memorySize),
    timeout: requireInteger(file, `${at}.props.timeout`, p.timeout),
    role: typeof p.role === 'string' ? p.role : undefined,
    environmentVariables,
    asyncInvokeConfig: {
      maxAsyncRetryAttempts:
        optionalInteger(file, `${at}.props.asyncInvokeConfig.maxAsyncRetryAttempts`, asyncCfg.maxAsyncRetryAttempts) ??
        ASYNC_DEFAULTS.maxAsyncRetryAttempts,
      maxAsyncEventAgeInSeconds:
        optionalInteger(
          file,
          `${at}.props.asyncInvokeConfig.maxAsyncEventAgeInSeconds`,
          asyncCfg.maxAsyncEventAgeInSeconds,
        ) ?? ASYNC_DEFAULTS.maxAsyncEventAgeInSeconds,
    },
    triggers: triggers.map((t, i) => triggerSpec(file, `${at}.props.triggers[${i}]`, t)),
  };
}

function triggerSpec(file: string, at: string, t: unknown): TriggerSpec {
  if (!isRecord(t)) throw new SYamlError(file, at, 'expected a mapping');
  const name = requireString(file, `${at}.triggerName`, t.triggerName);
  const cfg = t.triggerConfig;
  if (!isRecord(cfg)) throw new SYamlError(file, `${at}.triggerConfig`, 'required');
  const known = (allowed: string[]) => {
    for (const k of Object.keys(cfg))
      if (!allowed.includes(k))
        throw new SYamlError(
          file,
          `${at}.triggerConfig.${k}`,
          `unknown field for a ${String(t.triggerType)} trigger (allowed: ${allowed.join(', ')})`,
        );
  };
  switch (t.triggerType) {
    case 'timer': {
      known(['cronExpression', 'enable', 'payload']);
      if (typeof cfg.enable !== 'boolean') throw new SYamlError(file, `${at}.triggerConfig.enable`, 'required boolean');
      if (cfg.payload !== undefined && typeof cfg.payload !== 'string')
        throw new SYamlError(file, `${at}.triggerConfig.payload`, 'must be a string (FC delivers it verbatim)');
      return {
        type: 'timer',
        name,
        cronExpression: requireString(file, `${at}.triggerConfig.cronExpression`, cfg.cronExpression),
        enable: cfg.enable,
        payload: cfg.payload,
      };
    }
    case 'mns_topic': {
      known(['notifyContentFormat', 'notifyStrategy', 'filterTag']);
      const sourceArn = requireString(file, `${at}.sourceArn`, t.sourceArn);
      const topic = /^acs:mns:[^:]+:[^:]*:\/topics\/([^/]+)$/.exec(sourceArn)?.[1];
      if (!topic)
        throw new SYamlError(
          file,
          `${at}.sourceArn`,
          `expected acs:mns:<region>:<accountId>:/topics/<topic>, got "${sourceArn}"`,
        );
      const format = cfg.notifyContentFormat;
      if (format !== 'JSON' && format !== 'STREAM')
        throw new SYamlError(
          file,
          `${at}.triggerConfig.notifyContentFormat`,
          `must be JSON or STREAM, got ${JSON.stringify(format)}`,
        );
      const strategy = cfg.notifyStrategy;
      if (strategy !== 'BACKOFF_RETRY' && strategy !== 'EXPONENTIAL_DECAY_RETRY')
        throw new SYamlError(
          file,
          `${at}.triggerConfig.notifyStrategy`,
          `must be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY, got ${JSON.stringify(strategy)}`,
        );
      if (cfg.filterTag !== undefined && typeof cfg.filterTag !== 'string')
        throw new SYamlError(file, `${at}.triggerConfig.filterTag`, 'must be a string');
      return {
        type: 'mns_topic',
        name,
        sourceArn,
        topic,
        notifyContentFormat: format,
        notifyStrategy: strategy,
        filterTag: cfg.filterTag,
      };
    }
    case 'http': {
      known(['authType', 'methods', 'disableURLInternet', 'authConfig']);
      const authType = cfg.authType;
      if (authType !== 'anonymous' && authType !== 'function' && authType !== 'jwt')
        throw new SYamlError(
          file,
          `${at}.triggerConfig.authType`,
          `must be anonymous, function or jwt, got ${JSON.stringify(authType)}`,
        );
      const methods = cfg.methods;
      const allowed = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'];
      if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => allowed.includes(m as string))) {
        throw new SYamlError(file, `${at}.triggerConfig.methods`, `must be a non-empty list of ${allowed.join(', ')}`);
      }
      return { type: 'http', name, authType, methods: methods as HttpMethod[] };
    }
    default:
      throw new SYamlError(
        file,
        `${at}.triggerType`,
        `the local runtime serves timer, mns_topic and http triggers, not ${JSON.stringify(t.triggerType)}`,
      );
  }
}

function requireString(file: string, where: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new SYamlError(file, where, 'required non-empty string');
  return v;
}

function requireInteger(file: string, where: string, v: unknown): number {
  if (!Number.isInteger(v))
    throw new SYamlError(
      file,
      where,
      `required integer, set explicitly (fc3 defaults are timeout 3 s, memory 512 MB), got ${JSON.stringify(v)}`,
    );
  return v as number;
}

function optionalInteger(file: string, where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  return requireInteger(file, where, v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
