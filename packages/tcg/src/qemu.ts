/**
 * QEMU's command line for a kvmos guest (pure), and where to find QEMU.
 * QEMU provides only the CPU: no firmware but our ROM, no default devices,
 * no network, no display, its own seccomp filter; guest RAM, the doorbell
 * and the monitor are file descriptors the host hands it.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HYPERCALL_DOORBELL_PORT } from '@kvmos/protocol';

/** The child's file descriptors, as the host sets them up (machine.ts). */
export const CHILD_FD = {
  /** QMP commands in (a pipe), replies and events out (a pipe). */
  qmpIn: 0,
  qmpOut: 1,
  /** QEMU's own messages: a memfd the host reads if QEMU fails. */
  stderr: 2,
  /** Guest RAM: the host's memfd, mapped shared by both. */
  ram: 3,
  /** The doorbell: every byte the guest `out`s to HYPERCALL_DOORBELL_PORT (a pipe). */
  doorbell: 4,
} as const;

export const QEMU_BINARY = 'qemu-system-x86_64';

export function qemuArgs(opts: { ramSize: number; romPath: string }): string[] {
  const size = `${opts.ramSize / 1024 / 1024}M`;
  return [
    '-accel', 'tcg',
    '-M', 'microvm,memory-backend=ram,isa-serial=off,rtc=off,x-option-roms=off',
    '-m', size,
    '-object', `memory-backend-file,id=ram,size=${size},mem-path=/dev/fd/${CHILD_FD.ram},share=on`,
    '-bios', opts.romPath,
    '-nodefaults', '-no-user-config', '-display', 'none', '-nic', 'none',
    '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-chardev', `file,id=doorbell,path=/dev/fd/${CHILD_FD.doorbell}`,
    '-device', `isa-debugcon,iobase=0x${HYPERCALL_DOORBELL_PORT.toString(16)},chardev=doorbell`,
    '-chardev', 'stdio,id=qmp,signal=off',
    '-mon', 'chardev=qmp,mode=control',
    // A triple fault pauses the guest instead of resetting it, so the host
    // can still read where it happened (QMP `info registers`).
    '-action', 'reboot=shutdown,shutdown=pause',
    // Paused until the host has negotiated QMP: no event can be missed.
    '-S',
  ];
}

/** The first executable `name` on PATH, or undefined. */
export function findOnPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
