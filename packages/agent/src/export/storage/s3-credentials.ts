import { readFile } from 'node:fs/promises';
import { FleetError } from '@zfs-fleet/protocol';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const KEYS = { AWS_ACCESS_KEY_ID: 'accessKeyId', AWS_SECRET_ACCESS_KEY: 'secretAccessKey', AWS_SESSION_TOKEN: 'sessionToken' } as const;

/**
 * Parses an env-style credentials file: `AWS_ACCESS_KEY_ID=...`, `AWS_SECRET_ACCESS_KEY=...`,
 * optionally `AWS_SESSION_TOKEN=...`; `#` comments, blank lines, `export ` and quotes allowed.
 * Problems name the line, never its value: the file holds a secret.
 */
export function parseS3Credentials(text: string): S3Credentials | { problem: string } {
  const found: Partial<Record<(typeof KEYS)[keyof typeof KEYS], string>> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) return { problem: `line ${index + 1} is not NAME=VALUE` };
    const [, name = '', rawValue = ''] = match;
    if (!(name in KEYS)) continue;
    const value = /^(["'])(.*)\1$/.exec(rawValue)?.[2] ?? rawValue;
    if (value === '') return { problem: `${name} on line ${index + 1} is empty` };
    found[KEYS[name as keyof typeof KEYS]] = value;
  }
  if (!found.accessKeyId) return { problem: 'it has no AWS_ACCESS_KEY_ID line' };
  if (!found.secretAccessKey) return { problem: 'it has no AWS_SECRET_ACCESS_KEY line' };
  return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey, ...(found.sessionToken ? { sessionToken: found.sessionToken } : {}) };
}

/** Reads the credentials of `targetDescription` from `file` on this host. */
export async function readS3Credentials(file: string, targetDescription: string): Promise<S3Credentials> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new FleetError('TARGET_UNREACHABLE', `cannot read the credentials file "${file}" of ${targetDescription}: ${error.code ?? error.message}`, {
      hint: 'the agent runs as the ssh user on the host: make the file readable by that user only (chmod 600)',
      details: { target: targetDescription, credentialsFile: file },
    });
  });
  const parsed = parseS3Credentials(text);
  if ('problem' in parsed) {
    throw new FleetError('TARGET_UNREACHABLE', `the credentials file "${file}" of ${targetDescription} is not usable: ${parsed.problem}`, {
      hint: 'write AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines',
      details: { target: targetDescription, credentialsFile: file },
    });
  }
  return parsed;
}
