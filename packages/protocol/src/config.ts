import { z } from 'zod';
import { DurationSchema } from './duration.ts';
import { ExportSettingsSchema, resolveExportSettings, TargetsSchema } from './export-config.ts';
import { DatasetNameSchema } from './names.ts';

export { DurationSchema };

/** C0 controls, DEL and C1 controls: no name, path or pattern has them, and they garble the messages that quote it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** A path or a pattern: anything printable (paths and patterns are only used inside the controller, never in a shell). */
const TextSchema = z
  .string()
  .min(1)
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'no control characters (newline, tab, NUL, escape...)');

/** A login name, on the controller's ssh and in the agent's `ssh -l`. */
const UserSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a user name: letters, digits, "_", "-", "." and no leading punctuation');

/** Host names become dataset components on peers (`backup/fleet/<host>/...`), so they follow ZFS's rules too. */
const HostNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "-", "." and no leading punctuation');

/** `name`, `1.2.3.4`, `name:2222`, `[::1]:2222`. */
const AddressSchema = z
  .string()
  .min(1)
  // No leading "-": the agent puts the address in ssh's argv, where it would read as an option.
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*)(:[0-9]{1,5})?$/, 'a host name or IP, optionally with ":port"');

export const SshConfigSchema = z.strictObject({
  user: UserSchema.default('root'),
  identityFile: TextSchema,
  knownHosts: TextSchema,
  port: z.number().int().min(1).max(65535).default(22),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /** How long an agent has to answer the handshake once its command started; a slow VM needs more. */
  handshakeTimeout: DurationSchema.refine((ms) => ms > 0, 'longer than 0s').default(30_000),
});

/** `wire.stallTimeout`'s default: zfs send and recv pause for seconds at most in normal work (a recv -F rollback, a busy pool). */
export const DEFAULT_STALL_TIMEOUT_MS = 300_000;

export const WireConfigSchema = z.strictObject({
  /** Compression on the wire between source and peer, used when both ends have the tool. */
  compression: z.enum(['none', 'zstd', 'lz4']).default('none'),
  /** OpenSSH cipher for source → peer streams; aes128-gcm measured ~30% faster than the default here. */
  cipher: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9@._-]*$/, 'a cipher name such as "aes128-gcm@openssh.com"')
    .optional(),
  /** mbuffer size between zfs send and ssh, e.g. "128M"; off when absent. */
  buffer: z
    .string()
    .regex(/^[0-9]+[kMG]?$/)
    .optional(),
  /** Bandwidth limit in bytes per second (needs mbuffer on the source). */
  bandwidthLimitBytesPerSecond: z.number().int().positive().optional(),
  /** A stream that carries no bytes for this long is stopped and its unit fails with TIMEOUT (phase "stream"). */
  stallTimeout: DurationSchema.refine((ms) => ms > 0, 'longer than 0s').default(DEFAULT_STALL_TIMEOUT_MS),
});

/** How the wire settings travel to the agent: durations already in milliseconds. */
export const WireInputSchema = WireConfigSchema.extend({ stallTimeout: z.number().int().positive().default(DEFAULT_STALL_TIMEOUT_MS) });

/** Where `fleet agent install` puts the agent's launcher on every host. */
export const AGENT_LAUNCHER_PATH = '/opt/zfs-fleet/bin/fleet-agent';

export const AgentConfigSchema = z.strictObject({
  /** How to start the agent on a host: a command line of plain words (no shell syntax). */
  command: z
    .string()
    .regex(/^[A-Za-z0-9@%+=:,./_][A-Za-z0-9@%+=:,./_ -]*$/, 'plain words: letters, digits and "@%+=:,./_-" separated by spaces, not starting with "-"')
    .default(AGENT_LAUNCHER_PATH),
  /**
   * What runs the installed agent: the absolute path of a Node.js (≥ 18), or `bundled` for the
   * agent's single executable (linux-x64, no Node.js needed). Default: `command -v node` on the
   * host, else the single executable.
   */
  runtime: z.union([z.literal('bundled'), z.string().regex(/^\/[A-Za-z0-9@%+=:,./_-]*$/, 'an absolute path of plain characters, e.g. /usr/bin/node, or "bundled"')]).optional(),
});

/** The steps of an entry's run, in the only order they may run. */
export const SEQUENCE_STEPS = ['lock', 'preSnapshot', 'snapshot', 'postSnapshot', 'replicate', 'export', 'pruneExports', 'pruneSnapshots', 'unlock'] as const;
export type SequenceStep = (typeof SEQUENCE_STEPS)[number];

const count = z.number().int().nonnegative();

/**
 * A retention policy: per calendar period (in the host's time zone) the newest snapshot of
 * each of the N most recent periods that have one, like sanoid; `maxAge` is a ceiling.
 */
