/**
 * A KVM file descriptor (system, VM or vCPU) with its scratch page: ioctl
 * structs are encoded into one mmap'd page per fd owner, whose pointer is
 * handed to the kernel, instead of allocating native memory per call.
 */
import { EBADF, EINTR, KvmError, hintFor } from './errors.js';
import {
  MAP_ANONYMOUS, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, ioctl, mmap, munmap, sysClose, type Mapping,
} from './libc.js';

export class DeviceFd {
  #fd: number;
  #scratch: Mapping | undefined;

  constructor(
    fd: number,
    /** What owns the fd, for error hints ("Vcpu"). */
    readonly owner: string,
  ) {
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  #checkOpen(name: string): void {
    // Never pass a stale fd number to the kernel: it may have been reused.
    if (this.#fd < 0) throw new KvmError(name, EBADF, `the ${this.owner} was closed before this call`);
  }

  /** ioctl with an integer argument; returns the (non-negative) result. EINTR is retried. */
  ioctl(name: string, request: number, arg = 0): number {
    this.#checkOpen(name);
    for (;;) {
      const r = ioctl(this.#fd, request, arg);
      if (r.value >= 0) return r.value;
      if (r.errno !== EINTR) throw new KvmError(name, r.errno, hintFor(name, r.errno));
    }
  }

  /**
   * ioctl with an integer argument; EINTR is retried unless `stop()` says
   * otherwise, then undefined (KVM_RUN interrupted for a deadline).
   */
  ioctlUnless(name: string, request: number, stop: () => boolean): number | undefined {
    this.#checkOpen(name);
    for (;;) {
      const r = ioctl(this.#fd, request, 0);
      if (r.value >= 0) return r.value;
      if (r.errno !== EINTR) throw new KvmError(name, r.errno, hintFor(name, r.errno));
      if (stop()) return undefined;
    }
  }

  /** ioctl with the scratch page as argument (fill it first with scratch()). */
  ioctlScratch(name: string, request: number): number {
    this.#checkOpen(name);
    const s = this.#scratchMapping(name, 0);
    for (;;) {
      const r = ioctl(this.#fd, request, s.ptr);
      if (r.value >= 0) return r.value;
      if (r.errno !== EINTR) throw new KvmError(name, r.errno, hintFor(name, r.errno));
    }
  }

  /**
   * The scratch page as a Buffer of at least `size` bytes. Growing it unmaps
   * the old page, so use the returned Buffer only until the next scratch() call.
   */
  scratch(size: number, name = 'scratch'): Buffer {
    this.#checkOpen(name);
    return this.#scratchMapping(name, size).buffer;
  }

  #scratchMapping(name: string, size: number): Mapping {
    if (this.#scratch && this.#scratch.length >= size) return this.#scratch;
    const length = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    const m = mmap(length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    if ('errno' in m) throw new KvmError(`${name} (mmap scratch page)`, m.errno, hintFor('mmap', m.errno));
    if (this.#scratch) munmap(this.#scratch);
    this.#scratch = m;
    return m;
  }

  /** Closes the fd and unmaps the scratch page; idempotent. */
  close(): void {
    if (this.#scratch) {
      munmap(this.#scratch);
      this.#scratch = undefined;
    }
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      // Linux releases the fd even when close() reports an error, so nothing to retry.
      sysClose(fd);
    }
  }
}
