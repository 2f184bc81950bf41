package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// PrintUsage writes a command's flags as users of the Go tools expect
// them: each as --name with its kind, its environment twin (envName of
// the flag's name) and its default.
func PrintUsage(w io.Writer, synopsis string, fs *flag.FlagSet, envName func(string) string) {
	fmt.Fprintf(w, "Usage: %s\n\nFlags (each may also be set by the environment variable shown):\n", synopsis)
	fs.VisitAll(func(f *flag.Flag) {
		kind := kindOf(f.Value)
		head := "  --" + f.Name
		if kind != "" {
			head += " " + kind
		}
		fmt.Fprintf(w, "%s   %s\n", head, envName(f.Name))
		line := "      " + f.Usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			if kind == "string" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		fmt.Fprintln(w, line)
	})
}

// kindOf names the kind of value a flag takes; "" for a switch.
func kindOf(v flag.Value) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return "value"
	}
	switch g.Get().(type) {
	case bool:
		return ""
	case time.Duration:
		return "duration"
	case int, int64, uint, uint64:
		return "int"
	case float64:
		return "number"
	case string:
		return "string"
	}
	return "value"
}

// durationValue gives a duration flag an error that says what to write.
type durationValue struct{ flag.Value }

func (d durationValue) Get() any { return d.Value.(flag.Getter).Get() }

func (d durationValue) Set(s string) error {
	if _, err := time.ParseDuration(s); err != nil {
		if strings.Trim(s, "0123456789.") == "" && s != "" {
			return errors.New("a duration needs a unit: use e.g. 30s, 2m or 1h")
		}
		return errors.New("not a duration: use e.g. 30s, 2m or 1h")
	}
	return d.Value.Set(s)
}

var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	invalidValue  = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-+([^:]+): (.*)$`)
	needsArgument = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError rewrites the flag package's messages to name flags as --name.
func flagError(err error) error {
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown flag --%s", m[1])
	}
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		reason := m[3]
		if reason == "parse error" {
			reason = "not a valid value"
		}
		return fmt.Errorf("--%s %s: %s", m[2], m[1], reason)
	}
	if m := needsArgument.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s needs a value", m[1])
	}
	return err
}
