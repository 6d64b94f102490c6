package maildir

import (
	"cmp"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
)

// Dovecot's pop3_uidl_format, in the syntax of Dovecot 2.3 (src/lib/
// var-expand.c, var_expand_with_funcs; the check in mail-storage-settings.c)
// or of Dovecot 2.4 (src/lib-var-expand: var-expand-lexer.l, -parser.y,
// expansion-filter.c). The variables are those of pop3_get_uid in
// src/pop3/pop3-commands.c.
//
// Dovecot 2.3: literal text and %[-][0]<width>[.[0][-]<width>]<modifiers><key>
// with the keys u (UID), v (UIDVALIDITY), m, f, g and % (a "%"), and up to
// ten modifiers: L lower case, U upper case, E backslash before " ' \,
// X hexadecimal, R reversed, H and N hashes, M md5 in hex, D "." to ",dc=",
// T trailing white space removed. X prints lower case ("%llx" in m_str_hex;
// Dovecot 2.3.19 serves 000000014c0907b0 for "%08Xu%08Xv"); there is no x
// modifier. A width cuts the value to that length, 0<width> pads it with
// zeros and never cuts, an offset before "." skips characters (negative:
// keeps the last ones). 2.3 refuses %{...} in this setting ("Unknown
// pop3_uidl_format variable: %{").
//
// Dovecot 2.4: literal text, "%%{" for "%{", and %{<variable> | <filter> |
// ...} with the variables uid, uidvalidity, md5, filename and guid. popd
// knows the filters hex[(width)], upper, lower, reverse, truncate(n), md5,
// sha1, sha256, sha384, sha512 and hexlify[(width)], with numbers only (no
// strings, variables, named arguments or arithmetic; the rest is an error).
// hex prints lower case ("%jx" in fn_hex); a hash that ends the expression
// is printed in lower-case hex. A "%" alone is a "%": 2.4 reads "%08Xu%08Xv"
// as plain text and refuses it for having no variables.

// defaultUIDLFormat is Dovecot 2.3's default; 2.4's default,
// "%{uid | hex(8)}%{uidvalidity | hex(8)}", gives the same UIDLs.
const defaultUIDLFormat = "%08Xu%08Xv"

// maxUIDLWidth bounds 2.3's widths and offsets.
const maxUIDLWidth = 1024

type uidlFormat struct {
	v24   bool
	parts []uidlPart
}

// uidlPart is literal text (key 0) or a variable.
type uidlPart struct {
	lit string
	key byte // u v m f g, or % in 2.3
	// Dovecot 2.3
	mods          string
	offset, width int
	zero          bool
	// Dovecot 2.4
	filters []uidlFilter
}

type uidlFilter struct {
	name  string
	nargs int // 0 or 1
	n     int
}

type uidlVars struct {
	uid, uidValidity uint32
	filename         string // %f: the base name (MAIL_FETCH_STORAGE_ID cuts the name at ':')
	guid             string // %g: the G field, else the base name (MAIL_FETCH_GUID)
	md5              string // %m: only for mbox in Dovecot; "" = unavailable
}

// parseUIDLFormat compiles a pop3_uidl_format of Dovecot 2.3 or 2.4. A
// format with "%{" is tried as 2.4 first.
func parseUIDLFormat(s string) (uidlFormat, error) {
	var err24 error
	if strings.Contains(s, "%{") {
		f, err := parseUIDLFormat24(s)
		if err == nil {
			return f, nil
		}
		err24 = err
	}
	f, err := parseUIDLFormat23(s)
	if err != nil {
		return uidlFormat{}, cmp.Or(err24, err)
	}
	return f, nil
}

