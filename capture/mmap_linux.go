package capture

import (
	"os"
	"syscall"
)

// mapFile maps a regular file read-only, or returns nil (an empty or
// special file, or a failed map: the caller reads it instead).
func mapFile(f *os.File) ([]byte, func() error) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		return nil, nil
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil
	}
	_ = syscall.Madvise(m, syscall.MADV_SEQUENTIAL)
	return m, func() error { return syscall.Munmap(m) }
}
