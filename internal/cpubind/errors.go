package cpubind

import "errors"

// ErrUnsupported is returned by Pin and Reserve where threads cannot be
// bound (systems other than Linux).
var ErrUnsupported = errors.New("cpubind: binding threads to CPUs is only supported on Linux")
