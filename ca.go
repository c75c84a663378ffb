package ringfeed

import (
	"crypto/x509"
	"encoding/pem"
	"os"
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
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, cfgErr("CAFile", "%s: %v", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, cfgErr("CAFile", "%s holds no PEM certificate", path)
	}
	return certs, nil
}
