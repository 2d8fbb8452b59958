/** For tests of the controller that serve the real agent router in-process (a fake zfs, no processes). */
export { serveAgent } from './serve.ts';
// The argv builders of a transfer's two ends, for tests that check what a host would run.
export { buildPeerSshArgs } from './ssh-command.ts';
export { receiveCommandStages } from './receive-command.ts';
export type { ServeAgentOptions } from './serve.ts';
export type { StreamTransferOptions } from './transfer/stream-transfer.ts';
export type { TransferCommands } from './transfer/build-transfer-commands.ts';
