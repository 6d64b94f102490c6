package userdb

import "testing"

// openQuiet opens a users file without logging, for benchmarks.
func openQuiet(b *testing.B, content string) *File {
	f, err := Open(writeUsers(b, content), nil)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkVerifyPlain(b *testing.B) {
	f := openQuiet(b, "alice:{PLAIN}alicepw\n")
	for b.Loop() {
		if _, err := f.Verify("alice", "alicepw"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBcrypt(b *testing.B) {
	h, err := Hash("", "alicepw")
	if err != nil {
		b.Fatal(err)
	}
	f := openQuiet(b, "alice:"+h+"\n")
	for b.Loop() {
		if _, err := f.Verify("alice", "alicepw"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifySHA512Crypt(b *testing.B) {
	f := openQuiet(b, "alice:"+shaCryptVectors[7].hash+"\n")
	for b.Loop() {
		if _, err := f.Verify("alice", "Hello world!"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyUnknownUser(b *testing.B) {
	f := openQuiet(b, "alice:{PLAIN}alicepw\n")
	for b.Loop() {
		f.Verify("nobody", "alicepw")
	}
}
