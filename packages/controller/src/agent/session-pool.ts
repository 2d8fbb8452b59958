import type pino from 'pino';
import type { FleetConfig } from '@zfs-fleet/protocol';
import { connectAgent, type AgentSession, type ConnectAgentOptions } from './connect-agent.ts';

export interface SessionPoolOptions extends ConnectAgentOptions {
  /** How a session is opened: over SSH (the default), or in-process in tests. */
  connect?: (host: string) => Promise<AgentSession>;
}

/** One agent session per host per run, opened on first use; a failure is remembered, not retried. */
export class SessionPool {
  readonly #sessions = new Map<string, Promise<AgentSession>>();

  constructor(
    private readonly config: FleetConfig,
    private readonly logger: pino.Logger,
    private readonly options: SessionPoolOptions = {},
  ) {}

  get(host: string): Promise<AgentSession> {
    let session = this.#sessions.get(host);
    if (!session) {
      session = this.options.connect?.(host) ?? connectAgent(this.config, host, this.logger, this.options);
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
