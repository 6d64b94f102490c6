package pop3

import (
	"bufio"
	"io"
	"sync"
)

// An idle session holds no buffers: the line reader's and the response
// writer's come from pools while there is something to read or write, and
// go back while the session waits for its client. With thousands of
// clients that keep a connection open between checks, that is most of a
// session's memory.

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1024) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8*1024) }}
)

// inBuf reads the client's lines. While nothing is buffered it holds no
// reader: it waits for the client with a read into a few bytes of its own
// (a whole command, most of the time, so one read per command), then takes
// a pooled reader that reads those bytes first.
type inBuf struct {
	src    io.Reader
	br     *bufio.Reader
	wait   [waitBytes]byte
	off, n int // wait[off:n] is not read yet
}

// waitBytes is what a session reads while it holds no reader: "RETR 123\r\n"
// and most other commands fit.
const waitBytes = 32

// Read is the pooled reader's source.
func (in *inBuf) Read(p []byte) (int, error) {
	if in.off < in.n {
		k := copy(p, in.wait[in.off:in.n])
		in.off += k
		return k, nil
	}
	return in.src.Read(p)
}

// await waits for input without a buffer, unless some is buffered: a
// read into the wait bytes. A session spends its idle time here, so this
// frame and those under it are kept small (it is not inlined into Serve):
// with less than about 1.2 KB of frames, the GC halves the goroutine's
// 8 KB stack (see server.handle).
//
//go:noinline
func (in *inBuf) await() error {
	if in.br != nil || in.off < in.n {
		return nil
	}
	n, err := in.src.Read(in.wait[:])
	if n <= 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	in.off, in.n = 0, n
	return nil
}

// reader returns the line reader, a pooled one that reads the wait bytes
// first when the session holds none.
func (in *inBuf) reader() *bufio.Reader {
	if in.br == nil {
		in.br = readerPool.Get().(*bufio.Reader)
		in.br.Reset(in)
	}
	return in.br
}

// buffered is what has been read from the client and not consumed.
func (in *inBuf) buffered() int {
	n := in.n - in.off
	if in.br != nil {
		n += in.br.Buffered()
	}
	return n
}

// discard drops everything read from the client and not consumed.
func (in *inBuf) discard() {
	in.off = in.n
	if in.br != nil {
		in.br.Discard(in.br.Buffered())
	}
}

// release gives the reader back when it holds nothing.
func (in *inBuf) release() {
	if in.br != nil && in.buffered() == 0 {
		in.br.Reset(nil)
		readerPool.Put(in.br)
		in.br = nil
	}
}

// outBuf buffers responses in a pooled writer, taken at the first write
// and given back once flushed.
type outBuf struct {
	dst io.Writer
	bw  *bufio.Writer
}

func (o *outBuf) get() *bufio.Writer {
	if o.bw == nil {
		o.bw = writerPool.Get().(*bufio.Writer)
		o.bw.Reset(o.dst)
	}
	return o.bw
}

func (o *outBuf) Write(p []byte) (int, error)       { return o.get().Write(p) }
func (o *outBuf) WriteString(s string) (int, error) { return o.get().WriteString(s) }
func (o *outBuf) WriteByte(c byte) error            { return o.get().WriteByte(c) }

// Flush sends what is buffered and gives the writer back.
func (o *outBuf) Flush() error {
	if o.bw == nil {
		return nil
	}
	if err := o.bw.Flush(); err != nil {
		return err
	}
	o.bw.Reset(nil)
	writerPool.Put(o.bw)
	o.bw = nil
	return nil
}

// Reset discards what is buffered and writes to dst from now on.
func (o *outBuf) Reset(dst io.Writer) {
	o.dst = dst
	if o.bw != nil {
		o.bw.Reset(dst)
	}
}
