package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// The session ticket keys file (tls-ticket-keys) lets several popd nodes
// behind one name resume each other's TLS sessions (RFC 8446 §2.2; RFC
// 5077 for TLS 1.2). Its format:
//
//	# comment lines and blank lines are ignored; so is a # and what follows
//	3f1c...  (64 hex digits: one 32-byte key per line)
//	PxwA...= (or the same 32 bytes in standard base64)
//
// The first key encrypts new tickets; every key decrypts. To rotate, put a
// new key first and, a ticket lifetime later, drop the last one. The file
// must be readable by its owner only: these keys decrypt every session's
// ticket.

// maxTicketKeyFile bounds the read of a ticket keys file (about a thousand
// keys).
const maxTicketKeyFile = 64 << 10

// readTicketKeys reads and checks the ticket keys file at path. Its errors
// name the file and the line, never the key material.
func readTicketKeys(path string) ([][32]byte, error) {
	data, err := readSecretFile("tls-ticket-keys", path, "the keys that decrypt every session's ticket", maxTicketKeyFile)
	if err != nil {
		return nil, err
	}
	keys, err := parseTicketKeys(data)
	if err != nil {
		return nil, fmt.Errorf("server: tls-ticket-keys %s: %w", path, err)
	}
	return keys, nil
}

// readSecretFile reads a file of secrets (setting names it in errors; what
// says what the secret unlocks): a regular file of at most max bytes that
// neither group nor others may read. Its errors never show the content.
func readSecretFile(setting, path, what string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", setting, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", setting, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("server: %s %s: not a regular file", setting, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("server: %s %s: mode %04o lets group or others at %s; chmod 600 it", setting, path, perm, what)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", setting, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("server: %s %s: larger than %d bytes", setting, path, max)
	}
	return data, nil
}

// errNoTicketKeys is parseTicketKeys' answer to a file without a key.
var errNoTicketKeys = errors.New("no key (want one 32-byte key per line: 64 hex digits or base64)")

// parseTicketKeys reads the keys file format, in order.
func parseTicketKeys(data []byte) ([][32]byte, error) {
	var keys [][32]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxTicketKeyFile)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		k, ok := decodeTicketKey(line)
		if !ok {
			// The line is not quoted: it may be a key with a typo.
			return nil, fmt.Errorf("line %d: not a 32-byte key (64 hex digits or base64)", n)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errNoTicketKeys
	}
	return keys, nil
}

func decodeTicketKey(s []byte) (k [32]byte, ok bool) {
	var b []byte
	var err error
	if len(s) == hex.EncodedLen(len(k)) {
		b, err = hex.DecodeString(string(s))
	} else {
		b, err = base64.StdEncoding.DecodeString(string(s))
	}
	if err != nil || len(b) != len(k) {
		return k, false
	}
	copy(k[:], b)
	return k, true
}

// CheckTicketKeys reads the ticket keys file at path as popd would at start
// and says how many keys it holds (popd -check).
func CheckTicketKeys(path string) (int, error) {
	keys, err := readTicketKeys(path)
	return len(keys), err
}
