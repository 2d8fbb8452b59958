import type pino from 'pino';
import type { FleetConfig, FleetError } from '@zfs-fleet/protocol';

/** Flags every command may read; parseArgs fills them from the merged option table. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  flags: FlagValues;
  /** Words after the command name. */
  args: string[];
  logger: pino.Logger;
  json: boolean;
  /** Whether stdout is a terminal a human watches (and --json was not given). */
  tty: boolean;
  out: NodeJS.WriteStream;
  /** `--auto-install`: install the matching agent where a host has none or another version, then go on. */
  autoInstall: boolean;
  /** Loads and validates the config (--config, $FLEET_CONFIG, ./fleet.yaml). */
  config(): Promise<{ config: FleetConfig; path: string }>;
}

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** One `fleet` subcommand: its usage lines, its flags, and what it does. Returns the exit code. */
export interface Command {
  name: string;
  usage: string[];
  options: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<number>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

/** The exit code of a command that threw: 2 for a wrong config or command line (nothing was touched), 70 for a bug, else 1. */
export function exitCodeFor(error: FleetError): number {
  return error.code === 'USAGE' || error.code.startsWith('CONFIG_') || error.code.endsWith('_NAME_INVALID') ? EXIT.usage : error.code === 'INTERNAL' ? EXIT.internal : EXIT.failed;
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}
