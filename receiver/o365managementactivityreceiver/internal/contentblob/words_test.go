package contentblob

import (
	"math/rand/v2"
	"testing"
)

// The word tests are only used for the lowest byte they flag: that one
// must be the first stop byte, and none may be flagged in a word without.
var wordTests = []struct {
	name string
	test func(uint64) uint64
	stop func(byte) bool
}{
	{"stringStops", stringStops, func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }},
	{"quoteStops", quoteStops, func(c byte) bool { return c == '"' || c == '\\' }},
	{"plainStops", plainStops, func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }},
}

func checkWord(t *testing.T, name string, test func(uint64) uint64, stop func(byte) bool, x uint64) {
	want := -1
	for k := 0; k < 8; k++ {
		if stop(byte(x >> (8 * k))) {
			want = k
			break
		}
	}
	m := test(x)
	got := -1
	for k := 0; k < 8; k++ {
		if m&(0x80<<(8*k)) != 0 {
			got = k
			break
		}
	}
	if m&^msb != 0 || got != want {
		t.Fatalf("%s(%#016x) = %#016x: lowest flagged byte %d, want %d", name, x, m, got, want)
	}
}

func TestWordTests(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range wordTests {
		// Every byte value in every position, then every pair of values in
		// neighbouring positions, where a borrow could spill, on several
		// backgrounds.
		for _, bg := range []uint64{lsb * 'a', lsb * 0x21, lsb * 0x7f, lsb * 0x80, lsb * 0xff, lsb * ']'} {
			for k := 0; k < 8; k++ {
				for c := 0; c < 256; c++ {
					x := bg&^(0xff<<(8*k)) | uint64(c)<<(8*k)
					checkWord(t, w.name, w.test, w.stop, x)
					if k < 7 {
						for d := 0; d < 256; d++ {
							checkWord(t, w.name, w.test, w.stop, x&^(0xff<<(8*(k+1)))|uint64(d)<<(8*(k+1)))
						}
					}
				}
			}
		}
		for range 1 << 20 {
			checkWord(t, w.name, w.test, w.stop, r.Uint64())
		}
	}
}