func parseUIDLFormat23(s string) (uidlFormat, error) {
	var f uidlFormat
	vars := false
	for i := 0; i < len(s); {
		if s[i] != '%' {
			j := strings.IndexByte(s[i:], '%')
			if j < 0 {
				j = len(s) - i
			}
			f.parts, i = append(f.parts, uidlPart{lit: s[i : i+j]}), i+j
			continue
		}
		start := i
		i++
		if i == len(s) {
			break // a "%" at the end is nothing
		}
		var p uidlPart
		num := func() (n int) {
			for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
				n = min(n*10+int(s[i]-'0'), maxUIDLWidth+1)
			}
			return n
		}
		sign := 1
		if s[i] == '-' {
			sign, i = -1, i+1
		}
		if i < len(s) && s[i] == '0' {
			p.zero, i = true, i+1
		}
		if p.width = num(); i < len(s) && s[i] == '.' {
			p.offset, p.width, p.zero, sign = sign*p.width, 0, false, 1
			if i++; i < len(s) && s[i] == '0' {
				p.zero, i = true, i+1
			}
			if i < len(s) && s[i] == '-' {
				sign, i = -1, i+1
			}
			p.width = sign * num()
		}
		for j := i; i < len(s) && i-j < 10 && strings.IndexByte("LUEXRHNMDT", s[i]) >= 0; i++ {
			p.mods += s[i : i+1]
		}
		switch {
		case max(p.width, -p.width, p.offset, -p.offset) > maxUIDLWidth:
			return f, fmt.Errorf("pop3_uidl_format: width in %q is too large", s[start:i])
		case i == len(s):
			return f, fmt.Errorf("pop3_uidl_format: %q at the end has no variable", s[start:])
		case s[i] == '{':
			return f, fmt.Errorf("pop3_uidl_format: %q: %%{...} is Dovecot 2.4 syntax, as in %%{uid | hex(8)}", s[start:])
		case strings.IndexByte("uvmfg%", s[i]) < 0:
			return f, fmt.Errorf("pop3_uidl_format: unknown variable %%%c (Dovecot 2.3 knows %%u %%v %%m %%f %%g)", s[i])
		}
		p.key = s[i]
		vars = vars || p.key != '%'
		f.parts = append(f.parts, p)
		i++
	}
	if !vars {
		return f, errors.New("pop3_uidl_format: no variables (%u %v %m %f %g, or 2.4's %{uid} ...)")
	}
	return f, nil
}

// expand returns the UIDL, or ok=false when the format needs a value that is
// unavailable or a 2.4 filter fails on the value. For %m on a maildir,
// Dovecot finds no header MD5 (index_mail_get_special gives "" for
// MAIL_FETCH_HEADER_MD5; only mbox keeps one), logs "UIDL: Header MD5 not
// found" and pop3_get_uid fails: UIDL disconnects the client ("POP3 UIDLs
// couldn't be listed") as soon as it meets a message without a P field.
// Such a server never showed a %m UIDL, so there is none popd could repeat.
func (f uidlFormat) expand(v uidlVars) (uidl string, ok bool) {
	if len(f.parts) == 0 {
		return "", false
	}
	var b strings.Builder
	for i := range f.parts {
		p := &f.parts[i]
		var val string
		switch p.key {
		case 0:
			b.WriteString(p.lit)
			continue
		case 'u':
			val = strconv.FormatUint(uint64(v.uid), 10)
		case 'v':
			val = strconv.FormatUint(uint64(v.uidValidity), 10)
		case 'm':
			val = v.md5
		case 'f':
			val = v.filename
		case 'g':
			val = v.guid
		case '%':
			val = "%"
		}
		if val == "" { // pop3_get_uid: "... not found"
			return "", false
		}
		if f.v24 {
			if val, ok = p.filter24(val); !ok {
				return "", false
			}
		} else {
			val = p.modify23(val)
		}
		b.WriteString(val)
	}
	return b.String(), true
}

