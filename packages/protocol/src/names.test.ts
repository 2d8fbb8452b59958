import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { FleetError } from './errors.ts';
import { DatasetNameSchema, explainDatasetName, explainSnapshotName, parseDatasetName, parseSnapshotName, SnapshotNameSchema } from './names.ts';
import { shellQuote, splitQuotedPipeline } from './shell-quote.ts';
import { CONTROL_CHARACTERS, hostileString } from './testing/index.ts';

describe('dataset and snapshot names follow zfs', () => {
  it.each(['tank/with space', 'tank/a:b.c-d_e', 'tank/o/with space/x', 'pool 2/data'])('accepts %j, as zfs create does', (name) => {
    expect(explainDatasetName(name)).toBeUndefined();
  });

  it.each([
    ['tank/tmp%clone', /outside letters, digits, space/],
    ['tank/a\nb', /outside/],
    ['tank/a\0b', /outside/],
    ['tank/a;rm', /outside/],
    ['tank/..', /component "\.\."/],
    ['tank/-x', /starts with "-"/],
    ['1tank/a', /must start with a letter/],
    ['tank//a', /empty component/],
  ])('refuses %j', (name, reason) => {
    expect(explainDatasetName(name)).toMatch(reason);
  });

  it('takes a snapshot named "manual snap" and refuses "%" and a leading "-"', () => {
    expect(explainSnapshotName('manual snap')).toBeUndefined();
    expect(explainSnapshotName('a%b')).toMatch(/outside/);
    expect(explainSnapshotName('-R')).toMatch(/starts with "-"/);
  });
});

/** Characters ZFS allows inside a component: ASCII letters and digits, space, `_ - : .` (zfs_namecheck.c, valid_char). */
const ZFS_CHARACTER = /^[A-Za-z0-9 _:.-]$/;

const componentOk = fc
  .array(fc.constantFrom(...'abcXYZ019 _:.-'), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(''))
  .filter((part) => part !== '.' && part !== '..' && !part.startsWith('-'));
const poolOk = fc
  .tuple(fc.constantFrom(...'abkqtzABZ'), fc.array(fc.constantFrom(...'abc019 _:.-'), { maxLength: 8 }))
  .map(([first, rest]) => first + rest.join(''))
  .filter((pool) => !/^(mirror|raidz[123]?|spare|log|cache|draid)$/.test(pool) && !/^c[0-9]/.test(pool));
/** Dataset names within ZFS's rules, spaces and `: . - _` inside components included. */
const datasetOk = fc.tuple(poolOk, fc.array(componentOk, { maxLength: 6 })).map(([pool, parts]) => [pool, ...parts].join('/'));

/** The code of the FleetError `run` throws. */
function thrownCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FleetError);
    return (error as FleetError).code;
  }
  return expect.fail('expected a FleetError');
}

function expectSafeDatasetName(name: string): void {
  expect(name.length).toBeGreaterThan(0);
  expect(name.length).toBeLessThanOrEqual(255);
  expect(name).toMatch(/^[A-Za-z]/);
  for (const character of name) if (character !== '/') expect(character).toMatch(ZFS_CHARACTER);
  for (const part of name.split('/')) {
    expect(['', '.', '..']).not.toContain(part);
    expect(part.startsWith('-')).toBe(false);
  }
}

