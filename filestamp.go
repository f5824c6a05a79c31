// This file holds file stamps, which tell when a certificate, key or root
// file has changed and must be read again.

package pqssl

import (
	"os"
	"time"
)

// fileStamp identifies one version of a file: rewriting it, renaming another
// file over it, or changing its size or modification time gives a different
// stamp.
type fileStamp struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	st.dev, st.ino = fileIdentity(fi)
	return st
}
