package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// upload sends a GraphQL multipart request (the multipart request spec) with
// one file bound to variables.photo.
func (c *client) upload(query string, vars map[string]any, filename string, content []byte) *gqlResponse {
	c.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	vars["photo"] = nil
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.photo"]}`)
	fw, _ := mw.CreateFormFile("0", filename)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	out.status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.e.t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	return &out
}

// get fetches path with the client's token: the Authorization rule. A
// signed file URL's exp and sig are dropped first, so what is tested is
// what this caller's token may see; open fetches a signed URL as it is.
func (c *client) get(path string) (int, string, []byte) {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.URL+withoutSignature(path), nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// A tiny but real PNG header is enough for type detection.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func TestPersonAvatarUpload(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	owner := e.owner(w.OwnerA.Phone)
	mutation := `mutation($p:ID!,$photo:Upload!){ updatePersonAvatar(personId:$p, photo:$photo){ id avatarUrl } }`

	r := owner.upload(mutation, map[string]any{"p": w.OwnerA.ID}, "me.png", pngBytes)
	if len(r.Errors) > 0 {
		t.Fatalf("upload: %+v", r.Errors)
	}
	var out struct {
		UpdatePersonAvatar struct{ AvatarURL string }
	}
	_ = json.Unmarshal(r.Data, &out)
	url := out.UpdatePersonAvatar.AvatarURL
	if !strings.HasPrefix(url, "/files/") {
		t.Fatalf("avatarUrl = %q", url)
	}

	// Served back to those who may see the person, byte for byte.
	for _, c := range []*client{owner, e.staff(w.butlerX, w.Password)} {
		status, ct, body := c.get(url)
		if status != 200 || ct != "image/png" || !bytes.Equal(body, pngBytes) {
			t.Fatalf("GET %s: %d %s (%d bytes)", url, status, ct, len(body))
		}
	}
	// Not to a neighbour, not to staff of another community, not anonymously.
	if status, _, _ := e.owner(w.OwnerB.Phone).get(url); status != 404 {
		t.Errorf("neighbour got %d", status)
	}
	if status, _, _ := e.staff(w.supervisorY, w.Password).get(url); status != 404 {
		t.Errorf("staff of another community got %d", status)
	}
	if status, _, _ := e.anon().get(url); status != 401 {
		t.Errorf("anonymous got %d", status)
	}

	// Only the person themself or their butler/supervisor may change it.
	if r := e.staff(w.engineerX, w.Password).upload(mutation, map[string]any{"p": w.OwnerA.ID}, "x.png", pngBytes); r.code() != "FORBIDDEN" {
		t.Errorf("engineer changed an owner's photo: %+v", r.Errors)
	}

	// What is not an image, or too large, is refused and names the field.
	if r := owner.upload(mutation, map[string]any{"p": w.OwnerA.ID}, "evil.png", []byte("<script>alert(1)</script>")); r.code() != "BAD_USER_INPUT" || r.field() != "photo" {
		t.Errorf("non-image: %+v", r.Errors)
	}
	big := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{1}, 8<<20)...)
	if r := owner.upload(mutation, map[string]any{"p": w.OwnerA.ID}, "big.png", big); r.code() != "BAD_USER_INPUT" || r.field() != "photo" {
		t.Errorf("oversized: status %d %+v", r.status, r.Errors)
	}
	// The refused uploads left the photo as it was.
	if status, _, body := owner.get(url); status != 200 || !bytes.Equal(body, pngBytes) {
		t.Errorf("photo changed by a refused upload: %d", status)
	}
}