describe('dataset and snapshot names, for any string', () => {
  test('the validators never throw, and a name they refuse is refused by parse and schema alike with a typed error', () => {
    fc.assert(
      fc.property(hostileString, (name) => {
        const datasetProblem = explainDatasetName(name);
        const snapshotProblem = explainSnapshotName(name);
        if (datasetProblem === undefined) {
          expect(parseDatasetName(name)).toBe(name);
          expect(DatasetNameSchema.safeParse(name).success).toBe(true);
        } else {
          expect(thrownCode(() => parseDatasetName(name))).toBe('DATASET_NAME_INVALID');
          expect(DatasetNameSchema.safeParse(name).success).toBe(false);
        }
        if (snapshotProblem === undefined) expect(SnapshotNameSchema.safeParse(name).success).toBe(true);
        else expect(thrownCode(() => parseSnapshotName(name))).toBe('SNAPSHOT_NAME_INVALID');
      }),
      { numRuns: 2000 },
    );
  });

  test('an accepted dataset name is ASCII of ZFS characters, at most 255 long, with no empty, ".", ".." or "-"-led component', () => {
    fc.assert(
      fc.property(hostileString, (name) => {
        if (explainDatasetName(name) === undefined) expectSafeDatasetName(name);
      }),
      { numRuns: 2000 },
    );
  });

  test('an accepted snapshot name is ASCII of ZFS characters, at most 255 long, and does not start with "-"', () => {
    fc.assert(
      fc.property(hostileString, (name) => {
        if (explainSnapshotName(name) !== undefined) return;
        expect(name.length).toBeGreaterThan(0);
        expect(name.length).toBeLessThanOrEqual(255);
        expect(name.startsWith('-')).toBe(false);
        for (const character of name) expect(character).toMatch(ZFS_CHARACTER);
      }),
      { numRuns: 2000 },
    );
  });

  test('a control character, NUL, newline or "%" anywhere refuses the name', () => {
    const bad = fc.constantFrom('\u0000', '\n', '\r', '\t', '\u001b', '\u007f', '%');
    fc.assert(
      fc.property(datasetOk, bad, fc.nat(), (name, character, at) => {
        const position = at % (name.length + 1);
        const spoiled = name.slice(0, position) + character + name.slice(position);
        expect(explainDatasetName(spoiled)).toBeDefined();
        expect(explainSnapshotName(character + name.replaceAll('/', '_'))).toBeDefined();
      }),
    );
  });
});

describe('names within ZFS’s rules', () => {
  test('are accepted, spaces and ": . - _" inside components included', () => {
    fc.assert(
      fc.property(datasetOk, (name) => {
        fc.pre(name.length <= 255);
        expect(explainDatasetName(name)).toBeUndefined();
        expect(explainSnapshotName(name.replaceAll('/', '_').replace(/^-+/, 'x'))).toBeUndefined();
      }),
    );
  });

  test('are refused with a "."/".." component or a component that starts with "-"', () => {
    fc.assert(
      fc.property(datasetOk, fc.constantFrom('.', '..', '-', '-o', '--force'), (name, part) => {
        expect(explainDatasetName(`${name}/${part}`)).toBeDefined();
      }),
    );
  });
});

describe('shellQuote', () => {
  test('every word, names and hostile strings alike, comes back from a POSIX shell unchanged', () => {
    // NUL cannot be in a command line at all; anything else must survive `sh -c`.
    const word = fc.oneof(hostileString, datasetOk).filter((value) => !value.includes('\u0000') && Buffer.from(value, 'utf8').toString('utf8') === value && value.length < 10_000);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), (words) => {
        const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
        const printed = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
        expect(printed.split('\u0000').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 40 },
    );
  });

  test('a pipeline of quoted words splits back into the same stages and words with splitQuotedPipeline', () => {
    const word = fc.oneof(hostileString, datasetOk, fc.constant(''));
    fc.assert(
      fc.property(fc.array(fc.array(word, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), (stages) => {
        const line = stages.map((stage) => stage.map(shellQuote).join(' ')).join(' | ');
        expect(splitQuotedPipeline(line)).toEqual(stages);
      }),
      { numRuns: 500 },
    );
  });

  test('a quoted word holds no unquoted shell syntax: it is plain characters or one single-quoted string', () => {
    fc.assert(
      fc.property(hostileString, (word) => {
        const quoted = shellQuote(word);
        expect(/^[A-Za-z0-9@%+=:,./_-]+$/.test(quoted) || /^'([^']|'\\'')*'$/.test(quoted)).toBe(true);
        expect(CONTROL_CHARACTERS.test(quoted)).toBe(CONTROL_CHARACTERS.test(word));
      }),
      { numRuns: 2000 },
    );
  });
});
