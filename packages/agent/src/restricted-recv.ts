import { execa } from 'execa';
import { receiveStream } from '@zfs-fleet/zfs';
import { decompressorArgv } from './wire.ts';
import type { ReceiveCommand } from './receive-command.ts';

/** Runs an accepted receive: stdin → [decompressor] → zfs recv, argument arrays only. */
export async function runReceive(command: ReceiveCommand): Promise<number> {
  if (!command.decompress) return receiveStream(command.recv, process.stdin);
  const [binary, ...args] = decompressorArgv(command.decompress);
  const decompress = execa(binary!, args, { stdin: 'inherit', stdout: 'pipe', stderr: 'inherit', buffer: false, reject: false });
  const [decompressed, received] = await Promise.all([decompress, receiveStream(command.recv, decompress.stdout)]);
  return decompressed.exitCode || received;
}
