import type { Command } from '../cli/command.ts';
import { agentCommand } from './agent.ts';
import { backupCommand, planCommand } from './backup.ts';
import { doctorCommand } from './doctor.ts';
import { hostsCommand } from './hosts.ts';
import { keysCommand } from './keys.ts';
import { pruneCommand } from './prune.ts';
import { restoreCommand } from './restore.ts';
import { runCommand } from './run.ts';
import { statusCommand } from './status.ts';
import { verifyCommand } from './verify.ts';

/** Every `fleet` subcommand, in the order `fleet help` lists them. */
export const COMMANDS: readonly Command[] = [backupCommand, planCommand, pruneCommand, runCommand, statusCommand, restoreCommand, verifyCommand, hostsCommand, agentCommand, keysCommand, doctorCommand];
