import pino from 'pino';
import pretty from 'pino-pretty';

/** Controller logs: pino JSON on stderr, or pretty lines for humans with --log-format pretty. */
export function createControllerLogger(options: { level: string; format: 'json' | 'pretty' }): pino.Logger {
  const destination = options.format === 'pretty' ? pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'fleet', level: options.level, redact: ['*.privateKey', '*.passphrase'] }, destination);
}
