//go:build !linux

package miniotest

import (
	"os"
	"os/exec"
)

// dieWithParent does nothing here: only Linux can tie a child's life to its
// parent's. A test binary killed before Main's clean-up leaves MinIO running.
func dieWithParent(*exec.Cmd) {}

// lockDir does nothing here, and removeIfAbandoned never removes: the
// directories of test binaries that died are left in the temp dir.
func lockDir(string) (*os.File, error) { return nil, nil }

func removeIfAbandoned(string) {}
