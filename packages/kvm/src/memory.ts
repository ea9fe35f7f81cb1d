/**
 * Guest RAM: one shared mapping, guest-physical 0..size, accessed from the
 * host through a zero-copy Buffer over it. Anonymous for KVM (one process);
 * a memfd for a back end whose CPU runs in another process (TCG: QEMU maps
 * the same file, `fd`).
 */
import { constants } from 'node:buffer';
import { GuestMemoryError, KvmError, hintFor } from './errors.js';
import {
  MAP_ANONYMOUS, MAP_NORESERVE, MAP_SHARED, MFD_CLOEXEC, PAGE_SIZE, PROT_READ, PROT_WRITE, ftruncate, memfdCreate, mmap, munmap,
  sysClose, type Mapping,
} from './libc.js';

export class GuestMemory {
  readonly size: number;
  #mapping: Mapping | undefined;

  /** The memfd behind a shared() memory (close-on-exec), -1 for allocate()'s. */
  #fd: number;

  private constructor(mapping: Mapping, fd: number) {
    this.#mapping = mapping;
    this.size = mapping.length;
    this.#fd = fd;
  }

  /** Zero-filled memory of `size` bytes (a positive multiple of 4096); MAP_NORESERVE: pages cost only when touched. */
  static allocate(size: number): GuestMemory {
    checkSize(size);
    const m = mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1);
    if ('errno' in m) throw new KvmError('mmap (guest memory)', m.errno, hintFor('mmap', m.errno));
    return new GuestMemory(m, -1);
  }

  /**
   * Zero-filled memory of `size` bytes backed by a memfd that another
   * process can map too (`fd`); nothing is left on disk, and the file is
   * gone when the last mapping and fd are.
   */
  static shared(size: number): GuestMemory {
    checkSize(size);
    const fd = memfdCreate('kvmos-guest-ram', MFD_CLOEXEC);
    if (fd.value < 0) throw new KvmError('memfd_create (guest memory)', fd.errno, hintFor('mmap', fd.errno));
    const t = ftruncate(fd.value, size);
    if (t.value !== 0) {
      sysClose(fd.value);
      throw new KvmError('ftruncate (guest memory)', t.errno, hintFor('mmap', t.errno));
    }
    const m = mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.value);
    if ('errno' in m) {
      sysClose(fd.value);
      throw new KvmError('mmap (guest memory)', m.errno, hintFor('mmap', m.errno));
    }
    return new GuestMemory(m, fd.value);
  }

  /** The file descriptor of a shared() memory. */
  get fd(): number {
    this.#live(0, 0);
    if (this.#fd < 0) throw new Error('this guest memory is anonymous: use GuestMemory.shared() for a file descriptor');
    return this.#fd;
  }

  /** The host virtual address of guest-physical 0 (for KVM_SET_USER_MEMORY_REGION). */
  get hostAddr(): bigint {
    return this.#live(0, 0).addr;
  }

  /** Whether [addr, addr+len) lies inside the memory; false for any non-integer or negative input. */
  contains(addr: number, len: number): boolean {
    return (
      Number.isSafeInteger(addr) && Number.isSafeInteger(len) &&
      addr >= 0 && len >= 0 && addr <= this.size && len <= this.size - addr
    );
  }

  #live(addr: number, len: number): Mapping {
    if (!this.#mapping) {
      throw new GuestMemoryError(`guest memory used after free()`, addr, len, this.size);
    }
    return this.#mapping;
  }

  #checked(addr: number, len: number): Buffer {
    const m = this.#live(addr, len);
    if (!this.contains(addr, len)) {
      throw new GuestMemoryError(
        `guest memory access [${addr}, +${len}) is outside 0..0x${this.size.toString(16)}`, addr, len, this.size,
      );
    }
    return m.buffer;
  }

  /** A zero-copy view of [addr, addr+len); it must not be used after free(). */
  view(addr: number, len: number): Buffer {
    return this.#checked(addr, len).subarray(addr, addr + len);
  }

  /** A copy of [addr, addr+len). */
  read(addr: number, len: number): Buffer {
    return Buffer.from(this.view(addr, len));
  }

  write(addr: number, data: Uint8Array): void {
    this.view(addr, data.length).set(data);
  }

  readU32(addr: number): number {
    return this.#checked(addr, 4).readUInt32LE(addr);
  }

  readU64(addr: number): bigint {
    return this.#checked(addr, 8).readBigUInt64LE(addr);
  }

  writeU32(addr: number, v: number): void {
    this.#checked(addr, 4).writeUInt32LE(v, addr);
  }

  writeU64(addr: number, v: bigint): void {
    this.#checked(addr, 8).writeBigUInt64LE(v, addr);
  }

  /** Unmaps the memory; idempotent. Later accesses throw GuestMemoryError. */
  free(): void {
    if (!this.#mapping) return;
    munmap(this.#mapping);
    this.#mapping = undefined;
    if (this.#fd >= 0) sysClose(this.#fd);
    this.#fd = -1;
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
    throw new RangeError(`guest memory size must be a positive multiple of ${PAGE_SIZE}, got ${size}`);
  }
  if (size > constants.MAX_LENGTH) {
    throw new RangeError(`guest memory of ${size} bytes exceeds Node's Buffer limit of ${constants.MAX_LENGTH}`);
  }
}