// modify23 is the rest of var_expand_with_funcs after the lookup.
func (p *uidlPart) modify23(val string) string {
	offset, width := p.offset, p.width
	for _, m := range []byte(p.mods) {
		switch m {
		case 'L', 'U':
			val = string(asciiCase([]byte(val), m == 'U'))
		case 'E':
			val = strings.NewReplacer(`"`, `\"`, `'`, `\'`, `\`, `\\`).Replace(val)
		case 'X':
			n, err := strconv.ParseUint(val, 10, 64) // str_to_ullong
			if err != nil {
				n = 0
			}
			val = strconv.FormatUint(n, 16)
		case 'R':
			val = reverse(val)
		case 'H', 'N':
			var h uint32
			if m == 'H' {
				for i := 0; i < len(val); i++ { // str_hash
					h = h<<4 + uint32(val[i])
					if g := h & 0xf0000000; g != 0 {
						h ^= g>>24 ^ g
					}
				}
				if width != 0 {
					h %= uint32(int32(width))
				}
			} else {
				sum := md5.Sum([]byte(val))
				n := binary.BigEndian.Uint64(sum[:8])
				if width != 0 {
					n %= uint64(int64(width))
				}
				h = uint32(n)
			}
			val = strconv.FormatUint(uint64(h), 16)
			if len(val) < offset {
				val = strings.Repeat("0", offset-len(val)) + val
			}
			width, offset = 0, 0
		case 'M':
			sum := md5.Sum([]byte(val))
			val = hex.EncodeToString(sum[:])
		case 'D':
			val = strings.ReplaceAll(val, ".", ",dc=")
		case 'T':
			val = strings.TrimRight(val, " \t\n\v\f\r")
		}
	}
	if offset < 0 {
		if len(val) > -offset {
			val = val[len(val)+offset:]
		}
	} else {
		val = val[min(offset, len(val)):]
	}
	switch {
	case width == 0:
	case !p.zero && width > 0:
		val = val[:min(width, len(val))]
	case !p.zero: // negative: all but the last -width, or all if shorter
		if n := len(val) + width; n >= 0 {
			val = val[:n]
		}
	case width > len(val):
		val = strings.Repeat("0", width-len(val)) + val
	}
	return val
}

// asciiCase maps the ASCII letters of b (changing b), as Dovecot's
// i_toupper and i_tolower.
func asciiCase(b []byte, upper bool) []byte {
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 32
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return b
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

var uidlVars24 = map[string]byte{"uid": 'u', "uidvalidity": 'v', "md5": 'm', "filename": 'f', "guid": 'g'}

// uidlArity is, for each 2.4 filter understood, its least and most number
// of (numeric) arguments.
var uidlArity = map[string][2]int{
	"hex": {0, 1}, "upper": {0, 0}, "lower": {0, 0}, "reverse": {0, 0},
	"truncate": {1, 1}, "hexlify": {0, 1}, "md5": {0, 0}, "sha1": {0, 0},
	"sha256": {0, 0}, "sha384": {0, 0}, "sha512": {0, 0},
}

func parseUIDLFormat24(s string) (uidlFormat, error) {
	f := uidlFormat{v24: true}
	vars := false
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "%%{"):
			f.parts, i = append(f.parts, uidlPart{lit: "%{"}), i+3
		case strings.HasPrefix(s[i:], "%{"):
			p, n, err := parseExpr24(s[i+2:])
			if err != nil {
				return f, fmt.Errorf("pop3_uidl_format: %q: %w", s[i:i+2+n], err)
			}
			if i += 2 + n; p.key != 0 {
				f.parts, vars = append(f.parts, p), true
			}
		case s[i] == '%':
			f.parts, i = append(f.parts, uidlPart{lit: "%"}), i+1
		default:
			j := strings.IndexByte(s[i:], '%')
			if j < 0 {
				j = len(s) - i
			}
			f.parts, i = append(f.parts, uidlPart{lit: s[i : i+j]}), i+j
		}
	}
	if !vars {
		return f, errors.New("pop3_uidl_format: no %{variables} (uid, uidvalidity, md5, filename, guid)")
	}
	return f, nil
}

// uidlFilter24 is one filter of a 2.4 expression as popd reads it: a name
// and at most one number (Dovecot's lexer drops blanks between tokens).
var uidlFilter24 = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_/;:.-]*)[ \t]*(?:\([ \t]*(-?)[ \t]*([0-9]{1,4})[ \t]*\))?$`)

// parseExpr24 parses what follows "%{" up to and with its "}", returning
// how much it read; a part with key 0 is an empty expression. String
// arguments, named arguments and arithmetic are not supported.
func parseExpr24(s string) (p uidlPart, n int, err error) {
	n = strings.IndexByte(s, '}') + 1
	if n == 0 {
		return p, len(s), errors.New("no closing }")
	}
	for _, f := range strings.Split(s[:n-1], "|") {
		if f = strings.Trim(f, " \t"); f == "" {
			continue // an empty filter does nothing
		}
		m := uidlFilter24.FindStringSubmatch(f)
		if m == nil {
			return p, n, fmt.Errorf("%q: syntax error or unsupported", f)
		}
		fl := uidlFilter{name: m[1]}
		if m[3] != "" {
			fl.nargs = 1
			if fl.n, _ = strconv.Atoi(m[3]); m[2] == "-" {
				fl.n = -fl.n
			}
		}
		if p.key == 0 {
			if p.key = uidlVars24[fl.name]; p.key == 0 {
				return p, n, fmt.Errorf("unknown variable %%{%s}", fl.name)
			}
			continue // Dovecot ignores arguments given to a variable
		}
		if err := checkFilter24(fl); err != nil {
			return p, n, err
		}
		p.filters = append(p.filters, fl)
	}
	return p, n, nil
}

func checkFilter24(fl uidlFilter) error {
	ar, ok := uidlArity[fl.name]
	switch {
	case !ok:
		return fmt.Errorf("filter %q is not supported", fl.name)
	case fl.nargs < ar[0] || fl.nargs > ar[1]:
		return fmt.Errorf("%s: wrong number of arguments", fl.name)
	case fl.name == "hex" && (fl.n < -256 || fl.n > 256):
		return errors.New("hex: excessive padding")
	case (fl.name == "truncate" || fl.name == "hexlify") && fl.n < 0:
		return fmt.Errorf("%s: value out of bounds", fl.name)
	}
	return nil
}

// filter24 runs the filters of a 2.4 expression (expansion-filter.c).
func (p *uidlPart) filter24(val string) (string, bool) {
	b, binary := []byte(val), false
	for _, fl := range p.filters {
		w := fl.n
		switch fl.name {
		case "hex":
			n, err := strconv.ParseUint(string(b), 10, 64)
			if err != nil {
				return "", false // "Input is not a number"
			}
			h := strconv.FormatUint(n, 16)
			if w < 0 {
				h = (h + strings.Repeat("0", max(0, -w-len(h))))[:-w]
			} else if w > 0 {
				h = strings.Repeat("0", max(0, w-len(h))) + h
				h = h[len(h)-w:]
			}
			b = []byte(h)
		case "upper", "lower":
			b = asciiCase(b, fl.name == "upper")
		case "reverse":
			b = []byte(reverse(string(b)))
		case "truncate":
			b = b[:min(w, len(b))]
		case "hexlify":
			h := hex.EncodeToString(b)
			if w > len(h) {
				if w-len(h) > 256 {
					return "", false // "Excessive padding"
				}
				h = strings.Repeat("0", w-len(h)) + h
			} else if w > 0 {
				h = h[:w]
			}
			b, binary = []byte(h), false
		default: // a hash
			h := map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New,
				"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}[fl.name]()
			h.Write(b)
			b, binary = h.Sum(nil), true
		}
	}
	if binary {
		return hex.EncodeToString(b), true
	}
	return string(b), true
}
