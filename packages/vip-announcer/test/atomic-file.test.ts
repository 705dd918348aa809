import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { chmodSync } from 'node:fs';
import { restrictFileMode, readTextIfExists, removeIfExists, writeFileAtomic } from '../src/atomic-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'atomic-'));
  dirs.push(d);
  return d;
}

describe('writeFileAtomic', () => {
  test('creates, then replaces the file (a new inode: readers holding the old one see it whole), leaving no temporary file', async () => {
    const d = dir();
    const path = join(d, 'vips.conf');
    await writeFileAtomic(path, 'one\n');
    const first = statSync(path).ino;
    await writeFileAtomic(path, 'two\n');
    expect(await readTextIfExists(path)).toBe('two\n');
    expect(statSync(path).ino).not.toBe(first);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600'); // it holds BGP passwords
    expect(readdirSync(d)).toEqual(['vips.conf']);
  });

  test('the file is 0600 whatever mode the old one had; restrictFileMode fixes an old file in place', async () => {
    const d = dir();
    const path = join(d, 'vips.conf');
    writeFileSync(path, 'password "s3cret";\n');
    chmodSync(path, 0o644);
    await writeFileAtomic(path, 'password "n3w";\n');
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    chmodSync(path, 0o644);
    await restrictFileMode(path);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    await restrictFileMode(join(d, 'missing')); // nothing to do
    await writeFileAtomic(join(d, 'shared.conf'), 'x', 0o640);
    expect((statSync(join(d, 'shared.conf')).mode & 0o777).toString(8)).toBe('640');
  });

  test('a failure leaves the old file and no temporary file', async () => {
    const d = dir();
    const path = join(d, 'vips.conf');
    writeFileSync(path, 'old\n');
    await expect(writeFileAtomic(join(d, 'missing-dir', 'x.conf'), 'new')).rejects.toThrow(/ENOENT/);
    expect(await readTextIfExists(path)).toBe('old\n');
    expect(readdirSync(d)).toEqual(['vips.conf']);
  });

  test('readTextIfExists / removeIfExists treat a missing file as normal', async () => {
    const d = dir();
    expect(await readTextIfExists(join(d, 'nope'))).toBeUndefined();
    await removeIfExists(join(d, 'nope'));
    writeFileSync(join(d, 'x'), 'x');
    await removeIfExists(join(d, 'x'));
    expect(readdirSync(d)).toEqual([]);
  });
});
