/** QEMU's command line and monitor parsing, as plain data. */
import test from 'ava';
import { qemuArgs, findOnPath, CHILD_FD } from '../src/qemu.js';
import { haltedForGood, parseInfoRegisters } from '../src/qmp.js';

test('QEMU gets only a CPU: TCG, no firmware but the ROM, no defaults, no network, no display, its seccomp sandbox, paused until QMP', (t) => {
  const args = qemuArgs({ ramSize: 256 << 20, romPath: '/x/rom.bin' }).join(' ');
  t.regex(args, /-accel tcg\b/);
  t.regex(args, /-bios \/x\/rom\.bin\b/);
  t.regex(args, /-nodefaults\b/);
  t.regex(args, /-nic none\b/);
  t.regex(args, /-display none\b/);
  t.regex(args, /-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny\b/);
  t.regex(args, new RegExp(`mem-path=/dev/fd/${CHILD_FD.ram},share=on`));
  t.regex(args, /-m 256M\b/);
  t.regex(args, /isa-debugcon,iobase=0x410/);
  t.regex(args, /-action reboot=shutdown,shutdown=pause/);
  t.regex(args, / -S$/);
});

test('findOnPath finds executables only', (t) => {
  t.truthy(findOnPath('sh', '/nonexistent:/bin:/usr/bin'));
  t.is(findOnPath('no-such-program-kvmos', '/bin:/usr/bin'), undefined);
  t.is(findOnPath('passwd', '/etc'), undefined, '/etc/passwd is not executable');
});

test('info registers: RIP, RSP, CS, CR2, CR3 from QEMU\'s dump', (t) => {
  const dump = [
    'RAX=0000000000000000 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000000000',
    'RSI=0000000000000000 RDI=0000000000001000 RBP=0000000000000000 RSP=ffffffff8007ff38',
    'RIP=ffffffff801013ef RFL=00010046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0',
    'ES =0018 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]',
    'CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]',
    'CR0=80010033 CR2=0000000000001234 CR3=0000000000010000 CR4=00000620',
  ].join('\r\n');
  t.deepEqual(parseInfoRegisters(dump), { rip: 0xffff_ffff_8010_13efn, rsp: 0xffff_ffff_8007_ff38n, cs: 0x10, cr2: 0x1234n, cr3: 0x10000n });
  t.is(parseInfoRegisters('garbage'), undefined);
});

test('halted for good: HLT=1 with IF clear; HLT=1 with IF set can still be woken', (t) => {
  t.true(haltedForGood('RIP=ffffffff80100001 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1'));
  t.false(haltedForGood('RIP=ffffffff80100001 RFL=00000202 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1'));
  t.false(haltedForGood('RIP=ffffffff80100001 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0'));
  t.false(haltedForGood(''));
});
