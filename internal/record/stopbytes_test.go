package record

import (
	"math/rand/v2"
	"testing"
)

// isStop is stopBytes' definition, byte by byte.
func isStop(c byte) bool {
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x80
}

// checkStopBytes fails unless stopBytes finds no stop byte in a word
// without one, and otherwise flags exactly the lowest one first.
func checkStopBytes(t *testing.T, x uint64) {
	t.Helper()
	want := -1
	for k := 0; k < 8; k++ {
		if isStop(byte(x >> (8 * k))) {
			want = k
			break
		}
	}
	m := stopBytes(x)
	got := -1
	for k := 0; k < 8; k++ {
		if m&(0x80<<(8*k)) != 0 {
			got = k
			break
		}
	}
	if m&^msb != 0 || got != want {
		t.Fatalf("stopBytes(%#016x) = %#016x: lowest flagged byte %d, want %d", x, m, got, want)
	}
}

func TestStopBytes(t *testing.T) {
	// Every byte value in every position of plain backgrounds, then pairs
	// of values, which is where a borrow could spill into the next byte.
	for _, bg := range []uint64{lsb * 'a', lsb * 0x21, lsb * 0x7f, lsb * '#', lsb * ']'} {
		for k := 0; k < 8; k++ {
			for c := 0; c < 256; c++ {
				x := bg&^(0xff<<(8*k)) | uint64(c)<<(8*k)
				checkStopBytes(t, x)
				if k < 7 {
					for d := 0; d < 256; d++ {
						checkStopBytes(t, x&^(0xff<<(8*(k+1)))|uint64(d)<<(8*(k+1)))
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		checkStopBytes(t, r.Uint64())
	}
}
