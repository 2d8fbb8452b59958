import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FleetError } from '@zfs-fleet/protocol';
import { zfsFailure } from '@zfs-fleet/zfs';
import { classifyStreamFailure, type StreamOutcome, type StreamSubject } from './classify-stream-failure.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const subject: StreamSubject = { transfer: 'tank/a@s2', peer: { name: 'backup1', address: '10.77.0.21' }, force: false, recvArgv: ['recv', '-d', '-u', 'backup/fleet/src1/tank'] };
const sendOk = { exitCode: 0, stderr: '' };
/** zfs send killed by SIGPIPE, as the zfs exec reports it. */
const sendLostReader = { exitCode: 141, stderr: 'killed by SIGPIPE (Broken pipe)', error: zfsFailure(['send', 'tank/a@s2'], 'killed by SIGPIPE (Broken pipe)', 141) };
const outcome = (parts: Partial<StreamOutcome>): StreamOutcome => ({ ssh: { command: 'ssh', exitCode: 0, stderr: '' }, stages: [], send: sendOk, cancelled: false, ...parts });
const ssh = (exitCode: number, stderr: string) => ({ command: 'ssh', exitCode, stderr });

describe('classifyStreamFailure', () => {
  it('finds nothing wrong when every process exited 0', () => {
    expect(classifyStreamFailure(outcome({}), subject)).toBeUndefined();
  });

  it.each([
    ['ssh could not connect to the peer', outcome({ ssh: ssh(255, fixture('ssh-connection-refused.stderr')), send: sendLostReader }), 'SSH_CONNECT_FAILED', /could not reach peer "backup1" \(10\.77\.0\.21\) over ssh: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused/],
    ["the peer refused this host's key", outcome({ ssh: ssh(255, fixture('ssh-permission-denied.stderr')), send: sendLostReader }), 'SSH_CONNECT_FAILED', /Permission denied \(publickey\)/],
    [
      'the connection dropped mid-stream',
      outcome({ ssh: ssh(255, fixture('ssh-closed-by-peer.stderr')), send: sendLostReader }),
      'STREAM_FAILED',
      /connection to peer "backup1" broke while it received "tank\/a@s2" \(ssh exit 255: Connection to 10\.77\.0\.21 closed by remote host\.\).*; nothing partial was kept\./,
    ],
    [
      'ssh was killed on the source mid-stream (a resumable receive)',
      { ...outcome({ ssh: { command: 'ssh', exitCode: 143, signal: 'SIGTERM', stderr: '' }, send: sendLostReader }) },
      'STREAM_FAILED',
      /ssh connection from the source to peer "backup1" was killed by SIGTERM on the source while sending "tank\/a@s2"; zfs send on the source then stopped: killed by SIGPIPE/,
    ],
    ["the peer's restricted key refused a rollback", outcome({ ssh: ssh(1, fixture('agent-refused-rollback.stderr')), send: sendLostReader }), 'PERMISSION_DENIED', /refused the receive of "tank\/a@s2" under this host's replication key: refused: this key may not roll back/],
    ['zfs recv found the destination there', outcome({ ssh: ssh(1, fixture('recv-exists.stderr')), send: sendLostReader }), 'DESTINATION_NOT_EMPTY', /zfs recv on peer "backup1" failed for "tank\/a@s2": cannot receive new filesystem stream: destination 'tank\/rx\/Media' exists/],
    ['zfs recv failed in a way nobody names', outcome({ ssh: ssh(1, 'cannot receive: invalid stream (checksum mismatch)\n') }), 'STREAM_FAILED', /failed for "tank\/a@s2": cannot receive: invalid stream \(checksum mismatch\)/],
  ])('blames the peer when %s', (_what, given, code, message) => {
    const error = classifyStreamFailure(given, subject);
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('says the peer kept the partial stream when it receives with -s (OpenZFS), whichever end broke', () => {
    const killed = classifyStreamFailure(outcome({ ssh: { command: 'ssh', exitCode: 137, signal: 'SIGKILL', stderr: '' }, send: sendLostReader }), { ...subject, resumable: true });
    expect(killed).toMatchObject({ code: 'STREAM_FAILED', details: { side: 'source', process: 'ssh', signal: 'SIGKILL' } });
    expect(killed?.message).toContain('the next run resumes it');
    const dropped = classifyStreamFailure(outcome({ ssh: ssh(255, ''), send: sendLostReader }), { ...subject, resumable: true });
    expect(dropped?.message).toMatch(/ssh exit 255, no message: the connection or the peer's zfs recv was cut.*the next run resumes it/);
  });

  it('blames the send when zfs send names its reason and the receive merely saw a short stream', () => {
    const sendError = zfsFailure(['send', '-I', 'tank/a@nope', 'tank/a@s2'], fixture('send-nobase.stderr'), 1);
    const error = classifyStreamFailure(outcome({ ssh: ssh(1, 'cannot receive incremental stream: premature end of stream\n'), send: { exitCode: 1, stderr: fixture('send-nobase.stderr'), error: sendError } }), subject);
    expect(error).toBe(sendError);
    expect(error?.code).toBe('BASE_MISSING');
  });

  it('names both ends when the send failed for no named reason and the receive complained', () => {
    const sendError = zfsFailure(['send', 'tank/a@s2'], 'internal error: Input/output error\n', 1);
    const error = classifyStreamFailure(outcome({ ssh: ssh(1, 'cannot receive: premature end of stream\n'), send: { exitCode: 1, stderr: 'internal error: Input/output error\n', error: sendError } }), subject);
    expect(error).toMatchObject({ code: 'STREAM_FAILED', message: expect.stringContaining('; zfs send on this host: internal error: Input/output error'), details: { sendStderr: 'internal error: Input/output error\n' } });
  });

  it('blames the send when the receive side succeeded', () => {
    const sendError = zfsFailure(['send', 'tank/a@s2'], 'internal error\n', 1);
    expect(classifyStreamFailure(outcome({ send: { exitCode: 1, stderr: 'internal error\n', error: sendError } }), subject)).toBe(sendError);
  });

  it('blames a compression stage on the source that failed', () => {
    expect(classifyStreamFailure(outcome({ stages: [ssh(0, ''), { command: 'zstd', exitCode: 1, stderr: 'zstd: error 70 : Write error : cannot write block : Broken pipe\n' }] }), subject)).toMatchObject({
      code: 'STREAM_FAILED',
      message: 'zstd failed on the source: zstd: error 70 : Write error : cannot write block : Broken pipe',
    });
  });

  it('says a cancelled transfer was cancelled, whatever its processes said', () => {
    expect(classifyStreamFailure(outcome({ cancelled: true, ssh: ssh(255, fixture('ssh-closed-by-peer.stderr')) }), subject)?.code).toBe('CANCELLED');
  });
});
