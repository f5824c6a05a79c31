//go:build !unix

package pqssl

import "os"

// keyPermissionsOK is always true where file modes do not describe access
// (Windows), as in libpq.
func keyPermissionsOK(os.FileInfo) bool { return true }
