// The simulated fleet's agents, in a process of their own: the controller's process then holds
// only the controller, so that its CPU and its peak RSS are measured apart from theirs (as on a
// real fleet, where each agent runs on its host). Sessions travel over the IPC channel: each
// message carries a session's id and a chunk of the agent's stdio.
import type { PassThrough } from 'node:stream';
import { createRingFleet, type RingShape } from './ring-fleet.ts';

/** What the controller's process sends: open a session, a chunk of its stdin, hang up, or ask for the figures. */
export type ToAgents = { type: 'connect'; session: number; host: string } | { type: 'data'; session: number; chunk: Uint8Array } | { type: 'end'; session: number } | { type: 'figures' };
/** What this process sends back: ready, a chunk of a session's stdout, or the figures. */
export type FromAgents = { type: 'ready' } | { type: 'data'; session: number; chunk: Uint8Array } | { type: 'figures'; transfers: number; peakHeap: number; peakRss: number; cpuMs: number };

// Each agent served here listens for exit and signals while its session lasts (as in its own process).
process.setMaxListeners(0);
const fleet = createRingFleet(JSON.parse(process.env.SIM_SHAPE!) as RingShape);
const send = (message: FromAgents) => process.send!(message);
// The agents' own heap, sampled, so that the report can tell it from the controller's.
let peakHeap = 0;
setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100).unref();
const sessions = new Map<number, PassThrough>();
process.on('message', (message: ToAgents) => {
  switch (message.type) {
    case 'connect': {
      const { toAgent, toController } = fleet.startAgent(message.host);
      sessions.set(message.session, toAgent);
      toController.on('data', (chunk: Buffer) => send({ type: 'data', session: message.session, chunk }));
      return;
    }
    case 'data':
      sessions.get(message.session)?.write(message.chunk);
      return;
    case 'end':
      sessions.get(message.session)?.end();
      sessions.delete(message.session);
      return;
    case 'figures': {
      const used = process.cpuUsage();
      send({ type: 'figures', transfers: fleet.transfers.length, peakHeap, peakRss: process.resourceUsage().maxRSS * 1024, cpuMs: (used.user + used.system) / 1000 });
      return;
    }
  }
});
send({ type: 'ready' });
