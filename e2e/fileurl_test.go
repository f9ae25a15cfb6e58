package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/files/imagetest"
)

// withoutSignature is a file URL's path with v kept and exp, sig dropped.
func withoutSignature(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.Query().Has("sig") {
		return raw
	}
	q := u.Query()
	q.Del("exp")
	q.Del("sig")
	u.RawQuery = q.Encode()
	u.Scheme, u.Host = "", ""
	return u.String()
}

// fileAnswer is what GET of a file URL answered.
type fileAnswer struct {
	status             int
	contentType, cache string
	body               []byte
	code, reason       string
}

// open fetches a URL as an <image> tag does: no Authorization header.
func (e *env) open(raw string) fileAnswer {
	e.t.Helper()
	if strings.HasPrefix(raw, "/") {
		raw = e.URL + raw
	}
	resp, err := http.Get(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := fileAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), cache: resp.Header.Get("Cache-Control"), body: b}
	if strings.HasPrefix(a.contentType, "application/json") {
		var eb struct {
			Errors []struct {
				Extensions struct{ Code, Reason string }
			}
		}
		if json.Unmarshal(b, &eb) == nil && len(eb.Errors) == 1 {
			a.code, a.reason = eb.Errors[0].Extensions.Code, eb.Errors[0].Extensions.Reason
		}
	}
	return a
}

const fileRepairQ = `mutation($in:SubmitRepairRequestInput!){ submitRepairRequest(input:$in){ id photos thumbs: photos(size: THUMB) } }`
const fileGetQ = `query($id:ID!){ repairRequest(id:$id){ id photos thumbs: photos(size: THUMB) } }`

type fileRepair struct {
	ID             string
	Photos, Thumbs []string
}

// submitPhotos files a repair for household hh with photos, in order.
func submitPhotos(t *testing.T, c *client, hh string, photos ...[]byte) fileRepair {
	t.Helper()
	parts, slots := map[string][]byte{}, make([]any, len(photos))
	for i, p := range photos {
		parts["variables.in.photos."+string(rune('0'+i))] = p
	}
	r := c.multipart(fileRepairQ, map[string]any{"in": map[string]any{
		"householdId": hh, "category": "WATER", "description": "卫生间漏水", "inHome": true, "photos": slots}}, parts)
	if len(r.Errors) > 0 {
		t.Fatalf("submit: %+v", r.Errors)
	}
	var out struct{ SubmitRepairRequest fileRepair }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.SubmitRepairRequest.Photos) != len(photos) || len(out.SubmitRepairRequest.Thumbs) != len(photos) {
		t.Fatalf("urls: %+v", out.SubmitRepairRequest)
	}
	return out.SubmitRepairRequest
}

