import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, test } from 'vitest';
import { FLEET_BIN } from './support/fleet.ts';

// What a user meets first: a failed plan on a terminal, and a mistyped command. The terminal is
// a real pseudo-terminal (util-linux `script`); the hosts are closed ports on loopback, so every
// connection fails at once.
let config: string;

/** Runs fleet on a pseudo-terminal; stdout and stderr both land on it. Returns the screen, without colours or CRs. */
async function onTerminal(args: string[]): Promise<{ exitCode: number; screen: string }> {
  const quoted = ['node', FLEET_BIN, '--config', config, ...args].map((word) => `'${word}'`).join(' ');
  const result = await execa('script', ['-qec', quoted, '/dev/null'], { reject: false, stdin: 'ignore', env: { FLEET_CONFIG: '', TERM: 'xterm' } });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
  return { exitCode: result.exitCode ?? -1, screen: result.stdout.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '') };
}

async function piped(args: string[]) {
  const result = await execa('node', [FLEET_BIN, '--config', config, ...args], { reject: false, env: { FLEET_CONFIG: '' } });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const count = (text: string, part: string) => text.split(part).length - 1;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-first-'));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
  await writeFile(path.join(dir, 'known_hosts'), '');
  config = path.join(dir, 'fleet.yaml');
  await writeFile(
    config,
    [
      'ssh: { identityFile: ./key, knownHosts: ./known_hosts, connectTimeoutMs: 2000 }',
      'stateDir: ./state',
      'hosts:',
      '  src1: { address: "127.0.0.1:1", backups: [{ dataset: tank/Media, to: [backup1] }] }',
      '  backup1: { address: "127.0.0.1:2", receive: { root: backup/fleet } }',
      '',
    ].join('\n'),
  );
});

describe('on a terminal', () => {
  test('a failed plan shows its error once, in the report, with no JSON log line', async () => {
    const { exitCode, screen } = await onTerminal(['plan', '--all']);
    expect(exitCode).toBe(1);
    expect(screen).toMatch(/^FAILED\s+src1\s+tank\/Media\s+→ backup1\s+SSH_CONNECT_FAILED$/m);
    expect(count(screen, 'connect ECONNREFUSED 127.0.0.1:1')).toBe(1);
    expect(count(screen, 'hint: Check that the host is up')).toBe(1);
    expect(screen).not.toContain('{"level"');
  });

  test('logs are pretty by default, JSON with --log-format json', async () => {
    const pretty = await onTerminal(['plan', '--all', '--log-level', 'info']);
    expect(pretty.screen).toMatch(/^\[[\d:.]+\] INFO \(fleet\/\d+\): source host failed$/m);
    expect(pretty.screen).not.toContain('{"level"');
    const json = await onTerminal(['plan', '--all', '--log-level', 'info', '--log-format', 'json']);
    expect(json.screen).toMatch(/^\{"level":30,.*"msg":"source host failed"\}$/m);
  });
});

describe('not on a terminal', () => {
  test('logs are JSON lines on stderr; the error is logged only at info, below the default level', async () => {
    const quiet = await piped(['plan', '--all']);
    expect(quiet.exitCode).toBe(1);
    expect(quiet.stderr).toBe('');
    expect(count(quiet.stdout, 'connect ECONNREFUSED 127.0.0.1:1')).toBe(1);
    const info = await piped(['plan', '--all', '--log-level', 'info']);
    const lines = info.stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'source host failed', host: 'src1', err: expect.objectContaining({ code: 'SSH_CONNECT_FAILED' }) }));
  });
});

describe('unknown commands', () => {
  test.each([[['stauts']], [['stauts', '--help']], [['bakcup', '--all', '--json']]])('fleet %j is a usage error naming the nearest command, exit 2', async (args) => {
    const run = await piped(args);
    expect(run.exitCode).toBe(2);
    const guess = args[0] === 'stauts' ? 'status' : 'backup';
    expect(run.stderr).toContain(`fleet: USAGE: Unknown command "${args[0]}". Did you mean "fleet ${guess}"?`);
    expect(run.stdout).not.toContain('usage:');
    if (args.includes('--json')) expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'USAGE', details: { command: 'bakcup', nearest: 'backup' } });
  });

  test('nothing near: the list of commands; a known command with --help: its usage, exit 0', async () => {
    const far = await piped(['xyzzy']);
    expect(far.exitCode).toBe(2);
    expect(far.stderr).toMatch(/^fleet: USAGE: Unknown command "xyzzy"\.\nhint: Commands: backup, plan, /);
    const help = await piped(['status', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^usage: fleet status \[--json\] \[--html FILE\]/);
  });
});

describe('fleet completion', () => {
  /** What bash completes for the words typed so far (the last one being completed). */
  async function complete(...words: string[]): Promise<string[]> {
    const script = (await piped(['completion', 'bash'])).stdout;
    const line = `${script}\nCOMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _fleet; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return (await execa('bash', ['-c', line])).stdout.split('\n').filter(Boolean).sort();
  }

  test('bash completes commands, verbs, options and option values from the command registry', async () => {
    expect(await complete('fleet', 'st')).toEqual(['status']);
    expect(await complete('fleet', '')).toEqual(expect.arrayContaining(['backup', 'plan', 'run', 'status', 'restore', 'verify', 'hosts', 'agent', 'keys', 'doctor', 'completion', '--config']));
    expect(await complete('fleet', 'agent', '')).toContain('install');
    expect(await complete('fleet', 'backup', '--f')).toEqual(['--force', '--force-full']);
    expect(await complete('fleet', '--config', 'x.yaml', 'status', '--h')).toEqual(['--help', '--html']);
    expect(await complete('fleet', 'plan', '--log-level', '')).toEqual(['debug', 'error', 'info', 'warn']);
    expect(await complete('fleet', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  test('zsh gets the same words; an unknown shell is a usage error', async () => {
    const zsh = await piped(['completion', 'zsh']);
    expect(zsh.exitCode).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef fleet\n/);
    expect(zsh.stdout).toMatch(/^\s+backup\) compadd -- .*--force-full/m);
    const hasZsh = (await execa('sh', ['-c', 'command -v zsh'], { reject: false })).exitCode === 0;
    if (hasZsh) expect((await execa('zsh', ['-n'], { input: zsh.stdout, reject: false })).exitCode).toBe(0);
    const fish = await piped(['completion', 'fish']);
    expect(fish.exitCode).toBe(2);
    expect(fish.stderr).toContain('fleet completion takes "bash" or "zsh", not "fish"');
  });
});
