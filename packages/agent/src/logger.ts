import pino from 'pino';

/** Paths pino censors: object-store credentials must never reach a log line. */
export const AGENT_LOG_REDACT = ['secretAccessKey', '*.secretAccessKey', '*.*.secretAccessKey', 'sessionToken', '*.sessionToken', '*.*.sessionToken'];

/** The agent's stdout carries protocol frames only, so logs go to stderr (fd 2), synchronously. */
export function createAgentLogger(level: string = process.env['FLEET_AGENT_LOG_LEVEL'] ?? 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): pino.Logger {
  return pino({ name: 'fleet-agent', level, base: { pid: process.pid }, redact: { paths: AGENT_LOG_REDACT, censor: '[redacted]' } }, destination);
}
