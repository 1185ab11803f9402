/**
 * The local stack's function environment: s.yaml's values, then variables of the same name from
 * the shell (`IDLE_AFTER=60 npm start`), then what the stack itself must set (the emulator as OSS,
 * its bucket, the local api secret). Every function's result is validated with shared/config.ts
 * before anything serves, so a bad value stops `livecycle start` naming function, variable and value.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config';
import type { FunctionSpec } from '../runtime';

/** Variables the local stack sets itself; a shell value for one of them is ignored (and said so). */
export const STACK_SET_VARIABLES = ['OSS_ENDPOINT', 'OSS_REGION', 'OSS_PATH_STYLE', 'BUCKETS', 'API_SECRETS'] as const;

/** Declared in s.yaml but the shell's value configures the CLI's own Node, not the functions: never taken. */
const HOST_ONLY = ['NODE_OPTIONS'];

/** Values never printed: secrets, and webhook URLs (receivers put tokens in them). */
const UNPRINTABLE = /SECRET|TOKEN|WEBHOOK_URL/;

export interface ShellOverrides {
  /** s.yaml-declared variables set in the shell, applied to every function that declares them. */
  applied: Record<string, string>;
  /** Shell variables the stack sets itself, so their shell value is not used. */
  ignored: string[];
}

/** The shell variables among `declared` (the names any function declares in s.yaml). */
export function shellOverrides(
  declared: Iterable<string>,
  shell: Readonly<Record<string, string | undefined>>,
): ShellOverrides {
  const applied: Record<string, string> = {};
  const ignored: string[] = [];
  for (const name of [...new Set(declared)].sort()) {
    const value = shell[name];
    if (value === undefined || HOST_ONLY.includes(name)) continue;
    if ((STACK_SET_VARIABLES as readonly string[]).includes(name)) ignored.push(name);
    else applied[name] = value;
  }
  return { applied, ignored };
}

/** What `livecycle start` prints about them (nothing when the shell sets none). */
export function describeShellOverrides(overrides: ShellOverrides): string[] {
  const lines: string[] = [];
  const applied = Object.entries(overrides.applied).map(([k, v]) =>
    UNPRINTABLE.test(k) ? `${k}=(hidden)` : `${k}=${JSON.stringify(v)}`,
  );
  if (applied.length) lines.push(`from your shell, over s.yaml: ${applied.join(' ')}`);
  if (overrides.ignored.length)
    lines.push(`ignored from your shell (the local stack sets them): ${overrides.ignored.join(', ')}`);
  return lines;
}

/**
 * The runtime's checkEnvironment: shared/config.ts's own validation, noting values that came from
 * the shell. Only for functions built from this project's functions/<name>/ (they all load that
 * configuration); other bundles an s.yaml names are left to themselves.
 */
export function checkFunctionEnvironment(
  root: string,
  overrides: ShellOverrides,
): (fn: FunctionSpec, env: Readonly<Record<string, string>>) => void {
  return (fn, env) => {
    if (!existsSync(join(root, 'functions', fn.name, 'index.ts'))) return;
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError && err.variable in overrides.applied)
        throw new Error(`${err.message} (set in your shell)`);
      throw err;
    }
  };
}
