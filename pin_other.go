//go:build !linux

package ringfeed

import "errors"

func pinThread(int) error { return errors.New("CPU pinning is only supported on Linux") }
