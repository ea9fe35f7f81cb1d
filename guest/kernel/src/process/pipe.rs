//! Pipes, as Linux builds them: a ring of 16 slots, each a page holding
//! up to 4096 bytes at some offset (`fs/pipe.c`). A write first merges
//! the sub-page remainder of its length into the last slot when it fits
//! there, then fills fresh slots a page at a time while any is free; a
//! read takes bytes from the oldest slots and frees a slot once it is
//! empty. So a pipe holds 65536 bytes written in page-sized (or 1-byte)
//! pieces, fewer for pieces that do not pack into pages (as on Linux),
//! and a write of at most PIPE_BUF (4096) bytes is atomic: it merges or
//! takes one slot whole.
//!
//! `Ring` is the pure slot arithmetic: it plans a transfer as `Piece`s
//! (slot, offset, length); `Pipe` adds the slots' frames and moves the
//! bytes between them and user pages by copy hypercall (ring 0 never
//! touches the bytes: each emulated instruction costs ~1 us here).

use crate::syscall::user_ptr::{PhysChunk, UserMemory};
use crate::syscall::{Errno, UserPtr};
use alloc::rc::Rc;
use core::cell::RefCell;

/// Slots of a pipe (Linux's default `pipe_max_size` / PAGE_SIZE).
pub const SLOTS: usize = 16;
pub const PAGE: usize = 4096;
/// What a pipe holds at most (`F_GETPIPE_SZ`).
pub const CAPACITY: usize = SLOTS * PAGE;
/// Writes up to this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    off: usize,
    len: usize,
}

/// `n` bytes at offset `off` of slot `slot`'s page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub slot: usize,
    pub off: usize,
    pub n: usize,
}

/// The slots' bookkeeping: `tail..head` (counters, mod SLOTS) hold data.
#[derive(Debug, Default)]
pub struct Ring {
    slots: [Slot; SLOTS],
    head: usize,
    tail: usize,
    bytes: usize,
}

impl Ring {
    pub const fn new() -> Self {
        Self {
            slots: [Slot { off: 0, len: 0 }; SLOTS],
            head: 0,
            tail: 0,
            bytes: 0,
        }
    }

    fn used(&self) -> usize {
        self.head.wrapping_sub(self.tail)
    }

    pub fn is_empty(&self) -> bool {
        self.used() == 0
    }

    pub fn is_full(&self) -> bool {
        self.used() >= SLOTS
    }

    /// Bytes waiting to be read.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes up to `len` bytes for writing; `merge`: the first attempt
    /// of this write (Linux merges only then). Appends where they go to
    /// `out` and returns how many bytes it took.
    pub fn write(&mut self, len: usize, merge: bool, out: &mut Pieces) -> usize {
        let mut left = len;
        let chars = len & (PAGE - 1);
        if merge && chars != 0 && !self.is_empty() {
            let slot = self.head.wrapping_sub(1) % SLOTS;
            let s = &mut self.slots[slot];
            let off = s.off + s.len;
            if off + chars <= PAGE {
                out.push(Piece {
                    slot,
                    off,
                    n: chars,
                });
                s.len += chars;
                left -= chars;
            }
        }
        while left > 0 && !self.is_full() {
            let n = left.min(PAGE);
            let slot = self.head % SLOTS;
            self.slots[slot] = Slot { off: 0, len: n };
            out.push(Piece { slot, off: 0, n });
            self.head = self.head.wrapping_add(1);
            left -= n;
        }
        self.bytes += len - left;
        len - left
    }

    /// Takes up to `len` bytes for reading, oldest first; appends where
    /// they are to `out` and returns how many.
    pub fn read(&mut self, len: usize, out: &mut Pieces) -> usize {
        let mut left = len;
        while left > 0 && !self.is_empty() {
            let slot = self.tail % SLOTS;
            let s = &mut self.slots[slot];
            let n = left.min(s.len);
            out.push(Piece {
                slot,
                off: s.off,
                n,
            });
            s.off += n;
            s.len -= n;
            left -= n;
            if s.len == 0 {
                self.tail = self.tail.wrapping_add(1);
            }
        }
        self.bytes -= len - left;
        len - left
    }
}

/// One pipe: the ring, a frame per slot (allocated on first use, kept
/// until the pipe goes), and how many open file descriptions have each
/// end open.
#[derive(Debug)]
pub struct Pipe {
    pub ring: Ring,
    frames: [u64; SLOTS],
    pub readers: u32,
    pub writers: u32,
    /// For `st_ino`.
    pub id: u32,
}

impl Pipe {
    pub fn new(id: u32) -> Self {
        Self {
            ring: Ring::new(),
            frames: [0; SLOTS],
            readers: 0,
            writers: 0,
            id,
        }
    }

    /// Can a read go ahead without blocking (data, or no writer left)?
    pub fn readable(&self) -> bool {
        !self.ring.is_empty() || self.writers == 0
    }

