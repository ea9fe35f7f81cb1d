/**
 * Reads guest-virtual memory from the host by walking the guest's own page
 * tables (4-level, 4 KiB / 2 MiB / 1 GiB pages). For diagnostics (the
 * syscall trace): an unmapped or out-of-RAM address gives undefined, never a
 * read outside guest memory.
 */
import type { GuestMemoryReader } from './hypercalls.js';

const ADDRESS_MASK = 0x000f_ffff_ffff_f000n;
const PRESENT = 1n;
const HUGE = 0x80n;

function entry(memory: GuestMemoryReader, table: bigint, index: bigint): bigint | undefined {
  const at = table + index * 8n;
  if (at + 8n > BigInt(memory.size)) return undefined;
  return memory.view(Number(at), 8).readBigUInt64LE(0);
}

/** Guest-physical address of `vaddr` under `cr3`, or undefined if not mapped. */
export function translate(memory: GuestMemoryReader, cr3: bigint, vaddr: bigint): number | undefined {
  if (vaddr < 0n || vaddr > 0xffff_ffff_ffff_ffffn) return undefined;
  let table = cr3 & ADDRESS_MASK;
  for (const shift of [39n, 30n, 21n, 12n]) {
    const e = entry(memory, table, (vaddr >> shift) & 0x1ffn);
    if (e === undefined || !(e & PRESENT)) return undefined;
    if ((shift === 30n || shift === 21n) && e & HUGE) {
      const size = 1n << shift;
      const phys = (e & ADDRESS_MASK & ~(size - 1n)) + (vaddr & (size - 1n));
      return phys < BigInt(memory.size) ? Number(phys) : undefined;
    }
    table = e & ADDRESS_MASK;
  }
  const phys = table + (vaddr & 0xfffn);
  return phys < BigInt(memory.size) ? Number(phys) : undefined;
}

/** Up to `max` bytes of a NUL-terminated string at `vaddr`; undefined if any byte before the NUL is unmapped. */
export function readGuestString(memory: GuestMemoryReader, cr3: bigint, vaddr: bigint, max = 256): { text: string; truncated: boolean } | undefined {
  const bytes: number[] = [];
  for (let i = 0n; i < BigInt(max); i++) {
    const phys = translate(memory, cr3, vaddr + i);
    if (phys === undefined) return undefined;
    const b = memory.view(phys, 1)[0]!;
    if (b === 0) return { text: Buffer.from(bytes).toString('utf8'), truncated: false };
    bytes.push(b);
  }
  return { text: Buffer.from(bytes).toString('utf8'), truncated: true };
}
