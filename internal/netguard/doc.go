// Package netguard is hookd's outbound safety layer (docs/security.md): the SSRF guard
// through which every connection to a customer-controlled endpoint is dialed,
// and the validation and normalisation of endpoint URLs (docs/api.md).
//
// # Why the check is on the dialed IP
//
// Endpoint URLs are chosen by customers, so without a guard anyone with an
// account could make hookd POST to 127.0.0.1, to the cloud metadata service
// at 169.254.169.254 or to anything else on the private network hookd runs
// in. Checking the host name when the URL is saved is not enough:
//
//   - DNS answers change. A name that resolved to a public address when the
//     endpoint was created can resolve to 127.0.0.1 a minute later (DNS
//     rebinding), or between a "check" lookup and the lookup the dialer does.
//   - One name can have several addresses. The dialer tries them in turn
//     (and races IPv4 against IPv6), so every address tried must be checked,
//     not only the first one a pre-flight lookup returned.
//   - The same IP has many spellings (2130706433, 0x7f.1, [::ffff:7f00:1], …)
//     and names such as localhost, *.nip.io or a customer's own zone resolve
//     to private addresses by design.
//
// So the authoritative check is [Guard.Control], installed as
// [net.Dialer.Control] by [Guard.DialContext]. The net package calls it once
// per connection attempt, after DNS resolution and after the socket is
// created but before connect(2), with the exact IP and port about to be
// connected. Nothing is sent to a refused address. Use it for the delivery
// transport like this:
//
//	guard := &netguard.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allow: cfg.AllowTargetCIDRs}
//	transport := &http.Transport{
//		Proxy:       nil, // a proxy would be dialed instead of the target
//		DialContext: guard.DialContext(&net.Dialer{Timeout: 5 * time.Second}),
//	}
//
// A refused connection fails with an error that wraps a [*BlockedError]
// (find it with errors.As); the delivery code records it as
// "blocked_target: …". The transport must not use an HTTP proxy (Proxy must
// be nil, not http.ProxyFromEnvironment): with a proxy the guard would only
// see the proxy's address, never the endpoint's. Nor may it set
// DialTLSContext, which bypasses DialContext, unless that dials through the
// guard too.
//
// [ValidateURL] is the friendly, early half: it refuses URLs whose host is a
// literal blocked IP in any spelling (so the customer hears "target address
// not allowed" when saving, not on the first delivery) and normalises the URL.
// Host names, localhost included, are accepted there; they are checked when
// dialed.
//
// # What is blocked
//
// [Classify] decides, without any I/O, whether an address is public. Loopback,
// RFC 1918 and ULA private space, link-local (and the cloud metadata
// addresses in it), CGNAT, multicast, broadcast, unspecified, documentation,
// benchmarking and other reserved or special-purpose ranges are not public,
// for IPv4 and IPv6. Addresses that carry an IPv4 address inside an IPv6 one
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are classified by the embedded
// IPv4 address; Teredo is never public. The zero [Guard] blocks every
// non-public address; [Guard.AllowPrivate] (--allow-private-targets) and
// [Guard.Allow] (--allow-target-cidrs) open it up.
//
// # The operator webhook
//
// The operator webhook (--operator-webhook) is configured by the operator, not
// by customers, and commonly points into the operator's own network. Its
// caller therefore deliberately dials it with a transport that does not use
// this guard (docs/security.md); that is the only outbound connection without it.
package netguard
