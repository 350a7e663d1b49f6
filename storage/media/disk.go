package media

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/assets"
)

// staleTemp is the age after which NewDisk removes a temporary file: older
// than any upload still running, so it was left by a crash.
const staleTemp = time.Hour

// Disk stores blobs as files under a directory; a key "a/b" is the file
// <dir>/a/b. Writes go to a temporary file in <dir>/.tmp, are fsynced and
// renamed into place, so a blob is either complete or absent, even after a
// crash. Parts of multipart uploads live in <dir>/.multipart/<uploadID>/<n>.
// The directory must be on one file system (rename is not a copy).
//
// Disk is safe for concurrent use; concurrent writes to one key end with one
// of them complete.
type Disk struct {
	dir string
}

var _ assets.Blobs = (*Disk)(nil)

// NewDisk opens the store under dir, creating it (mode 0750) if needed, and
// removes temporary files left by a crash. It fails if dir cannot be created.
func NewDisk(dir string) (*Disk, error) {
	for _, sub := range []string{"", tmpDir, multipartDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, fmt.Errorf("open media dir: %w", err)
		}
	}
	d := &Disk{dir: dir}
	if err := d.removeStaleTemp(time.Now().Add(-staleTemp)); err != nil {
		return nil, fmt.Errorf("open media dir: %w", err)
	}
	return d, nil
}