export const RetentionSchema = z
  .strictObject({
    hourly: count.optional(),
    daily: count.optional(),
    weekly: count.optional(),
    monthly: count.optional(),
    yearly: count.optional(),
    /** Nothing older stays (protected snapshots excepted), e.g. "30d". */
    maxAge: DurationSchema.optional(),
  })
  .refine((policy) => Object.values(policy).some((value) => value !== undefined), 'at least one of hourly, daily, weekly, monthly, yearly, maxAge')
  .transform(({ maxAge, ...counts }) => ({ ...counts, ...(maxAge !== undefined ? { maxAgeMs: maxAge } : {}) }));
export type Retention = z.infer<typeof RetentionSchema>;

/** A hook: a shell script by design, so only NUL, which no command line can carry, is refused. */
const HookCommandSchema = z
  .string()
  .min(1)
  .refine((command) => !command.includes('\u0000'), 'no NUL character');

/** Commands the administrator writes, run on the source host through `sh -c`. */
export const HooksSchema = z.strictObject({
  preSnapshot: z.array(HookCommandSchema).default([]),
  postSnapshot: z.array(HookCommandSchema).default([]),
  /** Per command; the command's whole process group is killed when it runs longer. */
  timeout: DurationSchema.default(300_000),
});
export type Hooks = z.infer<typeof HooksSchema>;

export const PruneConfigSchema = z.strictObject({
  /** Snapshots not named by zfs-fleet that pruning may destroy too, e.g. "^autosnap_". */
  include: TextSchema.refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'a JavaScript regular expression').optional(),
});

const SequenceSchema = z
  .array(z.enum(SEQUENCE_STEPS))
  .min(1)
  .superRefine((steps, ctx) => {
    steps.forEach((step, index) => {
      const previous = steps[index - 1];
      if (steps.indexOf(step) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `"${step}" appears twice` });
      else if (previous !== undefined && SEQUENCE_STEPS.indexOf(step) < SEQUENCE_STEPS.indexOf(previous)) {
        ctx.addIssue({ code: 'custom', path: [index], message: `"${step}" cannot come after "${previous}"; the order is ${SEQUENCE_STEPS.join(' → ')}` });
      }
    });
    if (steps.includes('lock') !== steps.includes('unlock')) ctx.addIssue({ code: 'custom', message: 'has "lock" without "unlock" or the other way round' });
  });

/** Settings an entry may set and the fleet's `defaults:` may give every entry. */
const EntryDefaultsShape = {
  hooks: HooksSchema.optional(),
  /** Retention on the source. */
  keep: RetentionSchema.optional(),
  /** Retention on every peer; default: the same as `keep:`. */
  peerKeep: RetentionSchema.optional(),
  /** How long to wait for another run's lock on this entry; default: refuse at once. */
  lockWait: DurationSchema.optional(),
  prune: PruneConfigSchema.optional(),
};

export const BackupEntrySchema = z.strictObject({
  ...EntryDefaultsShape,
  /** A subset of SEQUENCE_STEPS, in that order; default: all of them. */
  sequence: SequenceSchema.optional(),
  dataset: DatasetNameSchema,
  recursive: z.boolean().default(false),
  /** Peer hosts (ZFS receives) and export targets (`targets:`), by name. */
  to: z.array(HostNameSchema).min(1, 'at least one peer host or export target'),
  /** Overrides the top-level and the target's `exports:` settings for this entry. */
  exports: ExportSettingsSchema.optional(),
  exclude: z.array(TextSchema).default([]),
  /** Off by default: the peer keeps its own history when the source prunes. */
  mirrorDeletions: z.boolean().default(false),
  /** Cron expression for `fleet run --due`. */
  schedule: TextSchema.optional(),
  /** Recovery point objective: the newest replicated snapshot must be younger than this. */
  rpo: DurationSchema.optional(),
});

export const ReceiveConfigSchema = z.strictObject({
  /** Streams from host H land below `<root>/H/<pool>/...`. */
  root: DatasetNameSchema,
});

export const HostConfigSchema = z.strictObject({
  address: AddressSchema,
  user: UserSchema.optional(),
  agent: AgentConfigSchema.optional(),
  backups: z.array(BackupEntrySchema).default([]),
  receive: ReceiveConfigSchema.optional(),
});

/** A laptop holds this many SSH sessions and agents' pipes easily; a fleet of thousands queues behind them. */
const DEFAULT_CONNECTIONS = 16;

