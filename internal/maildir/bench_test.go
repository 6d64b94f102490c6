package maildir_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/maildir"
)

// TestMain removes the benchmarks' maildir, made once for all of them.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var (
	benchOnce    sync.Once
	benchDir     string // removed by TestMain
	benchDirKept string
	benchErr     error
)

const benchMessages = 100_000

// bigMaildir is a maildir of 100,000 messages of a few KB with realistic
// headers, made once per test binary run (b.TempDir would be removed between
// the runs of a benchmark with growing b.N) and removed by TestMain. With
// $MAILDIR_BENCH_DIR set, that directory is used instead and kept, and the
// messages are made only if its cur/ is missing.
func bigMaildir(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		if d := os.Getenv("MAILDIR_BENCH_DIR"); d != "" {
			if _, err := os.Stat(filepath.Join(d, "cur")); err == nil {
				benchDirKept = d
				return
			}
			benchDirKept = d
			benchErr = makeBigMaildir(d, benchMessages)
			return
		}
		benchDir, benchErr = os.MkdirTemp("", "maildir-bench-")
		if benchErr != nil {
			return
		}
		benchErr = makeBigMaildir(benchDir, benchMessages)
		b.Logf("made %d messages in %v", benchMessages, time.Since(start))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	if benchDirKept != "" {
		return benchDirKept
	}
	return benchDir
}

func makeBigMaildir(dir string, n int) error {
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod " +
		"tempor incididunt ut labore et dolore magna aliqua invoice meeting report")
	var body strings.Builder
	t0 := int64(1_700_000_000)
	for i := range n {
		t := t0 + int64(i)*37 + int64(rng.IntN(30))
		usec := rng.IntN(1_000_000)
		date := time.Unix(t, 0).UTC().Format(time.RFC1123Z)
		body.Reset()
		fmt.Fprintf(&body, "Return-Path: <sender%d@example.org>\n", i%977)
		fmt.Fprintf(&body, "Delivered-To: user@example.com\n")
		fmt.Fprintf(&body, "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\n\tby mail.example.com (Postfix) with ESMTPS id %08X\n\tfor <user@example.com>; %s\n",
			i%5, i%5, i%250, rng.Uint32(), date)
		fmt.Fprintf(&body, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;\n\th=from:to:subject:date:message-id; bh=%x;\n\tb=%x%x\n",
			rng.Uint64(), rng.Uint64(), rng.Uint64())
		fmt.Fprintf(&body, "From: Sender %d <sender%d@example.org>\nTo: User <user@example.com>\n", i%977, i%977)
		fmt.Fprintf(&body, "Subject: %s %s %d\nDate: %s\nMessage-ID: <%d.%d@example.org>\n", words[rng.IntN(len(words))],
			words[rng.IntN(len(words))], i, date, t, usec)
		body.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		lines := 10 + rng.IntN(60)
		for range lines {
			for k := 0; k < 8+rng.IntN(6); k++ {
				if k > 0 {
					body.WriteByte(' ')
				}
				body.WriteString(words[rng.IntN(len(words))])
			}
			body.WriteByte('\n')
		}
		data := body.String()
		name := fmt.Sprintf("%d.M%dP%dQ%d.mail.example.com,S=%d", t, usec, 1000+i%30000, i%7, len(data))
		folder := "new"
		if i%10 != 0 {
			folder, name = "cur", name+":2,S"
		}
		if err := os.WriteFile(filepath.Join(dir, folder, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkOpen100k is a session's start on a maildrop of 100,000 messages
// whose sizes are cached: Open (lock, list, cache), STAT, Close. "index":
// the maildrop did not change since the last session, and is listed from
// popd-index; "scan": the index is removed before each session, which
// lists the folders and reads the sizes cache and popd-uidls (and writes
// the index again, before Close returns).
func BenchmarkOpen100k(b *testing.B) {
	dir := bigMaildir(b)
	m, err := maildir.Open(dir, maildir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.TotalSize(); err != nil {
		b.Fatal(err)
	}
	m.Close()
	for _, index := range []bool{true, false} {
		b.Run(map[bool]string{true: "index", false: "scan"}[index], func(b *testing.B) {
			for b.Loop() {
				if !index {
					b.StopTimer()
					os.Remove(filepath.Join(dir, maildir.IndexName))
					b.StartTimer()
				}
				m, err := maildir.Open(dir, maildir.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if m.Count() != benchMessages {
					b.Fatalf("Count = %d", m.Count())
				}
				if _, err := m.TotalSize(); err != nil {
					b.Fatal(err)
				}
				if n := maildir.FileReads(m); n != 0 {
					b.Fatalf("read %d message files", n)
				}
				if maildir.FromIndex(m) != index {
					b.Fatalf("from the index: %v", maildir.FromIndex(m))
				}
				m.Close()
			}
		})
	}
}

// BenchmarkOpen100kCold is the same without the sizes cache: the first STAT
// reads every message (with a warm page cache). Close waits for the cache
// to be written.
func BenchmarkOpen100kCold(b *testing.B) {
	dir := bigMaildir(b)
	var openT, sizeT, closeT time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		os.Remove(filepath.Join(dir, maildir.CacheName))
		b.StartTimer()
		t0 := time.Now()
		m, err := maildir.Open(dir, maildir.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := m.TotalSize(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		m.Close()
		t3 := time.Now()
		openT += t1.Sub(t0)
		sizeT += t2.Sub(t1)
		closeT += t3.Sub(t2)
		n++
	}
	b.ReportMetric(float64(openT.Milliseconds())/float64(n), "open-ms")
	b.ReportMetric(float64(sizeT.Milliseconds())/float64(n), "sizes-ms")
	b.ReportMetric(float64(closeT.Milliseconds())/float64(n), "close-ms")
}
