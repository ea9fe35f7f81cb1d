//! ELF64 programs: parsing and validation of what `exec` loads.
//!
//! The file comes from the user, so everything is checked before anything
//! is mapped: header fields, program headers inside the file, PT_LOAD
//! segments inside the file (`p_offset + p_filesz`), `p_filesz <=
//! p_memsz`, `p_vaddr` congruent to `p_offset` modulo the page size (what
//! `mmap` needs on Linux), segments in ascending, non-overlapping order,
//! and the whole image (after the load bias) inside user space, clear of
//! page 0. `ET_EXEC` loads where it says; `ET_DYN` (a PIE, static or
//! not) is moved to `DYN_BASE` as Linux does with ASLR off; its own
//! startup code (or its dynamic loader) applies its relocations. A
//! program with PT_INTERP names its dynamic loader (`Program::interp`),
//! which exec loads too (`parse_at` with the base it found for it).

use alloc::vec::Vec;
use core::fmt;

pub const PAGE: u64 = crate::host::layout::PAGE_SIZE;
/// Where a static PIE is loaded (Linux's `ELF_ET_DYN_BASE`, page aligned).
pub const DYN_BASE: u64 = 0x5555_5555_4000;
/// Programs must lie below this (mmap and the stack live above).
pub const IMAGE_LIMIT: u64 = 0x7f00_0000_0000;

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const PHDR_SIZE: usize = 56;
const MAX_PHNUM: usize = 65536 / PHDR_SIZE;
const MAX_SEGMENTS: usize = 32;

/// Why a program cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError<'a> {
    /// Not an ELF file at all (Linux: ENOEXEC; a shell would try it as a
    /// script).
    NotElf,
    /// An ELF file kvmos cannot run: wrong class, machine or type.
    Unsupported(&'static str),
    /// A malformed ELF file.
    Invalid(&'static str),
    /// PT_INTERP names no path (empty, or more than `MAX_INTERP` bytes).
    BadInterpreter(&'a [u8]),
}

/// Linux's limit on PT_INTERP's size (a path of at most PATH_MAX).
const MAX_INTERP: u64 = 4096;

impl fmt::Display for ElfError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF program (exec format error)"),
            ElfError::Unsupported(why) => write!(f, "cannot run this ELF file: {why}"),
            ElfError::Invalid(why) => write!(f, "malformed ELF file: {why}"),
            ElfError::BadInterpreter(interp) => write!(
                f,
                "malformed ELF file: PT_INTERP {:?} is not a path",
                core::str::from_utf8(interp).unwrap_or("?")
            ),
        }
    }
}

/// A PT_LOAD segment, its address already moved by the load bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    /// PF_R | PF_W | PF_X.
    pub flags: u32,
}

impl Segment {
    /// First page and one past the last page the segment touches.
    pub fn pages(&self) -> (u64, u64) {
        (
            self.vaddr & !(PAGE - 1),
            (self.vaddr + self.memsz + PAGE - 1) & !(PAGE - 1),
        )
    }
}

/// A validated program, ready to map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program<'a> {
    pub entry: u64,
    /// Where the program headers are in memory (AT_PHDR), 0 if nowhere.
    pub phdr: u64,
    pub phnum: u16,
    pub segments: Vec<Segment>,
    /// What was added to every address, modulo 2^64 (0 for ET_EXEC).
    pub bias: u64,
    /// ET_DYN: it was moved to the base it was given.
    pub dynamic: bool,
    /// One past the last byte of the image (the break starts above).
    pub end: u64,
    /// The largest PT_LOAD alignment (at least a page, at most 1 GiB):
    /// where an ET_DYN image may start.
    pub align: u64,
    /// The dynamic loader PT_INTERP names (without its NUL).
    pub interp: Option<&'a [u8]>,
}

