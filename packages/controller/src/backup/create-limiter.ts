/** A counting semaphore: at most `limit` of the given tasks run at once. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

/** Runs a task holding one global transfer slot and one slot of each of its two hosts. */
export type TransferSlots = <T>(host: string, peer: string, task: () => Promise<T>) => Promise<T>;

export function createTransferSlots(global: number, perHost: number): TransferSlots {
  const limitTransfers = createLimiter(global);
  const hostLimiters = new Map<string, ReturnType<typeof createLimiter>>();
  const limitHost = (host: string) => {
    let limiter = hostLimiters.get(host);
    if (!limiter) hostLimiters.set(host, (limiter = createLimiter(perHost)));
    return limiter;
  };
  return (host, peer, task) => {
    // Host slots are always taken in name order: two hosts that back up to each other
    // cannot then each hold one slot while waiting for the other's.
    const [first, second] = [host, peer].sort() as [string, string];
    return limitTransfers(() => limitHost(first)(() => limitHost(second)(task)));
  };
}
