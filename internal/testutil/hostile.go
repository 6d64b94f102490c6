package testutil

// Hostile is text a POP3 client can choose (a user name after USER, a SASL
// identity, a command), one sample of each class a terminal acts on, and
// what popadm shows for it (human.Clean), for the CLI's and the
// dashboard's tests alike.
var Hostile = []struct{ Class, Text, Shown string }{
	{"C0", "c0\x1b]0;owned\x07", "c0?]0;owned?"},
	{"C1", "c1\u009b31m\u0085", "c1?31m?"},
	{"bidi override", "bidi\u202egpj.exe\u202c", "bidi?gpj.exe?"},
	{"bidi embedding", "emb\u202a\u202b\u202dx", "emb???x"},
	{"bidi isolate", "iso\u2066\u2067\u2068x\u2069", "iso???x?"},
	{"bidi mark", "mark\u200e\u200f\u061c", "mark???"},
	{"format", "fmt\u200b\u200c\u200d\u2060\u2064\ufeff\u180e\u00ad", "fmt????????"},
	{"separator", "sep\u2028x\u2029", "sep?x?"},
	{"tag", "tag\U000e0001\U000e0041x", "tag??x"},
}
