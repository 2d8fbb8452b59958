import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startS3Server } from './s3-server.ts';

export interface ProvidedS3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  credentialsFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3Server: ProvidedS3Server;
  }
}

/** Vitest global setup: one radosgw for a whole test run (`inject('s3Server')`), stopped at its end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startS3Server();
  console.log(`radosgw up at ${server.endpoint} in ${server.startSeconds}s`);
  project.provide('s3Server', { endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, credentialsFile: server.credentialsFile });
  return () => server.stop();
}