export const FleetConfigSchema = z
  .strictObject({
    ssh: SshConfigSchema,
    agent: AgentConfigSchema.default({ command: AGENT_LAUNCHER_PATH }),
    wire: WireConfigSchema.default({ compression: 'none', stallTimeout: DEFAULT_STALL_TIMEOUT_MS }),
    snapshotPrefix: z
      .string()
      // Snapshot names are `<prefix>-<time>`: a leading "-" would make them read as an option.
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits, "_", ".", ":", "-", starting with a letter or digit')
      .default('fleet'),
    parallel: z
      .strictObject({
        /** Transfers running at once across the fleet. */
        global: z.number().int().positive().default(4),
        /** Transfers touching one host (as source or peer) at once. */
        perHost: z.number().int().positive().default(2),
        /** Agent sessions (SSH connections) the controller holds open at once; a transfer needs two. */
        connections: z.number().int().min(2).default(DEFAULT_CONNECTIONS),
      })
      .default({ global: 4, perHost: 2, connections: DEFAULT_CONNECTIONS }),
    /** Journal and lock of the controller; default /var/lib/zfs-fleet (root) or ~/.local/state/zfs-fleet. */
    stateDir: TextSchema.optional(),
    /** Prometheus textfile written after each run; default `<stateDir>/zfs-fleet.prom`. */
    metrics: z.strictObject({ textfile: TextSchema.optional() }).optional(),
    /** Entry settings every entry gets unless it sets its own. */
    defaults: z.strictObject(EntryDefaultsShape).default({}),
    hosts: z.record(HostNameSchema, HostConfigSchema),
    /** Places without ZFS that entries export to (issue #12): directories, rclone remotes, S3. */
    targets: TargetsSchema.default({}),
    /** Export settings every target and entry gets unless it sets its own. */
    exports: ExportSettingsSchema.optional(),
  })
  .superRefine((config, ctx) => {
    for (const name of Object.keys(config.targets)) {
      if (Object.hasOwn(config.hosts, name)) ctx.addIssue({ code: 'custom', path: ['targets', name], message: `"${name}" is also a host: a name in "to:" must mean one thing` });
    }
    for (const [hostName, host] of Object.entries(config.hosts)) {
      host.backups.forEach((entry, index) => {
        const settings = entrySettings(config, entry);
        const path = ['hosts', hostName, 'backups', index, 'sequence'];
        if (entry.sequence?.includes('pruneSnapshots') && !settings.keep && !settings.peerKeep) {
          ctx.addIssue({ code: 'custom', path, message: 'has "pruneSnapshots" but the entry has no keep: or peerKeep: (nor defaults)' });
        }
        for (const phase of ['preSnapshot', 'postSnapshot'] as const) {
          if ((settings.hooks?.[phase].length ?? 0) > 0 && !settings.sequence.includes(phase)) {
            ctx.addIssue({ code: 'custom', path, message: `has no "${phase}" step, so the ${phase} hooks would never run` });
          }
        }
        entry.to.forEach((peer, peerIndex) => {
          const path = ['hosts', hostName, 'backups', index, 'to', peerIndex];
          const peerHost = Object.hasOwn(config.hosts, peer) ? config.hosts[peer] : undefined;
          const target = Object.hasOwn(config.targets, peer) ? config.targets[peer] : undefined;
          if (target) {
            const settings = resolveExportSettings(config.exports, target.exports, entry.exports);
            if ('missing' in settings) ctx.addIssue({ code: 'custom', path, message: `target "${peer}" needs exports.encryption.recipients (top-level, in the target or in the entry)` });
          } else if (!peerHost) {
            ctx.addIssue({ code: 'custom', path, message: `"${peer}" is neither a host nor a target in this config` });
          } else if (!peerHost.receive) {
            ctx.addIssue({ code: 'custom', path, message: `host "${peer}" has no "receive:" section, so it cannot be a peer` });
          } else if (peer === hostName) {
            ctx.addIssue({ code: 'custom', path, message: `host "${hostName}" cannot back up to itself` });
          }
        });
      });
    }
  });

export type FleetConfig = z.infer<typeof FleetConfigSchema>;
export type HostConfig = z.infer<typeof HostConfigSchema>;
export type BackupEntry = z.infer<typeof BackupEntrySchema>;
export type WireConfig = z.infer<typeof WireConfigSchema>;

/** The ZFS peers an entry's `to:` names (its other names are export targets). */
export function peersOf(config: Pick<FleetConfig, 'targets'>, entry: Pick<BackupEntry, 'to'>): string[] {
  return entry.to.filter((name) => !Object.hasOwn(config.targets ?? {}, name));
}

/** The export targets an entry's `to:` names. */
export function targetsOf(config: Pick<FleetConfig, 'targets'>, entry: Pick<BackupEntry, 'to'>): string[] {
  return entry.to.filter((name) => Object.hasOwn(config.targets ?? {}, name));
}

/** An entry's settings with the fleet's `defaults:` filled in. */
export function entrySettings(config: Pick<FleetConfig, 'defaults'>, entry: BackupEntry) {
  const defaults = config.defaults ?? {};
  const keep = entry.keep ?? defaults.keep;
  return {
    sequence: entry.sequence ?? [...SEQUENCE_STEPS],
    hooks: entry.hooks ?? defaults.hooks,
    keep,
    peerKeep: entry.peerKeep ?? defaults.peerKeep ?? keep,
    lockWaitMs: entry.lockWait ?? defaults.lockWait ?? 0,
    prune: entry.prune ?? defaults.prune ?? {},
  };
}
export type EntrySettings = ReturnType<typeof entrySettings>;
