package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// MaxLine is the longest command line accepted, including its CRLF
// (RFC 2449 §4: "The maximum length of a command is increased ... to 255
// octets, including the terminating CRLF").
const MaxLine = 255

// errTooLong is returned by readLine for a line over the limit; the line has
// been consumed up to and including its LF.
var errTooLong = errors.New("pop3: line too long")

// readLine reads one line of at most max octets including its terminator,
// and returns it without CR/LF. A longer line is discarded up to its LF,
// reading in bounded chunks, so memory stays bounded whatever the client
// sends. A bare LF ends a line too. A line longer than r's buffer is
// gathered, up to max, so that max may exceed the buffer (an AUTH response).
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == nil {
		if len(line) > max {
			return nil, errTooLong
		}
		return trimEOL(line), nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err // io.EOF, timeouts, closed connections
	}
	var long []byte // the line so far, while it is within max
	over := false
	for errors.Is(err, bufio.ErrBufferFull) {
		over = over || len(long)+len(line) > max
		if !over {
			long = append(long, line...)
		}
		line, err = r.ReadSlice('\n')
	}
	if err != nil {
		return nil, err
	}
	if over || len(long)+len(line) > max {
		return nil, errTooLong
	}
	return trimEOL(append(long, line...)), nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// copyBufs recycles the chunk buffers used to stream messages.
// dotLine is where a line starting with "." begins inside a chunk.
var dotLine = []byte("\n.")

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// writeStuffed copies a message in network form (every line ending in CRLF)
// from r to w, byte-stuffing lines that start with "." and ending the
// multi-line response with ".\r\n" (RFC 1939 §3). It returns the message
// octets read. If r does not end with CRLF the missing CRLF is added so the
// terminator is always on a line of its own.
func writeStuffed(w stuffWriter, r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	atLineStart := true
	for {
		k, rerr := r.Read(buf)
		chunk := buf[:k]
		n += int64(k)
		for len(chunk) > 0 {
			if atLineStart && chunk[0] == '.' {
				if err := w.WriteByte('.'); err != nil {
					return n, err
				}
			}
			// Write up to the next line that starts with "." (the rest of
			// the chunk when there is none); most chunks are one write.
			i := bytes.Index(chunk, dotLine)
			if i < 0 {
				if _, err := w.Write(chunk); err != nil {
					return n, err
				}
				atLineStart = chunk[len(chunk)-1] == '\n'
				break
			}
			if _, err := w.Write(chunk[:i+1]); err != nil {
				return n, err
			}
			chunk = chunk[i+1:]
			atLineStart = true
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// The +OK is already sent; what was sent is not the message.
			// The caller must not end the response (see Session.send).
			return n, &readError{rerr}
		}
	}
	return n, endMultiline(w, atLineStart)
}

// readError is a failure to read the message being sent, as opposed to a
// failure to write to the client.
type readError struct{ err error }

func (e *readError) Error() string { return "reading message: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// stuffWriter is where writeStuffed writes: a bufio.Writer, or a session's
// outBuf.
type stuffWriter interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}

func endMultiline(w stuffWriter, atLineStart bool) error {
	if !atLineStart {
		if _, err := w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	_, err := w.WriteString(".\r\n")
	return err
}

// topReader yields the header of a message in network form, the blank line
// after it, and then at most n lines of the body (RFC 1939 §7 TOP). A
// message without a blank line is all header.
type topReader struct {
	r        io.Reader
	n        uint64 // body lines still to send
	inHeader bool
	lineLen  int  // octets of the current line seen so far
	prevCR   bool // the last octet seen was CR
	done     bool
}

func newTopReader(r io.Reader, n uint64) *topReader {
	return &topReader{r: r, n: n, inHeader: true}
}

func (t *topReader) Read(p []byte) (int, error) {
	if t.done {
		return 0, io.EOF
	}
	if !t.inHeader && t.n == 0 {
		t.done = true
		return 0, io.EOF
	}
	k, err := t.r.Read(p)
	for i := 0; i < k; i++ {
		if p[i] != '\n' {
			t.lineLen++
			t.prevCR = p[i] == '\r'
			continue
		}
		empty := t.lineLen == 0 || (t.lineLen == 1 && t.prevCR)
		t.lineLen = 0
		switch {
		case t.inHeader && empty:
			t.inHeader = false
		case !t.inHeader:
			t.n--
		default:
			continue
		}
		if !t.inHeader && t.n == 0 {
			t.done = true
			return i + 1, nil
		}
	}
	return k, err
}
