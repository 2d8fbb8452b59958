import { FleetError, type Transfer, type ZfsCapabilities } from '@zfs-fleet/protocol';
import { buildSendArgs, type RecvOptions } from '@zfs-fleet/zfs';

/** One transfer's two ends: `zfs send` argv here, and the typed `zfs recv` the peer runs. */
export interface TransferCommands {
  send: string[];
  recv: RecvOptions;
}

/** Built once per transfer; flags go on the stream only where both ends support them. */
export function buildTransferCommands(transfer: Transfer, source: ZfsCapabilities, destination: ZfsCapabilities): TransferCommands {
  if (transfer.raw && !(source.rawSend && destination.rawSend)) {
    throw new FleetError('ENCRYPTION_UNSUPPORTED', `"${transfer.dataset}" is encrypted and the ${source.rawSend ? 'peer' : 'source'}'s zfs cannot send or receive raw streams; refusing to send its data decrypted.`, {
      hint: 'Upgrade zfs on both ends to OpenZFS 0.8 or newer.',
    });
  }
  const send = buildSendArgs({
    snapshot: `${transfer.dataset}@${transfer.to ?? ''}`,
    ...(transfer.resumeToken ? { resumeToken: transfer.resumeToken } : {}),
    raw: transfer.raw === true,
    ...(transfer.from ? { from: `${transfer.dataset}@${transfer.from}` } : {}),
    intermediates: true,
    replicate: transfer.recursive,
    // A copy without its recordsize, compression or user properties restores as another dataset.
    properties: true,
    // Large blocks and embedded data only travel when the receiver understands them too.
    largeBlocks: source.largeBlocks && destination.largeBlocks,
    embedded: source.embeddedData && destination.embeddedData,
    compressed: source.compressedSend && destination.compressedSend,
  });
  const recv: RecvOptions = {
    target: transfer.receiveInto,
    discardPool: transfer.exact !== true,
    force: transfer.force,
    noMount: destination.receiveNoMount && transfer.mount !== true,
    // Where the peer can keep a partial stream, a broken connection costs only what is unsent.
    resumable: destination.resumableReceive,
  };
  return { send, recv };
}

/** How logs and errors name a transfer. */
export function describeTransfer(transfer: Transfer): string {
  return transfer.to ? `${transfer.dataset}@${transfer.to}` : `${transfer.dataset} (resumed stream)`;
}
