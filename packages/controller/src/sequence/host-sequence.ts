import type pino from 'pino';
import { entrySettings, FleetError, toFleetErrorFromClient, type BackupEntry, type FleetConfig, type FleetErrorShape, type HookPhase, type HookResult, type SequenceStep, type SnapshotName } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { controllerHolder, describeTakeover, lockEntries, unlockEntries } from './entry-locks.ts';
import type { EntrySequenceReport, SequenceStepReport } from './sequence-report.ts';

export interface HostSequenceOptions {
  config: FleetConfig;
  host: string;
  session: AgentSession;
  entries: readonly BackupEntry[];
  /** The run's command and start, as the host locks name the holder. */
  command: string;
  startedAt: Date;
  /** A plan: nothing runs, each step is reported as planned. */
  dryRun: boolean;
  /** Why this run takes no snapshot (`--snapshot NAME`, `--no-snapshot`), if it takes none. */
  noSnapshotReason?: string;
  logger: pino.Logger;
  /** Every finished step, for progress. */
  onStep?: (host: string, dataset: string, step: SequenceStepReport) => void;
}

/**
 * The per-entry sequence on one source host: lock → preSnapshot → snapshot → postSnapshot →
 * replicate → export → pruneExports → pruneSnapshots → unlock, each entry running the subset its
 * `sequence:` names. The run drives it step by step (the snapshot and the replication stay the
 * run's own); this keeps what each entry did, which entries are still going, and releases the
 * locks however the run ends.
 */
export class HostSequence {
  readonly #options: HostSequenceOptions;
  readonly #reports = new Map<string, EntrySequenceReport>();
  /** Entries whose run stopped (LOCKED, preSnapshot failed), with the step that stopped them. */
  readonly #aborted = new Map<string, FleetErrorShape & { step?: SequenceStep }>();
  readonly #locked: BackupEntry[] = [];
  #unlocked = false;

  constructor(options: HostSequenceOptions) {
    this.#options = options;
    for (const entry of options.entries) this.#reports.set(entry.dataset, { host: options.host, dataset: entry.dataset, ok: true, steps: [] });
  }

  /** The entries that run `step` now: it is in their sequence and their run was not aborted. */
  entriesFor(step: SequenceStep): BackupEntry[] {
    return this.#options.entries.filter((entry) => this.#has(entry, step) && !this.#aborted.has(entry.dataset));
  }

  /** Why an entry stopped, if it did. */
  abortedBy(dataset: string): FleetErrorShape | undefined {
    const aborted = this.#aborted.get(dataset);
    if (!aborted) return undefined;
    const { step: _step, ...error } = aborted;
    return error;
  }

