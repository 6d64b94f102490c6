package event

import (
	"crypto/rand"
	"strconv"
	"strings"
	"time"
)

// Boot is one run of popd, from its start to its exit: its session ids and
// its events' sequence numbers count within it.
//
// A session id is the boot's Tag, a dash and a counter: "k3f9-12". The
// counter sorts the sessions of a boot by start; the tag makes ids unique
// across restarts, so that an id from an earlier run (in the console's
// events, in a script's kick) names no session of this one: popd answers
// "no session k3f9-12" rather than ending another. Numbers alone restarted
// at 1 with every run.
//
// The tag is made from the start time, not drawn at random, so that
// consecutive runs never share one: four base-32 digits counting tenths
// of a second, which come round again after 29 hours. Run waits, before it
// returns, for its tenth of a second to be over (Settle), so that even a
// popd restarted at once gets another tag. A repeat needs a start at the
// same tenth of a second modulo 29 hours (one chance in a million per
// earlier run), or a clock set back across a restart. Four characters keep
// the id column of the tables narrow.
type Boot struct {
	// ID names the run in the event stream: the tag and eight random
	// characters, "k3f9x7m2q8ab".
	ID string
	// Tag is ID's first four characters: the prefix of session ids.
	Tag string
	// Started is when the run began.
	Started time.Time
}

// tagUnit is what a tag counts; tagDigits how many digits it has.
const (
	tagUnit   = 100 * time.Millisecond
	tagDigits = 4
)

// alphabet is Crockford's base 32 in lower case, in ASCII order, so that
// tags compare as the times they encode (between wraps): no i, l, o or u.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// tagEpoch is where the tags' count starts.
var tagEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// NewBoot makes the Boot of a run starting now.
func NewBoot() Boot { return newBoot(time.Now()) }

func newBoot(now time.Time) Boot {
	n := uint64(now.Sub(tagEpoch) / tagUnit)
	tag := encode(n, tagDigits)
	var r [8]byte
	rand.Read(r[:])
	var b strings.Builder
	b.WriteString(tag)
	for _, c := range r {
		b.WriteByte(alphabet[c%32])
	}
	return Boot{ID: b.String(), Tag: tag, Started: now}
}

// encode writes the low digits base-32 digits of n.
func encode(n uint64, digits int) string {
	b := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		b[i] = alphabet[n%32]
		n /= 32
	}
	return string(b)
}

// SessionID is the id of the run's nth session: "k3f9-12".
func (b Boot) SessionID(n uint64) string {
	return b.Tag + "-" + strconv.FormatUint(n, 10)
}

// Settle waits until the tenth of a second the tag was made in is over:
// a run started after it returns gets another tag.
func (b Boot) Settle() {
	if b.Started.IsZero() {
		return
	}
	end := tagEpoch.Add((b.Started.Sub(tagEpoch)/tagUnit + 1) * tagUnit)
	time.Sleep(time.Until(end))
}
