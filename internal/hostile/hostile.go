// Package hostile runs receivers that misbehave on purpose: real TCP and
// TLS servers on loopback that hang, trickle, hold upgraded connections,
// send endless or huge answers, break the connection or the certificate.
// hookd's tests and its load tool point endpoints at them to check that a
// customer's server cannot stall hookd (docs/reliability.md).
//
// Every server listens on 127.0.0.1 only.
package hostile

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Kind is one way to misbehave.
type Kind string

// The kinds. Each one's comment says what the server does after reading a
// request (a TLS kind misbehaves in the handshake).
const (
	Hang           Kind = "hang"            // never answers, holds the connection
	TrickleHeaders Kind = "trickle-headers" // writes the status line and headers one byte at a time, forever
	InfoHold       Kind = "info-hold"       // answers 100 Continue and 103 Early Hints, then holds
	SwitchHold     Kind = "switch-hold"     // answers 101 Switching Protocols, then holds the connection
	EndlessBody    Kind = "endless-body"    // 200 then a body that never ends, 64 bytes per interval
	FloodBody      Kind = "flood-body"      // 200 then a body that never ends, as fast as the client reads
	CloseHeaders   Kind = "close-headers"   // closes in the middle of the headers
	CloseBody      Kind = "close-body"      // 200 with Content-Length 1000, closes after 10 bytes
	HugeHeaders    Kind = "huge-headers"    // 200 with 1 MiB of headers (Options.HeaderBytes)
	Redirect301    Kind = "redirect-301"    // 301 with a Location
	Redirect302    Kind = "redirect-302"    // 302 with a Location
	Redirect307    Kind = "redirect-307"    // 307 with a Location
	Reset          Kind = "reset"           // resets the connection (RST, linger 0)
	WrongNameTLS   Kind = "wrong-name-tls"  // a certificate for another host name
	ExpiredTLS     Kind = "expired-tls"     // an expired certificate
	GarbageStatus  Kind = "garbage-status"  // a status line that is not HTTP
	BinaryBody     Kind = "binary-body"     // 500 with a body of NUL and invalid UTF-8 bytes
	BadUTF8Header  Kind = "bad-utf8-header" // 302 whose Location and other headers hold invalid UTF-8, NUL-free
)

// Kinds lists every kind.
var Kinds = []Kind{
	Hang, TrickleHeaders, InfoHold, SwitchHold, EndlessBody, FloodBody, CloseHeaders, CloseBody,
	HugeHeaders, Redirect301, Redirect302, Redirect307, Reset, WrongNameTLS, ExpiredTLS,
	GarbageStatus, BinaryBody, BadUTF8Header,
}

// Holds reports whether k keeps a connection open until the client gives
// up: an attempt against it ends only at the client's deadline.
func (k Kind) Holds() bool {
	switch k {
	case Hang, TrickleHeaders, InfoHold, EndlessBody:
		return true
	}
	return false
}

// Options tune a server; the zero value is fine.
type Options struct {
	// Interval is the pause between trickled bytes or endless body
	// chunks; default 100ms.
	Interval time.Duration
	// HeaderBytes is how much HugeHeaders sends; default 1 MiB.
	HeaderBytes int
	// TLS serves every kind over TLS with a certificate from CA (always on
	// for the TLS kinds).
	TLS bool
}

// Server is one hostile receiver.
type Server struct {
	kind Kind
	opts Options
	ln   net.Listener
	url  string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	stats struct {
		sync.Mutex
		accepted int
		open     int
	}
}

// Start runs a server of kind k on 127.0.0.1 with a free port.
func Start(k Kind, opts Options) (*Server, error) {
	if opts.Interval <= 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.HeaderBytes <= 0 {
		opts.HeaderBytes = 1 << 20
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	scheme := "http"
	useTLS := opts.TLS || k == WrongNameTLS || k == ExpiredTLS
	if useTLS {
		cert, err := leaf(k)
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	s := &Server{kind: k, opts: opts, ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}

	s.url = scheme + "://" + ln.Addr().String() + "/hooks"
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is where the server listens, with the path /hooks.
func (s *Server) URL() string { return s.url }

// Kind is the server's kind.
func (s *Server) Kind() Kind { return s.kind }

// Accepted is how many connections the server has accepted; Open how many
// it holds now.
func (s *Server) Accepted() (accepted, open int) {
	s.stats.Lock()
	defer s.stats.Unlock()
	return s.stats.accepted, s.stats.open
}

// Close stops the server, closes every connection it holds and waits for
// its goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.stats.Lock()
		s.stats.accepted++
		s.stats.open++
		s.stats.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.stats.Lock()
			s.stats.open--
			s.stats.Unlock()
		}()
	}
}