impl Program<'_> {
    /// Bytes from the first page of the image to the end of its last.
    pub fn span(&self) -> u64 {
        let first = self.segments[0].vaddr & !(PAGE - 1);
        ((self.end + PAGE - 1) & !(PAGE - 1)) - first
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Validates `file` and plans its mapping (an ET_DYN at `DYN_BASE`).
pub fn parse(file: &[u8]) -> Result<Program<'_>, ElfError<'_>> {
    parse_at(file, DYN_BASE, IMAGE_LIMIT)
}

/// Validates `file` and plans its mapping with an ET_DYN image's first
/// page at `dyn_base` rounded up to the image's alignment (`align`),
/// all of it below `limit` (a dynamic loader goes where mmap would put
/// it, above `IMAGE_LIMIT`).
pub fn parse_at(file: &[u8], dyn_base: u64, limit: u64) -> Result<Program<'_>, ElfError<'_>> {
    use ElfError::{Invalid, Unsupported};
    if file.len() < 4 || &file[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if file.len() < 64 {
        return Err(Invalid("shorter than its header"));
    }
    if file[4] != 2 {
        return Err(Unsupported("not a 64-bit program"));
    }
    if file[5] != 1 {
        return Err(Unsupported("not little-endian"));
    }
    if file[6] != 1 {
        return Err(Invalid("unknown ELF version"));
    }
    let e_type = u16_at(file, 16);
    if u16_at(file, 18) != EM_X86_64 {
        return Err(Unsupported("not an x86-64 program"));
    }
    if e_type != ET_EXEC && e_type != ET_DYN {
        return Err(Unsupported("not an executable (ET_EXEC or ET_DYN)"));
    }
    let entry = u64_at(file, 24);
    let phoff = u64_at(file, 32);
    let phentsize = u16_at(file, 54) as usize;
    let phnum = u16_at(file, 56) as usize;
    if phentsize != PHDR_SIZE {
        return Err(Invalid("program header size is not 56"));
    }
    if phnum == 0 || phnum > MAX_PHNUM {
        return Err(Invalid("bad number of program headers"));
    }
    let table_end = phoff
        .checked_add((phnum * PHDR_SIZE) as u64)
        .filter(|&e| e <= file.len() as u64)
        .ok_or(Invalid("program headers outside the file"))?;
    let table = &file[phoff as usize..table_end as usize];

    let mut segments: Vec<Segment> = Vec::new();
    let mut max_align = PAGE;
    let mut phdr_vaddr = None;
    let mut interp = None;
    for ph in table.chunks_exact(PHDR_SIZE) {
        let p_type = u32_at(ph, 0);
        let flags = u32_at(ph, 4);
        let offset = u64_at(ph, 8);
        let vaddr = u64_at(ph, 16);
        let filesz = u64_at(ph, 32);
        let memsz = u64_at(ph, 40);
        let align = u64_at(ph, 48);
        match p_type {
            PT_INTERP => {
                let end = offset
                    .checked_add(filesz)
                    .filter(|&e| e <= file.len() as u64)
                    .ok_or(Invalid("PT_INTERP outside the file"))?;
                let raw = &file[offset as usize..end as usize];
                // As Linux: a NUL-terminated path of at most PATH_MAX
                // bytes, else ENOEXEC.
                let path = raw.split(|&b| b == 0).next().unwrap_or(raw);
                if !(2..=MAX_INTERP).contains(&filesz) || raw.last() != Some(&0) || path.is_empty() {
                    return Err(ElfError::BadInterpreter(path));
                }
                if interp.is_some() {
                    return Err(Invalid("more than one PT_INTERP"));
                }
                interp = Some(path);
            }
            PT_PHDR => phdr_vaddr = Some(vaddr),
            PT_LOAD => {
                if filesz > memsz {
                    return Err(Invalid("PT_LOAD with p_filesz > p_memsz"));
                }
                if offset
                    .checked_add(filesz)
                    .is_none_or(|e| e > file.len() as u64)
                {
                    return Err(Invalid("PT_LOAD data outside the file"));
                }
                if !vaddr.wrapping_sub(offset).is_multiple_of(PAGE) {
                    return Err(Invalid(
                        "PT_LOAD p_vaddr and p_offset differ modulo the page size",
                    ));
                }
                if align > 1 && !align.is_power_of_two() {
                    return Err(Invalid("PT_LOAD alignment is not a power of two"));
                }
                if vaddr.checked_add(memsz).is_none_or(|e| e > IMAGE_LIMIT) {
                    return Err(Invalid("PT_LOAD outside user space"));
                }
                if memsz == 0 {
                    continue;
                }
                if let Some(prev) = segments.last() {
                    if vaddr < prev.vaddr + prev.memsz {
                        return Err(Invalid("PT_LOAD segments overlap or are out of order"));
                    }
                }
                if segments.len() == MAX_SEGMENTS {
                    return Err(Invalid("too many PT_LOAD segments"));
                }
                max_align = max_align.max(align.min(1 << 30));
                segments.push(Segment {
                    vaddr,
                    memsz,
                    offset,
                    filesz,
                    flags: flags & (PF_R | PF_W | PF_X),
                });
            }
            _ => {}
        }
    }
    let (first, last) = match (segments.first(), segments.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return Err(Invalid("no PT_LOAD segment")),
    };
    // As Linux's load_bias: modulo 2^64 (an ET_DYN linked above the base
    // moves down), so only the moved addresses are checked.
    let (bias, first_page) = if e_type == ET_DYN {
        let base = dyn_base
            .checked_add(max_align - 1)
            .ok_or(Invalid("PT_LOAD outside user space"))?
            & !(max_align - 1);
        let aligned_first = first.vaddr & !(max_align - 1);
        let first_page = base + ((first.vaddr & !(PAGE - 1)) - aligned_first);
        (base.wrapping_sub(aligned_first), first_page)
    } else {
        (0, first.vaddr & !(PAGE - 1))
    };
    // Segments ascend from the first, so each moved address is the first
    // page plus a distance inside the image.
    let end = first_page
        .checked_add(last.vaddr + last.memsz - (first.vaddr & !(PAGE - 1)))
        .ok_or(Invalid("PT_LOAD outside user space"))?;
    if first_page < PAGE || end > limit {
        return Err(Invalid("PT_LOAD outside user space"));
    }
    for s in &mut segments {
        s.vaddr = s.vaddr.wrapping_add(bias);
    }
    let entry = entry.wrapping_add(bias);
    if !segments
        .iter()
        .any(|s| s.flags & PF_X != 0 && (s.vaddr..s.vaddr + s.memsz).contains(&entry))
    {
        return Err(Invalid("entry point outside the executable segments"));
    }
    // AT_PHDR as Linux computes it: PT_PHDR, else the PT_LOAD whose file
    // bytes contain the headers.
    let phdr = match phdr_vaddr {
        Some(v) => v.wrapping_add(bias),
        None => segments
            .iter()
            .find(|s| s.offset <= phoff && phoff < s.offset + s.filesz)
            .map_or(0, |s| phoff - s.offset + s.vaddr),
    };
    Ok(Program {
        entry,
        phdr,
        phnum: phnum as u16,
        segments,
        bias,
        dynamic: e_type == ET_DYN,
        end,
        align: max_align,
        interp,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ELF: header, `phdrs` (type, flags, offset, vaddr,
    /// filesz, memsz, align) and `size` bytes in all.
    pub(crate) fn elf(
        e_type: u16,
        entry: u64,
        phdrs: &[(u32, u32, u64, u64, u64, u64, u64)],
        size: usize,
    ) -> Vec<u8> {
        let mut f = vec![0u8; size.max(64 + phdrs.len() * 56)];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, &(t, fl, off, va, fsz, msz, al)) in phdrs.iter().enumerate() {
            let p = &mut f[64 + i * 56..64 + (i + 1) * 56];
            p[0..4].copy_from_slice(&t.to_le_bytes());
            p[4..8].copy_from_slice(&fl.to_le_bytes());
            p[8..16].copy_from_slice(&off.to_le_bytes());
            p[16..24].copy_from_slice(&va.to_le_bytes());
            p[24..32].copy_from_slice(&va.to_le_bytes());
            p[32..40].copy_from_slice(&fsz.to_le_bytes());
            p[40..48].copy_from_slice(&msz.to_le_bytes());
            p[48..56].copy_from_slice(&al.to_le_bytes());
        }
        f
    }

    const RX: u32 = PF_R | PF_X;
    const RW: u32 = PF_R | PF_W;

    fn two_segments() -> Vec<u8> {
        elf(
            ET_EXEC,
            0x401000,
            &[
                (PT_LOAD, PF_R, 0, 0x400000, 0x200, 0x200, 0x1000),
                (PT_LOAD, RX, 0x1000, 0x401000, 0x100, 0x100, 0x1000),
                (PT_LOAD, RW, 0x2000, 0x402000, 0x10, 0x3000, 0x1000),
            ],
            0x3000,
        )
    }

    #[test]
    fn static_executable() {
        let f = two_segments();
        let p = parse(&f).unwrap();
        assert_eq!(p.entry, 0x401000);
        assert_eq!(p.bias, 0);
        assert_eq!(p.phdr, 0x400040);
        assert_eq!(p.phnum, 3);
        assert_eq!(p.end, 0x405000);
        assert_eq!(p.segments.len(), 3);
        assert_eq!(p.segments[2].pages(), (0x402000, 0x405000));
    }

    #[test]
    fn static_pie_moves_to_the_base() {
        let f = elf(
            ET_DYN,
            0x1010,
            &[
                (PT_PHDR, PF_R, 64, 64, 56 * 3, 56 * 3, 8),
                (PT_LOAD, RX, 0, 0, 0x1100, 0x1100, 0x1000),
                (PT_LOAD, RW, 0x1100, 0x2100, 0x10, 0x20, 0x1000),
            ],
            0x1200,
        );
        let p = parse(&f).unwrap();
        assert_eq!(p.bias, DYN_BASE);
        assert_eq!(p.entry, DYN_BASE + 0x1010);
        assert_eq!(p.phdr, DYN_BASE + 64);
        assert_eq!(p.segments[1].vaddr, DYN_BASE + 0x2100);
        // A 2 MiB p_align moves the base to a 2 MiB boundary.
        let f = elf(
            ET_DYN,
            0x10,
            &[(PT_LOAD, RX, 0, 0, 0x100, 0x100, 0x20_0000)],
            0x200,
        );
        assert_eq!(parse(&f).unwrap().bias, 0x5555_5560_0000);
    }

    fn with_interp(interp: &[u8]) -> Vec<u8> {
        let mut f = elf(
            ET_DYN,
            0x10,
            &[
                (PT_INTERP, PF_R, 0x100, 0, interp.len() as u64, interp.len() as u64, 1),
                (PT_LOAD, RX, 0, 0, 0x200, 0x200, 0x1000),
            ],
            0x200,
        );
        f[0x100..0x100 + interp.len()].copy_from_slice(interp);
        f
    }

    #[test]
    fn dynamic_programs_name_their_loader() {
        let f = with_interp(b"/lib64/ld-linux-x86-64.so.2\0");
        let p = parse(&f).unwrap();
        assert_eq!(p.interp, Some(&b"/lib64/ld-linux-x86-64.so.2"[..]));
        assert_eq!(p.bias, DYN_BASE, "a PIE goes to the PIE base");
        assert_eq!(p.entry, DYN_BASE + 0x10);
        // Not NUL-terminated, or empty: ENOEXEC as on Linux.
        let f = with_interp(b"/lib64/ld");
        assert_eq!(parse(&f), Err(ElfError::BadInterpreter(b"/lib64/ld")));
        let f = with_interp(b"\0\0");
        assert!(matches!(parse(&f), Err(ElfError::BadInterpreter(_))));
        assert!(parse(&elf(ET_EXEC, 0x401000, &[(PT_LOAD, RX, 0, 0x401000, 0x10, 0x10, 0x1000)], 0x200))
            .unwrap()
            .interp
            .is_none());
    }

    /// A dynamic loader goes where exec found room for it: its first
    /// page at the (aligned) base, below the given limit.
    #[test]
    fn a_loader_moves_to_its_base() {
        let f = elf(
            ET_DYN,
            0x1100,
            &[
                (PT_LOAD, PF_R, 0, 0, 0x800, 0x800, 0x1000),
                (PT_LOAD, RX, 0x1000, 0x1000, 0x200, 0x200, 0x1000),
                (PT_LOAD, RW, 0x1e00, 0x2e00, 0x100, 0x1300, 0x1000),
            ],
            0x2000,
        );
        let top = 0x7fff_f000_0000;
        let p = parse_at(&f, 0x7fff_e000_0000, top).unwrap();
        assert_eq!(p.bias, 0x7fff_e000_0000);
        assert_eq!(p.entry, 0x7fff_e000_1100);
        assert_eq!(p.span(), 0x5000);
        assert_eq!(p.align, 0x1000);
        assert_eq!(p.segments[2].vaddr, 0x7fff_e000_2e00);
        assert_eq!(p.segments[2].pages(), (0x7fff_e000_2000, 0x7fff_e000_5000));
        // A base that is not aligned is rounded up.
        assert_eq!(parse_at(&f, 0x7fff_e000_0001, top).unwrap().bias, 0x7fff_e000_1000);
        // Past the limit, or wrapping: refused.
        assert_eq!(
            parse_at(&f, top - 0x4000, top),
            Err(ElfError::Invalid("PT_LOAD outside user space"))
        );
        assert_eq!(
            parse_at(&f, u64::MAX - 0x10, top),
            Err(ElfError::Invalid("PT_LOAD outside user space"))
        );
        // Linked above the base: moved down (the bias wraps, as Linux's).
        let high = elf(
            ET_DYN,
            0x7e00_0000_1010,
            &[(PT_LOAD, RX, 0, 0x7e00_0000_0000, 0x1100, 0x1100, 0x1000)],
            0x1200,
        );
        let p = parse_at(&high, 0x1000_0000, top).unwrap();
        assert_eq!(p.segments[0].vaddr, 0x1000_0000);
        assert_eq!(p.entry, 0x1000_1010);
        assert_eq!(p.end, 0x1000_1100);
        assert_eq!(p.bias, 0x1000_0000u64.wrapping_sub(0x7e00_0000_0000));
        // The default limit keeps programs below IMAGE_LIMIT.
        assert!(parse_at(&f, 0x7fff_e000_0000, IMAGE_LIMIT).is_err());
    }

    #[test]
    fn rejects_malformed_files() {
        use ElfError::*;
        let good = two_segments();
        assert_eq!(parse(b"#!/bin/sh\n"), Err(NotElf));
        assert_eq!(parse(b""), Err(NotElf));
        assert_eq!(parse(&good[..40]), Err(Invalid("shorter than its header")));
        let mut f = good.clone();
        f[4] = 1;
        assert_eq!(parse(&f), Err(Unsupported("not a 64-bit program")));
        let mut f = good.clone();
        f[18] = 3;
        assert_eq!(parse(&f), Err(Unsupported("not an x86-64 program")));
        let mut f = good.clone();
        f[16] = 1;
        assert!(matches!(parse(&f), Err(Unsupported(_))), "ET_REL");
        let mut f = good.clone();
        f[54] = 32;
        assert_eq!(parse(&f), Err(Invalid("program header size is not 56")));
        let mut f = good.clone();
        f[56] = 0;
        assert_eq!(parse(&f), Err(Invalid("bad number of program headers")));
        let mut f = good.clone();
        f[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&f), Err(Invalid("program headers outside the file")));
        assert_eq!(
            parse(&good[..0x100]),
            Err(Invalid("PT_LOAD data outside the file"))
        );

        let one =
            |seg: (u32, u32, u64, u64, u64, u64, u64), entry| -> Result<(), ElfError<'static>> {
                match parse(&elf(ET_EXEC, entry, &[seg], 0x2000)) {
                    Ok(_) => Ok(()),
                    Err(Invalid(why)) => Err(Invalid(why)),
                    Err(e) => panic!("{e:?}"),
                }
            };
        assert_eq!(
            one((PT_LOAD, RX, 0, 0x400000, 0x200, 0x100, 0x1000), 0x400000),
            Err(Invalid("PT_LOAD with p_filesz > p_memsz"))
        );
        assert_eq!(
            one((PT_LOAD, RX, 0x10, 0x400000, 0x20, 0x100, 0x1000), 0x400000),
            Err(Invalid(
                "PT_LOAD p_vaddr and p_offset differ modulo the page size"
            ))
        );
        assert_eq!(
            one((PT_LOAD, RX, u64::MAX, 0x400000, 2, 2, 0x1000), 0x400000),
            Err(Invalid("PT_LOAD data outside the file"))
        );
        assert_eq!(
            one(
                (PT_LOAD, RX, 0, 0xffff_8000_0000_0000, 0x10, 0x10, 0x1000),
                0
            ),
            Err(Invalid("PT_LOAD outside user space"))
        );
        assert_eq!(
            one((PT_LOAD, RX, 0, u64::MAX - 0xfff, 0x10, 0x2000, 0x1000), 0),
            Err(Invalid("PT_LOAD outside user space"))
        );
        assert_eq!(
            one((PT_LOAD, RX, 0, 0, 0x10, 0x10, 0x1000), 0),
            Err(Invalid("PT_LOAD outside user space")),
            "page 0"
        );
        assert_eq!(
            one((PT_LOAD, RX, 0, 0x400000, 0x10, 0x10, 0x3000), 0x400000),
            Err(Invalid("PT_LOAD alignment is not a power of two"))
        );
        assert_eq!(
            one((PT_LOAD, RX, 0, 0x400000, 0x10, 0x10, 0x1000), 0x500000),
            Err(Invalid("entry point outside the executable segments"))
        );
        assert_eq!(
            one((PT_LOAD, RW, 0, 0x400000, 0x10, 0x10, 0x1000), 0x400000),
            Err(Invalid("entry point outside the executable segments")),
            "not executable"
        );
        assert_eq!(
            one((PT_LOAD, RX, 0, 0x400000, 0, 0, 0x1000), 0x400000),
            Err(Invalid("no PT_LOAD segment"))
        );
        let overlap = elf(
            ET_EXEC,
            0x400000,
            &[
                (PT_LOAD, RX, 0, 0x400000, 0x100, 0x2000, 0x1000),
                (PT_LOAD, RW, 0x1000, 0x401000, 0x10, 0x10, 0x1000),
            ],
            0x2000,
        );
        assert_eq!(
            parse(&overlap),
            Err(Invalid("PT_LOAD segments overlap or are out of order"))
        );
        let reversed = elf(
            ET_EXEC,
            0x400000,
            &[
                (PT_LOAD, RW, 0x1000, 0x501000, 0x10, 0x10, 0x1000),
                (PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000),
            ],
            0x2000,
        );
        assert_eq!(
            parse(&reversed),
            Err(Invalid("PT_LOAD segments overlap or are out of order"))
        );
        let interp_outside = elf(
            ET_EXEC,
            0x400000,
            &[(PT_INTERP, PF_R, 0x5000, 0, 10, 10, 1)],
            0x100,
        );
        assert_eq!(
            parse(&interp_outside),
            Err(Invalid("PT_INTERP outside the file"))
        );
        // Segments sharing a page are fine.
        let shared = elf(
            ET_EXEC,
            0x400000,
            &[
                (PT_LOAD, RX, 0, 0x400000, 0x100, 0x100, 0x1000),
                (PT_LOAD, RW, 0x100, 0x400100, 0x10, 0x10, 0x1000),
            ],
            0x2000,
        );
        assert!(parse(&shared).is_ok());
    }

    #[test]
    fn debian_busybox_if_installed() {
        let Ok(f) = std::fs::read("/bin/busybox") else {
            return;
        };
        if f.get(16) != Some(&2) {
            return;
        }
        let p = parse(&f).unwrap();
        assert!(p.segments.len() >= 2);
        assert_eq!(p.bias, 0);
        assert!(p.phdr >= 0x400000);
    }
}
