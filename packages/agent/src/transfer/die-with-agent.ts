import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/**
 * The words that make a stream's processes die with the agent: `setpriv --pdeathsig KILL --`
 * (util-linux) asks the kernel to SIGKILL each one when the agent goes, then execs it in its
 * place. Without it, an agent killed mid-send (SIGKILL, the OOM killer) leaves its `zfs send`,
 * `pv` and `ssh` streaming on their own, into a peer the next run may already be receiving
 * into. Empty where setpriv is missing: the stream then runs as before.
 */
export function dieWithAgentLauncher(hasSetpriv: boolean): string[] {
  return hasSetpriv ? ['setpriv', '--pdeathsig', 'KILL', '--'] : [];
}

let found: Promise<boolean> | undefined;
/** Whether setpriv is on this agent's PATH; looked up once per process. */
export function hasSetpriv(searchPath = process.env.PATH ?? ''): Promise<boolean> {
  found ??= Promise.any(
    searchPath
      .split(path.delimiter)
      .filter(Boolean)
      .map((directory) => access(path.join(directory, 'setpriv'), constants.X_OK)),
  ).then(
    () => true,
    () => false,
  );
  return found;
}
