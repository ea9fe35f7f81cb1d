//! Path resolution with Linux's rules: `/` starts at the root, anything
//! else at the given directory; `.` and `..` (the root is its own
//! parent); symlinks are followed in the middle of a path always and at
//! its end when asked (or when a slash follows), at most 40 in one lookup
//! (ELOOP); a trailing slash needs a directory (ENOTDIR); a component
//! longer than 255 bytes is ENAMETOOLONG; an empty path is ENOENT.

use super::{NodeId, Vfs, ROOT};
use crate::syscall::Errno;

/// Linux's `MAXSYMLINKS`.
pub const MAX_SYMLINKS: u32 = 40;
/// Linux's `NAME_MAX`.
pub const NAME_MAX: usize = 255;
/// Linux's `PATH_MAX` (with the NUL).
pub const PATH_MAX: usize = 4096;

/// The directory a path's last component would be in, and that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent<'p> {
    pub dir: NodeId,
    /// The last component as written (`.` and `..` included); empty for
    /// a path that names no component (`/`).
    pub name: &'p [u8],
    /// The path ends in a slash: the result must be a directory.
    pub trailing_slash: bool,
}

impl Vfs<'_> {
    /// The node `path` names, from directory `start`; the last component
    /// is followed if it is a symlink and `follow` is set.
    pub fn lookup(&mut self, start: NodeId, path: &[u8], follow: bool) -> Result<NodeId, Errno> {
        let mut links = 0;
        self.walk(start, path, follow, &mut links)
    }

    fn walk(
        &mut self,
        start: NodeId,
        path: &[u8],
        follow: bool,
        links: &mut u32,
    ) -> Result<NodeId, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut cur = self.cross(if path[0] == b'/' { ROOT } else { start });
        let trailing_slash = path.ends_with(b"/");
        let mut parts = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        while let Some(name) = parts.next() {
            let last = parts.peek().is_none();
            if !self.node(cur).is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            match name {
                b"." => continue,
                b".." => {
                    cur = self.node(cur).parent;
                    continue;
                }
                _ => {}
            }
            self.ensure_loaded(cur);
            let mut next = self.cross(self.child(cur, name).ok_or(Errno::ENOENT)?);
            // A host node's attributes and a host symlink's target are
            // fetched the first time a lookup reaches it.
            self.ensure_attrs(next)?;
            if self.node(next).is_symlink() && (!last || follow || trailing_slash) {
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = self.link_target(next).unwrap_or_default();
                next = self.walk(cur, &target, true, links)?;
            }
            cur = next;
        }
        if trailing_slash && !self.node(cur).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }

    /// Resolves all of `path` but its last component, which must be a
    /// directory: where a new file named by `path` would go.
    pub fn lookup_parent<'p>(&mut self, start: NodeId, path: &'p [u8]) -> Result<Parent<'p>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let trailing_slash = path.ends_with(b"/");
        let trimmed = {
            let mut p = path;
            while p.len() > 1 && p.ends_with(b"/") {
                p = &p[..p.len() - 1];
            }
            p
        };
        let (dir_path, name) = match crate::bytes::rfind(trimmed, b'/') {
            Some(0) => (&trimmed[..1], &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        let dir = if dir_path.is_empty() {
            self.cross(start)
        } else {
            self.lookup(start, dir_path, true)?
        };
        if !self.node(dir).is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let name = if name == b"/" { &b""[..] } else { name };
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        // The caller looks for `name` in it next.
        self.ensure_loaded(dir);
        Ok(Parent {
            dir,
            name,
            trailing_slash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::tests::sample;

    #[test]
    fn resolves_like_linux() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let mut path = |p: &[u8], follow| vfs.lookup(ROOT, p, follow).map(|n| vfs.path_of(n));
        assert_eq!(path(b"/", true), Ok(b"/".to_vec()));
        assert_eq!(path(b"/etc/passwd", true), Ok(b"/etc/passwd".to_vec()));
        assert_eq!(path(b"etc//passwd", true), Ok(b"/etc/passwd".to_vec()));
        assert_eq!(path(b"/../etc/./passwd", true), Ok(b"/etc/passwd".to_vec()));
        assert_eq!(path(b"/bin/sh", true), Ok(b"/bin/busybox".to_vec()));
        assert_eq!(path(b"/bin/sh", false), Ok(b"/bin/sh".to_vec()));
        assert_eq!(path(b"/data/up/passwd", false), Ok(b"/etc/passwd".to_vec()));
        assert_eq!(path(b"/data/up", false), Ok(b"/data/up".to_vec()));
        assert_eq!(
            path(b"/data/up/", false),
            Ok(b"/etc".to_vec()),
            "a slash follows"
        );
        assert_eq!(path(b"/data/abs", true), Ok(b"/etc/passwd".to_vec()));
        assert_eq!(path(b"", true), Err(Errno::ENOENT));
        assert_eq!(path(b"/nope", true), Err(Errno::ENOENT));
        assert_eq!(path(b"/data/dangling", true), Err(Errno::ENOENT));
        assert_eq!(
            path(b"/data/dangling", false),
            Ok(b"/data/dangling".to_vec())
        );
        assert_eq!(path(b"/etc/passwd/", true), Err(Errno::ENOTDIR));
        assert_eq!(path(b"/etc/passwd/x", true), Err(Errno::ENOTDIR));
        assert_eq!(path(b"/etc/passwd/.", true), Err(Errno::ENOTDIR));
        assert_eq!(path(b"/data/loop", true), Err(Errno::ELOOP));
        assert_eq!(path(b"/data/loop", false), Ok(b"/data/loop".to_vec()));
        assert_eq!(path(b"/data/loop/x", false), Err(Errno::ELOOP));
        let long = [b'a'; 256];
        assert_eq!(path(&long, true), Err(Errno::ENAMETOOLONG));
        assert_eq!(path(&long[..255], true), Err(Errno::ENOENT));
        let data = vfs.lookup(ROOT, b"/data", true).unwrap();
        assert_eq!(
            vfs.lookup(data, b"a.txt", true).map(|n| vfs.path_of(n)),
            Ok(b"/data/a.txt".to_vec())
        );
        assert_eq!(
            vfs.lookup(data, b"../bin/./busybox", true)
                .map(|n| vfs.path_of(n)),
            Ok(b"/bin/busybox".to_vec())
        );
        let exe = vfs.lookup(ROOT, b"/proc/self/exe", false).unwrap();
        assert!(vfs.node(exe).is_symlink());
    }

    #[test]
    fn self_exe_follows_the_program() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 0).unwrap();
        vfs.set_self_exe(b"/bin/busybox");
        let n = vfs.lookup(ROOT, b"/proc/self/exe", true).unwrap();
        assert_eq!(vfs.path_of(n), b"/bin/busybox");
    }

    #[test]
    fn parents() {
        let bytes = sample();
        let mut vfs = Vfs::new(&bytes, 0, 0).unwrap();
        let etc = vfs.lookup(ROOT, b"/etc", true).unwrap();
        let data = vfs.lookup(ROOT, b"/data", true).unwrap();
        let p = vfs.lookup_parent(ROOT, b"/etc/new").unwrap();
        assert_eq!((p.dir, p.name, p.trailing_slash), (etc, &b"new"[..], false));
        let p = vfs.lookup_parent(data, b"new/").unwrap();
        assert_eq!((p.dir, p.name, p.trailing_slash), (data, &b"new"[..], true));
        let p = vfs.lookup_parent(data, b"/").unwrap();
        assert_eq!((p.dir, p.name), (ROOT, &b""[..]));
        let p = vfs.lookup_parent(ROOT, b"data/..").unwrap();
        assert_eq!((p.dir, p.name), (data, &b".."[..]));
        let p = vfs.lookup_parent(data, b".").unwrap();
        assert_eq!((p.dir, p.name), (data, &b"."[..]));
        assert_eq!(
            vfs.lookup_parent(ROOT, b"/x/new").unwrap_err(),
            Errno::ENOENT
        );
        assert_eq!(
            vfs.lookup_parent(ROOT, b"/etc/passwd/new").unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(vfs.lookup_parent(ROOT, b"").unwrap_err(), Errno::ENOENT);
        let p = vfs.lookup_parent(ROOT, b"/data/up/new").unwrap();
        assert_eq!(p.dir, etc, "symlinks in the middle are followed");
    }
}
