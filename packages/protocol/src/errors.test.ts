import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLEET_ERROR_CODES } from './errors.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The TypeScript sources of every package, without tests and fixtures. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'testing') walk(full);
      else if (entry.isFile() && full.endsWith('.ts') && !/\.(test|fixture)\.ts$/.test(full) && !full.endsWith(path.join('protocol', 'src', 'errors.ts'))) files.push(full);
    }
  };
  for (const pkg of readdirSync(path.join(repo, 'packages'))) walk(path.join(repo, 'packages', pkg, 'src'));
  return files;
}

describe('the closed union of error codes', () => {
  it('holds only codes some code produces', () => {
    const text = sources()
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    // INTERNAL is produced by toFleetError itself, for anything that is not a FleetError.
    const unused = FLEET_ERROR_CODES.filter((code) => code !== 'INTERNAL' && !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('is what docs/errors.md lists, code for code', () => {
    const documented = [...readFileSync(path.join(repo, 'docs/errors.md'), 'utf8').matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|/gm)].flatMap((match) => match[1]!.split(', ').map((code) => code.replaceAll('`', '')));
    expect(documented.sort()).toEqual([...FLEET_ERROR_CODES].sort());
  });
});
