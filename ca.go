package ringfeed

import (
	"crypto/x509"
	"os"

	"github.com/ringfeed/ringfeed/net/rest"
)

// loadCAFile reads the PEM certificates of path, once at start, so that a
// missing or malformed file stops New instead of failing every dial.
// An empty path is no certificates.
func loadCAFile(path string) ([]*x509.Certificate, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cfgErr("CAFile", "%v", err)
	}
	certs, err := rest.ParseCertificates(b)
	if err != nil {
		return nil, cfgErr("CAFile", "%s: %v", path, err)
	}
	if len(certs) == 0 {
		return nil, cfgErr("CAFile", "%s holds no PEM certificate", path)
	}
	return certs, nil
}
