import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { FleetConfigSchema, FleetError, type FleetConfig } from '@zfs-fleet/protocol';
import { parseSchedule } from '../schedule/due.ts';

export interface LoadedConfig {
  config: FleetConfig;
  /** Absolute path of the file it came from; relative paths inside resolve against its folder. */
  path: string;
}

/** `--config`, else FLEET_CONFIG, else ./fleet.yaml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env['FLEET_CONFIG'] ?? 'fleet.yaml');
}

/** Parses config text into either a config or `"key.path: message"` errors; never throws. */
export function parseConfig(text: string): { config: FleetConfig; errors?: undefined } | { config?: undefined; errors: string[] } {
  const result = parseConfigUnescaped(text);
  // Messages quote the values they refuse: a newline or an escape sequence in one must not reach the terminal raw.
  return result.errors ? { errors: result.errors.map(escapeControlCharacters) } : result;
}

function parseConfigUnescaped(text: string): { config: FleetConfig; errors?: undefined } | { config?: undefined; errors: string[] } {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    return { errors: document.errors.map((error) => `line ${error.linePos?.[0].line ?? '?'}: ${error.message.split('\n')[0]}`) };
  }
  const reservedKeys: string[] = [];
  const data = toPlainData(document.toJS({ mapAsMap: true }), [], reservedKeys);
  // zod skips such a key in a map (hosts:) without a word: say so, or a host would silently vanish.
  if (reservedKeys.length > 0) return { errors: reservedKeys.map((key) => `${key}: "__proto__" cannot be a key`) };
  const result = FleetConfigSchema.safeParse(data);
  if (!result.success) return { errors: formatIssues(result.error.issues) };
  const scheduleErrors = Object.entries(result.data.hosts).flatMap(([host, hostConfig]) =>
    hostConfig.backups.flatMap((entry, index) => {
      if (!entry.schedule) return [];
      try {
        parseSchedule(entry.schedule, `hosts.${host}.backups.${index}.schedule`);
        return [];
      } catch (error) {
        return [(error as Error).message];
      }
    }),
  );
  if (scheduleErrors.length > 0) return { errors: scheduleErrors };
  return { config: result.data };
}

/**
 * YAML's maps as plain objects, and the key path of every `__proto__` key found: the yaml
 * library would set the object's prototype with it, so the section vanished without an error.
 */
function toPlainData(value: unknown, path: string[], reservedKeys: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => toPlainData(item, [...path, String(index)], reservedKeys));
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, entry] of value) {
    const name = String(key);
    if (name === '__proto__') reservedKeys.push([...path, name].join('.'));
    else object[name] = toPlainData(entry, [...path, name], reservedKeys);
  }
  return object;
}

function escapeControlCharacters(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') return `${key}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${key}: ${issue.message}`;
  });
}

/** Reads, validates and resolves the config; a FleetError (CONFIG_NOT_FOUND / CONFIG_INVALID) lists every problem. */
export async function loadConfig(configPath: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (cause) {
    throw new FleetError('CONFIG_NOT_FOUND', `Cannot read config file "${configPath}".`, {
      hint: 'Pass --config PATH, set FLEET_CONFIG, or create ./fleet.yaml.',
      cause,
    });
  }
  const parsed = parseConfig(text);
  if (parsed.errors) {
    throw new FleetError('CONFIG_INVALID', `Config "${configPath}" is invalid:\n  ${parsed.errors.join('\n  ')}`, {
      hint: 'Fix the keys listed above; see the config reference in README.md.',
      details: { errors: parsed.errors },
    });
  }
  const base = path.dirname(configPath);
  const config = parsed.config;
  config.ssh.identityFile = path.resolve(base, config.ssh.identityFile);
  config.ssh.knownHosts = path.resolve(base, config.ssh.knownHosts);
  if (config.stateDir) config.stateDir = path.resolve(base, config.stateDir);
  if (config.metrics?.textfile) config.metrics.textfile = path.resolve(base, config.metrics.textfile);
  return { config, path: configPath };
}
