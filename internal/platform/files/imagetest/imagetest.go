// Package imagetest makes JPEG, PNG and WebP test images in code, so tests
// carry no binary fixtures. Only tests import it.
package imagetest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// Photo is a w×h picture with smooth gradients and fine grain, which
// compresses about like a phone photo does.
func Photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	seed := uint32(2463534242)
	for y := range h {
		for x := range w {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			img.Y[img.YOffset(x, y)] = uint8((x*200/w + y*55/h) + int(seed%24))
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			i := img.COffset(2*x, 2*y)
			img.Cb[i], img.Cr[i] = uint8(90+x*80/w), uint8(160-y*60/h)
		}
	}
	return img
}

// JPEG encodes img at quality q.
func JPEG(img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// WithOrientation puts an EXIF APP1 segment with Orientation o (1-8) right
// after a JPEG's SOI marker, as phone cameras do.
func WithOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte("MM\x00*\x00\x00\x00\x08") // big-endian, IFD0 at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112) // Orientation
	tiff = binary.BigEndian.AppendUint16(tiff, 3)      // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // value padding, no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1}, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// WebP is a w×h lossless WebP (VP8L) of 8×8 blocks in the eight colours
// whose channels are 0 or 255. Go has no WebP encoder, so this one writes
// the bitstream by the WebP lossless specification
// (https://developers.google.com/speed/webp/docs/webp_lossless_bitstream_specification):
// no transforms, no colour cache, one Huffman group whose green, red and
// blue codes are "simple" two-symbol codes {0, 255} of one bit each, alpha
// the single symbol 255 (no bits) and distance the single symbol 0 — so
// each pixel is three bits. w and h are at most 16384.
func WebP(w, h int) []byte {
	var bw bitWriter
	bw.put(0x2f, 8) // VP8L signature
	bw.put(uint32(w-1), 14)
	bw.put(uint32(h-1), 14)
	bw.put(0, 1)  // alpha hint
	bw.put(0, 3)  // version
	bw.put(0, 1)  // no transform
	bw.put(0, 1)  // no colour cache
	bw.put(0, 1)  // no meta Huffman codes
	for range 3 { // green, red, blue: simple, 2 symbols, 8-bit first symbol: 0 then 255
		bw.put(1, 1)
		bw.put(1, 1)
		bw.put(1, 1)
		bw.put(0, 8)
		bw.put(255, 8)
	}
	bw.put(1, 1) // alpha: simple, 1 symbol, 8-bit: 255
	bw.put(0, 1)
	bw.put(1, 1)
	bw.put(255, 8)
	bw.put(1, 1) // distance: simple, 1 symbol, 1-bit: 0
	bw.put(0, 1)
	bw.put(0, 1)
	bw.put(0, 1)
	for y := range h {
		for x := range w {
			c := blockColour(x/8, y/8)
			bw.put(c>>1&1, 1) // green
			bw.put(c>>2&1, 1) // red
			bw.put(c&1, 1)    // blue
		}
	}
	data := bw.bytes()
	pad := len(data) % 2
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+8+len(data)+pad))
	out = append(out, "WEBPVP8L"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, data...)
	if pad == 1 {
		out = append(out, 0)
	}
	return out
}

// WebPColour is the colour WebP draws at (x, y).
func WebPColour(x, y int) color.NRGBA {
	c := blockColour(x/8, y/8)
	v := func(bit uint32) uint8 { return uint8(bit * 255) }
	return color.NRGBA{R: v(c >> 2 & 1), G: v(c >> 1 & 1), B: v(c & 1), A: 255}
}

func blockColour(bx, by int) uint32 {
	h := uint32(bx)*2654435761 ^ uint32(by)*40503
	h ^= h >> 15
	return h & 7
}

// bitWriter packs bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (b *bitWriter) put(v uint32, n uint) {
	b.acc |= uint64(v&(1<<n-1)) << b.nbits
	b.nbits += n
	for b.nbits >= 8 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		b.nbits -= 8
	}
}

func (b *bitWriter) bytes() []byte {
	if b.nbits > 0 {
		return append(b.buf, byte(b.acc))
	}
	return b.buf
}
