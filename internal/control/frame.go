package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// MaxFrame is the longest request line the server reads, without its
// line ending.
const MaxFrame = 64 << 10

// helloWord identifies the protocol in every Hello.
const helloWord = "popd-control"

var errFrameTooLong = errors.New("control: frame longer than 64 KiB")

// readFrame returns the next non-empty line from r, without its "\n" or
// "\r\n". r must have a buffer of more than MaxFrame bytes. The line is
// valid until the next read.
func readFrame(r *bufio.Reader) ([]byte, error) {
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) || len(bytes.TrimRight(line, "\r\n")) > MaxFrame {
			return nil, errFrameTooLong
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(bytes.TrimSpace(line)) > 0 {
				return nil, io.ErrUnexpectedEOF // a last line without "\n"
			}
			return nil, err
		}
		if line = bytes.TrimRight(line, "\r\n"); len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

// writeFrame writes v as one JSON line.
func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// helloError is what the server sends instead of a Hello, or in reply to
// a bad one, before closing.
type helloError struct {
	Error *Error `json:"error"`
}
