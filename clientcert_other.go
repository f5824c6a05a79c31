// This file holds the key file permission rule on systems without Unix
// permissions.

//go:build !unix

package pqssl

import "os"

// keyPermissionsOK is always true where file modes do not describe access
// (Windows), as in libpq.
func keyPermissionsOK(os.FileInfo) bool { return true }
