// This file holds file stamps on Unix systems.

//go:build unix

package pqssl

import (
	"os"
	"syscall"
)

func fileIdentity(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
