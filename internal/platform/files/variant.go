package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
)

// OpenVariant returns rendition v of file id. A thumbnail is made on the
// first request for it and stored, so later requests only read it; where
// none can be made (HEIC, too many pixels, already small) the original is
// returned. Lazily rather than at upload: a 9-photo step is not slowed by
// nine decodes, files stored before thumbnails existed get them too, and
// nothing is spent on photos nobody opens as a thumbnail (signatures).
func (s *Store) OpenVariant(ctx context.Context, id string, v Variant) (*File, io.ReadCloser, error) {
	if v != Thumb {
		return s.Open(ctx, id)
	}
	if _, err := bson.ObjectIDFromHex(id); err != nil {
		return nil, nil, ErrNotFound
	}
	if f, rc, err := s.openThumb(ctx, id); !errors.Is(err, ErrNotFound) {
		return f, rc, err
	}
	orig, body, err := s.Open(ctx, id)
	if err != nil || !thumbable(orig.Meta.ContentType) {
		return orig, body, err
	}
	data, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read file %s: %w", id, err)
	}
	thumb, err := MakeThumb(ctx, data)
	if errors.Is(err, errNoThumb) {
		return orig, io.NopCloser(bytes.NewReader(data)), nil
	}
	if err != nil {
		return nil, nil, err
	}
	return s.storeThumb(ctx, orig, thumb)
}

func thumbName(id string) string { return id + "." + string(Thumb) + ".jpg" }

func (s *Store) openThumb(ctx context.Context, id string) (*File, io.ReadCloser, error) {
	ds, err := s.thumbs.OpenDownloadStreamByName(ctx, thumbName(id))
	return opened(id, "thumbnail of", ds, err)
}

// storeThumb keeps a thumbnail beside its original. Two first requests at
// once both make it; the unique filename lets only one store it, and the
// other removes its chunks and serves the stored one (the same bytes: the
// encoding is deterministic).
func (s *Store) storeThumb(ctx context.Context, orig *File, data []byte) (*File, io.ReadCloser, error) {
	m := orig.Meta
	sum := sha256.Sum256(data)
	m.ContentType, m.SHA256, m.Original, m.Variant, m.UploadedAt = "image/jpeg", hex.EncodeToString(sum[:]), orig.ID, Thumb, s.now().UTC()
	tid := bson.NewObjectID()
	err := upload(ctx, s.thumbs, tid, thumbName(orig.ID), data, m)
	if mgo.IsDuplicateKeyError(err) {
		_ = s.thumbs.Delete(context.WithoutCancel(ctx), tid) // our chunks; the files document was refused
		return s.openThumb(ctx, orig.ID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store thumbnail of %s: %w", orig.ID, err)
	}
	return &File{ID: orig.ID, Length: int64(len(data)), Meta: m}, io.NopCloser(bytes.NewReader(data)), nil
}

// deleteRenditions removes the thumbnails of a deleted original.
func (s *Store) deleteRenditions(ctx context.Context, id string) error {
	cur, err := s.thumbs.Find(ctx, bson.D{{Key: "filename", Value: thumbName(id)}})
	if err != nil {
		return fmt.Errorf("find thumbnails of %s: %w", id, err)
	}
	var docs []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("find thumbnails of %s: %w", id, err)
	}
	for _, d := range docs {
		if err := s.thumbs.Delete(ctx, d.ID); err != nil && !errors.Is(err, mgo.ErrFileNotFound) {
			return fmt.Errorf("delete thumbnail of %s: %w", id, err)
		}
	}
	return nil
}