    /// Can a write go ahead without blocking (a free slot, or no reader
    /// left: EPIPE)?
    pub fn writable(&self) -> bool {
        !self.ring.is_full() || self.readers == 0
    }

    /// Frames for the slots a write of `len` bytes may take.
    fn provide_frames(&mut self, len: usize) -> Result<(), Errno> {
        let n = len.div_ceil(PAGE).min(SLOTS - self.ring.used());
        for i in 0..n {
            let s = self.ring.head.wrapping_add(i) % SLOTS;
            if self.frames[s] == 0 {
                self.frames[s] = crate::mm::paging::allocate_frame()
                    .ok_or(Errno::ENOMEM)?
                    .as_u64();
            }
        }
        Ok(())
    }

    /// Moves up to `len` bytes from user memory at `buf` into the pipe
    /// (`merge`: see `Ring::write`); returns how many (0 when full).
    /// EFAULT if the first byte is not readable.
    pub fn write_from(
        &mut self,
        mem: &impl UserMemory,
        buf: UserPtr<u8>,
        len: usize,
        merge: bool,
    ) -> Result<usize, Errno> {
        let len = accessible(mem, buf, len.min(CAPACITY), false)?;
        self.provide_frames(len)?;
        let mut pieces = Pieces::new();
        let n = self.ring.write(len, merge, &mut pieces);
        copy_pieces(&self.frames, pieces.as_slice(), mem, buf, true);
        Ok(n)
    }

    /// Moves up to `len` bytes out of the pipe into user memory at `buf`;
    /// returns how many. EFAULT if the first byte is not writable.
    pub fn read_into(
        &mut self,
        mem: &impl UserMemory,
        buf: UserPtr<u8>,
        len: usize,
    ) -> Result<usize, Errno> {
        let want = len.min(self.ring.bytes());
        if want == 0 {
            return Ok(0);
        }
        let len = accessible(mem, buf, want, true)?;
        let mut pieces = Pieces::new();
        let n = self.ring.read(len, &mut pieces);
        copy_pieces(&self.frames, pieces.as_slice(), mem, buf, false);
        Ok(n)
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        for &f in self.frames.iter().filter(|&&f| f != 0) {
            crate::mm::paging::free_frame(crate::mm::addr::PhysAddr::new(f));
        }
    }
}

/// Where a transfer's pieces go: at most one merged piece and a piece
/// per slot, kept on the stack (a heap allocation costs hundreds of
/// emulated instructions, and pipes move a byte at a time too).
pub struct Pieces {
    list: [Piece; SLOTS + 1],
    len: usize,
}

impl Pieces {
    pub const fn new() -> Self {
        Self {
            list: [Piece {
                slot: 0,
                off: 0,
                n: 0,
            }; SLOTS + 1],
            len: 0,
        }
    }

    pub fn push(&mut self, p: Piece) {
        self.list[self.len] = p;
        self.len += 1;
    }

    pub fn as_slice(&self) -> &[Piece] {
        &self.list[..self.len]
    }
}

impl Default for Pieces {
    fn default() -> Self {
        Self::new()
    }
}

