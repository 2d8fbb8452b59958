import pino from 'pino';

/** The agent's stdout carries protocol frames only, so logs go to stderr (fd 2), synchronously. */
export function createAgentLogger(level: string = process.env['FLEET_AGENT_LOG_LEVEL'] ?? 'info'): pino.Logger {
  return pino({ name: 'fleet-agent', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
