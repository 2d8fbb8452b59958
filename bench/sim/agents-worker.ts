// The simulated fleet's agents, on a thread of their own: the controller's thread then does
// only the controller's work, and its CPU is measured apart from theirs (as on a real fleet,
// where each agent runs on its host). Each session is a MessagePort carrying the agent's stdio.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createRingFleet, type RingShape } from './ring-fleet.ts';

// Each agent served here listens for exit and signals while its session lasts (as in its own process).
process.setMaxListeners(0);
const fleet = createRingFleet(workerData as RingShape);
// The agents' own heap, sampled, so that the report can tell it from the controller's.
let peakHeap = 0;
setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100).unref();
parentPort!.on('message', (message: { type: 'connect'; host: string; port: MessagePort } | { type: 'transfers' }) => {
  if (message.type === 'transfers') {
    parentPort!.postMessage({ type: 'transfers', count: fleet.transfers.length, peakHeap });
    return;
  }
  const { toAgent, toController } = fleet.startAgent(message.host);
  const { port } = message;
  toController.on('data', (chunk: Buffer) => port.postMessage(chunk));
  // null: the controller hung up.
  port.on('message', (chunk: Uint8Array | null) => (chunk === null ? (toAgent.end(), port.close()) : toAgent.write(chunk)));
});
parentPort!.postMessage({ type: 'ready' });
