/** A tRPC subscription as a promise: resolves with its `done` event, rejects with its error. */
export function subscribeUntilDone<E extends { type: string }, D extends E>(
  subscribe: (handlers: { onData(event: E): void; onError(error: unknown): void; onComplete(): void }) => { unsubscribe(): void },
  isDone: (event: E) => event is D,
  onEvent?: (event: E) => void,
): Promise<D> {
  return new Promise((resolve, reject) => {
    let finished: D | undefined;
    const subscription = subscribe({
      onData(event) {
        onEvent?.(event);
        if (isDone(event)) {
          finished = event;
          subscription.unsubscribe();
          resolve(event);
        }
      },
      onError: reject,
      onComplete() {
        if (finished) resolve(finished);
        else reject(new Error('the agent ended the call without finishing it'));
      },
    });
  });
}