  reports(): EntrySequenceReport[] {
    return [...this.#reports.values()];
  }

  async lock(): Promise<void> {
    const entries = this.entriesFor('lock');
    if (entries.length === 0) return;
    if (this.#options.dryRun) return this.#each(entries, 'lock', { status: 'planned' });
    const started = performance.now();
    const results = await lockEntries(
      this.#options.session,
      controllerHolder(this.#options.command, this.#options.startedAt),
      entries.map((entry) => ({ dataset: entry.dataset, waitMs: entrySettings(this.#options.config, entry).lockWaitMs })),
      this.#options.logger,
    );
    for (const [index, result] of results.entries()) {
      const entry = entries[index]!;
      const durationMs = Math.round(performance.now() - started);
      if (result.acquired) {
        this.#locked.push(entry);
        const takeover = describeTakeover(result);
        this.#record(entry, { step: 'lock', status: 'ok', durationMs, ...(takeover ? { detail: takeover } : {}) });
      } else {
        this.#abort(entry, { step: 'lock', status: 'failed', durationMs, error: result.error! });
      }
    }
  }

  /**
   * Runs a hook phase for the entries that have commands for it. A failing preSnapshot aborts
   * its entry (no snapshot), whose postSnapshot still runs; a failing postSnapshot fails the
   * entry after its snapshot was taken (kept, not replicated this run).
   */
  async hooks(phase: HookPhase, snapshot: SnapshotName | undefined): Promise<void> {
    const runs = (entry: BackupEntry) => !this.#aborted.has(entry.dataset) || (phase === 'postSnapshot' && this.#aborted.get(entry.dataset)!.step === 'preSnapshot');
    const entries = this.#options.entries.filter((entry) => this.#has(entry, phase) && runs(entry));
    for (const entry of entries) {
      const hooks = entrySettings(this.#options.config, entry).hooks;
      const commands = hooks?.[phase] ?? [];
      if (commands.length === 0) {
        this.#record(entry, { step: phase, status: 'skipped', detail: 'no hooks' });
        continue;
      }
      if (this.#options.noSnapshotReason || !snapshot) {
        this.#record(entry, { step: phase, status: 'skipped', detail: this.#options.noSnapshotReason ?? 'no snapshot is taken' });
        continue;
      }
      if (this.#options.dryRun) {
        this.#record(entry, { step: phase, status: 'planned', detail: `${commands.length} command(s)` });
        continue;
      }
      const started = performance.now();
      let results: HookResult[];
      try {
        results = await this.#options.session.agent.sequence.runHooks.mutate({
          phase,
          commands,
          timeoutMs: hooks!.timeout,
          env: { FLEET_HOST: this.#options.host, FLEET_DATASET: entry.dataset, FLEET_SNAPSHOT: `${entry.dataset}@${snapshot}` },
          stopOnFailure: phase === 'preSnapshot',
        });
      } catch (error) {
        this.#fail(entry, phase, { step: phase, status: 'failed', durationMs: Math.round(performance.now() - started), error: toFleetErrorFromClient(error).toShape() });
        continue;
      }
      const durationMs = Math.round(performance.now() - started);
      const failed = results.find((result) => result.exitCode !== 0 || result.timedOut);
      if (!failed) {
        this.#record(entry, { step: phase, status: 'ok', durationMs, hooks: results });
        continue;
      }
      this.#fail(entry, phase, { step: phase, status: 'failed', durationMs, hooks: results, error: hookError(this.#options.host, entry.dataset, phase, failed) });
    }
  }

  /** Records a step the run did itself (snapshot, replicate) for these entries. */
  record(entries: readonly BackupEntry[], step: SequenceStep, report: Omit<SequenceStepReport, 'step'>): void {
    for (const entry of entries) {
      if (report.status === 'failed') this.#abort(entry, { step, ...report });
      else this.#record(entry, { step, ...report });
    }
  }

  /** Releases every lock this run took; never throws. Call it on every way out. */
  async unlock(): Promise<void> {
    if (this.#unlocked) return;
    this.#unlocked = true;
    const unlocked = this.#options.entries.filter((entry) => this.#has(entry, 'unlock'));
    if (this.#options.dryRun) return this.#each(unlocked, 'unlock', { status: 'planned' });
    if (this.#locked.length > 0)
      await unlockEntries(
        this.#options.session,
        this.#locked.map((entry) => entry.dataset),
        this.#options.logger,
      );
    for (const entry of unlocked) {
      const held = this.#locked.includes(entry);
      this.#record(entry, { step: 'unlock', status: held ? 'ok' : 'skipped', ...(held ? {} : { detail: 'no lock was held' }) });
    }
    this.#locked.length = 0;
  }

  #has(entry: BackupEntry, step: SequenceStep): boolean {
    return entrySettings(this.#options.config, entry).sequence.includes(step);
  }

  #each(entries: readonly BackupEntry[], step: SequenceStep, report: Omit<SequenceStepReport, 'step'>): void {
    for (const entry of entries) this.#record(entry, { step, ...report });
  }

  #record(entry: BackupEntry, step: SequenceStepReport): void {
    const report = this.#reports.get(entry.dataset)!;
    report.steps.push(step);
    if (step.status === 'failed') report.ok = false;
    this.#options.onStep?.(this.#options.host, entry.dataset, step);
  }

  /** A failed step that ends the entry's run (postSnapshot and unlock still come). */
  #abort(entry: BackupEntry, step: SequenceStepReport): void {
    this.#record(entry, step);
    if (!this.#aborted.has(entry.dataset)) this.#aborted.set(entry.dataset, { ...(step.error ?? { code: 'INTERNAL', message: `${step.step} failed` }), step: step.step });
  }

  /** preSnapshot failing aborts the entry; postSnapshot failing marks it failed, the snapshot stays. */
  #fail(entry: BackupEntry, phase: HookPhase, step: SequenceStepReport): void {
    if (phase === 'preSnapshot' || !this.#aborted.has(entry.dataset)) this.#abort(entry, step);
    else this.#record(entry, step);
  }
}

function hookError(host: string, dataset: string, phase: HookPhase, failed: HookResult): FleetErrorShape {
  const how = failed.timedOut ? `timed out and was killed with its process group` : failed.exitCode === null ? `was killed by ${failed.signal ?? 'a signal'}` : `exited with code ${failed.exitCode}`;
  const tail = failed.stderrTail.trim().split('\n').slice(-3).join(' | ');
  return new FleetError('HOOK_FAILED', `The ${phase} hook "${failed.command}" of "${dataset}" on ${host} ${how}${tail ? `: ${tail}` : ''}.`, {
    hint: phase === 'preSnapshot' ? 'No snapshot was taken for this entry; fix the hook (its output is in the report and the agent log) and run again.' : 'The snapshot was taken and kept; fix the hook and check what it should have undone.',
    details: { host, dataset, phase, command: failed.command, exitCode: failed.exitCode, signal: failed.signal, timedOut: failed.timedOut, stderrTail: failed.stderrTail },
  }).toShape();
}
