// Package files stores uploaded images in GridFS. It checks what a file is by
// its bytes, not by the name or type the client claims, and bounds its size
// while reading, so an oversized upload is refused without being stored.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// MaxImageBytes bounds one image: enough for a phone photo, small enough
// that a page of thumbnails stays light.
const MaxImageBytes = 8 << 20

// Meta says what a file is for and who may see it; the access rule for each
// Purpose lives with the domain that owns the thing the file belongs to.
type Meta struct {
	Purpose     string    `bson:"purpose"` // e.g. "avatar"
	SubjectID   string    `bson:"subjectId"`
	CommunityID string    `bson:"communityId,omitempty"`
	UploadedBy  string    `bson:"uploadedBy"`
	ContentType string    `bson:"contentType"`
	SHA256      string    `bson:"sha256"`
	UploadedAt  time.Time `bson:"uploadedAt"`
	// Original and Variant are set on a rendition (e.g. a thumbnail): the
	// other fields are the original's, so the same access rule applies.
	Original string  `bson:"original,omitempty"`
	Variant  Variant `bson:"variant,omitempty"`
}

// File is a stored file's description.
type File struct {
	ID     string
	Length int64
	Meta   Meta
}

var (
	ErrTooLarge    = apperr.New(apperr.BadUserInput, "files.too_large")
	ErrBadType     = apperr.New(apperr.BadUserInput, "files.bad_type")
	ErrEmpty       = apperr.New(apperr.BadUserInput, "files.empty")
	ErrNotFound    = apperr.New(apperr.NotFound, "files.not_found")
	imageTypesText = "JPEG, PNG, WebP, HEIC"
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"files.too_large": {ZH: "文件不能超过 %d MB", EN: "must be at most %d MB"},
		"files.bad_type":  {ZH: "只支持 " + imageTypesText + " 图片", EN: "must be a " + imageTypesText + " image"},
		"files.empty":     {ZH: "文件为空", EN: "is empty"},
		"files.not_found": {ZH: "文件不存在", EN: "File not found"},
	})
	mongo.Declare(mongo.Indexes{Collection: "files.files", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "metadata.purpose", Value: 1}, {Key: "metadata.subjectId", Value: 1}}},
	}}, mongo.Indexes{Collection: "thumbs.files", Models: []mgo.IndexModel{
		// One rendition per original and variant: of two requests that made
		// the same thumbnail at once, the second to store it is refused.
		{Keys: bson.D{{Key: "filename", Value: 1}}, Options: options.Index().SetUnique(true)},
	}})
}

// Store keeps files in the "files" GridFS bucket, and renditions made of
// them (thumbnails) beside it in the "thumbs" bucket.
type Store struct {
	bucket *mgo.GridFSBucket
	thumbs *mgo.GridFSBucket
	now    func() time.Time
}

// NewStore opens the buckets.
func NewStore(db *mongo.DB, now func() time.Time) *Store {
	return &Store{
		bucket: db.GridFSBucket(options.GridFSBucket().SetName("files")),
		thumbs: db.GridFSBucket(options.GridFSBucket().SetName("thumbs")),
		now:    now,
	}
}

// SaveImage stores an image read from r. field names the input in errors.
func (s *Store) SaveImage(ctx context.Context, field, filename string, r io.Reader, m Meta) (*File, error) {
	// Read at most one byte past the limit: enough to know it is too large.
	data, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	switch {
	case len(data) == 0:
		return nil, ErrEmpty.WithField(field)
	case len(data) > MaxImageBytes:
		return nil, ErrTooLarge.WithField(field).WithArgs(MaxImageBytes >> 20)
	}
	ct := SniffImage(data)
	if ct == "" {
		return nil, ErrBadType.WithField(field)
	}
	sum := sha256.Sum256(data)
	m.ContentType, m.SHA256, m.UploadedAt = ct, hex.EncodeToString(sum[:]), s.now().UTC()
	id := bson.NewObjectID()
	if err := upload(ctx, s.bucket, id, filename, data, m); err != nil {
		return nil, fmt.Errorf("store file: %w", err)
	}
	return &File{ID: id.Hex(), Length: int64(len(data)), Meta: m}, nil
}

// upload stores data as one GridFS file. Not the driver's
// UploadFromStream: it reads through one buffer shared by every upload on
// the bucket, so two requests uploading at once overwrite each other's
// bytes (go test -race caught it with two first requests for a thumbnail).
// An upload stream has a buffer of its own.
func upload(ctx context.Context, b *mgo.GridFSBucket, id bson.ObjectID, name string, data []byte, meta Meta) error {
	us, err := b.OpenUploadStreamWithID(ctx, id, name, options.GridFSUpload().SetMetadata(meta))
	if err != nil {
		return err
	}
	if _, err := us.Write(data); err != nil {
		_ = us.Abort()
		return err
	}
	return us.Close()
}

// Open returns a file's description and a reader of its bytes.
func (s *Store) Open(ctx context.Context, id string) (*File, io.ReadCloser, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil, nil, ErrNotFound
	}
	ds, err := s.bucket.OpenDownloadStream(ctx, oid)
	return opened(id, "file", ds, err)
}

// opened turns an opened GridFS stream (an original or a rendition) into
// the file's description and its reader.
func opened(id, what string, ds *mgo.GridFSDownloadStream, err error) (*File, io.ReadCloser, error) {
	if errors.Is(err, mgo.ErrFileNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s %s: %w", what, id, err)
	}
	gf := ds.GetFile()
	var m Meta
	if err := bson.Unmarshal(gf.Metadata, &m); err != nil {
		_ = ds.Close()
		return nil, nil, fmt.Errorf("%s %s metadata: %w", what, id, err)
	}
	return &File{ID: id, Length: gf.Length, Meta: m}, ds, nil
}

// Delete removes a file (e.g. the avatar it replaced) and its renditions.
func (s *Store) Delete(ctx context.Context, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil
	}
	if err := s.bucket.Delete(ctx, oid); err != nil && !errors.Is(err, mgo.ErrFileNotFound) {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return s.deleteRenditions(ctx, id)
}

// SniffImage recognises the image formats phones produce by their magic
// bytes; it returns "" for anything else.
func SniffImage(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case len(b) >= 8 && bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1":
			return "image/heic"
		}
	}
	return ""
}

// Upload is a file part of a request, as the API edge hands it to a domain.
type Upload struct {
	Filename string
	Content  io.Reader
}

// MaxImagesPerStep bounds how many photos one step may carry.
const MaxImagesPerStep = 9

// SaveImages stores a step's images, all or none: a bad one removes those
// already stored, so a refused request leaves no orphans. Errors name the
// image as field.N.
func (s *Store) SaveImages(ctx context.Context, field string, ups []Upload, m Meta) ([]string, error) {
	ids := []string{}
	for i, u := range ups {
		f, err := s.SaveImage(ctx, fmt.Sprintf("%s.%d", field, i), u.Filename, u.Content, m)
		if err != nil {
			s.DeleteAll(ctx, ids)
			return nil, err
		}
		ids = append(ids, f.ID)
	}
	return ids, nil
}

// DeleteAll removes files best-effort (cleanup after a refused step; an
// orphan costs only space).
func (s *Store) DeleteAll(ctx context.Context, ids []string) {
	for _, id := range ids {
		_ = s.Delete(context.WithoutCancel(ctx), id)
	}
}
