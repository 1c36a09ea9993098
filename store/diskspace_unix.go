//go:build unix

package store

import "golang.org/x/sys/unix"

// freeSpace is the space an unprivileged writer may still use on path's
// file system. A file system that reports no size at all (some FUSE and
// overlay ones) cannot tell.
func freeSpace(path string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Blocks == 0 {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}

// writable reports whether this process may write in path: false for an
// immutable folder (EPERM), a read-only file system (EROFS) or another
// owner's folder (EACCES).
func writable(path string) bool { return unix.Access(path, unix.W_OK) == nil }
