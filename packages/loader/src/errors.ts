/** The file is not a loadable x86-64 ELF image. */
export class ElfError extends Error {
  override name = 'ElfError';
  constructor(
    message: string,
    /** File offset of the byte or field at fault. */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The inputs parse, but cannot boot as asked (kernel placement, sizes). */
export class BootPlanError extends Error {
  override name = 'BootPlanError';
}
