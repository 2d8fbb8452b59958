import type pino from 'pino';
import type { FleetConfig } from '@zfs-fleet/protocol';
import { connectAgent, type AgentSession } from './connect-agent.ts';

/** One agent session per host per run, opened on first use; a failure is remembered, not retried. */
export class SessionPool {
  readonly #sessions = new Map<string, Promise<AgentSession>>();

  constructor(
    private readonly config: FleetConfig,
    private readonly logger: pino.Logger,
  ) {}

  get(host: string): Promise<AgentSession> {
    let session = this.#sessions.get(host);
    if (!session) {
      session = connectAgent(this.config, host, this.logger);
      // Callers handle the rejection; keep an unobserved one from crashing the process.
      session.catch(() => undefined);
      this.#sessions.set(host, session);
    }
    return session;
  }

  async closeAll(): Promise<void> {
    const settled = await Promise.allSettled(this.#sessions.values());
    for (const result of settled) if (result.status === 'fulfilled') result.value.close();
    this.#sessions.clear();
  }
}
