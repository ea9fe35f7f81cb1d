/**
 * The guest's writable file systems, where only the guest can say what is
 * right (the conformance program tmpfs.c compares the rest with Linux): the
 * initramfs root is read-only (EROFS) while /tmp and each --tmpfs take
 * writes that every process sees, the memory of a file comes back when its
 * last name and descriptor are gone, and /proc shows the mounts, the CPU and
 * the memory. Debian's busybox-static runs the commands, one guest at a
 * time.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const BUSYBOX = '/bin/busybox';

function sh(script: string, options: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'exec', ...options, BUSYBOX, 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('the root is read-only: creating, writing, removing and renaming there are EROFS', (t) => {
  const r = sh('touch /new; echo x > /etc/passwd; mkdir /d; rm /etc/group; mv /etc/group /etc/g; chmod 600 /etc/passwd; echo done');
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'done\n');
  t.is(
    r.stderr,
    [
      "touch: /new: Read-only file system",
      "sh: can't create /etc/passwd: Read-only file system",
      "mkdir: can't create directory '/d': Read-only file system",
      "rm: can't remove '/etc/group': Read-only file system",
      "mv: can't rename '/etc/group': Read-only file system",
      "chmod: /etc/passwd: Read-only file system",
      '',
    ].join('\n'),
  );
});

test.serial('/tmp is a tmpfs whose files every process sees; --tmpfs mounts more; /proc/mounts lists them', (t) => {
  const r = sh('echo one > /tmp/a && (echo two >> /tmp/a) && cat /tmp/a && mkdir /work/d && echo w > /work/d/f && cat /work/d/f && cat /proc/mounts', ['--tmpfs', '/work']);
  t.is(r.status, 0, r.stderr);
  t.is(
    r.stdout,
    'one\ntwo\nw\n' +
      'rootfs / rootfs ro 0 0\nproc /proc proc rw,nosuid,nodev,noexec 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev 0 0\ntmpfs /work tmpfs rw,nosuid,nodev 0 0\n',
  );
});

test.serial('a file\'s memory comes back when its last name and descriptor are gone', (t) => {
  // df's "Used" column of /tmp (1K blocks) at each step.
  const used = 'df /tmp | tail -n 1 | tr -s " " | cut -d " " -f 3';
  const r = sh(
    `${used}; dd if=/dev/zero of=/tmp/big bs=4096 count=1024 2>/dev/null; ${used}; exec 3</tmp/big; rm /tmp/big; ${used}; exec 3<&-; ${used}`,
  );
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '0\n4096\n4096\n0\n');
});

test.serial('a tmpfs holds half of RAM (Linux\'s default size): beyond, a write is ENOSPC', (t) => {
  const r = sh('dd if=/dev/zero of=/tmp/big bs=1048576 count=100 2>&1 | head -n 1; wc -c < /tmp/big; df /tmp | tail -n 1 | tr -s " " | cut -d " " -f 2-4', ['--ram', '128']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, "dd: error writing '/tmp/big': No space left on device\n67108864\n65536 65536 0\n");
});

test.serial('when memory runs short first, a write is ENOSPC and the programs go on', (t) => {
  // 64 MiB of RAM: a 32 MiB tmpfs cannot be filled while an eighth of RAM
  // stays for the kernel and the programs.
  const r = sh('dd if=/dev/zero of=/tmp/big bs=1048576 count=100 2>&1 | head -n 1; wc -c < /tmp/big; rm /tmp/big; echo still > /tmp/y; cat /tmp/y', ['--ram', '64']);
  t.is(r.status, 0, r.stderr);
  const [dd, size, after] = r.stdout.split('\n');
  t.is(dd, "dd: error writing '/tmp/big': No space left on device");
  t.true(Number(size) > 0 && Number(size) < 32 << 20, size);
  t.is(after, 'still');
});

test.serial('/proc/cpuinfo and /proc/meminfo say what programs look for', (t) => {
  const r = sh('grep -c "^processor" /proc/cpuinfo; grep -q "^model name" /proc/cpuinfo && echo model; grep -E "^(MemTotal|MemFree):" /proc/meminfo | wc -l; ls /proc/self');
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '1\nmodel\n2\nexe\nfd\nmaps\nmounts\n');
});