func setQuery(raw, key, value string) string {
	u, _ := url.Parse(raw)
	q := u.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func TestSignedFileURLs(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	photo1, photo2 := imagetest.JPEG(imagetest.Photo(800, 600), 85), imagetest.JPEG(imagetest.Photo(640, 480), 85)
	r := submitPhotos(t, ownerA, w.HA.ID, photo1, photo2)

	// The owner's photo opens without any header, byte for byte, cacheable
	// no longer than the URL lives.
	a := e.open(r.Photos[0])
	if a.status != 200 || a.contentType != "image/jpeg" || !bytes.Equal(a.body, photo1) {
		t.Fatalf("signed url: %d %s %d bytes", a.status, a.contentType, len(a.body))
	}
	if age, err := strconv.Atoi(strings.TrimPrefix(a.cache, "private, max-age=")); err != nil || age < 3600 || age > 4500 {
		t.Errorf("Cache-Control %q, want the URL's remaining 1h-1h15m", a.cache)
	}
	if !strings.HasPrefix(r.Photos[0], "/files/") {
		t.Errorf("relative without PUBLIC_BASE_URL: %s", r.Photos[0])
	}

	// Refused, 403 with a code and no word on whether the file exists.
	sig1 := func(u string) string { p, _ := url.Parse(u); return p.Query().Get("sig") }
	other := strings.Replace(r.Photos[1], "sig="+url.QueryEscape(sig1(r.Photos[1])), "sig="+url.QueryEscape(sig1(r.Photos[0])), 1)
	s := sig1(r.Photos[0])
	flipped := map[byte]byte{'A': 'B'}[s[0]]
	if flipped == 0 {
		flipped = 'A'
	}
	for name, u := range map[string]string{
		"tampered signature":         setQuery(r.Photos[0], "sig", string(flipped)+s[1:]),
		"another file's signature":   other,
		"thumbnail as the original":  setQuery(r.Thumbs[0], "v", ""),
		"original as the thumbnail":  setQuery(r.Photos[0], "v", "thumb"),
		"a later expiry":             setQuery(r.Photos[0], "exp", "99999999999"),
		"a file that does not exist": "/files/000000000000000000000000?" + strings.SplitN(r.Photos[0], "?", 2)[1],
	} {
		if a := e.open(u); a.status != 403 || a.code != "FORBIDDEN" || a.reason != "FILE_URL_INVALID" {
			t.Errorf("%s: %d %s %s", name, a.status, a.code, a.reason)
		}
	}

	// The owner of another household gets no URL, and the token path
	// still refuses them.
	if res := ownerB.do(fileGetQ, map[string]any{"id": r.ID}); res.code() != "NOT_FOUND" || strings.Contains(string(res.Data), "/files/") {
		t.Errorf("neighbour: %+v %s", res.Errors, res.Data)
	}
	if status, _, _ := ownerB.get(r.Photos[0]); status != 404 {
		t.Errorf("neighbour with a token: %d", status)
	}
	if status, _, body := ownerA.get(r.Photos[0]); status != 200 || !bytes.Equal(body, photo1) {
		t.Errorf("owner with a token: %d", status)
	}

	// Expired on the server's clock; the API hands out a fresh one.
	e.Clock.Advance(76 * time.Minute)
	if a := e.open(r.Photos[0]); a.status != 403 || a.code != "FORBIDDEN" || a.reason != "FILE_URL_EXPIRED" {
		t.Errorf("expired: %d %s %s", a.status, a.code, a.reason)
	}
	var again struct{ RepairRequest fileRepair }
	ownerA = e.owner(w.OwnerA.Phone) // the access token expired with the clock too
	ownerA.ok(fileGetQ, map[string]any{"id": r.ID}, &again)
	if again.RepairRequest.Photos[0] == r.Photos[0] || e.open(again.RepairRequest.Photos[0]).status != 200 {
		t.Errorf("fresh url %s", again.RepairRequest.Photos[0])
	}

}

func TestFileURLsAbsoluteWithPublicBaseURL(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.PublicBaseURL = "https://wuye.example.com" })
	w := e.world()
	r := submitPhotos(t, e.owner(w.OwnerA.Phone), w.HA.ID, imagetest.JPEG(imagetest.Photo(400, 300), 80))
	if !strings.HasPrefix(r.Photos[0], "https://wuye.example.com/files/") {
		t.Fatalf("url %s", r.Photos[0])
	}
	if a := e.open(strings.TrimPrefix(r.Photos[0], "https://wuye.example.com")); a.status != 200 {
		t.Fatalf("served: %d", a.status)
	}
}

