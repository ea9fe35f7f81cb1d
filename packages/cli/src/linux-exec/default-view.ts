/**
 * What a dynamically linked host program sees when the user names no
 * directories: the host's program and library trees read-only, and a small
 * generated /etc. Never the host's /etc wholesale (shadow, SSH keys), never
 * /root or /home: those reach the guest only through an explicit --ro-bind.
 *
 * Pure: it reads the host's root through `HostRoot` (the real one in use,
 * a fake tree in tests) and returns mounts plus initramfs entries.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CpioEntry } from '@kvmos/loader';

/** A host directory shown in the guest, read-only (the default view never grants writes). */
export interface ViewBind {
  host: string;
  guest: string;
}

export interface HostView {
  /** Host trees bound read-only at the same guest path. */
  binds: ViewBind[];
  /** Symlinks (the merged-/usr links) and the generated /etc, for the initramfs. */
  entries: CpioEntry[];
}

/** The host file system as the view reads it. */
export interface HostRoot {
  lstat(path: string): { isDirectory(): boolean; isSymbolicLink(): boolean; isFile(): boolean } | undefined;
  readlink(path: string): string;
  readFile(path: string): Buffer;
  readdir(path: string): string[];
}

export const realHostRoot: HostRoot = {
  lstat: (p) => {
    try {
      return lstatSync(p);
    } catch {
      return undefined;
    }
  },
  readlink: (p) => readlinkSync(p),
  readFile: (p) => readFileSync(p),
  readdir: (p) => readdirSync(p),
};

/**
 * The top-level trees programs and their loaders are found in. On a
 * merged-/usr system (Debian 12) all but /usr are symlinks into it.
 */
export const PROGRAM_TREES = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

/** The guest's users: root, as which programs run, and nobody. */
export const ETC_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
export const ETC_GROUP = 'root:x:0:\nnogroup:x:65534:\n';
/** Users and groups from the files above only: no NSS modules to load, no daemons to ask. */
export const ETC_NSSWITCH = 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n';
export const ETC_HOSTNAME = 'kvmos\n';
export const ETC_HOSTS = '127.0.0.1\tlocalhost\n127.0.1.1\tkvmos\n::1\tlocalhost ip6-localhost ip6-loopback\n';

/**
 * The view for a dynamic program: /usr and the other program trees that
 * are directories, bound read-only; the ones that are symlinks copied as
 * symlinks; /etc generated (users, NSS, host name, the loader's cache,
 * the time zone link, Debian's alternatives links).
 */
export function defaultView(root: HostRoot = realHostRoot): HostView {
  const binds: ViewBind[] = [];
  const entries: CpioEntry[] = [];
  for (const name of PROGRAM_TREES) {
    const path = `/${name}`;
    const st = root.lstat(path);
    if (st === undefined) continue;
    if (st.isSymbolicLink()) entries.push({ kind: 'symlink', path: name, target: root.readlink(path) });
    else if (st.isDirectory()) binds.push({ host: path, guest: path });
  }
  entries.push({ kind: 'dir', path: 'etc', mode: 0o755 });
  const file = (name: string, text: string | Buffer) =>
    entries.push({ kind: 'file', path: `etc/${name}`, data: typeof text === 'string' ? Buffer.from(text) : text, mode: 0o644 });
  file('passwd', ETC_PASSWD);
  file('group', ETC_GROUP);
  file('nsswitch.conf', ETC_NSSWITCH);
  file('hostname', ETC_HOSTNAME);
  file('hosts', ETC_HOSTS);
  // The loader's cache only names libraries under the bound trees; without
  // it ld.so still searches its default directories, only slower.
  if (root.lstat('/etc/ld.so.cache')?.isFile()) file('ld.so.cache', root.readFile('/etc/ld.so.cache'));
  const localtime = root.lstat('/etc/localtime');
  if (localtime?.isSymbolicLink()) {
    const target = root.readlink('/etc/localtime');
    // A link into the zone database resolves inside the bound /usr; any other is left out.
    if (target.startsWith('/usr/share/zoneinfo/') && !target.split('/').includes('..')) {
      entries.push({ kind: 'symlink', path: 'etc/localtime', target });
    }
  } else if (localtime?.isFile()) {
    file('localtime', root.readFile('/etc/localtime'));
  }
  // Debian's alternatives (awk, pager, editor ...) are symlinks through /etc/alternatives.
  if (root.lstat('/etc/alternatives')?.isDirectory()) {
    entries.push({ kind: 'dir', path: 'etc/alternatives', mode: 0o755 });
    for (const name of root.readdir('/etc/alternatives').sort()) {
      const p = join('/etc/alternatives', name);
      if (root.lstat(p)?.isSymbolicLink()) entries.push({ kind: 'symlink', path: `etc/alternatives/${name}`, target: root.readlink(p) });
    }
  }
  return { binds, entries };
}

/** Whether `hostPath` (absolute, symlinks resolved) lies inside one of `binds`' host trees. */
export function insideBinds(hostPath: string, binds: readonly ViewBind[]): boolean {
  return binds.some((b) => hostPath === b.host || hostPath.startsWith(b.host.endsWith('/') ? b.host : `${b.host}/`));
}