/// How many bytes of `[buf, buf + len)` are accessible (readable, or
/// writable if `write`) from the start; EFAULT if not the first.
fn accessible(
    mem: &impl UserMemory,
    buf: UserPtr<u8>,
    len: usize,
    write: bool,
) -> Result<usize, Errno> {
    let mut n = 0;
    for c in buf.phys_chunks(mem, len, write) {
        match c {
            Ok(c) => n += c.len,
            Err(e) if n == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(n)
}

/// Copies between the slots' frames and the user pages from `buf`, both
/// walked in order: one copy hypercall per overlap of a piece and a page.
fn copy_pieces(
    frames: &[u64; SLOTS],
    pieces: &[Piece],
    mem: &impl UserMemory,
    buf: UserPtr<u8>,
    to_pipe: bool,
) {
    let total: usize = pieces.iter().map(|p| p.n).sum();
    let mut chunks = buf.phys_chunks(mem, total, !to_pipe);
    let mut chunk: Option<PhysChunk> = None;
    let mut coff = 0;
    for p in pieces {
        let mut done = 0;
        while done < p.n {
            let c = match chunk {
                Some(c) if coff < c.len => c,
                _ => match chunks.next() {
                    Some(Ok(c)) => {
                        chunk = Some(c);
                        coff = 0;
                        c
                    }
                    // Checked accessible already (`accessible`).
                    _ => return,
                },
            };
            let n = (p.n - done).min(c.len - coff);
            let pipe = frames[p.slot] + (p.off + done) as u64;
            let user = c.phys.as_u64() + coff as u64;
            if to_pipe {
                crate::host::hypercall::copy(pipe, user, n as u64);
            } else {
                crate::host::hypercall::copy(user, pipe, n as u64);
            }
            done += n;
            coff += n;
        }
    }
}

/// An open end of a pipe (in an `OpenFile`): counts as a reader or a
/// writer until the last descriptor of its open file description closes.
pub struct PipeEnd {
    pub pipe: Rc<RefCell<Pipe>>,
    pub write: bool,
}

impl PipeEnd {
    pub fn new(pipe: &Rc<RefCell<Pipe>>, write: bool) -> Self {
        {
            let mut p = pipe.borrow_mut();
            if write {
                p.writers += 1;
            } else {
                p.readers += 1;
            }
        }
        Self {
            pipe: pipe.clone(),
            write,
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut p = self.pipe.borrow_mut();
        if self.write {
            p.writers -= 1;
        } else {
            p.readers -= 1;
        }
        // Readers may see end of file now, writers EPIPE.
        super::sched::bump();
    }
}

impl core::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "PipeEnd(pipe {}, {})",
            self.pipe.borrow().id,
            if self.write { "write" } else { "read" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(r: &mut Ring, len: usize, merge: bool) -> (usize, Vec<Piece>) {
        let mut v = Pieces::new();
        (r.write(len, merge, &mut v), v.as_slice().to_vec())
    }

    fn read(r: &mut Ring, len: usize) -> (usize, Vec<Piece>) {
        let mut v = Pieces::new();
        (r.read(len, &mut v), v.as_slice().to_vec())
    }

    #[test]
    fn holds_65536_bytes_in_pages_or_single_bytes() {
        let mut r = Ring::new();
        let mut total = 0;
        loop {
            let (n, _) = write(&mut r, PAGE, true);
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, CAPACITY);
        assert!(r.is_full());
        let mut r = Ring::new();
        let mut total = 0;
        while write(&mut r, 1, true).0 == 1 {
            total += 1;
        }
        assert_eq!(total, CAPACITY, "one-byte writes merge into pages");
    }

    #[test]
    fn pieces_that_do_not_pack_leave_room_unused() {
        // 1000-byte writes: four fit a page, the fifth takes a new slot.
        let mut r = Ring::new();
        let mut total = 0;
        while write(&mut r, 1000, true).0 == 1000 {
            total += 1000;
        }
        assert_eq!(total, 64_000);
        assert_eq!(r.bytes(), 64_000);
    }

    #[test]
    fn large_writes_merge_their_remainder_then_take_pages() {
        let mut r = Ring::new();
        assert_eq!(write(&mut r, 10, true).0, 10);
        let (n, p) = write(&mut r, 5000, true);
        assert_eq!(n, 5000);
        assert_eq!(
            p,
            [
                Piece {
                    slot: 0,
                    off: 10,
                    n: 904
                },
                Piece {
                    slot: 1,
                    off: 0,
                    n: 4096
                }
            ]
        );
        // Not merging (a restarted write): a fresh slot.
        let (_, p) = write(&mut r, 5, false);
        assert_eq!(
            p,
            [Piece {
                slot: 2,
                off: 0,
                n: 5
            }]
        );
    }

    #[test]
    fn reads_take_the_oldest_bytes_and_free_slots() {
        let mut r = Ring::new();
        write(&mut r, 3 * PAGE, true);
        let (n, p) = read(&mut r, 5000);
        assert_eq!(n, 5000);
        assert_eq!(
            p,
            [
                Piece {
                    slot: 0,
                    off: 0,
                    n: 4096
                },
                Piece {
                    slot: 1,
                    off: 0,
                    n: 904
                }
            ]
        );
        assert_eq!(r.used(), 2);
        assert_eq!(r.bytes(), 3 * PAGE - 5000);
        let (n, _) = read(&mut r, 100_000);
        assert_eq!(n, 3 * PAGE - 5000);
        assert!(r.is_empty());
        assert_eq!(read(&mut r, 1).0, 0);
        // The ring wraps around.
        for _ in 0..SLOTS {
            write(&mut r, PAGE, true);
        }
        assert!(r.is_full());
        assert_eq!(write(&mut r, 1, true).0, 0);
        read(&mut r, PAGE);
        let (n, p) = write(&mut r, 10 * PAGE, true);
        assert_eq!((n, p[0].slot), (PAGE, 3), "the slot freed");
    }

    #[test]
    fn readiness_and_end_counts() {
        let p = Rc::new(RefCell::new(Pipe::new(1)));
        let r = PipeEnd::new(&p, false);
        let w = PipeEnd::new(&p, true);
        assert!(!p.borrow().readable(), "empty, a writer: a read blocks");
        assert!(p.borrow().writable());
        drop(w);
        assert!(p.borrow().readable(), "no writer: end of file");
        drop(r);
        assert_eq!((p.borrow().readers, p.borrow().writers), (0, 0));
    }
}
