import { createReadStream } from 'node:fs';
import { stat as statFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FleetError, type S3Target } from '@zfs-fleet/protocol';
import { classifyS3Error } from './classify-s3-error.ts';
import type { ExportObject, ExportObjectEntry, ExportStorage, ExportStorageContext, IncompleteUpload } from './export-storage.ts';
import { readS3Credentials, type S3Credentials } from './s3-credentials.ts';

/** Multipart part size: 16 MiB parts, two in flight, keep an upload's memory near 32 MiB. */
export const S3_PART_SIZE_BYTES = 16 * 1024 ** 2;
const S3_MAX_PARTS = 10_000;
const PARTS_IN_FLIGHT = 2;

/**
 * An S3 bucket (AWS or any S3-compatible server). Objects are written by multipart upload
 * (lib-storage), so an object appears whole or not at all; its size is confirmed by HeadObject
 * afterwards. Checksums are computed only where the API requires them (`WHEN_REQUIRED`):
 * non-AWS servers reject or mis-store the newer flexible checksums, and every chunk has a sha256
 * in its manifest anyway. Credentials come from `credentialsFile` on this host, read when first needed.
 */
export function createS3Storage(target: S3Target, context: ExportStorageContext, options: { partSizeBytes?: number } = {}): ExportStorage {
  const keyPrefix = target.prefix === '' ? '' : `${target.prefix.replace(/\/+$/, '')}/`;
  const description = `s3 ${target.bucket}${keyPrefix === '' ? '' : `/${keyPrefix.slice(0, -1)}`} at ${target.endpoint}`;
  const logger = context.logger.child({ target: description });
  let credentials: Promise<S3Credentials> | undefined;
  const client = new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle,
    // Re-read after a failure, so a fixed file is picked up by the next call.
    credentials: () => {
      credentials ??= readS3Credentials(target.credentialsFile, description).catch((error) => {
        credentials = undefined;
        throw error;
      });
      return credentials;
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
  const objectKey = (key: string) => `${keyPrefix}${key}`;

  /** Runs one S3 call; failures become FleetErrors naming the target and the object. */
  async function call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toStorageError(operation, key, error);
    }
  }

  function toStorageError(operation: string, key: string, error: unknown): FleetError {
    if (error instanceof FleetError) return error;
    const failure = classifyS3Error(error);
    const details = { target: description, key };
    if (failure.kind === 'missing') return new FleetError('TARGET_OBJECT_MISSING', `"${key}" is missing on ${description}`, { details });
    if (failure.kind === 'unreachable') {
      return new FleetError('TARGET_UNREACHABLE', `${operation} "${key}" on ${description} failed: ${failure.reason}`, {
        hint: 'check the endpoint, the bucket and the credentials file; `fleet doctor` checks every target',
        cause: error,
        details,
      });
    }
    return new FleetError('TARGET_IO_FAILED', `${operation} "${key}" on ${description} failed: ${failure.reason}`, {
      hint: 'the export run can be repeated: nothing partial is committed',
      cause: error,
      details,
    });
  }

  async function head(key: string): Promise<ExportObject | undefined> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: objectKey(key) }));
      return { sizeBytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (classifyS3Error(error).kind === 'missing') return undefined;
      throw toStorageError('reading', key, error);
    }
  }

  return {
    description,

    async putFile(localPath, key, putOptions) {
      const { size } = await statFile(localPath);
      const partSize = Math.max(options.partSizeBytes ?? S3_PART_SIZE_BYTES, Math.ceil(size / S3_MAX_PARTS));
      const upload = new Upload({
        client,
        params: { Bucket: target.bucket, Key: objectKey(key), Body: createReadStream(localPath), ContentLength: size },
        partSize,
        queueSize: PARTS_IN_FLIGHT,
        // A failed upload aborts its parts; one killed outright is left for `verify --cleanup`.
        leavePartsOnError: false,
      });
      const abort = () => void upload.abort();
      putOptions?.signal?.addEventListener('abort', abort, { once: true });
      try {
        putOptions?.signal?.throwIfAborted();
        await call('writing', key, () => upload.done());
      } catch (error) {
        if (putOptions?.signal?.aborted) throw putOptions.signal.reason;
        throw error;
      } finally {
        putOptions?.signal?.removeEventListener('abort', abort);
      }
      const stored = await head(key);
      if (stored?.sizeBytes !== size) {
        throw new FleetError('TARGET_IO_FAILED', `"${key}" on ${description} has ${stored?.sizeBytes ?? 'no'} bytes after upload, expected ${size}`, {
          hint: 'the server did not store what was sent; the export run can be repeated',
          details: { target: description, key },
        });
      }
      logger.debug({ key, sizeBytes: size, partSizeBytes: partSize }, 'object uploaded');
      return { sizeBytes: size };
    },

    async read(key, readOptions): Promise<Readable> {
      const range = readOptions?.range;
      const response = await call('reading', key, () =>
        client.send(
          new GetObjectCommand({
            Bucket: target.bucket,
            Key: objectKey(key),
            ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
          }),
          readOptions?.signal ? { abortSignal: readOptions.signal } : {},
        ),
      );
      return response.Body as Readable;
    },

    stat: head,

    async list(prefix): Promise<ExportObjectEntry[]> {
      const entries: ExportObjectEntry[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await call('listing', prefix, () => client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: objectKey(prefix), ContinuationToken: continuationToken })));
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          entries.push({ key: object.Key.slice(keyPrefix.length), sizeBytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) });
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken);
      return entries;
    },

    async delete(keys) {
      // One at a time and in order: callers delete a manifest before its chunks.
      for (const key of keys) {
        await call('deleting', key, () => client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: objectKey(key) })));
      }
    },

    async listIncompleteUploads(prefix): Promise<IncompleteUpload[]> {
      const uploads: IncompleteUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        const page = await call('listing uploads under', prefix, () => client.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: objectKey(prefix), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })));
        for (const upload of page.Uploads ?? []) {
          if (upload.Key === undefined || upload.UploadId === undefined) continue;
          uploads.push({ key: upload.Key.slice(keyPrefix.length), uploadId: upload.UploadId, initiatedAt: upload.Initiated ?? new Date(0) });
        }
        [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
      } while (keyMarker);
      return uploads;
    },

    async abortIncompleteUpload({ key, uploadId }) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: objectKey(key), UploadId: uploadId }));
      } catch (error) {
        if (classifyS3Error(error).kind !== 'missing') throw toStorageError('aborting the upload of', key, error);
      }
      logger.info({ key, uploadId }, 'incomplete upload aborted');
    },
  };
}
