import type pino from 'pino';
import type { FleetConfig, ZfsCallsOutput } from '@zfs-fleet/protocol';
import { connectAgent, type AgentSession, type ConnectAgentOptions } from './connect-agent.ts';

export interface SessionPoolOptions extends ConnectAgentOptions {
  /** How a session is opened: over SSH (the default), or in-process in tests. */
  connect?: (host: string) => Promise<AgentSession>;
  /**
   * At most this many sessions open at once (`parallel.connections`), for work done under
   * {@link SessionPool.lease}. A lease naming more hosts than this runs alone, over the limit.
   */
  limit?: number;
}

/** What opening and closing a host's sessions cost during the run, summed over its sessions. */
export interface SessionTimings {
  /** How many times a session to the host was opened (more than once when the limit closed it between leases). */
  sessions: number;
  /** The SSH connection: TCP, key exchange, authentication. */
  connectMs: number;
  /** Starting the agent and its `hello` (which carries the zfs probe). */
  handshakeMs: number;
  /** Collecting the agent's zfs call count, then hanging up. */
  closeMs: number;
}

interface OpenSession {
  session: Promise<AgentSession>;
  /** Leases holding it now; at 0 it may be closed to make room for another host. */
  leases: number;
}

interface Waiter {
  hosts: readonly string[];
  grant(): void;
}

/**
 * One agent session per host, opened on first use; a failure is remembered, not retried.
 * `lease` bounds how many are open at once: a lease waits, first come first served, until its
 * hosts fit, closing sessions no lease holds to make room. `get` outside a lease is unbounded
 * (the commands that do not lease); do not mix the two in one pool.
 */
export class SessionPool {
  readonly #open = new Map<string, OpenSession>();
  readonly #failed = new Map<string, Promise<AgentSession>>();
  readonly #waiting: Waiter[] = [];
  /** Sessions being closed still count against the limit until they are gone. */
  #closing = 0;
  readonly #closedZfsCalls = new Map<string, ZfsCallsOutput>();
  readonly #timings = new Map<string, SessionTimings>();

  constructor(
    private readonly config: FleetConfig,
    private readonly logger: pino.Logger,
    private readonly options: SessionPoolOptions = {},
  ) {}

