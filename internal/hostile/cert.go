package hostile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"time"
)

// The kit's certificate authority, made once per process. Clients that
// trust it (CertPool) see the TLS kinds fail for the reason each is meant
// to show (wrong name, expired), not for an unknown authority.
var ca struct {
	once sync.Once
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	err  error
}

func authority() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	ca.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			ca.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "hookd hostile receivers CA"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			ca.err = err
			return
		}
		ca.cert, ca.err = x509.ParseCertificate(der)
		ca.key = key
	})
	return ca.cert, ca.key, ca.err
}

// CA is the certificate that signs every hostile server's certificate.
func CA() (*x509.Certificate, error) {
	c, _, err := authority()
	return c, err
}

// CertPool returns a pool with the kit's CA in it.
func CertPool() (*x509.CertPool, error) {
	c, err := CA()
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	p.AddCert(c)
	return p, nil
}

// leaf makes the server certificate for kind k: for 127.0.0.1 and
// localhost, except WrongNameTLS (another name only) and ExpiredTLS
// (expired yesterday).
func leaf(k Kind) (tls.Certificate, error) {
	caCert, caKey, err := authority()
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	switch k {
	case WrongNameTLS:
		tmpl.Subject.CommonName = "wrong.invalid"
		tmpl.IPAddresses = nil
		tmpl.DNSNames = []string{"wrong.invalid"}
	case ExpiredTLS:
		tmpl.NotBefore = time.Now().Add(-48 * time.Hour)
		tmpl.NotAfter = time.Now().Add(-24 * time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