// removeStaleTemp removes the temporary files modified before t.
func (d *Disk) removeStaleTemp(t time.Time) error {
	entries, err := os.ReadDir(filepath.Join(d.dir, tmpDir))
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(t) {
			continue // gone already, or possibly still being written
		}
		if err := os.Remove(filepath.Join(d.dir, tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// path returns the file of a valid key.
func (d *Disk) path(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, filepath.FromSlash(key)), nil
}

// Put stores the blob via a temporary file (see Disk). A failure of r, a
// wrong size or an ended ctx is returned as the caller's error; a failure to
// write wraps pathways.ErrUnavailable.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	path, err := d.path(key)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	src := newSource(ctx, r, size)
	tmp, err := d.writeTemp(src, nil)
	if err == nil {
		err = d.commit(ctx, tmp, path, true)
	}
	return d.writeErr("put", key, src, err)
}

// writeErr reports a failed write: the source's failure if it failed (it is
// the cause, whatever the write made of it), else the store's.
func (d *Disk) writeErr(op, key string, src *source, err error) error {
	switch {
	case err == nil:
		return nil
	case src.err != nil:
		return fmt.Errorf("%s %s: %w", op, key, src.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	return unavailable(op, key, err)
}

// writeTemp copies src into a new fsynced temporary file, also into h if
// not nil, and returns the file's path. On failure it leaves no file.
func (d *Disk) writeTemp(src io.Reader, h hash.Hash) (path string, err error) {
	f, err := os.CreateTemp(filepath.Join(d.dir, tmpDir), "put-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	var w io.Writer = f
	if h != nil {
		w = io.MultiWriter(f, h)
	}
	if _, err := io.Copy(w, src); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// commit renames the temporary file tmp to path, creating the directories
// it needs if mkdir is set, and fsyncs the directory so the new name
// survives a crash. On failure, or if ctx has ended, it removes tmp.
func (d *Disk) commit(ctx context.Context, tmp, path string, mkdir bool) (err error) {
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if mkdir {
		if err := d.mkdirs(dir); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// mkdirs creates dir and its missing parents below the store's directory,
// fsyncing the parent of each new one. (Delete leaves empty directories in
// place, so that it cannot remove one a concurrent Put is about to use.)
func (d *Disk) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != d.dir && parent != dir {
		if err := d.mkdirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open returns a reader of the range. Reading past the end stops at the
// end; an offset beyond the end fails with *RangeError.
func (d *Disk) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if err := validRange(offset, length); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, d.readErr("open", key, err)
	}
	info, err := f.Stat()
	if err == nil && info.IsDir() {
		err = fmt.Errorf("%s is a directory: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		_ = f.Close()
		return nil, d.readErr("open", key, err)
	}
	size := info.Size()
	if offset > size {
		_ = f.Close()
		return nil, &RangeError{Key: key, Offset: offset, Size: size}
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, offset, length), f}, nil
}

// readErr maps a failed read: a missing file is a missing blob.
func (d *Disk) readErr(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(op, key, err)
	}
	return unavailable(op, key, err)
}

// Stat describes the blob under key.
func (d *Disk) Stat(ctx context.Context, key string) (assets.BlobInfo, error) {
	path, err := d.path(key)
	if err != nil {
		return assets.BlobInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	info, err := os.Stat(path)
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a file: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return assets.BlobInfo{}, d.readErr("stat", key, err)
	}
	return assets.BlobInfo{Key: key, Size: info.Size(), Modified: info.ModTime()}, nil
}

// Delete removes the blob; a missing one (or a directory) is left alone.
func (d *Disk) Delete(ctx context.Context, key string) error {
	path, err := d.path(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if info, err := os.Lstat(path); err != nil || info.IsDir() {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return unavailable("delete", key, err)
		}
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable("delete", key, err)
	}
	return nil
}

// List walks the directory that holds prefix's keys, skipping the store's
// own .tmp and .multipart. A blob deleted during the walk may or may not be
// listed; one created during it may be missed.
func (d *Disk) List(ctx context.Context, prefix string, fn func(assets.BlobInfo) error) error {
	if err := validPrefix(prefix); err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	// Only the directory of the prefix's last "/" can hold matching keys.
	base := d.dir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = filepath.Join(d.dir, filepath.FromSlash(prefix[:i]))
	}
	err := filepath.WalkDir(base, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // base absent (nothing listed), or removed meanwhile
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(d.dir, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if key == tmpDir || key == multipartDir {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(assets.BlobInfo{Key: key, Size: info.Size(), Modified: info.ModTime()}); err != nil {
			return callbackError{err}
		}
		return nil
	})
	var cb callbackError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cb):
		return cb.err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	return unavailable("list", prefix, err)
}

// callbackError carries List's callback error through the walk unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// uploadDir returns the directory of an upload, after checking that the id
// has the form CreateMultipart gives (so it cannot escape .multipart).
func (d *Disk) uploadDir(uploadID string) (string, bool) {
	if len(uploadID) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(uploadID); err != nil {
		return "", false
	}
	return filepath.Join(d.dir, multipartDir, uploadID), true
}

// uploadKeyFile names the file in an upload's directory that holds its key,
// so that an upload is only used with the key it was created for (as on S3).
const uploadKeyFile = "key"

// upload returns the directory of an existing upload to key, or an error
// wrapping pathways.ErrNotFound.
func (d *Disk) upload(op, key, uploadID string) (string, error) {
	if err := validKey(key); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, key, err)
	}
	dir, ok := d.uploadDir(uploadID)
	if !ok {
		return "", notFound(op, key, fmt.Errorf("malformed upload id %q", uploadID))
	}
	b, err := os.ReadFile(filepath.Join(dir, uploadKeyFile))
	if err != nil {
		return "", d.readErr(op, key, fmt.Errorf("upload %s: %w", uploadID, err))
	}
	if string(b) != key {
		return "", notFound(op, key, fmt.Errorf("upload %s is for another key", uploadID))
	}
	return dir, nil
}

// CreateMultipart starts an upload: a directory named by a random id.
func (d *Disk) CreateMultipart(ctx context.Context, key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", fmt.Errorf("create upload %s: %w", key, err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	id := hex.EncodeToString(b)
	dir, _ := d.uploadDir(id)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return "", unavailable("create upload", key, err)
	}
	if err := os.WriteFile(filepath.Join(dir, uploadKeyFile), []byte(key), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", unavailable("create upload", key, err)
	}
	return id, nil
}

// PutPart stores part n through a temporary file, like Put; size must be
// known. The ETag is the hex MD5 of the part, as S3 gives it.
func (d *Disk) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (string, error) {
	op := "put part " + strconv.Itoa(n) + " of"
	if err := validPartNumber(n); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, key, err)
	}
	if size < 0 {
		return "", fmt.Errorf("%s %s: part size must be known", op, key)
	}
	dir, err := d.upload(op, key, uploadID)
	if err != nil {
		return "", err
	}
	src := newSource(ctx, r, size)
	h := md5.New()
	tmp, err := d.writeTemp(src, h)
	if err == nil {
		// No mkdir: an upload aborted meanwhile must stay gone.
		err = d.commit(ctx, tmp, filepath.Join(dir, strconv.Itoa(n)), false)
		if errors.Is(err, fs.ErrNotExist) {
			return "", notFound(op, key, fmt.Errorf("upload %s: %w", uploadID, err))
		}
	}
	if err := d.writeErr(op, key, src, err); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CompleteMultipart checks the parts (present, ETags matching, all but the
// last at least assets.MinPartSize), joins them into the blob and removes
// the upload. Part.Size is not consulted: the stored parts decide.
func (d *Disk) CompleteMultipart(ctx context.Context, key, uploadID string, parts []assets.Part) error {
	const op = "complete upload"
	path, err := d.path(key)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	if err := checkParts(parts); err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	dir, err := d.upload(op, key, uploadID)
	if err != nil {
		return err
	}
	files := make([]string, len(parts))
	for i, p := range parts {
		files[i] = filepath.Join(dir, strconv.Itoa(p.N))
		info, err := os.Stat(files[i])
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: part %d was not uploaded (InvalidPart)", op, key, p.N)
		} else if err != nil {
			return unavailable(op, key, err)
		}
		if i < len(parts)-1 && info.Size() < assets.MinPartSize {
			return fmt.Errorf("%s %s: part %d is %d bytes, less than the minimum %d of all parts but the last (EntityTooSmall)",
				op, key, p.N, info.Size(), assets.MinPartSize)
		}
	}
	r := &partsReader{ctx: ctx, files: files, parts: parts}
	tmp, err := d.writeTemp(r, nil)
	if err == nil {
		err = d.commit(ctx, tmp, path, true)
	}
	switch {
	case err == nil:
	case r.err != nil:
		return fmt.Errorf("%s %s: %w", op, key, r.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, key, err)
	default:
		return unavailable(op, key, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return unavailable(op, key, fmt.Errorf("blob stored, but removing the parts failed: %w", err))
	}
	return nil
}

// partsReader reads the parts' files one after the other, checking each
// against its ETag at its end. err keeps a mismatch (or a part gone), to
// tell it from a failure to write the joined file.
type partsReader struct {
	ctx   context.Context
	files []string
	parts []assets.Part
	i     int       // current part
	f     *os.File  // open file of part i, nil between parts
	h     hash.Hash // MD5 of part i so far
	err   error
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if err := r.ctx.Err(); err != nil {
			r.close()
			return 0, err
		}
		if r.f == nil {
			if r.i == len(r.files) {
				return 0, io.EOF
			}
			f, err := os.Open(r.files[r.i])
			if errors.Is(err, fs.ErrNotExist) {
				r.err = fmt.Errorf("part %d was removed (InvalidPart)", r.parts[r.i].N)
				return 0, r.err
			} else if err != nil {
				return 0, err
			}
			r.f, r.h = f, md5.New()
		}
		n, err := r.f.Read(p)
		r.h.Write(p[:n])
		if err == io.EOF {
			r.close()
			want := strings.Trim(r.parts[r.i].ETag, `"`)
			if got := hex.EncodeToString(r.h.Sum(nil)); got != want {
				r.err = fmt.Errorf("part %d has ETag %s, not %q (InvalidPart)", r.parts[r.i].N, got, want)
				return 0, r.err
			}
			r.i++
			err = nil
		}
		if n > 0 || err != nil {
			if err != nil {
				r.close()
			}
			return n, err
		}
	}
}

func (r *partsReader) close() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// AbortMultipart removes the upload's directory; an unknown upload (or one
// for another key) is left alone.
func (d *Disk) AbortMultipart(ctx context.Context, key, uploadID string) error {
	dir, err := d.upload("abort upload", key, uploadID)
	if errors.Is(err, pathways.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return unavailable("abort upload", key, err)
	}
	return nil
}

// Ping checks that the directory exists and takes new files.
func (d *Disk) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(filepath.Join(d.dir, tmpDir), "ping-*")
	if err != nil {
		return unavailable("ping", d.dir, err)
	}
	_ = f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return unavailable("ping", d.dir, err)
	}
	return nil
}
