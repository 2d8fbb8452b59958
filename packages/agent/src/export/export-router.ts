import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DeleteExportsInputSchema, EXPORT_LAYOUT, ExportInputSchema, initFleetTRPC, ListExportsInputSchema, RestoreExportInputSchema, TargetConfigSchema, toFleetError, VerifyExportsInputSchema } from '@zfs-fleet/protocol';
import type { AgentContext } from '../context.ts';
import { deleteExports } from './delete-exports.ts';
import { cleanIncompleteUploads } from './incomplete-uploads.ts';
import { listExports } from './list-exports.ts';
import { restoreExport } from './restore-export.ts';
import { runExport } from './run-export.ts';
import { createExportStorage } from './storage/create-export-storage.ts';
import { verifyExports } from './verify-exports.ts';

const t = initFleetTRPC<AgentContext>();

const TargetRefSchema = z.object({ name: z.string().min(1), config: TargetConfigSchema });

function storageFor(ctx: AgentContext, target: z.infer<typeof TargetRefSchema>) {
  return createExportStorage(target.config, { logger: ctx.logger.child({ target: target.name }), spoolDirectory: path.join(os.tmpdir(), 'zfs-fleet-spool') });
}

/** Exports to targets without ZFS (issue #12), run on the source host; bytes never cross tRPC. */
export const exportRouter = t.router({
  list: t.procedure.input(ListExportsInputSchema).query(({ ctx, input }) => listExports(storageFor(ctx, input.target), input.host, input.datasets)),

  run: t.procedure.input(ExportInputSchema).subscription(({ ctx, input, signal }) => runExport(ctx, input, signal)),

  verify: t.procedure.input(VerifyExportsInputSchema).query(({ ctx, input, signal }) => verifyExports(storageFor(ctx, input.target), input.host, input.manifests, input.hashPercent, signal)),

  delete: t.procedure.input(DeleteExportsInputSchema).mutation(async ({ ctx, input }) => {
    const result = await deleteExports(storageFor(ctx, input.target), input.host, input.exports);
    ctx.logger.warn({ target: input.target.name, exports: input.exports.map((entry) => entry.exportId) }, 'exports deleted');
    return result;
  }),

  restore: t.procedure.input(RestoreExportInputSchema).subscription(({ ctx, input, signal }) => restoreExport(ctx, input, signal)),

  /** `fleet verify` (listed; with `abortBefore`, `--cleanup` aborts them): multipart uploads never completed. */
  incompleteUploads: t.procedure.input(z.object({ target: TargetRefSchema, host: z.string().min(1), abortBefore: z.iso.datetime().optional() })).mutation(async ({ ctx, input }) => {
    const result = await cleanIncompleteUploads(storageFor(ctx, input.target), `${EXPORT_LAYOUT}/${input.host}/`, input.abortBefore ? new Date(input.abortBefore) : undefined);
    if (result.aborted.length > 0) ctx.logger.warn({ target: input.target.name, aborted: result.aborted }, 'incomplete multipart uploads aborted');
    return result;
  }),

  /** For `fleet doctor`: the target answers a listing, and the tools an export needs are here. */
  check: t.procedure.input(z.object({ target: TargetRefSchema })).query(async ({ ctx, input }) => {
    const tools = await ctx.tools();
    try {
      await storageFor(ctx, input.target).list(`${EXPORT_LAYOUT}/`);
      return { reachable: true as const, age: tools.age === true, zstd: tools.zstd };
    } catch (error) {
      return { reachable: false as const, error: toFleetError(error).toShape(), age: tools.age === true, zstd: tools.zstd };
    }
  }),
});
