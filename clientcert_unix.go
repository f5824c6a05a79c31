// This file holds libpq's key file permission rule on Unix systems.

//go:build unix

package pqssl

import (
	"os"
	"syscall"
)

// keyPermissionsOK applies libpq's rule: a key file owned by root may be
// at most 0640 (root-owned keys are often shared with a group, such as
// ssl-cert), any other owner's at most 0600.
func keyPermissionsOK(fi os.FileInfo) bool {
	perm := fi.Mode().Perm()
	uid := uint32(1)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = st.Uid
	}
	if uid == 0 {
		return perm&0o037 == 0 // no g+w, g+x, nor anything for others
	}
	return perm&0o077 == 0
}
