package hook

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// ID prefixes name the kind of object an id belongs to.
const (
	PrefixAccount  = "acc_"
	PrefixEndpoint = "ep_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
	PrefixAttempt  = "att_"
)

// crockford is the Crockford base32 alphabet used by ULIDs: sortable as
// text, no ambiguous letters.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idGen makes ULIDs (48-bit millisecond time + 80 random bits). Within one
// millisecond it increments the random part instead of drawing a new one, so
// ids made by one process sort in the order they were made: lists are
// "newest first" by id, and cursors are ids.
type idGen struct {
	mu     sync.Mutex
	lastMS uint64
	hi     uint16 // top 16 of the 80 random bits
	lo     uint64 // low 64 of the 80 random bits
}

var ids idGen

// NewID returns prefix + a new 26-character ULID, e.g. "evt_01JD…".
func NewID(prefix string) string {
	return NewIDAt(prefix, time.Now())
}

// NewIDAt is NewID with the time part taken from t.
func NewIDAt(prefix string, t time.Time) string {
	ms := uint64(t.UnixMilli())
	ids.mu.Lock()
	if ms <= ids.lastMS {
		// Same (or an earlier, after a clock step) millisecond: stay
		// monotonic by counting up from the last id.
		ms = ids.lastMS
		ids.lo++
		if ids.lo == 0 {
			ids.hi++
		}
	} else {
		var b [10]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		ids.hi = binary.BigEndian.Uint16(b[:2])
		ids.lo = binary.BigEndian.Uint64(b[2:])
		ids.lastMS = ms
	}
	hi, lo := ids.hi, ids.lo
	ids.mu.Unlock()

	var raw [16]byte
	raw[0] = byte(ms >> 40)
	raw[1] = byte(ms >> 32)
	raw[2] = byte(ms >> 24)
	raw[3] = byte(ms >> 16)
	raw[4] = byte(ms >> 8)
	raw[5] = byte(ms)
	binary.BigEndian.PutUint16(raw[6:], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)

	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	encodeULID(out[len(prefix):], raw)
	return string(out)
}

// encodeULID writes the 128 bits of id as 26 base32 characters, most
// significant first (the first character carries only 3 bits).
func encodeULID(dst []byte, id [16]byte) {
	hi := binary.BigEndian.Uint64(id[:8])
	lo := binary.BigEndian.Uint64(id[8:])
	for i := 25; i >= 0; i-- {
		dst[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
}

// ValidID reports whether s is prefix followed by a well-formed ULID.
func ValidID(prefix, s string) bool {
	if len(s) != len(prefix)+26 || s[:len(prefix)] != prefix {
		return false
	}
	body := s[len(prefix):]
	if body[0] > '7' { // 26 chars hold 130 bits; the top two must be zero
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			return false
		}
	}
	return true
}
