package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // registers the PNG decoder for image.Decode
	"math"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers the WebP decoder for image.Decode
	"golang.org/x/sync/semaphore"
)

const (
	// ThumbMaxSide is a thumbnail's longer side: a third of a phone's
	// width in a 3-column grid at 3× density.
	ThumbMaxSide = 320
	thumbQuality = 80
	// MaxDecodePixels refuses images whose header claims more: an 8 MB
	// PNG can claim 100,000 × 100,000 pixels and would take gigabytes.
	MaxDecodePixels = 40_000_000
	// decodeBudget bounds the decoded pixels held at once across requests,
	// so simultaneous first views queue instead of exhausting memory.
	decodeBudget = 400 << 20
)

var decodeMem = semaphore.NewWeighted(decodeBudget)

// errNoThumb: the original is served instead (not an image we decode, too
// many pixels, already small enough, or unreadable).
var errNoThumb = errors.New("no thumbnail for this image")

// thumbable are the types a thumbnail is made of; HEIC needs a decoder
// Go does not have.
func thumbable(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/webp":
		return true
	}
	return false
}

// MakeThumb scales an image so its longer side is ThumbMaxSide, upright
// (JPEG EXIF orientation applied), on white where it was transparent, as
// JPEG. It reads the header first and refuses what would be too large to
// decode; errNoThumb means the original should be shown instead.
func MakeThumb(ctx context.Context, data []byte) ([]byte, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoThumb, err)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if cfg.Width <= 0 || cfg.Height <= 0 || px > MaxDecodePixels {
		return nil, fmt.Errorf("%w: %d×%d pixels", errNoThumb, cfg.Width, cfg.Height)
	}
	orient := 1
	if format == "jpeg" {
		orient = exifOrientation(data)
	}
	if max(cfg.Width, cfg.Height) <= ThumbMaxSide && orient == 1 {
		return nil, fmt.Errorf("%w: already %d×%d", errNoThumb, cfg.Width, cfg.Height)
	}
	cost := px * bytesPerPixel(cfg.ColorModel)
	if err := decodeMem.Acquire(ctx, cost); err != nil {
		return nil, fmt.Errorf("wait to decode: %w", err)
	}
	defer decodeMem.Release(cost)
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoThumb, err)
	}
	w, h := fit(cfg.Width, cfg.Height, ThumbMaxSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	// BiLinear widens its kernel when shrinking, so a 12× reduction
	// averages every source pixel instead of sampling (and aliasing) a few.
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, orientate(dst, orient), &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return out.Bytes(), nil
}

// fit scales w×h down so the longer side is at most side.
func fit(w, h, side int) (int, int) {
	if max(w, h) <= side {
		return w, h
	}
	r := float64(side) / float64(max(w, h))
	return max(1, int(math.Round(float64(w)*r))), max(1, int(math.Round(float64(h)*r)))
}

// bytesPerPixel is what a decoded image of this colour model holds.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at worst
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 4
}
