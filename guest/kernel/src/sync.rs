//! `Global<T>`: mutable kernel state in a `static`.
//!
//! kvmos runs on one CPU with interrupts off in ring 0, so there is no
//! concurrency, only re-entrancy (a fault or panic while a global is in
//! use). `Global` is a `RefCell` for statics: one guard at a time, and a
//! second `lock` panics instead of aliasing.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

pub struct Global<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: every access to `value` goes through a `GlobalGuard`, and
// `try_lock` hands out at most one guard at a time (the atomic swap).
unsafe impl<T: Send> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, or `None` if a guard is alive (re-entrant use).
    pub fn try_lock(&self) -> Option<GlobalGuard<'_, T>> {
        if self.locked.swap(true, Ordering::Acquire) {
            None
        } else {
            Some(GlobalGuard { global: self })
        }
    }

    /// The value.
    ///
    /// # Panics
    /// If a guard is alive (re-entrant use).
    #[track_caller]
    pub fn lock(&self) -> GlobalGuard<'_, T> {
        match self.try_lock() {
            Some(g) => g,
            None => panic!("kernel global used re-entrantly"),
        }
    }

    /// Where the value lives, for tables the CPU reads by address (GDT,
    /// IDT, TSS). Reading or writing through it is up to the caller.
    pub const fn as_ptr(&self) -> *mut T {
        self.value.get()
    }
}

pub struct GlobalGuard<'a, T> {
    global: &'a Global<T>,
}

impl<T> Deref for GlobalGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `try_lock`).
        unsafe { &*self.global.value.get() }
    }
}

impl<T> DerefMut for GlobalGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the only one (see `try_lock`).
        unsafe { &mut *self.global.value.get() }
    }
}

impl<T> Drop for GlobalGuard<'_, T> {
    fn drop(&mut self) {
        self.global.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::Global;

    #[test]
    fn one_guard_at_a_time() {
        let g = Global::new(1);
        {
            let mut a = g.lock();
            *a += 1;
            assert!(g.try_lock().is_none());
        }
        assert_eq!(*g.lock(), 2);
    }
}
