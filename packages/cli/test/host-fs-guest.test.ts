/**
 * The `fs` port end to end on a real guest (KVM, or TCG here): hello's
 * `selftest=fs` calls the kernel's client (`kernel::host::fs`) from ring
 * 0 through the real hypercall transport; the host decodes and serves
 * each request (host-fs.ts). Its lines and the host directory afterwards
 * must be what the calls mean.
 */
import test from 'ava';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagePath, readImage } from '../src/images.js';
import { Machine } from '../src/machine.js';

test('hello selftest=fs: create, write, append, mkdir, rename, symlink, readlink, readdir, statfs through the real transport; escapes and EROFS refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-hostfs-guest-'));
  const root = join(dir, 'shared');
  const ro = join(dir, 'ro');
  mkdirSync(root);
  mkdirSync(ro);
  writeFileSync(join(root, 'hello.txt'), 'hello from the host\n');
  writeFileSync(join(ro, 'hello.txt'), 'read only\n');
  symlinkSync('/etc', join(root, 'escape'));
  const outPath = join(dir, 'stdout');
  const out = openSync(outPath, 'w');
  try {
    const machine = Machine.boot({
      kernel: readImage(imagePath('hello'), true),
      cmdline: 'selftest=fs bind=0,rw,/shared bind=1,ro,/ro',
      mounts: [
        { host: root, guest: '/shared', writable: true },
        { host: ro, guest: '/ro', writable: false },
      ],
      stdoutFd: out,
    });
    try {
      t.is(machine.run().exitCode, 0);
    } finally {
      machine.close();
    }
    const lines = readFileSync(outPath, 'utf8').split('\n').filter((l) => l.startsWith('fs: '));
    t.deepEqual(lines, [
      'fs: bind 0 rw /shared',
      'fs: bind 1 ro /ro',
      'fs: lstat root type 40000',
      'fs: read hello.txt 20',
      'fs: hello.txt says hello from the host',
      'fs: read_to hello.txt at 6 14',
      'fs: read_to got from the host',
      'fs: create made 0',
      'fs: create made again EEXIST',
      'fs: write made 21',
      'fs: append made 6',
      'fs: mkdir d 0',
      'fs: rename made 0',
      'fs: symlink d/link 0',
      'fs: readlink d/link 12',
      'fs: d/link is ../hello.txt',
      'fs: lstat escape type 120000',
      'fs: read escape/passwd ELOOP',
      `fs: readdir root ${readdirResult()}`,
      'fs: entry d',
      'fs: entry escape',
      'fs: entry hello.txt',
      'fs: statfs ro flag 1',
      'fs: unlink on ro EROFS',
      'fs: read ../x refused in the guest EINVAL',
    ]);
    t.is(readFileSync(join(root, 'd', 'moved'), 'utf8'), 'written by the guest\nagain\n');
    t.is(lstatSync(join(root, 'd', 'moved')).mode & 0o7777, 0o640);
    t.is(lstatSync(join(root, 'd')).mode & 0o7777, 0o750);
    t.is(readlinkSync(join(root, 'd', 'link')), '../hello.txt');
    t.deepEqual(readdirSync(root).sort(), ['d', 'escape', 'hello.txt']);
    t.deepEqual(readdirSync(ro), ['hello.txt']);
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true });
  }
});

/** Bytes of the records of d, escape and hello.txt (linux_dirent64: 19 + name + NUL, padded to 8). */
function readdirResult(): number {
  return ['d', 'escape', 'hello.txt'].reduce((n, name) => n + ((19 + name.length + 1 + 7) & ~7), 0);
}
