import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const S3_SCRIPT = fileURLToPath(new URL('../s3/s3-server.sh', import.meta.url));

/** A running one-node Ceph radosgw (test/lab/s3/s3-server.sh). */
export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `AWS_ACCESS_KEY_ID=`/`AWS_SECRET_ACCESS_KEY=` lines, mode 600. */
  credentialsFile: string;
  startSeconds: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts radosgw on `address` (127.0.0.1 by default; 10.77.0.1 for the lab's hosts) at a port
 * picked at random unless given, so two test runs on the machine do not collide.
 */
export async function startS3Server(options: { address?: string; port?: number } = {}): Promise<S3Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-s3-'));
  const port = options.port ?? 20_000 + Math.floor(Math.random() * 20_000) * 2;
  const stop = async () => {
    await execa('bash', [S3_SCRIPT, 'down', dir], { reject: false });
  };
  try {
    const { stdout } = await execa('bash', [S3_SCRIPT, 'up', dir], {
      env: { S3_ADDRESS: options.address ?? '127.0.0.1', S3_PORT: String(port) },
      timeout: 180_000,
    });
    const values = Object.fromEntries(stdout.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    return {
      endpoint: values['endpoint'] ?? '',
      accessKeyId: values['accessKeyId'] ?? '',
      secretAccessKey: values['secretAccessKey'] ?? '',
      credentialsFile: path.join(dir, 'credentials.env'),
      startSeconds: Number(values['startSeconds']),
      dir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Writes a credentials file elsewhere (e.g. where a lab host can read it). */
export async function writeS3CredentialsFile(file: string, server: Pick<S3Server, 'accessKeyId' | 'secretAccessKey'>): Promise<void> {
  await writeFile(file, `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${server.secretAccessKey}\n`, { mode: 0o600 });
}