  get(host: string): Promise<AgentSession> {
    const failed = this.#failed.get(host);
    if (failed) return failed;
    let open = this.#open.get(host);
    if (!open) {
      const opening: OpenSession = { session: this.#connect(host), leases: 0 };
      this.#open.set(host, (open = opening));
      // A host that cannot be reached holds no connection: its room goes to the next lease.
      opening.session.catch(() => {
        if (this.#open.get(host) !== opening) return;
        this.#open.delete(host);
        this.#failed.set(host, opening.session);
        this.#grantWaiting();
      });
    }
    return open.session;
  }

  /**
   * Runs `task` once every host of `hosts` can have a session open within the limit, and keeps
   * them open until it settles. `task` is told how long the lease waited.
   */
  async lease<T>(hosts: readonly string[], task: (queuedMs: number) => Promise<T>): Promise<T> {
    const wanted = [...new Set(hosts)];
    const queuedAt = performance.now();
    await new Promise<void>((grant) => {
      this.#waiting.push({ hosts: wanted, grant });
      this.#grantWaiting();
    });
    const queuedMs = Math.round(performance.now() - queuedAt);
    try {
      return await task(queuedMs);
    } finally {
      for (const host of wanted) {
        const open = this.#open.get(host);
        if (open) open.leases -= 1;
      }
      this.#grantWaiting();
    }
  }

  /** How many sessions are open (or closing) right now. */
  get openCount(): number {
    return this.#open.size + this.#closing;
  }

  /** Each host's session timings so far. */
  timingsOf(host: string): SessionTimings | undefined {
    return this.#timings.get(host);
  }

  /**
   * Each host's zfs calls during the run, as its agents counted them, summed over the sessions
   * it had. Never throws: a host whose channel dropped counts what its closed sessions reported.
   */
  async zfsCalls(hosts: readonly string[]): Promise<Map<string, ZfsCallsOutput>> {
    const counted = await Promise.all(hosts.map(async (host) => [host, addCalls(this.#closedZfsCalls.get(host), await this.#liveZfsCalls(host))] as const));
    return new Map(counted.filter((entry): entry is readonly [string, ZfsCallsOutput] => entry[1] !== undefined));
  }

  /** Hangs up every session; ask `zfsCalls` first; those counts are not kept. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open.keys()].map((host) => this.#close(host, { keepZfsCalls: false })));
  }

  /** First come first served: the head waits for room, later leases wait behind it (so a wide lease is not starved). */
  #grantWaiting(): void {
    for (let head = this.#waiting[0]; head; head = this.#waiting[0]) {
      const missing = head.hosts.filter((host) => !this.#open.has(host) && !this.#failed.has(host));
      const limit = Math.max(this.options.limit ?? Number.POSITIVE_INFINITY, head.hosts.length);
      const room = limit - this.openCount;
      if (missing.length > room) {
        const idle = [...this.#open].filter(([host, open]) => open.leases === 0 && !head.hosts.includes(host)).map(([host]) => host);
        for (const host of idle.slice(0, missing.length - room)) void this.#close(host, { keepZfsCalls: true }).then(() => this.#grantWaiting());
        return;
      }
      this.#waiting.shift();
      for (const host of head.hosts) {
        if (this.#failed.has(host)) continue;
        void this.get(host);
        this.#open.get(host)!.leases += 1;
      }
      head.grant();
    }
  }

  async #connect(host: string): Promise<AgentSession> {
    const startedAt = performance.now();
    // Callers handle a rejection (get's own catch observes it).
    const session = this.options.connect?.(host) ?? connectAgent(this.config, host, this.logger, this.options);
    const opened = await session;
    const timings = this.#timingsFor(host);
    const totalMs = performance.now() - startedAt;
    timings.sessions += 1;
    timings.connectMs += Math.round(opened.timings?.connectMs ?? 0);
    timings.handshakeMs += Math.round(opened.timings?.handshakeMs ?? totalMs);
    return opened;
  }

  async #close(host: string, { keepZfsCalls }: { keepZfsCalls: boolean }): Promise<void> {
    const open = this.#open.get(host);
    if (!open) return;
    this.#open.delete(host);
    this.#closing += 1;
    const startedAt = performance.now();
    try {
      const session = await open.session.catch(() => undefined);
      if (!session) return;
      if (keepZfsCalls) {
        const calls = await session.agent.zfsCalls.query().catch(() => undefined);
        if (calls) this.#closedZfsCalls.set(host, addCalls(this.#closedZfsCalls.get(host), calls)!);
      }
      session.close();
      this.#timingsFor(host).closeMs += Math.round(performance.now() - startedAt);
    } finally {
      this.#closing -= 1;
    }
  }

  async #liveZfsCalls(host: string): Promise<ZfsCallsOutput | undefined> {
    const session = await this.#open.get(host)?.session.catch(() => undefined);
    return session?.agent.zfsCalls.query().catch(() => undefined);
  }

  #timingsFor(host: string): SessionTimings {
    let timings = this.#timings.get(host);
    if (!timings) this.#timings.set(host, (timings = { sessions: 0, connectMs: 0, handshakeMs: 0, closeMs: 0 }));
    return timings;
  }
}

function addCalls(a: ZfsCallsOutput | undefined, b: ZfsCallsOutput | undefined): ZfsCallsOutput | undefined {
  if (!a || !b) return a ?? b;
  const byVerb = { ...a.byVerb };
  for (const [verb, count] of Object.entries(b.byVerb)) byVerb[verb] = (byVerb[verb] ?? 0) + count;
  return { total: a.total + b.total, byVerb };
}
