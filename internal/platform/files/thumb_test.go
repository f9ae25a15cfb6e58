package files

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"testing"

	"qinqing/internal/platform/files/imagetest"
)

func decodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	return img
}

func TestMakeThumb(t *testing.T) {
	ctx := context.Background()
	photo := imagetest.Photo(1600, 1200)
	cases := []struct {
		name    string
		data    []byte
		w, h    int
		smaller bool
		turned  bool
	}{
		{"jpeg", imagetest.JPEG(photo, 90), 320, 240, true, false},
		{"png", imagetest.PNG(imagetest.Photo(900, 1200)), 240, 320, true, false},
		{"webp", imagetest.WebP(1000, 600), 320, 192, true, false},
		{"jpeg turned by exif (6: 90° clockwise)", imagetest.WithOrientation(imagetest.JPEG(photo, 90), 6), 240, 320, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if SniffImage(c.data) == "" {
				t.Fatal("test image not recognised")
			}
			th, err := MakeThumb(ctx, c.data)
			if err != nil {
				t.Fatal(err)
			}
			img := decodeJPEG(t, th)
			b := img.Bounds()
			if b.Dx() != c.w || b.Dy() != c.h {
				t.Fatalf("thumbnail %dx%d, want %dx%d", b.Dx(), b.Dy(), c.w, c.h)
			}
			if c.turned {
				// The photo darkens to the left; turned clockwise, its left is the top.
				top, _, _, _ := img.At(b.Dx()/2, 2).RGBA()
				bottom, _, _, _ := img.At(b.Dx()/2, b.Dy()-3).RGBA()
				if top >= bottom {
					t.Fatalf("not turned clockwise: top %d, bottom %d", top>>8, bottom>>8)
				}
			}
			if c.smaller && len(th) >= len(c.data) {
				t.Fatalf("thumbnail %d bytes, original %d", len(th), len(c.data))
			}
			t.Logf("original %d bytes, thumbnail %d bytes (%.1f%%)", len(c.data), len(th), 100*float64(len(th))/float64(len(c.data)))
		})
	}
}

// The crafted WebP decodes to the colours it says, so the WebP path is
// tested on a real bitstream and not on something the decoder tolerates.
func TestWebPFixture(t *testing.T) {
	img, _, err := image.Decode(bytes.NewReader(imagetest.WebP(40, 24)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []image.Point{{0, 0}, {9, 3}, {17, 20}, {39, 23}} {
		r, g, b, _ := img.At(p.X, p.Y).RGBA()
		want := imagetest.WebPColour(p.X, p.Y)
		if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(b>>8) != want.B {
			t.Errorf("pixel %v = %d,%d,%d want %v", p, r>>8, g>>8, b>>8, want)
		}
	}
}

// pngHeader is a PNG whose header claims w×h and which has no pixel data:
// a decompression bomb as far as the header goes.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	out := append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13)
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

func TestMakeThumbRefuses(t *testing.T) {
	ctx := context.Background()
	for name, data := range map[string][]byte{
		"100,000 × 100,000 PNG header": pngHeader(100_000, 100_000),
		"just over 40 MP":              pngHeader(8000, 5001),
		"already small":                imagetest.PNG(imagetest.Photo(320, 200)),
		"not an image":                 []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"),
		"truncated jpeg":               imagetest.JPEG(imagetest.Photo(800, 600), 80)[:2000],
	} {
		if _, err := MakeThumb(ctx, data); !errors.Is(err, errNoThumb) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkMakeThumb makes a thumbnail of a 12 MP phone-sized JPEG and
// reports its size against the original's.
func BenchmarkMakeThumb(b *testing.B) {
	orig := imagetest.JPEG(imagetest.Photo(4000, 3000), 90)
	var th []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if th, err = MakeThumb(context.Background(), orig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(orig)), "orig-bytes")
	b.ReportMetric(float64(len(th)), "thumb-bytes")
	b.ReportMetric(float64(len(th))/float64(len(orig))*100, "thumb-%")
}
