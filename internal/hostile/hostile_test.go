package hostile

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCloseReleasesHeldConnections: a server whose kind holds the
// connection forever still closes it, and ends its goroutines, on Close.
func TestCloseReleasesHeldConnections(t *testing.T) {
	for _, k := range Kinds {
		t.Run(string(k), func(t *testing.T) {
			s, err := Start(k, Options{TLS: true, Interval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || s.Kind() != k {
				t.Fatalf("URL %q, kind %s", s.URL(), s.Kind())
			}
			addr := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "https://"), "/hooks")
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, "POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
				// The TLS kinds' handshake succeeds without verification.
				t.Fatalf("write: %v", err)
			}
			// Read what comes within a moment, so the server is answering.
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			io.CopyN(io.Discard, c, 1<<16)
			if accepted, _ := s.Accepted(); accepted != 1 {
				t.Errorf("accepted = %d, want 1", accepted)
			}
			done := make(chan struct{})
			go func() { s.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return within 10s")
			}
			if _, open := s.Accepted(); open != 0 {
				t.Errorf("open = %d after Close, want 0", open)
			}
		})
	}
}

func TestCertificates(t *testing.T) {
	pool, err := CertPool()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[Kind]string{ExpiredTLS: "expired", WrongNameTLS: "not 127.0.0.1", Hang: ""} {
		cert, err := leaf(k)
		if err != nil {
			t.Fatal(err)
		}
		leafCert, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		_, verr := leafCert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"})
		if (verr == nil) != (want == "") {
			t.Errorf("%s: verify = %v, want %s", k, verr, cmp.Or(want, "valid"))
		}
	}
}