// serve handles one connection: requests one after another while the kind
// answers them completely (redirects, binary bodies), else one.
func (s *Server) serve(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		// A bounded handshake: a client that never finishes it must not
		// hold the goroutine past Close (Close closes c anyway).
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
	}
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, io.LimitReader(req.Body, 16<<20)); err != nil {
			return
		}
		req.Body.Close()
		if !s.answer(c, br) {
			return
		}
	}
}

// answer misbehaves on c; it reports whether the connection may carry
// another request.
func (s *Server) answer(c net.Conn, br *bufio.Reader) bool {
	switch s.kind {
	case Hang:
		s.hold(c, br)
	case TrickleHeaders:
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Trickle: "
		for i := 0; ; i++ {
			b := byte('a' + i%26)
			if i < len(head) {
				b = head[i]
			}
			if _, err := c.Write([]byte{b}); err != nil || !s.pause() {
				return false
			}
		}
	case InfoHold:
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"); err != nil {
			return false
		}
		s.hold(c, br)
	case SwitchHold:
		if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"); err != nil {
			return false
		}
		s.hold(c, br)
	case EndlessBody:
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"); err != nil {
			return false
		}
		// 64 bytes per interval: 64 KiB takes 1,024 intervals.
		chunk := []byte(strings.Repeat("endless ", 8))
		for {
			if _, err := c.Write(chunk); err != nil || !s.pause() {
				return false
			}
		}
	case FloodBody:
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"); err != nil {
			return false
		}
		chunk := []byte(strings.Repeat("flood ", 5000))
		for {
			if _, err := c.Write(chunk); err != nil {
				return false
			}
		}
	case CloseHeaders:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/pl")
	case CloseBody:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789")
	case HugeHeaders:
		// The same 64 KiB of header lines again and again: the server
		// allocates nothing per answer, so that what is measured is the
		// client's memory.
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"); err != nil {
			return false
		}
		for n := 0; n < s.opts.HeaderBytes; n += len(hugeLines) {
			if _, err := c.Write(hugeLines); err != nil {
				return false
			}
		}
		_, err := io.WriteString(c, "\r\nok")
		return err == nil
	case Redirect301, Redirect302, Redirect307:
		code := map[Kind]int{Redirect301: 301, Redirect302: 302, Redirect307: 307}[s.kind]
		_, err := fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nLocation: https://example.com/moved\r\nContent-Length: 0\r\n\r\n", code, http.StatusText(code))
		return err == nil
	case Reset:
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		} else if tc, ok := c.(*tls.Conn); ok {
			if nc, ok := tc.NetConn().(*net.TCPConn); ok {
				nc.SetLinger(0)
			}
		}
	case WrongNameTLS, ExpiredTLS:
		// A client that accepted the certificate gets a plain 200.
		_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return err == nil
	case GarbageStatus:
		io.WriteString(c, "\x00\xffGARBAGE\x01 not http at all\r\n\r\n")
	case BinaryBody:
		body := "\x00\x01\xff\xfe binary \x00\xc3\x28 body"
		_, err := fmt.Fprintf(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return err == nil
	case BadUTF8Header:
		_, err := io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: https://example.com/\xff\xfe\xc3\x28\r\nX-Bad: \xff\xfe\r\nRetry-After: \xc3\x28\r\nContent-Length: 0\r\n\r\n")
		return err == nil
	}
	return false
}

// hugeLines is 64 KiB of header lines, 64 lines of 1 KiB.
var hugeLines = []byte(strings.Repeat("X-Huge: "+strings.Repeat("h", 1014)+"\r\n", 64))

// pause waits one interval; false when the server closes.
func (s *Server) pause() bool {
	t := time.NewTimer(s.opts.Interval)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// hold keeps the connection open until the client closes it or the server
// stops; whatever the client sends is read and dropped.
func (s *Server) hold(c net.Conn, br *bufio.Reader) {
	io.Copy(io.Discard, br)
}
