/** The libc file system calls and constants, as one namespace (`fsCalls` in index.ts). */
export {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, FS_SCRATCH_SIZE, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL,
  O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV, STATFS_SIZE, STAT_SIZE, fchmodat, fstatat, fstatfs, fsync, ftruncate, getdents64, linkat, lseekSet,
  mkdirat, openat2, readlinkat, renameat, symlinkat, sysClose, unlinkat, utimensat,
} from './libc.js';
