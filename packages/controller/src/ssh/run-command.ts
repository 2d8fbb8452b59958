import { FleetError } from '@zfs-fleet/protocol';
import type { SshConnection } from './connect-host.ts';

export interface CommandResult {
  /** The remote exit code; -1 when the channel closed without one (killed by a signal). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a shell command on a connected host and collects its output; rejects only when the channel cannot run it or it times out. */
export async function runCommand(connection: SshConnection, command: string, options: { timeoutMs?: number } = {}): Promise<CommandResult> {
  const channel = await connection.exec(command);
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => {
      channel.close();
      reject(new FleetError('TIMEOUT', `"${command}" on host "${connection.endpoint.name}" did not finish within ${options.timeoutMs} ms.`));
    }, options.timeoutMs ?? 60_000);
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    void channel.whenClosed.then(async () => {
      clearTimeout(timer);
      const exitCode = await Promise.race([channel.exitStatus, Promise.resolve(undefined)]);
      resolve({ exitCode: exitCode ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    channel.end();
  });
}