// thumbsStored counts thumbnails stored for the original of fileURL.
func thumbsStored(t *testing.T, e *env, fileURL string) int64 {
	t.Helper()
	u, _ := url.Parse(fileURL)
	id := strings.TrimPrefix(u.Path, "/files/")
	n, err := e.DB.Collection("thumbs.files").CountDocuments(context.Background(), bson.D{{Key: "metadata.original", Value: id}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFileThumbnails(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	jpg := imagetest.JPEG(imagetest.Photo(1600, 1200), 90)
	png := imagetest.PNG(imagetest.Photo(900, 1200))
	webp := imagetest.WebP(1000, 600)
	r := submitPhotos(t, ownerA, w.HA.ID, jpg, png, webp)
	want := []struct {
		name string
		orig []byte
		w, h int
	}{{"jpeg", jpg, 320, 240}, {"png", png, 240, 320}, {"webp", webp, 320, 192}}
	for i, c := range want {
		if n := thumbsStored(t, e, r.Thumbs[i]); n != 0 {
			t.Fatalf("%s: %d thumbnails before anyone asked", c.name, n)
		}
		for round := range 2 {
			a := e.open(r.Thumbs[i])
			if a.status != 200 || a.contentType != "image/jpeg" {
				t.Fatalf("%s: %d %s", c.name, a.status, a.contentType)
			}
			img, err := jpeg.Decode(bytes.NewReader(a.body))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h || len(a.body) >= len(c.orig) {
				t.Fatalf("%s: %dx%d %d bytes (original %d)", c.name, b.Dx(), b.Dy(), len(a.body), len(c.orig))
			}
			if n := thumbsStored(t, e, r.Thumbs[i]); n != 1 {
				t.Fatalf("%s round %d: %d thumbnails stored", c.name, round, n)
			}
			if round == 0 {
				t.Logf("%s: original %d bytes, thumbnail %d bytes", c.name, len(c.orig), len(a.body))
			}
		}
		// The token path serves the same thumbnail, under the same rule.
		if status, ct, _ := ownerA.get(r.Thumbs[i]); status != 200 || ct != "image/jpeg" {
			t.Errorf("%s thumbnail with a token: %d %s", c.name, status, ct)
		}
		if status, _, _ := ownerB.get(r.Thumbs[i]); status != 404 {
			t.Errorf("%s thumbnail to a neighbour: %d", c.name, status)
		}
	}

	// Two first requests at once leave one thumbnail and no stray chunks.
	r2 := submitPhotos(t, ownerA, w.HA.ID, imagetest.JPEG(imagetest.Photo(1200, 900), 90))
	var wg sync.WaitGroup
	answers := make([]fileAnswer, 4)
	for i := range answers {
		wg.Go(func() { answers[i] = e.open(r2.Thumbs[0]) })
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 || !bytes.Equal(a.body, answers[0].body) {
			t.Fatalf("concurrent request %d: %d, %d bytes", i, a.status, len(a.body))
		}
	}
	if n := thumbsStored(t, e, r2.Thumbs[0]); n != 1 {
		t.Fatalf("%d thumbnails after concurrent first requests", n)
	}
	ctx := context.Background()
	nFiles, _ := e.DB.Collection("thumbs.files").CountDocuments(ctx, bson.D{})
	cur, err := e.DB.Collection("thumbs.chunks").Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "files_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var chunks []struct {
		FilesID bson.ObjectID `bson:"files_id"`
	}
	if err := cur.All(ctx, &chunks); err != nil {
		t.Fatal(err)
	}
	owners := map[bson.ObjectID]bool{}
	for _, c := range chunks {
		owners[c.FilesID] = true
	}
	if int64(len(owners)) != nFiles {
		t.Errorf("chunks of %d files for %d thumbnails", len(owners), nFiles)
	}
}

// A 9-photo repair: the grid of thumbnails costs a phone a small fraction
// of the originals.
func TestNinePhotoThumbnails(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	photos := make([][]byte, 9)
	for i := range photos {
		photos[i] = imagetest.JPEG(imagetest.Photo(2000+40*i, 1500), 92)
	}
	r := submitPhotos(t, e.owner(w.OwnerA.Phone), w.HA.ID, photos...)
	var orig, thumbs int
	for i := range photos {
		a, th := e.open(r.Photos[i]), e.open(r.Thumbs[i])
		if a.status != 200 || th.status != 200 {
			t.Fatalf("photo %d: %d, thumbnail %d", i, a.status, th.status)
		}
		orig, thumbs = orig+len(a.body), thumbs+len(th.body)
	}
	t.Logf("9 photos: originals %d bytes, thumbnails %d bytes (%.1f%%)", orig, thumbs, 100*float64(thumbs)/float64(orig))
	if thumbs*20 > orig {
		t.Fatalf("thumbnails %d bytes are more than 5%% of the originals' %d", thumbs, orig)
	}
}
