import test from 'ava';
import fc from 'fast-check';
import {
  FS_NAME_MAX, FS_PATH_MAX, ProtocolError, bindWord, checkSymlinkTarget, decodeDirents, decodeFsRequest, direntSize,
  encodeDirent, parseBindValue, splitRelativePath,
} from '../src/index.js';

const split = (s: string | Buffer) => splitRelativePath(Buffer.from(s)).map((n) => n.toString());

test('relative paths: names split on /, the empty path is the root', (t) => {
  t.deepEqual(split(''), []);
  t.deepEqual(split('a'), ['a']);
  t.deepEqual(split('usr/lib/x86_64-linux-gnu/libc.so.6'), ['usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6']);
  t.deepEqual(split('...'), ['...'], 'three dots is a name');
  t.deepEqual(split('.hidden/..x'), ['.hidden', '..x']);
  t.deepEqual(split(Buffer.from([0xff, 0xfe])).length, 1, 'names are bytes, not UTF-8');
  t.is(split('n'.repeat(FS_NAME_MAX)).length, 1);
});

test('relative paths: leading, trailing or double /, . and .., NUL, long names and long paths are refused', (t) => {
  for (const bad of ['/', '/etc', 'a/', 'a//b', '.', '..', 'a/./b', 'a/../b', '..', 'a\0', 'n'.repeat(FS_NAME_MAX + 1), 'a/'.repeat(2049)]) {
    t.throws(() => splitRelativePath(Buffer.from(bad)), { instanceOf: ProtocolError }, JSON.stringify(bad.slice(0, 20)));
  }
  const long = Array.from({ length: 2049 }, () => 'a').join('/');
  t.is(long.length, FS_PATH_MAX + 1);
  t.throws(() => splitRelativePath(Buffer.from(long)), { message: /exceed/ });
});

test('symlink targets: any bytes but NUL, 1..4096', (t) => {
  t.notThrows(() => checkSymlinkTarget(Buffer.from('../../etc/passwd')));
  t.notThrows(() => checkSymlinkTarget(Buffer.from('/')));
  t.throws(() => checkSymlinkTarget(Buffer.alloc(0)));
  t.throws(() => checkSymlinkTarget(Buffer.from('a\0b')), { message: /NUL/ });
  t.throws(() => checkSymlinkTarget(Buffer.alloc(FS_PATH_MAX + 1, 0x61)));
});

test('dirent records: linux_dirent64 layout, padded to 8, round-trip', (t) => {
  t.is(direntSize(1), 24);
  t.is(direntSize(4), 24);
  t.is(direntSize(5), 32);
  const out = new Uint8Array(64);
  let at = encodeDirent(out, 0, { ino: 7n, next: 100n, type: 8, name: Buffer.from('a.txt') });
  at += encodeDirent(out, at, { ino: 0xffff_ffff_ffff_ffffn, next: 0x7fff_ffff_ffff_ffffn, type: 4, name: Buffer.from('d') });
  t.is(at, 56);
  t.is(Buffer.from(out.subarray(0, 32)).toString('hex'), '07000000000000006400000000000000' + '2000' + '08' + '612e74787400' + '00'.repeat(7));
  t.deepEqual(decodeDirents(out.subarray(0, at)).map((d) => [d.ino, d.next, d.type, d.name.toString()]), [
    [7n, 100n, 8, 'a.txt'],
    [0xffff_ffff_ffff_ffffn, 0x7fff_ffff_ffff_ffffn, 4, 'd'],
  ]);
  t.throws(() => decodeDirents(out.subarray(0, 30)), { instanceOf: ProtocolError });
});

test('bind words: id, ro|rw and an absolute guest path without spaces', (t) => {
  t.is(bindWord({ mount: 0, writable: false, guestPath: '/usr' }), 'bind=0,ro,/usr');
  t.is(bindWord({ mount: 63, writable: true, guestPath: '/a,b' }), 'bind=63,rw,/a,b');
  t.deepEqual(parseBindValue('63,rw,/a,b'), { mount: 63, writable: true, guestPath: '/a,b' });
  t.deepEqual(parseBindValue('0,ro,/'), { mount: 0, writable: false, guestPath: '/' });
  t.throws(() => bindWord({ mount: 0, writable: true, guestPath: '/a b' }), { message: /space/ });
  t.throws(() => bindWord({ mount: 0, writable: true, guestPath: 'rel' }), { message: /absolute/ });
  t.throws(() => bindWord({ mount: 64, writable: true, guestPath: '/x' }), { message: /mount/ });
  for (const bad of ['', '0', '0,ro', '0,rx,/a', '01,ro,/a', '64,ro,/a', '-1,ro,/a', '0,ro,a', ' 0,ro,/a']) {
    t.throws(() => parseBindValue(bad), { instanceOf: ProtocolError }, bad);
  }
});

test('property: decodeFsRequest returns a value or throws ProtocolError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 96 }), (bytes) => {
      try {
        decodeFsRequest(bytes);
      } catch (e) {
        if (!(e instanceof ProtocolError)) return false;
      }
      return true;
    }),
  );
  t.pass();
});
