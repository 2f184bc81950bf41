package catalog

import "time"

// timeLayout is how hookd writes timestamps.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats t the way hookd writes every timestamp: in UTC with
// millisecond precision (extra digits are truncated) and a Z, such as
// "2026-11-27T12:30:00.000Z". Years outside 0000–9999 have no RFC 3339 form
// and come out as Go formats them.
func FormatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// parseTimestamp parses an RFC 3339 date-time (RFC 3339 §5.6: a T or t
// between date and time, fractional seconds of any length, Z, z or a ±hh:mm
// offset) and returns it in UTC, truncated to the millisecond. It rejects leap
// seconds, which time.Time cannot represent, and instants whose UTC year falls
// outside 0000–9999, which FormatTime could not write back as RFC 3339.
//
// It does not use time.Parse, which accepts more than RFC 3339 (one-digit
// hours, a comma before the fraction, +24:00).
func parseTimestamp(s string) (time.Time, bool) {
	// 2006-01-02T15:04:05Z is the shortest form.
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	second, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	millis := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 3 {
				millis = millis*10 + int(rest[n]-'0')
			}
			n++
		}
		if n == 1 {
			return time.Time{}, false // a dot without digits
		}
		for i := n; i <= 3; i++ {
			millis *= 10 // ".5" is 500 ms
		}
		rest = rest[n:]
	}
	var offset int // seconds east of UTC
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, millis*int(time.Millisecond), time.UTC).
		Add(-time.Duration(offset) * time.Second)
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// digits parses a string of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the number of days in month of year (proleptic Gregorian).
func daysIn(year, month int) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
