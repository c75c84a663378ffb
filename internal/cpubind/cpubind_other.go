//go:build !linux

package cpubind

// Pin is not supported here.
func Pin(int) error { return ErrUnsupported }

// Reserve is not supported here.
func Reserve(int) (func(), error) { return nil, ErrUnsupported }
