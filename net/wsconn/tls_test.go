package wsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// tlsServer is a wss:// server with httptest's self-signed certificate (valid
// for 127.0.0.1) that sends one message and waits for the client's close.
func tlsServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, []byte("over tls")); err != nil {
			return
		}
		_, _, _ = c.Read(ctx)
	}))
	// Silence the server's log of handshakes our rejecting client aborts.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv, "wss" + strings.TrimPrefix(srv.URL, "https")
}

func TestTLS(t *testing.T) {
	srv, url := tlsServer(t)
	pemFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(pemFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("unknown CA is refused", func(t *testing.T) {
		_, err := Dial(context.Background(), url, Options{})
		if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
			t.Errorf("got %v; want x509.UnknownAuthorityError", err)
		}
	})
	t.Run("RootCAFile without a certificate", func(t *testing.T) {
		_, err := Dial(context.Background(), url, Options{RootCAFile: notPEM})
		if err == nil || !strings.Contains(err.Error(), "RootCAFile") {
			t.Errorf("got %v; want an error naming RootCAFile", err)
		}
	})
	t.Run("RootCAs", func(t *testing.T) {
		c := dialTest(t, url, Options{RootCAs: []*x509.Certificate{srv.Certificate()}})
		m, err := c.ReadMessage()
		if err != nil || string(m.Payload) != "over tls" {
			t.Errorf("got %q, %v; want \"over tls\", nil", m.Payload, err)
		}
	})
	t.Run("RootCAFile", func(t *testing.T) {
		c := dialTest(t, url, Options{RootCAFile: pemFile})
		m, err := c.ReadMessage()
		if err != nil || string(m.Payload) != "over tls" {
			t.Errorf("got %q, %v; want \"over tls\", nil", m.Payload, err)
		}
	})
	t.Run("hostname is verified", func(t *testing.T) {
		// The certificate is for 127.0.0.1 and example.com, not localhost.
		_, port, _ := strings.Cut(strings.TrimPrefix(url, "wss://"), ":")
		_, err := Dial(context.Background(), "wss://localhost:"+port, Options{RootCAs: []*x509.Certificate{srv.Certificate()}})
		if _, ok := errors.AsType[x509.HostnameError](err); !ok {
			t.Errorf("got %v; want x509.HostnameError", err)
		}
	})
	t.Run("minimum TLS version", func(t *testing.T) {
		conf, err := tlsConfig("127.0.0.1", Options{})
		if err != nil || conf.MinVersion != tls.VersionTLS12 || conf.InsecureSkipVerify {
			t.Errorf("got %+v, %v; want TLS 1.2 minimum with verification", conf, err)
		}
	})
}
