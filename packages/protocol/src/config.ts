import { z } from 'zod';
import { DatasetNameSchema } from './names.ts';

/** Host names become dataset components on peers (`backup/fleet/<host>/...`), so they follow ZFS's rules too. */
const HostNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "-", "." and no leading punctuation');

/** `name`, `1.2.3.4`, `name:2222`, `[::1]:2222`. */
const AddressSchema = z
  .string()
  .min(1)
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$/, 'a host name or IP, optionally with ":port"');

/** Durations such as `90s`, `45m`, `26h`, `7d`, as milliseconds. */
export const DurationSchema = z
  .string()
  .regex(/^[0-9]+(s|m|h|d)$/, 'a duration such as "90s", "45m", "26h" or "7d"')
  .transform((value) => {
    const amount = Number(value.slice(0, -1));
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[value.slice(-1) as 's' | 'm' | 'h' | 'd'];
    return amount * unitMs;
  });

export const SshConfigSchema = z.strictObject({
  user: z.string().min(1).default('root'),
  identityFile: z.string().min(1),
  knownHosts: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  connectTimeoutMs: z.number().int().positive().default(10_000),
});

export const WireConfigSchema = z.strictObject({
  /** Compression on the wire between source and peer, used when both ends have the tool. */
  compression: z.enum(['none', 'zstd', 'lz4']).default('none'),
  /** OpenSSH cipher for source → peer streams; aes128-gcm measured ~30% faster than the default here. */
  cipher: z
    .string()
    .regex(/^[A-Za-z0-9@._-]+$/)
    .optional(),
  /** mbuffer size between zfs send and ssh, e.g. "128M"; off when absent. */
  buffer: z
    .string()
    .regex(/^[0-9]+[kMG]?$/)
    .optional(),
  /** Bandwidth limit in bytes per second (needs mbuffer on the source). */
  bandwidthLimitBytesPerSecond: z.number().int().positive().optional(),
});

/** Where `fleet agent install` puts the agent's launcher on every host. */
export const AGENT_LAUNCHER_PATH = '/opt/zfs-fleet/bin/fleet-agent';

export const AgentConfigSchema = z.strictObject({
  /** How to start the agent on a host: a command line of plain words (no shell syntax). */
  command: z
    .string()
    .regex(/^[A-Za-z0-9@%+=:,./_ -]+$/, 'plain words: letters, digits and "@%+=:,./_-" separated by spaces')
    .default(AGENT_LAUNCHER_PATH),
  /**
   * What runs the installed agent: the absolute path of a Node.js (≥ 18), or `bundled` for the
   * agent's single executable (linux-x64, no Node.js needed). Default: `command -v node` on the
   * host, else the single executable.
   */
  runtime: z.union([z.literal('bundled'), z.string().regex(/^\/[A-Za-z0-9@%+=:,./_-]*$/, 'an absolute path of plain characters, e.g. /usr/bin/node, or "bundled"')]).optional(),
});

export const BackupEntrySchema = z.strictObject({
  dataset: DatasetNameSchema,
  recursive: z.boolean().default(false),
  to: z.array(HostNameSchema).min(1, 'at least one peer host'),
  exclude: z.array(z.string().min(1)).default([]),
  /** Off by default: the peer keeps its own history when the source prunes. */
  mirrorDeletions: z.boolean().default(false),
  /** Cron expression for `fleet run --due`. */
  schedule: z.string().min(1).optional(),
  /** Recovery point objective: the newest replicated snapshot must be younger than this. */
  rpo: DurationSchema.optional(),
});

export const ReceiveConfigSchema = z.strictObject({
  /** Streams from host H land below `<root>/H/<pool>/...`. */
  root: DatasetNameSchema,
});

export const HostConfigSchema = z.strictObject({
  address: AddressSchema,
  user: z.string().min(1).optional(),
  agent: AgentConfigSchema.optional(),
  backups: z.array(BackupEntrySchema).default([]),
  receive: ReceiveConfigSchema.optional(),
});

export const FleetConfigSchema = z
  .strictObject({
    ssh: SshConfigSchema,
    agent: AgentConfigSchema.default({ command: AGENT_LAUNCHER_PATH }),
    wire: WireConfigSchema.default({ compression: 'none' }),
    snapshotPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .default('fleet'),
    parallel: z
      .strictObject({
        /** Transfers running at once across the fleet. */
        global: z.number().int().positive().default(4),
        /** Transfers touching one host (as source or peer) at once. */
        perHost: z.number().int().positive().default(2),
      })
      .default({ global: 4, perHost: 2 }),
    /** Journal and lock of the controller; default /var/lib/zfs-fleet (root) or ~/.local/state/zfs-fleet. */
    stateDir: z.string().min(1).optional(),
    /** Prometheus textfile written after each run; default `<stateDir>/zfs-fleet.prom`. */
    metrics: z.strictObject({ textfile: z.string().min(1).optional() }).optional(),
    hosts: z.record(HostNameSchema, HostConfigSchema),
  })
  .superRefine((config, ctx) => {
    for (const [hostName, host] of Object.entries(config.hosts)) {
      host.backups.forEach((entry, index) => {
        entry.to.forEach((peer, peerIndex) => {
          const path = ['hosts', hostName, 'backups', index, 'to', peerIndex];
          const peerHost = config.hosts[peer];
          if (!peerHost) {
            ctx.addIssue({ code: 'custom', path, message: `"${peer}" is not a host in this config` });
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
