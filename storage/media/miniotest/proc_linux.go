//go:build linux

package miniotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// dieWithParent has the kernel kill MinIO if the test binary dies without
// running Main's clean-up (a panic, a test time-out, a kill, or a TestMain
// that never calls Main or Stop).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// lockDir marks dir as in use for as long as this process lives: an flock
// on dir/lock, which the kernel drops when the process dies, however it
// dies. The caller keeps the returned file open (and referenced).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// removeIfAbandoned removes a server directory whose owner has died: its
// lock exists, is not new (so not being set up), and is free.
func removeIfAbandoned(dir string) {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if err != nil {
		return // no lock: not (yet) a directory this package can judge
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || time.Since(info.ModTime()) < time.Minute {
		return
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		_ = os.RemoveAll(dir)
	}
}
