import test from 'ava';
import { lstatSync } from 'node:fs';
import { defaultView, insideBinds, realHostRoot, type HostRoot } from '../src/linux-exec/default-view.js';

type Kind = 'dir' | 'file' | 'symlink';
/** A host root made of paths: kind, and the symlink's target or the file's text. */
function fakeRoot(tree: Record<string, [Kind, string?]>): HostRoot {
  const get = (p: string) => tree[p];
  return {
    lstat: (p) => {
      const e = get(p);
      if (e === undefined) return undefined;
      return { isDirectory: () => e[0] === 'dir', isSymbolicLink: () => e[0] === 'symlink', isFile: () => e[0] === 'file' };
    },
    readlink: (p) => get(p)?.[1] ?? '',
    readFile: (p) => Buffer.from(get(p)?.[1] ?? ''),
    readdir: (p) =>
      Object.keys(tree)
        .filter((k) => k.startsWith(`${p}/`) && !k.slice(p.length + 1).includes('/'))
        .map((k) => k.slice(p.length + 1)),
  };
}

test('a merged-/usr host: /usr bound, the other trees become the same symlinks', (t) => {
  const v = defaultView(
    fakeRoot({
      '/usr': ['dir'],
      '/bin': ['symlink', 'usr/bin'],
      '/lib': ['symlink', 'usr/lib'],
      '/lib64': ['symlink', 'usr/lib64'],
      '/etc/ld.so.cache': ['file', 'cache'],
      '/etc/localtime': ['symlink', '/usr/share/zoneinfo/Europe/Paris'],
      '/etc/alternatives': ['dir'],
      '/etc/alternatives/awk': ['symlink', '/usr/bin/mawk'],
      '/etc/shadow': ['file', 'root:secret'],
    }),
  );
  t.deepEqual(v.binds, [{ host: '/usr', guest: '/usr' }]);
  const byPath = new Map(v.entries.map((e) => [e.path, e]));
  t.deepEqual(byPath.get('bin'), { kind: 'symlink', path: 'bin', target: 'usr/bin' });
  t.deepEqual(byPath.get('lib64'), { kind: 'symlink', path: 'lib64', target: 'usr/lib64' });
  t.deepEqual(byPath.get('etc/localtime'), { kind: 'symlink', path: 'etc/localtime', target: '/usr/share/zoneinfo/Europe/Paris' });
  t.deepEqual(byPath.get('etc/alternatives/awk'), { kind: 'symlink', path: 'etc/alternatives/awk', target: '/usr/bin/mawk' });
  const cache = byPath.get('etc/ld.so.cache');
  t.is(cache?.kind === 'file' ? Buffer.from(cache.data).toString() : undefined, 'cache');
  for (const f of ['passwd', 'group', 'nsswitch.conf', 'hostname', 'hosts']) t.truthy(byPath.get(`etc/${f}`), f);
  // Nothing of the host's /etc but the loader's cache, the zone link and the alternatives.
  t.false(byPath.has('etc/shadow'));
  t.false([...byPath.keys()].some((p) => p.startsWith('root') || p.startsWith('home')));
});

test('a split-/usr host binds each program tree that is a directory', (t) => {
  const v = defaultView(fakeRoot({ '/usr': ['dir'], '/bin': ['dir'], '/lib': ['dir'], '/sbin': ['dir'] }));
  t.deepEqual(
    v.binds.map((b) => b.guest),
    ['/usr', '/bin', '/sbin', '/lib'],
  );
});

test('a time zone link out of the zone database is left out', (t) => {
  const v = defaultView(fakeRoot({ '/usr': ['dir'], '/etc/localtime': ['symlink', '/home/me/zone'] }));
  t.false(v.entries.some((e) => e.path === 'etc/localtime'));
  const dotdot = defaultView(fakeRoot({ '/usr': ['dir'], '/etc/localtime': ['symlink', '/usr/share/zoneinfo/../../../etc/shadow'] }));
  t.false(dotdot.entries.some((e) => e.path === 'etc/localtime'));
});

test('insideBinds matches whole path components only', (t) => {
  const binds = [{ host: '/usr', guest: '/usr' }];
  t.true(insideBinds('/usr/bin/ls', binds));
  t.true(insideBinds('/usr', binds));
  t.false(insideBinds('/usrlocal/bin/ls', binds));
  t.false(insideBinds('/work/a.out', binds));
});

test('this machine: /usr is in the view, its /etc/shadow is not', (t) => {
  const v = defaultView(realHostRoot);
  t.true(v.binds.some((b) => b.host === '/usr') || lstatSync('/usr').isSymbolicLink());
  t.false(v.entries.some((e) => e.path === 'etc/shadow' || e.path.startsWith('root/') || e.path.startsWith('home/')));
});
